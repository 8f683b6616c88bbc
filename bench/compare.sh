#!/bin/sh
# slope against its Eigen floor (same program) and against PyTorch (same script run,
# where PyTorch is installed): float, relu, one thread. Usage: bench/compare.sh [BUILD_DIR]
set -eu
build=${1:-build/release}
json=$(mktemp)
trap 'rm -f "$json"' EXIT
"$build/bench/bench_tensor" --benchmark_filter='float, Relu>.*threads:1/' \
  --benchmark_out="$json" --benchmark_out_format=json | sed -n '/slope\/floor/,$p'
python3 "$(dirname "$0")/pytorch_step.py" --threads 1 --slope-json "$json" || true
