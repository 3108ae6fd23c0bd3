#!/usr/bin/env bash
# Builds fxic for several compilers and architectures and runs the
# conformance suite (`fxic verify --corrupt`) on each: x86-64 with GCC and
# Clang at -O0 and -O3, s390x (big-endian), aarch64 and i686 under qemu-user,
# and wasm32 under Node.js. Every platform must pass with the same results
# digest. Prints a table and writes it as Markdown to $BUILD_ROOT/results.md.
#
#   scripts/cross/run.sh [--install] [PLATFORM...]   (default: all)
#
# Platforms: gcc-O0 gcc-O3 clang-O0 clang-O3 s390x aarch64 i686 wasm
# --install  apt-get install the toolchains the chosen platforms need
# Environment: JOBS (build jobs, default 2), NICE (nice level, default 15),
#   BUILD_ROOT (default build-cross), VERIFY_ARGS (default "--corrupt"),
#   OMP_WAIT_POLICY (default passive: spinning threads crawl on a busy or
#   emulated CPU).
#
# The builds are FXIC_MINIMAL_IO (no libpng; the suite's images are PPM);
# cross and wasm builds also use FXIC_CRC32_SHIM (no cross zlib needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

all=(gcc-O0 gcc-O3 clang-O0 clang-O3 s390x aarch64 i686 wasm)
install=0
platforms=()
for a in "$@"; do
  case "$a" in
    --install) install=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    gcc-O0|gcc-O3|clang-O0|clang-O3|s390x|aarch64|i686|wasm) platforms+=("$a") ;;
    *) echo "run.sh: unknown platform or option '$a' (known: ${all[*]})" >&2; exit 2 ;;
  esac
done
[ ${#platforms[@]} -eq 0 ] && platforms=("${all[@]}")

JOBS=${JOBS:-2}
NICE=${NICE:-15}
BUILD_ROOT=${BUILD_ROOT:-build-cross}
VERIFY_ARGS=${VERIFY_ARGS:---corrupt}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

packages_for() {
  case "$1" in
    gcc-*) echo "cmake g++ zlib1g-dev" ;;
    clang-*) echo "cmake clang libomp-dev zlib1g-dev" ;;
    s390x|aarch64|i686) echo "cmake g++-$1-linux-gnu qemu-user" ;;
    wasm) echo "cmake emscripten" ;;
  esac
}

if [ "$install" = 1 ]; then
  pkgs=()
  for p in "${platforms[@]}"; do
    for pkg in $(packages_for "$p"); do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        pkgs+=("$pkg")
    done
  done
  if [ ${#pkgs[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
fi

# configure arguments, runner and binary per platform
configure_args() {
  local common=(-DFXIC_MINIMAL_IO=ON -DFXIC_BUILD_TESTS=OFF)
  local o0=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 -DCMAKE_CXX_FLAGS_DEBUG=-O0)
  local o3=(-DCMAKE_BUILD_TYPE=Release)  # -O3 -DNDEBUG
  case "$1" in
    gcc-O0) echo "${common[*]} -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ ${o0[*]}" ;;
    gcc-O3) echo "${common[*]} -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ ${o3[*]}" ;;
    clang-O0) echo "${common[*]} -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ ${o0[*]}" ;;
    clang-O3) echo "${common[*]} -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ ${o3[*]}" ;;
    s390x|aarch64|i686)
      echo "${common[*]} -DFXIC_CRC32_SHIM=ON ${o3[*]}" \
           "-DCMAKE_TOOLCHAIN_FILE=$root/cmake/toolchains/$1-linux-gnu.cmake" ;;
    wasm)
      echo "${common[*]} -DFXIC_CRC32_SHIM=ON ${o3[*]}" \
           "-DCMAKE_TOOLCHAIN_FILE=$root/cmake/toolchains/wasm32-emscripten.cmake" ;;
  esac
}
runner_for() {
  case "$1" in
    s390x) echo qemu-s390x ;;
    aarch64) echo qemu-aarch64 ;;
    i686) echo qemu-i386 ;;
    wasm) echo node ;;
    *) echo "" ;;
  esac
}

