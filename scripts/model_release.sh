#!/usr/bin/env bash
# End of a training session: stop the training run cleanly (SIGTERM makes it
# checkpoint), export the integer model to models/default.fxm while the float
# model is evaluated on Kodak, rebuild fxic with the new model embedded,
# record its parity vectors, evaluate the integer codec on Kodak, re-record the
# conformance suite and check it, redo fxic's curve in results/kodak/ and print
# the BD-rates. Then update the numbers in README.md and models/README.md and
# commit models/, results/kodak, tests/golden and tests/conformance.
#
#   scripts/model_release.sh [--no-eval] [--jobs N]
#     --no-eval   export, rebuild and parity vectors only
#     --jobs N    parallel jobs for the build and the integer evaluation (2)
set -euo pipefail
cd "$(dirname "$0")/.."
eval_kodak=1
jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --no-eval) eval_kodak=0 ;;
    --jobs) jobs="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--no-eval] [--jobs N]" >&2; exit 2 ;;
  esac
  shift
done
py=/usr/bin/python3
step() { echo "== $(date +%H:%M:%S) $*"; }
pids=$(pgrep -f "python3 -m fxic.(train|qat)" || true)
if [ -n "$pids" ]; then
  step "stopping training ($pids)"
  kill -TERM $pids
  while kill -0 $pids 2>/dev/null; do sleep 2; done
fi
float_pid=""
# A step that fails ends the script: do not leave the evaluation running.
trap '[ -z "$float_pid" ] || kill "$float_pid" 2>/dev/null || true' EXIT
mkdir -p build
if [ "$eval_kodak" = 1 ]; then
  # One thread each: the export's calibration runs on one thread anyway
  # (reproducibility), so the float evaluation takes the other core.
  step "float evaluation (background)"
  (cd models && $py -m fxic.evaluate float --threads 1 > ../build/float-eval.log 2>&1) &
  float_pid=$!
fi
step "export"
(cd models && $py -m fxic.export -o default.fxm)
step "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" >/dev/null
build/apps/fxic info | head -6
step "parity vectors"
(cd models && $py -m fxic.parity default.fxm --write)
if [ -n "$float_pid" ]; then
  step "waiting for the float evaluation"
  wait "$float_pid" || { cat build/float-eval.log; exit 1; }
  float_pid=""
  grep '^q' build/float-eval.log
fi
[ "$eval_kodak" = 1 ] || exit 0
step "integer evaluation"
(cd models && $py -m fxic.evaluate int default.fxm --fxic ../build/apps/fxic --jobs "$jobs")
step "conformance suite"
build/apps/fxic verify --update-suite
cmake --build build -j"$jobs" >/dev/null
build/apps/fxic verify
step "Kodak curve and BD-rate tables (results/kodak)"
NICE= scripts/rd/kodak.sh --fxic-only -j 1
step "BD-rates"
build/apps/fxic bdrate --anchor models/results/kodak-float.json,results/kodak/jpeg420.json \
  models/results/kodak-int.json
build/apps/fxic bdrate --anchor results/kodak/jpeg420.json models/results/kodak-float.json
step "done"
