// GDN / IGDN, AVX-512 (F/BW/VL) path (vpmaddwd + vpaddd) for the normalizer sums.
// Compiled with -mavx512f -mavx512bw -mavx512vl; reached only through the dispatch
// table after the CPU check.

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
#include "fixedpoint/rsqrt_table.h"

namespace fxic {
namespace avx512 {

#define FXIC_AVX512_VNNI 0
#include "fixedpoint/normalization_avx512_inl.h"
#undef FXIC_AVX512_VNNI

}  // namespace avx512
}  // namespace fxic
