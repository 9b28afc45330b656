# fig1e-multi-agent-time.gp - written by colb 0.1.0. Re-draw fig1e-multi-agent-time.svg and fig1e-multi-agent-time.png with:
#     gnuplot fig1e-multi-agent-time.gp
# Data: fig1e-multi-agent-time.dat, one index block per policy; columns x mean ci95 low high.

if (!exists("svgfile")) svgfile = "fig1e-multi-agent-time.svg"
if (!exists("pngfile")) pngfile = "fig1e-multi-agent-time.png"
data = "fig1e-multi-agent-time.dat"

set encoding utf8
set title "Figure 1(e): Last.FM, regret relative to\nrandom recommendations — multi-agent"
set xlabel "rounds t   (bands: 95% confidence intervals, 2 repeats)"
set ylabel "regret / random policy's regret"
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
    data index 0 using 1:4:5 with filledcurves lc rgb "#0072B2" notitle, \
    data index 1 using 1:4:5 with filledcurves lc rgb "#009E73" notitle, \
    data index 2 using 1:4:5 with filledcurves lc rgb "#999999" notitle, \
    data index 0 using 1:2 with lines lc rgb "#0072B2" lw 2 dt 1 notitle, \
    data index 0 every 8::4 using 1:2 with points lc rgb "#0072B2" pt 5 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#0072B2" lw 2 dt 1 pt 5 ps 1.1 title "cmlb", \
    data index 1 using 1:2 with lines lc rgb "#009E73" lw 2 dt 1 notitle, \
    data index 1 every 8::6 using 1:2 with points lc rgb "#009E73" pt 13 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#009E73" lw 2 dt 1 pt 13 ps 1.1 title "linucb-ind", \
    data index 2 using 1:2 with lines lc rgb "#999999" lw 2 dt 2 notitle, \
    data index 2 every 8::1 using 1:2 with points lc rgb "#999999" pt 2 ps 1.1 notitle, \
    1/0 with linespoints lc rgb "#999999" lw 2 dt 2 pt 2 ps 1.1 title "random"
set terminal pngcairo size 900,560 font "Sans,12" noenhanced background rgb "white"
set title font ",14"
set output pngfile
replot
set output
