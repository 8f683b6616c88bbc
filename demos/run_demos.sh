#!/usr/bin/env bash
# Runs every demo that has been built, with quick settings, and stops at the first
# failure. `make demo` calls it as: ./demos/run_demos.sh build/release/demos out
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BINDIR OUTDIR   (e.g. $0 build/release/demos out)" >&2
  exit 2
fi
bindir=$1
outdir=$2

ran=0
# run_demo NAME ARGS...: runs BINDIR/slope-NAME --out OUTDIR/NAME ARGS... if it was built.
run_demo() {
  local name=$1
  shift
  local exe="$bindir/slope-$name"
  if [ ! -x "$exe" ]; then
    echo "run_demos: $exe not built, skipped" >&2
    return 0
  fi
  echo "==> slope-$name --out $outdir/$name $*"
  local status=0
  "$exe" --out "$outdir/$name" "$@" || status=$?
  # Status 3: a run diverged (named above) and every output was still written; the
  # dead-ReLU sweep's highest rate can do that to gelu, which the lesson reports.
  if [ "$status" -eq 3 ]; then
    echo "run_demos: slope-$name: a run diverged (reported above); its outputs are written" >&2
  elif [ "$status" -ne 0 ]; then
    echo "run_demos: slope-$name failed (exit status $status)" >&2
    exit 1
  fi
  ran=$((ran + 1))
}

run_demo micrograd
# micrograd's own choice of activation, for the report's tanh claim.
if [ -x "$bindir/slope-micrograd" ]; then
  echo "==> slope-micrograd --act tanh --out $outdir/micrograd-tanh"
  "$bindir/slope-micrograd" --act tanh --out "$outdir/micrograd-tanh" > /dev/null
fi

# The explorer (defaults: every activation, relu(2 x + 1), x = 1.5) and training curves on
# spirals over 3 seeds, shortened to 200 steps for the tour.
run_demo explorer
run_demo curves --steps 200
# Vanishing gradients with the defaults (depth 8, relu/sigmoid/tanh/gelu, Xavier and He,
# 200 steps), and the step-0 gradients of deeper stacks (no training) for depths 16 and 32.
run_demo vanishing
if [ -x "$bindir/slope-vanishing" ]; then
  echo "==> slope-vanishing --depth 8,16,32 --steps 0 --out $outdir/vanishing-deep"
  "$bindir/slope-vanishing" --depth 8,16,32 --steps 0 --out "$outdir/vanishing-deep" > /dev/null
fi
# Glorot and Bengio (2010): a depth-4 sigmoid net under the "standard" init U(+-1/sqrt(n))
# (pytorch's) and a large SGD step; its top hidden layer saturates towards 0 early.
if [ -x "$bindir/slope-vanishing" ]; then
  echo "==> slope-vanishing --depth 4 --act sigmoid,tanh --init pytorch --lr 4 --steps 1000 --probe-every 10 --out $outdir/vanishing-glorot"
  "$bindir/slope-vanishing" --depth 4 --act sigmoid,tanh --init pytorch --lr 4 --steps 1000 \
    --probe-every 10 --out "$outdir/vanishing-glorot" > /dev/null
fi
# Dead ReLUs with the defaults (lr sweep 0.03..3 over 3 seeds, negative bias, bad init; born
# dead, 3000 trials).
run_demo dead-relu

# The next lesson's block: 16 pre-LN residual FFN blocks beside a depth-16 MLP, for relu,
# sigmoid, tanh, gelu and gelu_tanh, 2 seeds, shortened to 60 steps for the tour.
run_demo ffn --seeds 2 --steps 60

# Last: the report, from the summaries the demos above just wrote.
if [ -x "$bindir/slope-report" ]; then
  echo "==> slope-report --in $outdir"
  "$bindir/slope-report" --in "$outdir" --out "$outdir"
fi

if [ "$ran" -eq 0 ]; then
  echo "run_demos: no demos found in $bindir; build them first (make build)" >&2
  exit 1
fi
echo
echo "run_demos: $ran demo(s) done; outputs are in $outdir/:"
for d in "$outdir"/*/; do
  [ -d "$d" ] && echo "  $d  ($(ls "$d" | tr '\n' ' '))"
done
