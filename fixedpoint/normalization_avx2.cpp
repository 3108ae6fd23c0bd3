// GDN / IGDN, AVX2 path: vpmaddwd + vpaddd for the normalizer sums, the
// reciprocal square root and output scaling in vector lanes. Compiled with
// -mavx2 -mfma; reached only through the dispatch table after the CPU check.
//
// Same algorithm and bounds as normalization_avx512_inl.h (read that first),
// on 8 channels per ymm, with a 2 vectors x 5 pixels register block. AVX2 has
// no 64-bit arithmetic shift, min or max: they are built from logical shifts,
// compares and blends, exactly.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "fixedpoint/kernels.h"
#include "fixedpoint/rsqrt_table.h"

namespace fxic {
namespace avx2 {
namespace {

#if defined(__GNUC__) || defined(__clang__)
#define FXIC_NORM_LAMBDA_INLINE __attribute__((always_inline))
#define FXIC_NORM_NOINLINE __attribute__((noinline))
#else
#define FXIC_NORM_LAMBDA_INLINE
#define FXIC_NORM_NOINLINE
#endif
#define FXIC_NORM_INLINE FXIC_NORM_LAMBDA_INLINE inline

constexpr int kLanes = 8;
constexpr int kMaxNb = 2;
constexpr int kPx = 5;
constexpr int64_t kPrefetchPx = 3 * kPx;  // prefetch distance, pixels

struct alignas(32) NormConst {
  int64_t mult_even[4], mult_odd[4];
  int32_t beta[8];
  int32_t shift32[8];  // n
};

struct Ctx {
  const int16_t* in;
  int64_t pixels;
  int16_t* out;
  int c;
  int nvec;   // ceil(c / 8)
  int pairs;  // ceil(c / 2)
  int sq_shift;
  bool inverse;
  int lo, hi;
  const int16_t* gamma;  // [pairs][nvec][8][2]
  const NormConst* nc;   // [nvec]
  const int32_t* table;  // kRsqrtTable widened to int32
};

inline int MinInt(int a, int b) { return a < b ? a : b; }

template <int I>
struct Index {
  static constexpr int value = I;
};

template <int I, int N, typename F>
FXIC_NORM_INLINE void Unroll(const F& f) {
  if constexpr (I < N) {
    f(Index<I>());
    Unroll<I + 1, N>(f);
  }
}

inline __m256i Load(const void* p) {
  return _mm256_load_si256(static_cast<const __m256i*>(p));
}

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

// floor(x / 2^n) per int64 lane: ~(~x >> n) for negative x.
inline __m256i SraVar64(__m256i x, __m256i n) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), n),
                          sign);
}

inline __m256i Clamp64(__m256i x, __m256i lo, __m256i hi) {
  x = _mm256_blendv_epi8(x, lo, _mm256_cmpgt_epi64(lo, x));
  return _mm256_blendv_epi8(x, hi, _mm256_cmpgt_epi64(x, hi));
}

FXIC_NORM_INLINE __m256i Madd(__m256i acc, __m256i a, __m256i w) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, w));
}

void Squares(const Ctx& c, const int16_t* x, int16_t* sq) {
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

// The output of 8 channels of one pixel from their normalizers. Inlined into
// FinishBlock, which keeps the constants in registers across a block.
FXIC_NORM_INLINE void Finish(const Ctx& c, __m256i norm, const NormConst& q,
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

// The outputs of a block: norms[nb][px][8] for NB vectors of channels from
// vec0 and PX pixels from px0. Not inlined: one copy for every block shape.
FXIC_NORM_NOINLINE void FinishBlock(const Ctx& c, const int32_t* norms,
                                    int nbs, int pxs, int64_t px0, int vec0) {
  for (int nb = 0; nb < nbs; ++nb) {
    const int v = vec0 + nb;
    const int valid = MinInt(kLanes, c.c - v * kLanes);
    const NormConst& q = c.nc[v];
    for (int px = 0; px < pxs; ++px) {
      const int64_t at = (px0 + px) * c.c + v * kLanes;
      Finish(c, Load(norms + (nb * pxs + px) * kLanes), q, c.in + at,
             c.out + at, valid);
    }
  }
}

template <int NB, int PX>
void Block(const Ctx& c, int64_t px0, int vec0, const int16_t* sq,
           int sq_stride) {
  __m256i acc[NB][PX];
  Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
    const __m256i b = Load(c.nc[vec0 + nb.value].beta);
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      acc[nb.value][px.value] = b;
    });
  });
  const int16_t* g = c.gamma + vec0 * kLanes * 2;
  const int64_t gstride = int64_t{c.nvec} * kLanes * 2;
  for (int t = 0; t < c.pairs; ++t) {
    __m256i w[NB];
    Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
      w[nb.value] = Load(g + nb.value * kLanes * 2);
    });
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      int32_t pair;
      std::memcpy(&pair, sq + px.value * sq_stride + 2 * t, sizeof(pair));
      const __m256i a = _mm256_set1_epi32(pair);
      Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
        acc[nb.value][px.value] = Madd(acc[nb.value][px.value], a, w[nb.value]);
      });
    });
    g += gstride;
  }
  alignas(32) int32_t norms[NB][PX][kLanes];
  Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      _mm256_store_si256(reinterpret_cast<__m256i*>(norms[nb.value][px.value]),
                         acc[nb.value][px.value]);
    });
  });
  FinishBlock(c, &norms[0][0][0], NB, PX, px0, vec0);
}