declare -A status desc result digest tbuild trun
failed=0
for p in "${platforms[@]}"; do
  dir=$BUILD_ROOT/$p
  mkdir -p "$dir"
  echo "== $p: building in $dir"
  t0=$(date +%s)
  # shellcheck disable=SC2046
  if ! nice -n "$NICE" cmake -S . -B "$dir" $(configure_args "$p") >"$dir/configure.log" 2>&1 ||
     ! nice -n "$NICE" cmake --build "$dir" -j"$JOBS" --target fxic >"$dir/build.log" 2>&1; then
    echo "   build FAILED (see $dir/configure.log, $dir/build.log)"
    status[$p]=BUILD-FAILED; desc[$p]="-"; result[$p]="-"; digest[$p]="-"
    tbuild[$p]=$(( $(date +%s) - t0 )); trun[$p]=0
    failed=1
    continue
  fi
  t1=$(date +%s)
  bin=$dir/apps/fxic
  [ "$p" = wasm ] && bin=$dir/apps/fxic.js
  runner=$(runner_for "$p")
  echo "   running: $runner $bin verify $VERIFY_ARGS"
  rc=0
  # shellcheck disable=SC2086
  $runner "$bin" verify --suite "$root/tests/conformance" $VERIFY_ARGS >"$dir/verify.log" 2>&1 || rc=$?
  t2=$(date +%s)
  summary=$(grep '^verify:' "$dir/verify.log" | tail -1 || true)
  echo "   ${summary:-no summary line; see $dir/verify.log}"
  tbuild[$p]=$((t1 - t0)); trun[$p]=$((t2 - t1))
  if [ "$rc" = 0 ] && [ -n "$summary" ]; then status[$p]=PASS; else status[$p]=FAIL; failed=1; fi
  # "<platform, compiler, ...>; N.N s" -> platform description
  desc[$p]=$(echo "$summary" | sed -n 's/.*results digest [0-9a-f]*; \(.*\); [0-9.]* s$/\1/p')
  result[$p]=$(echo "$summary" | sed -n 's/.* - \([0-9]*\/[0-9]* vectors\) bit-exact on \([0-9]*\) paths.*/\1 x \2 paths/p')
  corr=$(echo "$summary" | sed -n 's/.*corruption: \([0-9]*\/[0-9]*\) bit flips and \([0-9]*\/[0-9]*\) truncations.*/; flips \1, truncations \2/p')
  result[$p]="${result[$p]}${corr}"
  digest[$p]=$(echo "$summary" | sed -n 's/.*results digest \([0-9a-f]*\);.*/\1/p')
done

# All platforms that ran must agree on the digest.
ref=""
for p in "${platforms[@]}"; do
  d=${digest[$p]}
  [ "$d" = "-" ] || [ -z "$d" ] && continue
  if [ -z "$ref" ]; then ref=$d; elif [ "$d" != "$ref" ]; then
    status[$p]="FAIL (digest differs)"; failed=1
  fi
done

out=$BUILD_ROOT/results.md
{
  echo "| platform | build | result | checked | results digest | build s | run s |"
  echo "|---|---|---|---|---|---|---|"
  for p in "${platforms[@]}"; do
    echo "| $p | ${desc[$p]:--} | ${status[$p]} | ${result[$p]:--} | ${digest[$p]:--} | ${tbuild[$p]} | ${trun[$p]} |"
  done
} >"$out"
echo
cat "$out"
echo
if [ "$failed" = 0 ]; then
  echo "cross: all ${#platforms[@]} platforms PASS with results digest $ref"
else
  echo "cross: FAILED (logs under $BUILD_ROOT/<platform>/)"
  exit 1
fi
