# fig1c-paper-sweep.gp - written by colb 0.1.0. Re-draw fig1c-paper-sweep.svg and fig1c-paper-sweep.png with:
#     gnuplot fig1c-paper-sweep.gp
# Data: fig1c-paper-sweep.dat, one index block per policy; columns x mean ci95 low high.

if (!exists("svgfile")) svgfile = "fig1c-paper-sweep.svg"
if (!exists("pngfile")) pngfile = "fig1c-paper-sweep.png"
data = "fig1c-paper-sweep.dat"

set encoding utf8
set title "Figure 1(c): clustered users, z = 2 (imbalanced clusters) — paper"
set xlabel "users N   (bands: 95% confidence intervals, 30 repeats)"
set ylabel "cumulative regret per user at T = 1000"
set key outside right top vertical Left reverse samplen 3 spacing 1.3
set border 3 lw 1.2
set tics nomirror out
set grid lt 1 lc rgb "#e4e4e4" lw 1
set yrange [0:*]
set format y "%g"
set style fill transparent solid 0.15 noborder
set xtics (50, 100, 200, 400)
set xrange [36:414]

set terminal svg size 900,560 font "Sans,14" noenhanced background rgb "white"
set title font ",16"
set output svgfile

plot \
    data index 0 using 1:4:5 with filledcurves lc rgb "#000000" notitle, \
    data index 1 using 1:4:5 with filledcurves lc rgb "#0072B2" notitle, \
    data index 2 using 1:4:5 with filledcurves lc rgb "#D55E00" notitle, \
    data index 3 using 1:4:5 with filledcurves lc rgb "#009E73" notitle, \
    data index 0 using 1:2 with linespoints lc rgb "#000000" lw 2 dt 1 pt 7 ps 1.1 title "oracle", \
    data index 1 using 1:2 with linespoints lc rgb "#0072B2" lw 2 dt 1 pt 5 ps 1.1 title "cmlb", \
    data index 2 using 1:2 with linespoints lc rgb "#D55E00" lw 2 dt 1 pt 9 ps 1.1 title "club", \
    data index 3 using 1:2 with linespoints lc rgb "#009E73" lw 2 dt 1 pt 13 ps 1.1 title "linucb-ind"
set terminal pngcairo size 900,560 font "Sans,12" noenhanced background rgb "white"
set title font ",14"
set output pngfile
replot
set output
