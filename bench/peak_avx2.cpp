// Peak int16 MAC rate with AVX2: vpmaddwd + vpaddd on ymm (16 MACs each).
// Hand-written loop (inline asm) so the compiler can neither hoist, share
// nor spill anything: 6 independent accumulator chains, operands in
// registers. Built with this ISA's flags only (bench/CMakeLists.txt).
#include <cstdint>

#include "bench/peak.h"

namespace fxic::bench {

int64_t PeakAvx2Madd(int64_t iters, int32_t* sink) {
  int64_t n = iters;
  __asm__ volatile(
      "vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n"
      "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n"
      "1:\n"
      "vpmaddwd %%ymm14, %%ymm15, %%ymm6\n"
      "vpaddd %%ymm6, %%ymm0, %%ymm0\n"
      "vpmaddwd %%ymm14, %%ymm15, %%ymm7\n"
      "vpaddd %%ymm7, %%ymm1, %%ymm1\n"
      "vpmaddwd %%ymm14, %%ymm15, %%ymm8\n"
      "vpaddd %%ymm8, %%ymm2, %%ymm2\n"
      "vpmaddwd %%ymm14, %%ymm15, %%ymm9\n"
      "vpaddd %%ymm9, %%ymm3, %%ymm3\n"
      "vpmaddwd %%ymm14, %%ymm15, %%ymm10\n"
      "vpaddd %%ymm10, %%ymm4, %%ymm4\n"
      "vpmaddwd %%ymm14, %%ymm15, %%ymm11\n"
      "vpaddd %%ymm11, %%ymm5, %%ymm5\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm14", "xmm15", "cc");
  *sink += static_cast<int32_t>(n);
  return iters * 6 * 16;
}

}  // namespace fxic::bench
