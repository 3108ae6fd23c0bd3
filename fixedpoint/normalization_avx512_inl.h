// AVX-512 GDN / IGDN, shared by the "avx512" (vpmaddwd + vpaddd) and
// "avx512vnni" (vpdpwssd) translation units. No include guard: included once
// per translation unit, inside that ISA's namespace, with FXIC_AVX512_VNNI
// set to 0 or 1.
//
// The algorithm, the register blocking (here 4 vectors = 64 channels x 6
// pixels) and the pixel loop are normalization_simd_inl.h, exactly as
// normalization.cpp (docs/fixed-point.md). Here, on 16 channels per zmm:
// - sq in 32-bit lanes with masked loads for the last channels.
// - 1/sqrt (and sqrt) of norm and the output scaling run in vector lanes:
//   k = FloorLog2(norm) >> 1 by a 4-step binary search over 4^k, the table
//   lookup by three word permutes from registers (no gather), the Newton
//   step and MulShift in 64-bit lanes (even and odd channels separately).
//   Every intermediate stays inside the bounds the doc proves, so the 64-bit
//   lane arithmetic equals the scalar int64 code. The table stays in
//   registers across a whole block (FinishRegs).

#include "fixedpoint/normalization_simd_inl.h"

namespace {

__mmask16 ValidMask(int valid) {
  return valid >= 16 ? static_cast<__mmask16>(0xffff)
                     : static_cast<__mmask16>((1u << valid) - 1);
}

struct Isa {
  using V = __m512i;
  using TableEntry = uint16_t;  // the permutes read 16-bit words
  static constexpr int kLanes = 16;
  static constexpr int kMaxNb = 4;
  static constexpr int kPx = 6;
  using Ctx = NormCtx<kLanes, TableEntry>;
  using Const = NormConst<kLanes>;
  // Constants of the output stage, loaded once per block of normalizers.
  struct FinishRegs {
    __m512i tab[6];  // kRsqrtTable as 192 uint16 words, 64 per register pair
  };

  static V Load(const void* p) { return _mm512_load_si512(p); }
  static void Store(void* p, V v) { _mm512_store_si512(p, v); }
  static V Broadcast32(const int16_t* p) {
    int32_t pair;
    std::memcpy(&pair, p, sizeof(pair));
    return _mm512_set1_epi32(pair);
  }
  static FXIC_NORM_INLINE V Madd(V acc, V a, V w) {
#if FXIC_AVX512_VNNI
    return _mm512_dpwssd_epi32(acc, a, w);  // exact, non-saturating
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, w));
#endif
  }
  static FXIC_NORM_INLINE void Squares(const Ctx& c, const int16_t* x,
                                       int16_t* sq);
  static FXIC_NORM_INLINE FinishRegs LoadFinishRegs(const Ctx& c) {
    FinishRegs fr;
    for (int i = 0; i < 6; ++i) {
      fr.tab[i] = _mm512_load_si512(c.table + 32 * i);
    }
    return fr;
  }
  static FXIC_NORM_INLINE __m512i RsqrtLookup(const FinishRegs& fr,
                                              __m512i idx);
  static FXIC_NORM_INLINE void Finish(const Ctx& c, const FinishRegs& fr,
                                      V norm, const Const& q, const int16_t* x,
                                      int16_t* dst, int valid);
};

inline void Isa::Squares(const Ctx& c, const int16_t* x, int16_t* sq) {
  const int s = c.sq_shift;
  for (int v = 0; v < c.nvec; ++v) {
    const __mmask16 m = ValidMask(c.c - v * kLanes);
    const __m512i x32 =
        _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, x + v * kLanes));
    __m512i p = _mm512_mullo_epi32(x32, x32);  // x^2 < 2^30
    if (s >= 31) {
      // x^2 + 2^(s-1) < 2^s, so the rounded shift is 0.
      p = _mm512_setzero_si512();
    } else if (s > 0) {
      p = _mm512_srli_epi32(
          _mm512_add_epi32(p, _mm512_set1_epi32(int32_t{1} << (s - 1))), s);
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(sq + v * kLanes),
                       _mm512_cvtepi32_epi16(p));
  }
}

