// Convolution + linear scaling, AVX-512 VNNI path: vpdpwssd (int16 pairs,
// exact, non-saturating). Compiled with -mavx512f -mavx512bw -mavx512vl
// -mavx512vnni; reached only through the dispatch table after the CPU check.
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
namespace avx512vnni {

namespace {
constexpr char kPackTag[] = "avx512vnni";
constexpr char kPackTagD2s[] = "avx512vnni+d2s";
}  // namespace

#define FXIC_AVX512_VNNI 1
#include "fixedpoint/conv2d_avx512_body_inl.h"
#undef FXIC_AVX512_VNNI

}  // namespace avx512vnni
}  // namespace fxic
