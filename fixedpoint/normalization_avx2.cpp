// GDN / IGDN, AVX2 path: vpmaddwd + vpaddd for the normalizer sums, the
// reciprocal square root and output scaling in vector lanes. Compiled with
// -mavx2 -mfma; reached only through the dispatch table after the CPU check.
//
// Same algorithm and bounds as normalization_avx512_inl.h (read that first);
// the blocking and the pixel loop are normalization_simd_inl.h. Here: 8
// channels per ymm, a 2 vectors x 5 pixels register block, the table lookup
// by a gather. AVX2 has no 64-bit arithmetic shift, min or max: they are
// built from logical shifts, compares and blends, exactly.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "fixedpoint/kernels.h"
#include "fixedpoint/rsqrt_table.h"

namespace fxic {
namespace avx2 {

#include "fixedpoint/normalization_simd_inl.h"

namespace {

// 8 int16 (the first `valid`, zeros after) widened to int32.
inline __m256i LoadX(const int16_t* x, int valid) {
  if (valid >= 8) {
    return _mm256_cvtepi16_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
  }
  alignas(16) int16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < valid; ++i) tmp[i] = x[i];
  return _mm256_cvtepi16_epi32(_mm_load_si128(reinterpret_cast<__m128i*>(tmp)));
}

// 8 int32 lanes, each in int16 range, to int16.
inline __m128i PackTo16(__m256i v) {
  return _mm_packs_epi32(_mm256_castsi256_si128(v),
                         _mm256_extracti128_si256(v, 1));
}

#include "fixedpoint/avx2_int64_inl.h"

struct Isa {
  using V = __m256i;
  using TableEntry = int32_t;  // kRsqrtTable widened to int32 for the gather
  static constexpr int kLanes = 8;
  static constexpr int kMaxNb = 2;
  static constexpr int kPx = 5;
  using Ctx = NormCtx<kLanes, TableEntry>;
  using Const = NormConst<kLanes>;
  struct FinishRegs {};  // the gather reads the table from memory

  static V Load(const void* p) {
    return _mm256_load_si256(static_cast<const __m256i*>(p));
  }
  static void Store(void* p, V v) {
    _mm256_store_si256(static_cast<__m256i*>(p), v);
  }
  static V Broadcast32(const int16_t* p) {
    int32_t pair;
    std::memcpy(&pair, p, sizeof(pair));
    return _mm256_set1_epi32(pair);
  }
  static FXIC_NORM_INLINE V Madd(V acc, V a, V w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, w));
  }
  static void Squares(const Ctx& c, const int16_t* x, int16_t* sq);
  static FinishRegs LoadFinishRegs(const Ctx&) { return {}; }
  static FXIC_NORM_INLINE void Finish(const Ctx& c, const FinishRegs& fr,
                                      V norm, const Const& q, const int16_t* x,
                                      int16_t* dst, int valid);
};

// Not declared inline: GCC keeps one out-of-line copy for every Pixels<PX>.
void Isa::Squares(const Ctx& c, const int16_t* x, int16_t* sq) {
  const int s = c.sq_shift;
  for (int v = 0; v < c.nvec; ++v) {
    const __m256i x32 = LoadX(x + v * kLanes, c.c - v * kLanes);
    __m256i p = _mm256_mullo_epi32(x32, x32);  // x^2 < 2^30
    if (s >= 31) {
      p = _mm256_setzero_si256();  // x^2 + 2^(s-1) < 2^s
    } else if (s > 0) {
      p = _mm256_srl_epi32(
          _mm256_add_epi32(p, _mm256_set1_epi32(int32_t{1} << (s - 1))),
          _mm_cvtsi32_si128(s));
    }
    _mm_store_si128(reinterpret_cast<__m128i*>(sq + v * kLanes), PackTo16(p));
  }
}

