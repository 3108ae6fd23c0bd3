// Peak int16 MAC rate with AVX-512BW: vpmaddwd + vpaddd on zmm (32 MACs each).
// Hand-written loop (inline asm) so the compiler can neither hoist, share
// nor spill anything: 12 independent accumulator chains, operands in
// registers. Built with this ISA's flags only (bench/CMakeLists.txt).
#include <cstdint>

#include "bench/peak.h"

namespace fxic::bench {

int64_t PeakAvx512Madd(int64_t iters, int32_t* sink) {
  int64_t n = iters;
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm30, %%zmm30, %%zmm30\n"
      "vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n"
      "1:\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm12\n"
      "vpaddd %%zmm12, %%zmm0, %%zmm0\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm13\n"
      "vpaddd %%zmm13, %%zmm1, %%zmm1\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm14\n"
      "vpaddd %%zmm14, %%zmm2, %%zmm2\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm15\n"
      "vpaddd %%zmm15, %%zmm3, %%zmm3\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm16\n"
      "vpaddd %%zmm16, %%zmm4, %%zmm4\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm17\n"
      "vpaddd %%zmm17, %%zmm5, %%zmm5\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm18\n"
      "vpaddd %%zmm18, %%zmm6, %%zmm6\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm19\n"
      "vpaddd %%zmm19, %%zmm7, %%zmm7\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm20\n"
      "vpaddd %%zmm20, %%zmm8, %%zmm8\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm21\n"
      "vpaddd %%zmm21, %%zmm9, %%zmm9\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm22\n"
      "vpaddd %%zmm22, %%zmm10, %%zmm10\n"
      "vpmaddwd %%zmm30, %%zmm31, %%zmm23\n"
      "vpaddd %%zmm23, %%zmm11, %%zmm11\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30", "xmm31", "cc");
  *sink += static_cast<int32_t>(n);
  return iters * 12 * 32;
}

}  // namespace fxic::bench
