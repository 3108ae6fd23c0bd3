#!/usr/bin/env bash
# Regenerates the bit-width study: docs/bitwidth.md and docs/bitwidth/ (RD
# curves on Kodak of integer exports at weight bits 4..8 and activation bits
# 8..16, per-tensor vs per-channel weight ranges, peak vs k·std vs learned
# ranges, M0·2^-n vs shift-only rescaling, per-layer sensitivity and a search
# for per-layer bit widths; sizes, MACs by operand width, BD-rates).
#
# Usage: scripts/rd/bitwidth.sh [fxic.bitwidth options]
#   e.g. --images kodim01,kodim05 --qualities 1,4,7 --target 0.5 --no-search
#   (all options: cd models && /usr/bin/python3 -m fxic.bitwidth --help)
# Environment:
#   CHECKPOINT  stage-1 checkpoint (default: models/checkpoint/hyperprior.pt as
#               committed at HEAD, extracted with git show, because a running
#               training job rewrites the working-tree file)
#   FXIC        fxic binary (default build/apps/fxic; when that is missing,
#               BUILD_DIR/apps/fxic, built if missing too)
#   BUILD_DIR   default build-bw
#   NICE        default "nice -n 19" (everything runs on one thread)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
nice_cmd=${NICE:-nice -n 19}
build_dir=${BUILD_DIR:-$root/build-bw}

if [ -n "${FXIC:-}" ]; then
  fxic=$FXIC
else
  fxic=$root/build/apps/fxic
  if [ ! -x "$fxic" ]; then
    fxic=$build_dir/apps/fxic
    if [ ! -x "$fxic" ]; then
      cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
      $nice_cmd cmake --build "$build_dir" -j1 --target fxic
    fi
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One binary for the whole run, even if the build directory is rebuilt meanwhile.
cp "$fxic" "$tmp/fxic"
if [ -n "${CHECKPOINT:-}" ]; then
  ckpt=$CHECKPOINT
  label=$CHECKPOINT
elif git -C "$root" cat-file -e HEAD:models/checkpoint/hyperprior.pt 2>/dev/null; then
  ckpt=$tmp/hyperprior.pt
  git -C "$root" show HEAD:models/checkpoint/hyperprior.pt > "$ckpt"
  label="models/checkpoint/hyperprior.pt as committed at $(git -C "$root" rev-parse --short HEAD)"
else
  ckpt=$root/models/checkpoint/hyperprior.pt
  label=models/checkpoint/hyperprior.pt
fi

cd "$root/models"
OMP_NUM_THREADS=1 $nice_cmd /usr/bin/python3 -m fxic.bitwidth --checkpoint "$ckpt" \
  --checkpoint-label "$label" --fxic "$tmp/fxic" \
  --command "scripts/rd/bitwidth.sh${*:+ $*}" "$@"
