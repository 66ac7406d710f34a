#!/usr/bin/env bash
# bench/plot.sh -- runs tlsv-bench and draws docs/performance.png with gnuplot.
#
#   bench/plot.sh [TLSV-BENCH OPTIONS...]     e.g. bench/plot.sh --quick
#   bench/plot.sh --from-csv FILE             draw from an earlier --csv file
#
# The options go to tlsv-bench as they are (it writes --csv to a temporary
# file). Two panels, every figure relative to OpenSSL's libssl (= 1):
# speed (handshakes/s and bulk MB/s, higher is better, with the primitive
# bound or the raw AEAD limit beside them) and memory (bytes and allocation
# counts, lower is better).
# Environment: TLSV_BENCH the program (default: build-bench/bench/tlsv-bench,
# then build/bench/tlsv-bench); PLOT_OUT the picture (default:
# docs/performance.png); PLOT_CSV also keeps the figures there (CSV).
# Needs gnuplot (Debian: gnuplot-nox); installs nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${PLOT_OUT:-$here/docs/performance.png}

if ! command -v gnuplot >/dev/null; then
    echo "plot.sh: gnuplot is not installed; on Debian: apt-get install gnuplot-nox" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tlsv-plot-XXXXXX")
trap 'rm -rf "$work"' EXIT

title="tlsv against OpenSSL's libssl"
if [ "${1:-}" = "--from-csv" ]; then
    [ $# -eq 2 ] || { echo "usage: bench/plot.sh --from-csv FILE" >&2; exit 2; }
    cp "$2" "$work/figures.csv"
else
    bench=${TLSV_BENCH:-}
    if [ -z "$bench" ]; then
        for b in "$here/build-bench/bench/tlsv-bench" "$here/build/bench/tlsv-bench"; do
            [ -x "$b" ] && { bench=$b; break; }
        done
    fi
    [ -n "$bench" ] && [ -x "$bench" ] || { echo "plot.sh: no tlsv-bench program (build it, or set TLSV_BENCH)" >&2; exit 2; }
    "$bench" "$@" --csv "$work/figures.csv" | tee "$work/run.txt"
    [ -z "${PLOT_CSV:-}" ] || cp "$work/figures.csv" "$PLOT_CSV"
    # "tlsv-bench: tlsv 0.1.0 vs OpenSSL 3.0.19 27 Jan 2026 (libssl), ... (CPU model)"
    title=$(head -1 "$work/run.txt" | sed -e 's/^tlsv-bench: //' -e 's/ [0-9]* [A-Z][a-z][a-z] [0-9]* (libssl)/ libssl/')
    mode=$(sed -n 's/^ *\([a-z]*\): \([0-9]* rounds\{0,1\} x [0-9.]* s\).*/\1, \2/p' "$work/run.txt" | head -1)
    [ -n "$mode" ] && title="$title; $mode per figure per library, medians"
    grep -q '^clock: rates per second of the bench' "$work/run.txt" && title="$title; per CPU-second"
fi

# speed.dat: name, tlsv/openssl, reference/openssl (bound or limit)
# memory.dat: name, tlsv/openssl, tlsv value, openssl value
awk -F, 'NR > 1 && ($2 == "hs" || $2 == "bulk") {
             ref = $7 == "" ? "NaN" : $7 / $5
             printf "%s %s %s\n", $1, $6, ref }' "$work/figures.csv" > "$work/speed.dat"
awk -F, 'NR > 1 && $2 == "mem" {
             r = $6 == "inf" ? "NaN" : $6
             printf "%s %s %s %s\n", $1, r, $4, $5 }' "$work/figures.csv" > "$work/memory.dat"
[ -s "$work/speed.dat" ] || [ -s "$work/memory.dat" ] || { echo "plot.sh: no figures to draw" >&2; exit 1; }

# Clustered bars with gap 1 are 1/(n+1) wide for n series: with 3 series the
# bars of cluster x are centred at x-0.25, x, x+0.25; with 2 at x-1/6, x+1/6.
cat > "$work/plot.gp" <<EOF
set terminal pngcairo size 1500,1000 font "DejaVu Sans,11"
set output "$out"
set multiplot layout 2,1 title "$(printf '%s' "$title" | sed 's/"/\\"/g')" font ",12"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 1
set grid ytics
set key top right
set xtics nomirror noenhanced
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0

set title "Speed relative to OpenSSL libssl = 1 (higher is better)"
set xrange [-0.6:$(wc -l < "$work/speed.dat") - 0.4]
if ($(test -s "$work/speed.dat" && echo 1 || echo 0)) {
  plot "$work/speed.dat" using (1):xtic(1) title "OpenSSL libssl" lc rgb "#9e9e9e", \
       "" using 2 title "tlsv" lc rgb "#1f77b4", \
       "" using 3 title "primitive bound (hs) / raw AEAD limit (bulk)" lc rgb "#c7e0b4", \
       "" using (\$0):2:(sprintf("%.2f", \$2)) with labels offset 0,0.8 notitle, \
       "" using (\$0 + 0.25):3:(sprintf("%.2f", \$3)) with labels offset 0,0.8 notitle
}
set title "Memory and allocations relative to OpenSSL libssl = 1 (lower is better)"
set xrange [-0.6:$(wc -l < "$work/memory.dat") - 0.4]
if ($(test -s "$work/memory.dat" && echo 1 || echo 0)) {
  plot "$work/memory.dat" using (1):xtic(1) title "OpenSSL libssl" lc rgb "#9e9e9e", \
       "" using 2 title "tlsv" lc rgb "#1f77b4", \
       "" using (\$0 - 1.0/6):(1):(sprintf("%g", \$4)) with labels offset 0,0.8 notitle, \
       "" using (\$0 + 1.0/6):2:(sprintf("%g", \$3)) with labels offset 0,0.8 notitle
}
unset multiplot
EOF
gnuplot "$work/plot.gp"
echo "plot.sh: wrote $out"
