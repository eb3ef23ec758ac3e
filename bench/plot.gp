# Draws bench/results.svg from the tables bench/run.mjs writes.
# Set by the caller: data_dir, output, subtitle, columns.
set terminal svg size 900,760 dynamic font "sans,12" background "white"
set output output
set datafile separator "\t"
set termoption noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top left horizontal
set logscale y
set grid ytics
set xtics nomirror
set multiplot layout 2,1 title "malloc0 benchmarks — ".subtitle
set title "ns per malloc+free pair (log scale; lower is better)"
plot for [c=2:columns] data_dir."plot-ns.tsv" using c:xtic(1) title columnheader(c)
set title "peak heap pages, 64 KiB each (log scale; lower is better)"
set yrange [0.5:*]
plot for [c=2:columns] data_dir."plot-pages.tsv" using c:xtic(1) title columnheader(c)
unset multiplot
