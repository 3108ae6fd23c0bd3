#!/usr/bin/env bash
# fxic benchmark: one command, one run, results in docs/speed.md ("Benchmark").
# Run it on an idle machine; see --help.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

usage() {
  cat <<'EOF'
Usage: scripts/bench.sh [options]

Builds fxic and the kernel benchmark (Release), then measures in one run:
  - fxic encode/decode wall time and peak RSS per Kodak image, file to file,
    for every ISA path (scalar, avx2, avx512, avx512vnni: those this CPU runs)
    x threads (1 and all cores), and the default command;
  - the same network in float PyTorch (transforms only) and fxic / PyTorch;
  - cjpeg, cwebp, avifenc, cjxl at default settings (encode and decode);
  - the CPU's peak int16 (vpdpwssd) / int8 (vpdpbusd) MAC rates and the
    fraction fxic's convolutions reach;
  - time and peak RSS of 0.4, 4, 16 and 48 megapixel images.
It writes the "## Benchmark" section of docs/speed.md (the rest is kept).
A full run takes about 4 minutes on 2 cores, plus the build.

Options:
  --quick            a short check of the whole script: 2 images, 1 run, small
                     kernel crops, only the 0.4 MP size (about 1-2 minutes)
  --images LIST      Kodak images: numbers or names, comma-separated, or all
                     (default 1,5,8,13,19,23)
  --runs N           runs per image and command; the median is kept (default 3)
  --threads LIST     fxic thread counts (default: 1 and all cores)
  --isa LIST         ISA paths (default: every path this CPU runs)
  --sizes LIST       megapixel sizes of the large-image test (default 0.4,4,16,48)
  --no-sizes         skip the large-image test
  --size-runs N      runs per large image (default 1)
  --mem-limit GB     address-space limit for the large-image runs
                     (default: 90% of MemTotal; 0: none)
  --no-torch         skip PyTorch        --no-codecs   skip the other codecs
  --torch-runs N     PyTorch timed runs per transform (default 10)
  --kodak DIR        Kodak PNGs (default ../shared/data/kodak)
  --build-dir DIR    build directory (default build-bench)
  --no-build         use the binaries already in --build-dir
  --no-deps          do not install missing packages (scripts/deps.sh)
  --note TEXT        a line for the report, e.g. "measured beside a training job"
  --output FILE      markdown file to update (default docs/speed.md);
                     - prints the section instead
  --json FILE        also write the raw results as JSON
  -h, --help         this help

Environment: OMP_WAIT_POLICY and other OpenMP variables pass through to fxic.
EOF
}

command_line="scripts/bench.sh"
for a in "$@"; do command_line+=" $(printf '%q' "$a")"; done

die() { echo "bench.sh: $*" >&2; exit 1; }
say() { echo "[bench] $*" >&2; }

quick=0 build=1 deps=1 build_dir=build-bench output=docs/speed.md json=""
kodak="$repo/../shared/data/kodak"
py_args=()
torch=1 codecs=1 sizes_set=0 runs_set=0 images_set=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --quick) quick=1 ;;
    --images) [ $# -ge 2 ] || die "--images needs a value"; py_args+=(--images "$2"); images_set=1; shift ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; py_args+=(--runs "$2"); runs_set=1; shift ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; py_args+=(--threads "$2"); shift ;;
    --isa) [ $# -ge 2 ] || die "--isa needs a value"; py_args+=(--isa "$2"); shift ;;
    --sizes) [ $# -ge 2 ] || die "--sizes needs a value"; py_args+=(--sizes "$2"); sizes_set=1; shift ;;
    --no-sizes) py_args+=(--sizes ""); sizes_set=1 ;;
    --size-runs) [ $# -ge 2 ] || die "--size-runs needs a value"; py_args+=(--size-runs "$2"); shift ;;
    --mem-limit) [ $# -ge 2 ] || die "--mem-limit needs a value"; mem_limit="$2"; shift ;;
    --no-torch) torch=0; py_args+=(--no-torch) ;;
    --no-codecs) codecs=0; py_args+=(--no-codecs) ;;
    --torch-runs) [ $# -ge 2 ] || die "--torch-runs needs a value"; py_args+=(--torch-runs "$2"); shift ;;
    --kodak) [ $# -ge 2 ] || die "--kodak needs a value"; kodak="$2"; shift ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a value"; build_dir="$2"; shift ;;
    --no-build) build=0 ;;
    --no-deps) deps=0 ;;
    --note) [ $# -ge 2 ] || die "--note needs a value"; py_args+=(--note "$2"); shift ;;
    --output) [ $# -ge 2 ] || die "--output needs a value"; output="$2"; shift ;;
    --json) [ $# -ge 2 ] || die "--json needs a value"; json="$2"; shift ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  [ "$images_set" = 1 ] || py_args+=(--images 19,23)
  [ "$runs_set" = 1 ] || py_args+=(--runs 1)
  [ "$sizes_set" = 1 ] || py_args+=(--sizes 0.4)
  py_args+=(--quick --kernel-macs 30 --kernel-reps 1 --torch-runs 3)
fi

# Packages: build deps, the other codecs, PyTorch + Pillow for the helpers.
pkgs=(python3 python3-pil)
[ "$codecs" = 1 ] && pkgs+=(libjpeg-turbo-progs webp libavif-bin libjxl-tools)
[ "$torch" = 1 ] && pkgs+=(python3-torch python3-numpy)
if [ "$deps" = 1 ]; then
  say "checking packages (scripts/deps.sh ${pkgs[*]})"
  scripts/deps.sh "${pkgs[@]}"
fi
python=/usr/bin/python3
[ -x "$python" ] || die "$python not found (Debian package python3)"
"$python" -c 'import PIL' 2>/dev/null || die "Pillow missing for $python (package python3-pil)"
if [ "$torch" = 1 ]; then
  "$python" -c 'import torch' 2>/dev/null ||
    die "PyTorch missing for $python (package python3-torch), or run with --no-torch"
fi
if [ "$codecs" = 1 ]; then
  for tool in cjpeg djpeg cwebp dwebp avifenc avifdec cjxl djxl; do
    command -v "$tool" >/dev/null ||
      die "$tool not found (packages libjpeg-turbo-progs webp libavif-bin libjxl-tools), or run with --no-codecs"
  done
fi
[ -d "$kodak" ] || die "Kodak images not found in $kodak (use --kodak DIR)"
kodak=$(cd "$kodak" && pwd)

if [ "$build" = 1 ]; then
  command -v cmake >/dev/null || die "cmake not found (scripts/deps.sh installs it)"
  say "building fxic and fxic_bench_kernels in $build_dir (Release)"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DFXIC_BUILD_BENCH=ON \
        -DFXIC_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target fxic fxic_bench_kernels >/dev/null
fi
fxic="$build_dir/apps/fxic"
kernels="$build_dir/bench/fxic_bench_kernels"
[ -x "$fxic" ] || die "$fxic not found (build it, or drop --no-build)"
[ -x "$kernels" ] || die "$kernels not found (configure with -DFXIC_BUILD_BENCH=ON)"

if [ -z "${mem_limit+x}" ]; then
  mem_limit=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576 * 0.9}' /proc/meminfo 2>/dev/null || echo 0)
fi
py_args+=(--mem-limit-gb "$mem_limit")
[ "$output" = "-" ] || py_args+=(--doc "$output")
[ -n "$json" ] && py_args+=(--json "$json")

"$python" bench/bench.py --fxic "$(realpath "$fxic")" --kernels "$(realpath "$kernels")" \
  --kodak "$kodak" --python "$python" --command-line "$command_line" "${py_args[@]}"
