#!/usr/bin/env bash
# Runs the tour with quick settings and stops at the first failure. `make demo` calls it
# as: ./demos/run_demos.sh build/release/demos out
# The runs (name, demo, flags) are listed once, in demos/report/tour.cpp; slope-report
# prints them (--tour), this script runs each into OUTDIR/<name>, and slope-report then
# writes OUTDIR/REPORT.md from their outputs.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BINDIR OUTDIR   (e.g. $0 build/release/demos out)" >&2
  exit 2
fi
bindir=$1
outdir=$2
report="$bindir/slope-report"
if [ ! -x "$report" ]; then
  echo "run_demos: $report not built; build the demos first (make build)" >&2
  exit 1
fi

tour=$("$report" --tour)
ran=0
while IFS=$'\t' read -r name demo flags; do
  read -r -a args <<< "$flags"
  exe="$bindir/slope-$demo"
  echo "==> slope-$demo --out $outdir/$name${flags:+ $flags}"
  status=0
  "$exe" --out "$outdir/$name" "${args[@]}" || status=$?
  # Status 3: a run diverged (named above) and every output was still written; the
  # dead-ReLU sweep's highest rate can do that to gelu, which the lesson reports.
  if [ "$status" -eq 3 ]; then
    echo "run_demos: slope-$demo: a run diverged (reported above); its outputs are written" >&2
  elif [ "$status" -ne 0 ]; then
    echo "run_demos: slope-$demo --out $outdir/$name $flags failed (exit status $status)" >&2
    exit 1
  fi
  ran=$((ran + 1))
done <<< "$tour"

echo "==> slope-report --in $outdir --out $outdir"
"$report" --in "$outdir" --out "$outdir"

echo
echo "run_demos: $ran runs done; outputs are in $outdir/:"
for d in "$outdir"/*/; do
  [ -d "$d" ] && echo "  $d  ($(ls "$d" | tr '\n' ' '))"
done
