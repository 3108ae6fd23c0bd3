// Peak multiply-accumulate rates of this CPU: tight register-only loops of
// independent int16 (and int8) dot-product instructions, one ISA per file.
#ifndef FXIC_BENCH_PEAK_H_
#define FXIC_BENCH_PEAK_H_

#include <cstdint>

namespace fxic::bench {

// Each runs `iters` iterations of a fixed unrolled block and returns the
// number of multiply-accumulates performed (plus a checksum through `sink`
// so the loop cannot be removed). Only call those the CPU supports.
#if defined(FXIC_BENCH_X86)
int64_t PeakAvx2Madd(int64_t iters, int32_t* sink);        // vpmaddwd+vpaddd ymm
int64_t PeakAvx512Madd(int64_t iters, int32_t* sink);      // vpmaddwd+vpaddd zmm
int64_t PeakAvx512Dpwssd(int64_t iters, int32_t* sink);    // vpdpwssd zmm
int64_t PeakAvx512Dpbusd(int64_t iters, int32_t* sink);    // vpdpbusd zmm (u8xs8)
#endif

}  // namespace fxic::bench

#endif  // FXIC_BENCH_PEAK_H_
