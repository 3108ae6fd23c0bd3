// AVX-512 traits of the SIMD convolution, shared by the "avx512" (vpmaddwd +
// vpaddd) and "avx512vnni" (vpdpwssd) translation units. No include guard:
// included once per translation unit, inside that ISA's namespace, with
// FXIC_AVX512_VNNI set to 0 or 1.
//
// 32 zmm registers: a block of 4 vectors (64 output channels) x 6 pixels is
// 24 int32 accumulators, plus 4 weight vectors and the broadcast pair.

namespace {

struct alignas(64) Requant {
  int64_t mult_even[8], mult_odd[8];
  int64_t round_even[8], round_odd[8];
  int64_t shift_even[8], shift_odd[8];
  int32_t bias[16];
};

struct Isa {
  using V = __m512i;
  static constexpr int kLanes = 16;
  static constexpr int kMaxNb = 4;
  static constexpr int Px(int nb) {
    return nb == 1 ? 16 : nb == 2 ? 12 : nb == 3 ? 8 : 6;
  }
  static V Load(const void* p) { return _mm512_load_si512(p); }
  static V Broadcast32(const int16_t* p) {
    int32_t pair;
    std::memcpy(&pair, p, sizeof(pair));
    return _mm512_set1_epi32(pair);
  }
  static V Madd(V acc, V a, V w) {
#if FXIC_AVX512_VNNI
    // vpdpwssd: exact, no saturation (unlike vpdpwssds).
    return _mm512_dpwssd_epi32(acc, a, w);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, w));
#endif
  }
  // Clamp(RoundingShiftRight(acc * M0, n), lo, hi) per channel, stored as
  // int16 for the first `valid` channels.
  static void RequantStore(V acc, const Requant& q, int lo, int hi,
                           int16_t* dst, int valid) {
    const __m512i lo64 = _mm512_set1_epi64(lo);
    const __m512i hi64 = _mm512_set1_epi64(hi);
    // vpmuldq: signed low 32 bits of each 64-bit lane -> exact int64.
    __m512i even = _mm512_mul_epi32(acc, Load(q.mult_even));
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), Load(q.mult_odd));
    even = _mm512_srav_epi64(_mm512_add_epi64(even, Load(q.round_even)),
                             Load(q.shift_even));
    odd = _mm512_srav_epi64(_mm512_add_epi64(odd, Load(q.round_odd)),
                            Load(q.shift_odd));
    even = _mm512_min_epi64(_mm512_max_epi64(even, lo64), hi64);
    odd = _mm512_min_epi64(_mm512_max_epi64(odd, lo64), hi64);
    // Both now fit int16: keep the low 32 bits of each, interleaved back.
    const __m512i both =
        _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    const __m256i packed = _mm512_cvtepi32_epi16(both);
    if (valid >= 16) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), packed);
    } else {
      _mm256_mask_storeu_epi16(dst, static_cast<__mmask16>((1u << valid) - 1),
                               packed);
    }
  }
};

}  // namespace

#include "fixedpoint/conv2d_simd_inl.h"
