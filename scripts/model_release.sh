#!/usr/bin/env bash
# End of a training session: stop the training run cleanly (SIGTERM makes it
# checkpoint), export the integer model to models/default.fxm, rebuild fxic
# with it embedded, record its parity vectors, and evaluate the float and the
# integer model on Kodak (models/results/). Then commit models/ and tests/golden.
#
#   scripts/model_release.sh [--no-eval] [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."
eval_kodak=1
jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --no-eval) eval_kodak=0 ;;
    --jobs) jobs="$2"; shift ;;
    *) echo "usage: $0 [--no-eval] [--jobs N]" >&2; exit 2 ;;
  esac
  shift
done
py=/usr/bin/python3
pids=$(pgrep -f "python3 -m fxic.(train|qat)" || true)
if [ -n "$pids" ]; then
  echo "stopping training ($pids)"
  kill -TERM $pids
  while kill -0 $pids 2>/dev/null; do sleep 2; done
fi
(cd models && $py -m fxic.export -o default.fxm)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target fxic >/dev/null
build/apps/fxic info | head -6
(cd models && $py -m fxic.parity default.fxm --write)
if [ "$eval_kodak" = 1 ]; then
  (cd models && $py -m fxic.evaluate int default.fxm --fxic ../build/apps/fxic --jobs "$jobs")
  (cd models && $py -m fxic.evaluate float --threads "$jobs")
fi
