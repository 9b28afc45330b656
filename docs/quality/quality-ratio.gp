# quality-ratio.gp - written by colb 0.1.0; `gnuplot quality-ratio.gp` re-draws the plot.
if (!exists("svgfile")) svgfile = "quality-ratio.svg"
if (!exists("pngfile")) pngfile = "quality-ratio.png"
set encoding utf8
set logscale xy
set format y "%g"
set tics nomirror out
set border 3
set grid lt 1 lc rgb "#e4e4e4"
set key outside right top Left reverse
set xlabel "users N"
set ylabel "regret / LinUCB-Ind's (geometric mean over z)"
set xrange [43.4783:460]
set xtics (50, 100, 200, 400)
set terminal svg size 1500,520 font "Sans,13" noenhanced
set output svgfile
set multiplot layout 1,3
set title "sigma = 0.1"
unset key
plot \
    "quality-ratio.dat" index 0 using 1:2 with linespoints lw 2 lc rgb "#000000" dt 1 pt 1 title "oracle", \
    "quality-ratio.dat" index 1 using 1:2 with linespoints lw 2 lc rgb "#E69F00" dt 1 pt 2 title "oracle-batch", \
    "quality-ratio.dat" index 2 using 1:2 with linespoints lw 2 lc rgb "#56B4E9" dt 1 pt 3 title "oracle-seq", \
    "quality-ratio.dat" index 3 using 1:2 with linespoints lw 2 lc rgb "#009E73" dt 1 pt 4 title "linucb-ind", \
    "quality-ratio.dat" index 4 using 1:2 with linespoints lw 2 lc rgb "#0072B2" dt 1 pt 5 title "cmlb", \
    "quality-ratio.dat" index 5 using 1:2 with linespoints lw 2 lc rgb "#D55E00" dt 1 pt 6 title "club", \
    "quality-ratio.dat" index 6 using 1:2 with linespoints lw 2 lc rgb "#CC79A7" dt 1 pt 7 title "sclub", \
    "quality-ratio.dat" index 7 using 1:2 with linespoints lw 2 lc rgb "#999999" dt 1 pt 8 title "locb", \
    "quality-ratio.dat" index 8 using 1:2 with linespoints lw 2 lc rgb "#8B4513" dt 1 pt 9 title "pooled"
set title "sigma = 0.3"
unset key
plot \
    "quality-ratio.dat" index 9 using 1:2 with linespoints lw 2 lc rgb "#000000" dt 1 pt 1 title "oracle", \
    "quality-ratio.dat" index 10 using 1:2 with linespoints lw 2 lc rgb "#E69F00" dt 1 pt 2 title "oracle-batch", \
    "quality-ratio.dat" index 11 using 1:2 with linespoints lw 2 lc rgb "#56B4E9" dt 1 pt 3 title "oracle-seq", \
    "quality-ratio.dat" index 12 using 1:2 with linespoints lw 2 lc rgb "#009E73" dt 1 pt 4 title "linucb-ind", \
    "quality-ratio.dat" index 13 using 1:2 with linespoints lw 2 lc rgb "#0072B2" dt 1 pt 5 title "cmlb", \
    "quality-ratio.dat" index 14 using 1:2 with linespoints lw 2 lc rgb "#D55E00" dt 1 pt 6 title "club", \
    "quality-ratio.dat" index 15 using 1:2 with linespoints lw 2 lc rgb "#CC79A7" dt 1 pt 7 title "sclub", \
    "quality-ratio.dat" index 16 using 1:2 with linespoints lw 2 lc rgb "#999999" dt 1 pt 8 title "locb", \
    "quality-ratio.dat" index 17 using 1:2 with linespoints lw 2 lc rgb "#8B4513" dt 1 pt 9 title "pooled"
set title "sigma = 1"
set key
plot \
    "quality-ratio.dat" index 18 using 1:2 with linespoints lw 2 lc rgb "#000000" dt 1 pt 1 title "oracle", \
    "quality-ratio.dat" index 19 using 1:2 with linespoints lw 2 lc rgb "#E69F00" dt 1 pt 2 title "oracle-batch", \
    "quality-ratio.dat" index 20 using 1:2 with linespoints lw 2 lc rgb "#56B4E9" dt 1 pt 3 title "oracle-seq", \
    "quality-ratio.dat" index 21 using 1:2 with linespoints lw 2 lc rgb "#009E73" dt 1 pt 4 title "linucb-ind", \
    "quality-ratio.dat" index 22 using 1:2 with linespoints lw 2 lc rgb "#0072B2" dt 1 pt 5 title "cmlb", \
    "quality-ratio.dat" index 23 using 1:2 with linespoints lw 2 lc rgb "#D55E00" dt 1 pt 6 title "club", \
    "quality-ratio.dat" index 24 using 1:2 with linespoints lw 2 lc rgb "#CC79A7" dt 1 pt 7 title "sclub", \
    "quality-ratio.dat" index 25 using 1:2 with linespoints lw 2 lc rgb "#999999" dt 1 pt 8 title "locb", \
    "quality-ratio.dat" index 26 using 1:2 with linespoints lw 2 lc rgb "#8B4513" dt 1 pt 9 title "pooled"