// kRsqrtTable[idx] for idx in [0, 192) held in the low word of each 32-bit
// lane (high word 0): three two-register word permutes (vpermt2w reads the
// low 6 bits of each index word), each selecting one 64-entry third of the
// table, merged by idx >= 64 / >= 128. The odd words (high halves of the
// lanes) come out 0. Same values as a gather of the int32 table.
inline __m512i Isa::RsqrtLookup(const FinishRegs& fr, __m512i idx) {
  const __m512i ra =
      _mm512_maskz_permutex2var_epi16(0x55555555u, fr.tab[0], idx, fr.tab[1]);
  const __m512i rb = _mm512_permutex2var_epi16(fr.tab[2], idx, fr.tab[3]);
  const __m512i rc = _mm512_permutex2var_epi16(fr.tab[4], idx, fr.tab[5]);
  // Word compares: the high words of idx are 0, below both thresholds.
  const __mmask32 ge64 = _mm512_cmpge_epu16_mask(idx, _mm512_set1_epi16(64));
  const __mmask32 ge128 =
      _mm512_cmpge_epu16_mask(idx, _mm512_set1_epi16(128));
  return _mm512_mask_mov_epi16(_mm512_mask_mov_epi16(ra, ge64, rb), ge128, rc);
}

inline void Isa::Finish(const Ctx& c, const FinishRegs& fr, V norm,
                        const Const& q, const int16_t* x, int16_t* dst,
                        int valid) {
  // k = FloorLog2(norm) >> 1 = floor(log4(norm)), norm in [1, 2^31) (padded
  // lanes have beta = 1), by a binary search over k in [0, 15]: v >= 4^8,
  // then 4^4, 4^2, 4^1 on the remaining v.
  __m512i v = norm;
  __m512i k = _mm512_setzero_si512();
  for (int step = 8; step > 1; step >>= 1) {
    const __mmask16 ge = _mm512_cmpge_epu32_mask(
        v, _mm512_set1_epi32(int32_t{1} << (2 * step)));
    v = _mm512_mask_srli_epi32(v, ge, v, static_cast<unsigned>(2 * step));
    k = _mm512_mask_add_epi32(k, ge, k, _mm512_set1_epi32(step));
  }
  k = _mm512_mask_add_epi32(
      k, _mm512_cmpge_epu32_mask(v, _mm512_set1_epi32(4)), k,
      _mm512_set1_epi32(1));
  // mq = norm * 2^(28 - 2k) or norm >> (2k - 28): exactly one of the two
  // counts is in [0, 31], the other one is >= 32 as unsigned, giving 0.
  const __m512i e = _mm512_sub_epi32(_mm512_set1_epi32(28),
                                     _mm512_add_epi32(k, k));
  const __m512i mq =
      _mm512_or_si512(_mm512_sllv_epi32(norm, e),
                      _mm512_srlv_epi32(norm, _mm512_sub_epi32(
                                                  _mm512_setzero_si512(), e)));
  const __m512i idx =
      _mm512_sub_epi32(_mm512_srli_epi32(mq, 22), _mm512_set1_epi32(64));
  const __m512i r0 = RsqrtLookup(fr, idx);          // Q15, < 2^15
  const __m512i r0sq = _mm512_mullo_epi32(r0, r0);  // < 2^30
  // The MulShift shift n + k (GDN) or n - k (IGDN), in [0, 62], per lane.
  const __m512i n32 = _mm512_load_si512(q.shift32);
  const __m512i sh32 =
      c.inverse ? _mm512_sub_epi32(n32, k) : _mm512_add_epi32(n32, k);

  const __m512i x32 = _mm512_cvtepi16_epi32(
      _mm256_maskz_loadu_epi16(ValidMask(valid), x));
  const __m512i lo64 = _mm512_set1_epi64(c.lo);
  const __m512i hi64 = _mm512_set1_epi64(c.hi);
  const __m512i one64 = _mm512_set1_epi64(1);

  // Even channels in the low halves of the 64-bit lanes, odd ones shifted
  // down; vpmuludq / vpmuldq read only the low 32 bits of each lane.
  __m512i out[2];
  for (int half = 0; half < 2; ++half) {
    const auto low = [half](__m512i a) {
      return half == 0 ? a : _mm512_srli_epi64(a, 32);
    };
    const __m512i mq_h = low(mq);
    // sh as a 64-bit count (srav reads all 64 bits): clear the odd lane.
    const __m512i sh = half == 0 ? _mm512_and_si512(
                                       sh32, _mm512_set1_epi64(0xffffffff))
                                 : _mm512_srli_epi64(sh32, 32);
    // h = RoundingShiftRight(mq * r0^2, 28), mq * r0^2 < 2^60.
    const __m512i h = _mm512_srli_epi64(
        _mm512_add_epi64(_mm512_mul_epu32(mq_h, low(r0sq)),
                         _mm512_set1_epi64(int64_t{1} << 27)),
        28);
    // r = RoundingShiftRight(r0 * (3 * 2^30 - h), 16); 0 < 3*2^30 - h < 2^32.
    const __m512i d = _mm512_sub_epi64(_mm512_set1_epi64(int64_t{3} << 30), h);
    const __m512i r = _mm512_srli_epi64(
        _mm512_add_epi64(_mm512_mul_epu32(low(r0), d),
                         _mm512_set1_epi64(int64_t{1} << 15)),
        16);  // <= 2^30
    // f = r (GDN) or s = sqrt(m) in Q30 (IGDN), < 2^31.
    const __m512i f =
        c.inverse ? _mm512_srli_epi64(
                        _mm512_add_epi64(_mm512_mul_epu32(mq_h, r),
                                         _mm512_set1_epi64(int64_t{1} << 27)),
                        28)
                  : r;
    // t = RoundingShiftRight(x * f, 15): |x * f| < 2^46, |t| < 2^31.
    const __m512i t = _mm512_srai_epi64(
        _mm512_add_epi64(_mm512_mul_epi32(low(x32), f),
                         _mm512_set1_epi64(int64_t{1} << 14)),
        15);
    // MulShift(t, M0, sh) = floor((p + 2^(sh-1)) / 2^sh) with p = t * M0,
    // |p| < 2^62 (p itself for sh = 0), computed as
    // ((2p >> sh) + 1) >> 1: floor((floor(a) + 1) / 2) = floor((a + 1) / 2)
    // with a = 2p / 2^sh, and |2p| < 2^63 does not wrap. For sh = 0 it is
    // floor((2p + 1) / 2) = p.
    const __m512i p2 = _mm512_slli_epi64(
        _mm512_mul_epi32(
            t, _mm512_load_si512(half == 0 ? q.mult_even : q.mult_odd)),
        1);
    const __m512i y = _mm512_srai_epi64(
        _mm512_add_epi64(_mm512_srav_epi64(p2, sh), one64), 1);
    out[half] = _mm512_min_epi64(_mm512_max_epi64(y, lo64), hi64);
  }
  // Clamped values fit in int16: channel 2i is word 4i of out[0], channel
  // 2i + 1 word 4i of out[1] (index 32 + 4i of the pair).
  const __m512i pick = _mm512_set_epi16(
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
      60, 28, 56, 24, 52, 20, 48, 16, 44, 12, 40, 8, 36, 4, 32, 0);
  const __m256i y16 = _mm512_castsi512_si256(
      _mm512_permutex2var_epi16(out[0], pick, out[1]));
  if (valid >= kLanes) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), y16);
  } else {
    _mm256_mask_storeu_epi16(dst, ValidMask(valid), y16);
  }
}

}  // namespace

void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out) {
  NormalizeSimd<Isa>(in, pixels, p, inverse, out);
}
