// Convolution + linear scaling, AVX2 path: vpmaddwd + vpaddd.
// Compiled with -mavx2 -mfma; reached only through the dispatch table after
// the CPU check.
//
// 16 ymm registers: a block of 2 vectors (16 output channels) x 5 pixels is
// 10 int32 accumulators, plus 2 weight vectors, the broadcast pair and the
// vpmaddwd product.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "fixedpoint/kernels.h"
#include "fixedpoint/packed_cache.h"

namespace fxic {
namespace avx2 {
namespace {

constexpr char kPackTag[] = "avx2";
constexpr char kPackTagD2s[] = "avx2+d2s";

struct alignas(32) Requant {
  int64_t mult_even[4], mult_odd[4];
  int64_t round_even[4], round_odd[4];
  int64_t shift_even[4], shift_odd[4];
  int32_t bias[8];
};

#include "fixedpoint/avx2_int64_inl.h"

struct Isa {
  using V = __m256i;
  static constexpr int kLanes = 8;
  static constexpr int kMaxNb = 2;
  static constexpr int Px(int nb) { return nb == 1 ? 8 : 5; }
  static V Load(const void* p) {
    return _mm256_load_si256(static_cast<const __m256i*>(p));
  }
  static V Broadcast32(const int16_t* p) {
    int32_t pair;
    std::memcpy(&pair, p, sizeof(pair));
    return _mm256_set1_epi32(pair);
  }
  static V Madd(V acc, V a, V w) {
    // vpmaddwd: both int16 x int16 products exact, their sum in 32 bits
    // wraps only for (-32768)^2 * 2, impossible with |w| <= 127.
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, w));
  }
  static void RequantStore(V acc, const Requant& q, int lo, int hi,
                           int16_t* dst, int valid) {
    const __m256i lo64 = _mm256_set1_epi64x(lo);
    const __m256i hi64 = _mm256_set1_epi64x(hi);
    __m256i even = _mm256_mul_epi32(acc, Load(q.mult_even));
    __m256i odd =
        _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), Load(q.mult_odd));
    even = SraVar64(_mm256_add_epi64(even, Load(q.round_even)),
                    Load(q.shift_even));
    odd = SraVar64(_mm256_add_epi64(odd, Load(q.round_odd)),
                   Load(q.shift_odd));
    even = Clamp64(even, lo64, hi64);
    odd = Clamp64(odd, lo64, hi64);
    const __m256i both =
        _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    // In range already, so the saturating pack is exact.
    const __m128i packed = _mm_packs_epi32(_mm256_castsi256_si128(both),
                                           _mm256_extracti128_si256(both, 1));
    if (valid >= 8) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), packed);
    } else {
      alignas(16) int16_t tmp[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), packed);
      for (int i = 0; i < valid; ++i) dst[i] = tmp[i];
    }
  }
};

}  // namespace

#include "fixedpoint/conv2d_simd_inl.h"

}  // namespace avx2
}  // namespace fxic
