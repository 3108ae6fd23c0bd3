// Convolution + linear scaling, AVX-512 (F/BW/VL) path: vpmaddwd + vpaddd.
// Compiled with -mavx512f -mavx512bw -mavx512vl; reached only through the
// dispatch table after the CPU check.
// GCC 12 warns about the self-initialised _mm512_undefined_* in its own
// avx512fintrin.h (a false positive), wherever an intrinsic uses one.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "fixedpoint/kernels.h"
#include "fixedpoint/packed_cache.h"

namespace fxic {
namespace avx512 {

namespace {
constexpr char kPackTag[] = "avx512";
constexpr char kPackTagD2s[] = "avx512+d2s";
}  // namespace

#define FXIC_AVX512_VNNI 0
#include "fixedpoint/conv2d_avx512_body_inl.h"
#undef FXIC_AVX512_VNNI

}  // namespace avx512
}  // namespace fxic