unset multiplot
set output
set terminal pngcairo size 1500,520 font "Sans,11" noenhanced
set output pngfile
set multiplot layout 1,3
set title "sigma = 0.1"
unset key
plot \
    "quality-ratio.dat" index 0 using 1:2 with linespoints lw 2 lc rgb "#000000" dt 1 pt 1 title "oracle", \
    "quality-ratio.dat" index 1 using 1:2 with linespoints lw 2 lc rgb "#E69F00" dt 1 pt 2 title "oracle-batch", \
    "quality-ratio.dat" index 2 using 1:2 with linespoints lw 2 lc rgb "#56B4E9" dt 1 pt 3 title "oracle-seq", \
    "quality-ratio.dat" index 3 using 1:2 with linespoints lw 2 lc rgb "#009E73" dt 1 pt 4 title "linucb-ind", \
    "quality-ratio.dat" index 4 using 1:2 with linespoints lw 2 lc rgb "#0072B2" dt 1 pt 5 title "cmlb", \
    "quality-ratio.dat" index 5 using 1:2 with linespoints lw 2 lc rgb "#D55E00" dt 1 pt 6 title "club", \
    "quality-ratio.dat" index 6 using 1:2 with linespoints lw 2 lc rgb "#CC79A7" dt 1 pt 7 title "sclub", \
    "quality-ratio.dat" index 7 using 1:2 with linespoints lw 2 lc rgb "#999999" dt 1 pt 8 title "locb", \
    "quality-ratio.dat" index 8 using 1:2 with linespoints lw 2 lc rgb "#8B4513" dt 1 pt 9 title "pooled"
set title "sigma = 0.3"
unset key
plot \
    "quality-ratio.dat" index 9 using 1:2 with linespoints lw 2 lc rgb "#000000" dt 1 pt 1 title "oracle", \
    "quality-ratio.dat" index 10 using 1:2 with linespoints lw 2 lc rgb "#E69F00" dt 1 pt 2 title "oracle-batch", \
    "quality-ratio.dat" index 11 using 1:2 with linespoints lw 2 lc rgb "#56B4E9" dt 1 pt 3 title "oracle-seq", \
    "quality-ratio.dat" index 12 using 1:2 with linespoints lw 2 lc rgb "#009E73" dt 1 pt 4 title "linucb-ind", \
    "quality-ratio.dat" index 13 using 1:2 with linespoints lw 2 lc rgb "#0072B2" dt 1 pt 5 title "cmlb", \
    "quality-ratio.dat" index 14 using 1:2 with linespoints lw 2 lc rgb "#D55E00" dt 1 pt 6 title "club", \
    "quality-ratio.dat" index 15 using 1:2 with linespoints lw 2 lc rgb "#CC79A7" dt 1 pt 7 title "sclub", \
    "quality-ratio.dat" index 16 using 1:2 with linespoints lw 2 lc rgb "#999999" dt 1 pt 8 title "locb", \
    "quality-ratio.dat" index 17 using 1:2 with linespoints lw 2 lc rgb "#8B4513" dt 1 pt 9 title "pooled"
set title "sigma = 1"
set key
plot \
    "quality-ratio.dat" index 18 using 1:2 with linespoints lw 2 lc rgb "#000000" dt 1 pt 1 title "oracle", \
    "quality-ratio.dat" index 19 using 1:2 with linespoints lw 2 lc rgb "#E69F00" dt 1 pt 2 title "oracle-batch", \
    "quality-ratio.dat" index 20 using 1:2 with linespoints lw 2 lc rgb "#56B4E9" dt 1 pt 3 title "oracle-seq", \
    "quality-ratio.dat" index 21 using 1:2 with linespoints lw 2 lc rgb "#009E73" dt 1 pt 4 title "linucb-ind", \
    "quality-ratio.dat" index 22 using 1:2 with linespoints lw 2 lc rgb "#0072B2" dt 1 pt 5 title "cmlb", \
    "quality-ratio.dat" index 23 using 1:2 with linespoints lw 2 lc rgb "#D55E00" dt 1 pt 6 title "club", \
    "quality-ratio.dat" index 24 using 1:2 with linespoints lw 2 lc rgb "#CC79A7" dt 1 pt 7 title "sclub", \
    "quality-ratio.dat" index 25 using 1:2 with linespoints lw 2 lc rgb "#999999" dt 1 pt 8 title "locb", \
    "quality-ratio.dat" index 26 using 1:2 with linespoints lw 2 lc rgb "#8B4513" dt 1 pt 9 title "pooled"
unset multiplot
set output
