# fig2-paper-time.gp - written by colb 0.1.0. Re-draw fig2-paper-time.svg and fig2-paper-time.png with:
#     gnuplot fig2-paper-time.gp
# Data: fig2-paper-time.dat, one index block per policy; columns x mean ci95 low high.

if (!exists("svgfile")) svgfile = "fig2-paper-time.svg"
if (!exists("pngfile")) pngfile = "fig2-paper-time.png"
data = "fig2-paper-time.dat"

set encoding utf8
set title "Figure 2: personalized users, theta_i ~ N(mu,\nsigma_theta^2 I) — paper (sigma-theta = 0.01)"
set xlabel "rounds t   (bands: 95% confidence intervals, 30 repeats)"
set ylabel "cumulative regret per user"
set key outside right top vertical Left reverse samplen 3 spacing 1.3
set border 3 lw 1.2
set tics nomirror out
set grid lt 1 lc rgb "#e4e4e4" lw 1
set yrange [0:*]
set format y "%g"
set style fill transparent solid 0.15 noborder
set xrange [0:*]
set autoscale xfixmax

set terminal svg size 900,560 font "Sans,14" noenhanced background rgb "white"
set title font ",16"
set output svgfile

plot \
    data index 0 using 1:4:5 with filledcurves lc rgb "#CC79A7" notitle, \
    data index 1 using 1:4:5 with filledcurves lc rgb "#0072B2" notitle, \
    data index 2 using 1:4:5 with filledcurves lc rgb "#D55E00" notitle, \
    data index 3 using 1:4:5 with filledcurves lc rgb "#009E73" notitle, \
    data index 4 using 1:4:5 with filledcurves lc rgb "#E69F00" notitle, \
    data index 0 using 1:2 with lines lc rgb "#CC79A7" lw 2 dt 1 notitle, \
    data index 0 every 16::8 using 1:2 with points lc rgb "#CC79A7" pt 15 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#CC79A7" lw 2 dt 1 pt 15 ps 1.1 title "pmlb", \
    data index 1 using 1:2 with lines lc rgb "#0072B2" lw 2 dt 1 notitle, \
    data index 1 every 16::11 using 1:2 with points lc rgb "#0072B2" pt 5 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#0072B2" lw 2 dt 1 pt 5 ps 1.1 title "cmlb", \
    data index 2 using 1:2 with lines lc rgb "#D55E00" lw 2 dt 1 notitle, \
    data index 2 every 16::14 using 1:2 with points lc rgb "#D55E00" pt 9 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#D55E00" lw 2 dt 1 pt 9 ps 1.1 title "club", \
    data index 3 using 1:2 with lines lc rgb "#009E73" lw 2 dt 1 notitle, \
    data index 3 every 16::1 using 1:2 with points lc rgb "#009E73" pt 13 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#009E73" lw 2 dt 1 pt 13 ps 1.1 title "linucb-ind", \
    data index 4 using 1:2 with lines lc rgb "#E69F00" lw 2 dt 1 notitle, \
    data index 4 every 16::4 using 1:2 with points lc rgb "#E69F00" pt 6 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#E69F00" lw 2 dt 1 pt 6 ps 1.1 title "pooled"
set terminal pngcairo size 900,560 font "Sans,12" noenhanced background rgb "white"
set title font ",14"
set output pngfile
replot
set output
