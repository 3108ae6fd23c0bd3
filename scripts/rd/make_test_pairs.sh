#!/usr/bin/env bash
# Regenerates the MS-SSIM/PSNR validation pairs in tests/data/rd/ and prints
# the reference values (scripts/rd/msssim_ref.py) that
# tests/apps/metrics_test.cpp records. Needs cjpeg/djpeg and cwebp/dwebp
# (Debian: libjpeg-turbo-progs, webp) and ../shared/data/kodak.
set -euo pipefail
cd "$(dirname "$0")/../.."
kodak=${KODAK:-../shared/data/kodak}
out=tests/data/rd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
ref=scripts/rd/msssim_ref.py
png2ppm() { /usr/bin/python3 -c "
import sys; sys.path.insert(0, 'scripts/rd'); import msssim_ref as m
a = m.read_png(sys.argv[1])
if len(sys.argv) > 3:
    x, y, w, h = map(int, sys.argv[3:7]); a = a[y:y + h, x:x + w]
open(sys.argv[2], 'wb').write(b'P6\n%d %d\n255\n' % (a.shape[1], a.shape[0]) + a.tobytes())
" "$@"; }
ppm2png() { /usr/bin/python3 -c "
import sys; sys.path.insert(0, 'scripts/rd'); import msssim_ref as m, numpy as np
d = open(sys.argv[1], 'rb').read(); parts = d.split(maxsplit=4)
w, h = int(parts[1]), int(parts[2])
m.write_png(sys.argv[2], np.frombuffer(parts[4], np.uint8).reshape(h, w, 3))
" "$@"; }

# Pair 1: the repository's 256x256 Kodak crop (tests/data/kodim23_crop.png)
# against JPEG q10 and q30 (4:2:0, -optimize).
png2ppm tests/data/kodim23_crop.png "$tmp/k23.ppm"
for q in 10 30; do
  cjpeg -quality $q -optimize "$tmp/k23.ppm" > "$tmp/k23_q$q.jpg"
  djpeg -ppm "$tmp/k23_q$q.jpg" > "$tmp/k23_q$q.ppm"
  ppm2png "$tmp/k23_q$q.ppm" "$out/kodim23_crop_jpeg_q$q.png"
done
# Pair 2: an odd-sized crop (181x163: odd dimensions at several scales) of
# kodim05 against WebP q5, so the padding path of the 2x2 pool is exercised.
png2ppm "$kodak/kodim05.png" "$tmp/k05.ppm" 300 200 181 163
ppm2png "$tmp/k05.ppm" "$out/kodim05_crop181x163.png"
cwebp -quiet -q 5 "$out/kodim05_crop181x163.png" -o "$tmp/k05.webp"
dwebp -quiet "$tmp/k05.webp" -ppm -o "$tmp/k05_w.ppm"
ppm2png "$tmp/k05_w.ppm" "$out/kodim05_crop181x163_webp_q5.png"

/usr/bin/python3 "$ref" \
  tests/data/kodim23_crop.png "$out/kodim23_crop_jpeg_q10.png" \
  tests/data/kodim23_crop.png "$out/kodim23_crop_jpeg_q30.png" \
  "$out/kodim05_crop181x163.png" "$out/kodim05_crop181x163_webp_q5.png"
# Sub-rectangles (odd sizes, computed by the test by cropping both images).
/usr/bin/python3 "$ref" --crop 7 3 177 169 \
  tests/data/kodim23_crop.png "$out/kodim23_crop_jpeg_q10.png"
