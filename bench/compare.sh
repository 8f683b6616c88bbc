#!/bin/sh
# slope against its Eigen floor (same program) and against PyTorch (same script run),
# float, relu, one thread. Usage: bench/compare.sh [build/release]
set -eu
build=${1:-build/release}
"$build/bench/bench_tensor" --benchmark_filter='float, Relu>.*threads:1/' | sed -n '/slope\/floor/,$p'
python3 "$(dirname "$0")/pytorch_step.py" --threads 1 || true