template <int PX>
void Pixels(const Ctx& c, int64_t px0, int16_t* sq, int sq_stride) {
  // The input a few blocks ahead into L1 (as in the AVX-512 path): only
  // hints, and only inside the input.
  const int64_t ahead = px0 + kPrefetchPx;
  if (ahead + PX <= c.pixels) {
    const char* pf = reinterpret_cast<const char*>(c.in + ahead * c.c);
    const int64_t bytes = int64_t{PX} * c.c * 2;
    for (int64_t b = 0; b < bytes; b += 64) {
      _mm_prefetch(pf + b, _MM_HINT_T0);
    }
  }
  // Every square of the block before any output: in-place safe.
  for (int px = 0; px < PX; ++px) {
    Squares(c, c.in + (px0 + px) * c.c, sq + px * sq_stride);
  }
  for (int vec0 = 0; vec0 < c.nvec; vec0 += kMaxNb) {
    if (c.nvec - vec0 >= 2) {
      Block<2, PX>(c, px0, vec0, sq, sq_stride);
    } else {
      Block<1, PX>(c, px0, vec0, sq, sq_stride);
    }
  }
}

template <int R>
void TailPixels(const Ctx& c, int64_t px0, int rem, int16_t* sq,
                int sq_stride) {
  if (rem == R) {
    Pixels<R>(c, px0, sq, sq_stride);
  } else if constexpr (R > 1) {
    TailPixels<R - 1>(c, px0, rem, sq, sq_stride);
  }
}

}  // namespace

void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out) {
  const int ch = p.channels;
  const int nvec = (ch + kLanes - 1) / kLanes;
  const int pairs = (ch + 1) / 2;
  int16_t* gamma = static_cast<int16_t*>(
      _mm_malloc(sizeof(int16_t) * pairs * nvec * kLanes * 2 + 64, 64));
  for (int t = 0; t < pairs; ++t) {
    for (int v = 0; v < nvec; ++v) {
      for (int lane = 0; lane < kLanes; ++lane) {
        const int i = v * kLanes + lane;
        for (int e = 0; e < 2; ++e) {
          const int j = 2 * t + e;
          gamma[((int64_t{t} * nvec + v) * kLanes + lane) * 2 + e] =
              (i < ch && j < ch) ? p.gamma[int64_t{i} * ch + j] : int16_t{0};
        }
      }
    }
  }
  NormConst* nc =
      static_cast<NormConst*>(_mm_malloc(sizeof(NormConst) * nvec, 64));
  for (int v = 0; v < nvec; ++v) {
    for (int lane = 0; lane < kLanes; ++lane) {
      const int i = v * kLanes + lane;
      const bool real = i < ch;
      nc[v].beta[lane] = real ? p.beta[i] : 1;  // keeps the lookup in range
      const int64_t m = real ? p.mult[i] : 0;
      const int64_t n = real ? p.shift[i] : 15;
      nc[v].shift32[lane] = static_cast<int32_t>(n);
      if (lane % 2 == 0) {
        nc[v].mult_even[lane / 2] = m;
      } else {
        nc[v].mult_odd[lane / 2] = m;
      }
    }
  }
  alignas(32) int32_t table[kRsqrtTableSize];
  for (int t = 0; t < kRsqrtTableSize; ++t) table[t] = kRsqrtTable[t];

  Ctx c;
  c.in = in;
  c.pixels = pixels;
  c.out = out;
  c.c = ch;
  c.nvec = nvec;
  c.pairs = pairs;
  c.sq_shift = p.sq_shift;
  c.inverse = inverse;
  c.lo = p.out_lo;
  c.hi = p.out_hi;
  c.gamma = gamma;
  c.nc = nc;
  c.table = table;

  // Pixels are independent: splitting them over threads cannot change a
  // result.
  constexpr int64_t kChunk = 16 * kPx;
  const int64_t chunks = (pixels + kChunk - 1) / kChunk;
  const int sq_stride = nvec * kLanes;
  // Small calls run on one thread (see conv2d_simd_inl.h).
  const bool parallel = pixels * ch * (ch + 64) >= (int64_t{1} << 23);
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  {
    int16_t* sq = static_cast<int16_t*>(
        _mm_malloc(sizeof(int16_t) * kPx * sq_stride + 64, 64));
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t begin = chunk * kChunk;
      const int64_t end = begin + kChunk < pixels ? begin + kChunk : pixels;
      int64_t px = begin;
      for (; px + kPx <= end; px += kPx) Pixels<kPx>(c, px, sq, sq_stride);
      if (px < end) {
        TailPixels<kPx - 1>(c, px, static_cast<int>(end - px), sq, sq_stride);
      }
    }
    _mm_free(sq);
    _mm256_zeroupper();  // see conv2d_simd_inl.h: not emitted by GCC 12 here
  }
  _mm_free(nc);
  _mm_free(gamma);
}

}  // namespace avx2
}  // namespace fxic
