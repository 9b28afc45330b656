# fig2-colb-sweep.gp - written by colb 0.1.0. Re-draw fig2-colb-sweep.svg and fig2-colb-sweep.png with:
#     gnuplot fig2-colb-sweep.gp
# Data: fig2-colb-sweep.dat, one index block per policy; columns x mean ci95 low high.

if (!exists("svgfile")) svgfile = "fig2-colb-sweep.svg"
if (!exists("pngfile")) pngfile = "fig2-colb-sweep.png"
data = "fig2-colb-sweep.dat"

set encoding utf8
set title "Figure 2: personalized users, theta_i ~ N(mu, sigma_theta^2 I) — colb"
set xlabel "spread of user parameters sigma_theta   (bands: 95% confidence intervals, 30 repeats)"
set ylabel "cumulative regret per user at T = 1000 (log scale)"
set key outside right top vertical Left reverse samplen 3 spacing 1.3
set border 3 lw 1.2
set tics nomirror out
set grid lt 1 lc rgb "#e4e4e4" lw 1
set logscale y
set yrange [1.20958:*]
ylo = 1.20958
set format y "%g"
set style fill transparent solid 0.15 noborder
set logscale x
set xtics (1, 0.3, 0.1, 0.05, 0.01)
set xrange [0.008317637711:1.202264435]

set terminal svg size 900,560 font "Sans,14" noenhanced background rgb "white"
set title font ",16"
set output svgfile

plot \
    data index 0 using 1:($4 > ylo ? $4 : ylo):5 with filledcurves lc rgb "#882255" notitle, \
    data index 1 using 1:($4 > ylo ? $4 : ylo):5 with filledcurves lc rgb "#CC79A7" notitle, \
    data index 2 using 1:($4 > ylo ? $4 : ylo):5 with filledcurves lc rgb "#0072B2" notitle, \
    data index 3 using 1:($4 > ylo ? $4 : ylo):5 with filledcurves lc rgb "#D55E00" notitle, \
    data index 4 using 1:($4 > ylo ? $4 : ylo):5 with filledcurves lc rgb "#009E73" notitle, \
    data index 5 using 1:($4 > ylo ? $4 : ylo):5 with filledcurves lc rgb "#E69F00" notitle, \
    data index 0 using 1:2 with linespoints lc rgb "#882255" lw 2 dt 1 pt 7 ps 1.1 title "recommended", \
    data index 1 using 1:2 with linespoints lc rgb "#CC79A7" lw 2 dt 1 pt 15 ps 1.1 title "pmlb", \
    data index 2 using 1:2 with linespoints lc rgb "#0072B2" lw 2 dt 1 pt 5 ps 1.1 title "cmlb", \
    data index 3 using 1:2 with linespoints lc rgb "#D55E00" lw 2 dt 1 pt 9 ps 1.1 title "club", \
    data index 4 using 1:2 with linespoints lc rgb "#009E73" lw 2 dt 1 pt 13 ps 1.1 title "linucb-ind", \
    data index 5 using 1:2 with linespoints lc rgb "#E69F00" lw 2 dt 1 pt 6 ps 1.1 title "pooled"
set terminal pngcairo size 900,560 font "Sans,12" noenhanced background rgb "white"
set title font ",14"
set output pngfile
replot
set output