// Inlined into FinishBlock, which keeps the constants in registers across a
// block.
inline void Isa::Finish(const Ctx& c, const FinishRegs&, V norm, const Const& q,
                        const int16_t* x, int16_t* dst, int valid) {
  // k = FloorLog2(norm) >> 1 = floor(log4(norm)); 1 <= norm <= 2^31 - 1, so
  // signed compares work. Binary search over k in [0, 15]: v >= 4^8, then
  // 4^4, 4^2, 4^1 on the remaining v (the last step needs no shift).
  __m256i v = norm;
  __m256i k = _mm256_setzero_si256();
  for (int step = 8; step > 1; step >>= 1) {
    const __m256i ge = _mm256_cmpgt_epi32(
        v, _mm256_set1_epi32((int32_t{1} << (2 * step)) - 1));
    v = _mm256_blendv_epi8(v, _mm256_srli_epi32(v, 2 * step), ge);
    k = _mm256_add_epi32(k, _mm256_and_si256(ge, _mm256_set1_epi32(step)));
  }
  k = _mm256_sub_epi32(k, _mm256_cmpgt_epi32(v, _mm256_set1_epi32(3)));
  const __m256i e =
      _mm256_sub_epi32(_mm256_set1_epi32(28), _mm256_add_epi32(k, k));
  // One of the two counts is in [0, 31], the other >= 32 (gives 0).
  const __m256i mq = _mm256_or_si256(
      _mm256_sllv_epi32(norm, e),
      _mm256_srlv_epi32(norm, _mm256_sub_epi32(_mm256_setzero_si256(), e)));
  const __m256i idx =
      _mm256_sub_epi32(_mm256_srli_epi32(mq, 22), _mm256_set1_epi32(64));
  const __m256i r0 = _mm256_i32gather_epi32(c.table, idx, 4);  // Q15
  const __m256i r0sq = _mm256_mullo_epi32(r0, r0);             // < 2^30
  // The MulShift shift n + k (GDN) or n - k (IGDN), in [0, 62].
  const __m256i n32 = Load(q.shift32);
  const __m256i sh32 =
      c.inverse ? _mm256_sub_epi32(n32, k) : _mm256_add_epi32(n32, k);
  const __m256i x32 = LoadX(x, valid);
  const __m256i lo64 = _mm256_set1_epi64x(c.lo);
  const __m256i hi64 = _mm256_set1_epi64x(c.hi);
  const __m256i one64 = _mm256_set1_epi64x(1);

  __m256i out[2];
  for (int half = 0; half < 2; ++half) {
    const auto low = [half](__m256i a) {
      return half == 0 ? a : _mm256_srli_epi64(a, 32);
    };
    const __m256i mq_h = low(mq);
    // sh as a 64-bit count (the shifts read all 64 bits): odd lane cleared.
    const __m256i sh =
        half == 0 ? _mm256_and_si256(sh32, _mm256_set1_epi64x(0xffffffff))
                  : _mm256_srli_epi64(sh32, 32);
    const __m256i h = _mm256_srli_epi64(
        _mm256_add_epi64(_mm256_mul_epu32(mq_h, low(r0sq)),
                         _mm256_set1_epi64x(int64_t{1} << 27)),
        28);
    const __m256i d =
        _mm256_sub_epi64(_mm256_set1_epi64x(int64_t{3} << 30), h);
    const __m256i r = _mm256_srli_epi64(
        _mm256_add_epi64(_mm256_mul_epu32(low(r0), d),
                         _mm256_set1_epi64x(int64_t{1} << 15)),
        16);
    const __m256i f =
        c.inverse ? _mm256_srli_epi64(
                        _mm256_add_epi64(_mm256_mul_epu32(mq_h, r),
                                         _mm256_set1_epi64x(int64_t{1} << 27)),
                        28)
                  : r;
    // t = RoundingShiftRight(x * f, 15) = floor((x*f + 2^14) / 2^15) with
    // |x * f| < 2^46: adding 2^47 (a multiple of 2^15) makes the sum
    // positive, so a logical shift is the floor, and 2^47 / 2^15 = 2^32 is
    // subtracted after.
    const __m256i t = _mm256_sub_epi64(
        _mm256_srli_epi64(
            _mm256_add_epi64(
                _mm256_mul_epi32(low(x32), f),
                _mm256_set1_epi64x((int64_t{1} << 47) + (int64_t{1} << 14))),
            15),
        _mm256_set1_epi64x(int64_t{1} << 32));
    const __m256i prod =
        _mm256_mul_epi32(t, Load(half == 0 ? q.mult_even : q.mult_odd));
    // 2^(sh-1), and 0 for sh == 0 (a count of -1 shifts everything out).
    const __m256i round =
        _mm256_sllv_epi64(one64, _mm256_sub_epi64(sh, one64));
    out[half] =
        Clamp64(SraVar64(_mm256_add_epi64(prod, round), sh), lo64, hi64);
  }
  const __m128i packed = PackTo16(
      _mm256_blend_epi32(out[0], _mm256_slli_epi64(out[1], 32), 0xAA));
  if (valid >= 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), packed);
  } else {
    alignas(16) int16_t tmp[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), packed);
    for (int i = 0; i < valid; ++i) dst[i] = tmp[i];
  }
}

}  // namespace

void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out) {
  NormalizeSimd<Isa>(in, pixels, p, inverse, out);
}

}  // namespace avx2
}  // namespace fxic
