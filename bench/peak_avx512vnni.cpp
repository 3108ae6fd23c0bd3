// Peak MAC rates with AVX-512 VNNI: vpdpwssd (int16 pairs, 32 MACs per zmm)
// and, for reference, vpdpbusd (u8 x s8 quads, 64 MACs per zmm).
// Hand-written loop (inline asm) so the compiler can neither hoist, share
// nor spill anything: 12 independent accumulator chains, operands in
// registers. Built with this ISA's flags only (bench/CMakeLists.txt).
#include <cstdint>

#include "bench/peak.h"

namespace fxic::bench {

int64_t PeakAvx512Dpwssd(int64_t iters, int32_t* sink) {
  int64_t n = iters;
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm30, %%zmm30, %%zmm30\n"
      "vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n"
      "1:\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm0\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm1\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm2\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm3\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm4\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm5\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm6\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm7\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm8\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm9\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm10\n"
      "vpdpwssd %%zmm30, %%zmm31, %%zmm11\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm30", "xmm31", "cc");
  *sink += static_cast<int32_t>(n);
  return iters * 12 * 32;
}

int64_t PeakAvx512Dpbusd(int64_t iters, int32_t* sink) {
  int64_t n = iters;
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm30, %%zmm30, %%zmm30\n"
      "vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n"
      "1:\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm0\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm1\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm2\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm3\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm4\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm5\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm6\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm7\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm8\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm9\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm10\n"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm11\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm30", "xmm31", "cc");
  *sink += static_cast<int32_t>(n);
  return iters * 12 * 64;
}

}  // namespace fxic::bench
