// AVX-512 GDN / IGDN, shared by the "avx512" (vpmaddwd + vpaddd) and
// "avx512vnni" (vpdpwssd) translation units. No include guard: included once
// per translation unit, inside that ISA's namespace, with FXIC_AVX512_VNNI
// set to 0 or 1.
//
// Per pixel, exactly as normalization.cpp (docs/fixed-point.md):
// - sq[j] = RoundingShiftRight(x[j]^2, sq_shift) in 32-bit lanes, stored as
//   int16 (the loader proves sq <= 32767).
// - norm[i] = beta[i] + sum_j gamma[i][j] * sq[j] is a 1x1 convolution of sq
//   by gamma: int16 pairs of sq broadcast, times pairs of gamma for 16
//   output channels, by vpmaddwd / vpdpwssd. Both operands are in
//   [0, 32767], so each pair sum is below 2^31 (no wrap), every partial sum
//   is non-negative and bounded by the proven norm <= 2^31 - 1: the order of
//   summation cannot matter. Register block: 4 vectors (64 channels) x 6
//   pixels, as in the convolution.
// - 1/sqrt (and sqrt) of norm and the output scaling run in vector lanes:
//   FloorLog2 by the same binary search as rounding.h, the table lookup by a
//   gather, the Newton step and MulShift in 64-bit lanes (even and odd
//   channels separately). Every intermediate stays inside the bounds the doc
//   proves, so the 64-bit lane arithmetic equals the scalar int64 code.

namespace {

#if defined(__GNUC__) || defined(__clang__)
#define FXIC_NORM_LAMBDA_INLINE __attribute__((always_inline))
#else
#define FXIC_NORM_LAMBDA_INLINE
#endif
#define FXIC_NORM_INLINE FXIC_NORM_LAMBDA_INLINE inline

constexpr int kLanes = 16;
constexpr int kMaxNb = 4;
constexpr int kPx = 6;

struct alignas(64) NormConst {
  int64_t mult_even[8], mult_odd[8];
  int64_t shift_even[8], shift_odd[8];
  int32_t beta[16];
};

struct Ctx {
  const int16_t* in;
  int16_t* out;
  int c;        // channels
  int nvec;     // ceil(c / 16)
  int pairs;    // ceil(c / 2)
  int sq_shift;
  bool inverse;
  int lo, hi;
  const int16_t* gamma;   // [pairs][nvec][16][2]
  const NormConst* nc;    // [nvec]
  const int32_t* table;   // kRsqrtTable widened to int32
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

FXIC_NORM_INLINE __m512i Madd(__m512i acc, __m512i a, __m512i w) {
#if FXIC_AVX512_VNNI
  return _mm512_dpwssd_epi32(acc, a, w);  // exact, non-saturating
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(a, w));
#endif
}

__mmask16 ValidMask(int valid) {
  return valid >= 16 ? static_cast<__mmask16>(0xffff)
                     : static_cast<__mmask16>((1u << valid) - 1);
}

// sq of one pixel's channels into sq[0 .. 16 * nvec), zero beyond c.
FXIC_NORM_INLINE void Squares(const Ctx& c, const int16_t* x, int16_t* sq) {
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

#if defined(__GNUC__) || defined(__clang__)
#define FXIC_NORM_NOINLINE __attribute__((noinline))
#else
#define FXIC_NORM_NOINLINE
#endif

// The output of 16 channels of one pixel from their normalizers. Not
// inlined: one copy serves every block shape (it is ~70 instructions with a
// gather; the call costs little next to that).
FXIC_NORM_NOINLINE void Finish(const Ctx& c, __m512i norm, const NormConst& q,
                             const int16_t* x, int16_t* dst, int valid) {
  // FloorLog2(norm), norm >= 1 (padded lanes have beta = 1).
  __m512i v = norm;
  __m512i log = _mm512_setzero_si512();
  for (int step = 16; step > 0; step >>= 1) {
    const __mmask16 ge =
        _mm512_cmpge_epu32_mask(v, _mm512_set1_epi32(int32_t{1} << step));
    v = _mm512_mask_srli_epi32(v, ge, v, static_cast<unsigned>(step));
    log = _mm512_mask_add_epi32(log, ge, log, _mm512_set1_epi32(step));
  }
  const __m512i k = _mm512_srli_epi32(log, 1);
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
  const __m512i r0 = _mm512_i32gather_epi32(idx, c.table, 4);  // Q15
  const __m512i r0sq = _mm512_mullo_epi32(r0, r0);             // < 2^30

  const __m512i x32 =
      _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(ValidMask(valid), x));
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
    const __m512i r0_h = low(r0);
    const __m512i k_h = _mm512_and_si512(low(k), _mm512_set1_epi64(0xffffffff));
    // h = RoundingShiftRight(mq * r0^2, 28), mq * r0^2 < 2^60.
    const __m512i h = _mm512_srli_epi64(
        _mm512_add_epi64(_mm512_mul_epu32(mq_h, low(r0sq)),
                         _mm512_set1_epi64(int64_t{1} << 27)),
        28);
    // r = RoundingShiftRight(r0 * (3 * 2^30 - h), 16); 0 < 3*2^30 - h < 2^32.
    const __m512i d = _mm512_sub_epi64(_mm512_set1_epi64(int64_t{3} << 30), h);
    const __m512i r = _mm512_srli_epi64(
        _mm512_add_epi64(_mm512_mul_epu32(r0_h, d),
                         _mm512_set1_epi64(int64_t{1} << 15)),
        16);  // <= 2^30
    __m512i f;  // r (GDN) or s = sqrt(m) in Q30 (IGDN), < 2^31
    __m512i sh;
    const __m512i n = _mm512_load_si512(half == 0 ? q.shift_even : q.shift_odd);
    if (c.inverse) {
      f = _mm512_srli_epi64(
          _mm512_add_epi64(_mm512_mul_epu32(mq_h, r),
                           _mm512_set1_epi64(int64_t{1} << 27)),
          28);
      sh = _mm512_sub_epi64(n, k_h);  // n - k in [0, 62]
    } else {
      f = r;
      sh = _mm512_add_epi64(n, k_h);  // n + k in [0, 62]
    }
    // t = RoundingShiftRight(x * f, 15): |x * f| < 2^46, |t| < 2^31.
    const __m512i t = _mm512_srai_epi64(
        _mm512_add_epi64(_mm512_mul_epi32(low(x32), f),
                         _mm512_set1_epi64(int64_t{1} << 14)),
        15);
    // MulShift(t, M0, sh): |t * M0| < 2^62.
    const __m512i prod = _mm512_mul_epi32(
        t, _mm512_load_si512(half == 0 ? q.mult_even : q.mult_odd));
    const __mmask8 nonzero = _mm512_test_epi64_mask(sh, sh);
    const __m512i round = _mm512_maskz_sllv_epi64(
        nonzero, one64, _mm512_sub_epi64(sh, one64));
    __m512i y = _mm512_srav_epi64(_mm512_add_epi64(prod, round), sh);
    out[half] = _mm512_min_epi64(_mm512_max_epi64(y, lo64), hi64);
  }
  const __m512i both =
      _mm512_mask_blend_epi32(0xAAAA, out[0], _mm512_slli_epi64(out[1], 32));
  _mm256_mask_storeu_epi16(dst, ValidMask(valid), _mm512_cvtepi32_epi16(both));
}

// NB vectors of channels (from vector vec0) for PX pixels starting at px0,
// whose squares are in sq (PX rows of 16 * nvec).
template <int NB, int PX>
void Block(const Ctx& c, int64_t px0, int vec0, const int16_t* sq,
           int sq_stride) {
  __m512i acc[NB][PX];
  Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
    const __m512i b = _mm512_load_si512(c.nc[vec0 + nb.value].beta);
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE { acc[nb.value][px.value] = b; });
  });
  const int16_t* g = c.gamma + vec0 * kLanes * 2;
  const int64_t gstride = int64_t{c.nvec} * kLanes * 2;
  for (int t = 0; t < c.pairs; ++t) {
    __m512i w[NB];
    Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
      w[nb.value] = _mm512_load_si512(g + nb.value * kLanes * 2);
    });
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      int32_t pair;
      std::memcpy(&pair, sq + px.value * sq_stride + 2 * t, sizeof(pair));
      const __m512i a = _mm512_set1_epi32(pair);
      Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
        acc[nb.value][px.value] = Madd(acc[nb.value][px.value], a, w[nb.value]);
      });
    });
    g += gstride;
  }
  alignas(64) int32_t norms[NB][PX][kLanes];
  Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      _mm512_store_si512(norms[nb.value][px.value], acc[nb.value][px.value]);
    });
  });
  for (int nb = 0; nb < NB; ++nb) {
    const int v = vec0 + nb;
    const int valid = MinInt(kLanes, c.c - v * kLanes);
    for (int px = 0; px < PX; ++px) {
      const int64_t at = (px0 + px) * c.c + v * kLanes;
      Finish(c, _mm512_load_si512(norms[nb][px]), c.nc[v], c.in + at,
             c.out + at, valid);
    }
  }
}

template <int PX>
void Pixels(const Ctx& c, int64_t px0, int16_t* sq, int sq_stride) {
  // All squares of the block first: with out == in, a pixel's outputs are
  // written only after every input of that pixel was read.
  for (int px = 0; px < PX; ++px) {
    Squares(c, c.in + (px0 + px) * c.c, sq + px * sq_stride);
  }
  for (int vec0 = 0; vec0 < c.nvec; vec0 += kMaxNb) {
    switch (MinInt(kMaxNb, c.nvec - vec0)) {
      case 1: Block<1, PX>(c, px0, vec0, sq, sq_stride); break;
      case 2: Block<2, PX>(c, px0, vec0, sq, sq_stride); break;
      case 3: Block<3, PX>(c, px0, vec0, sq, sq_stride); break;
      default: Block<4, PX>(c, px0, vec0, sq, sq_stride); break;
    }
  }
}

template <int R>
void TailPixels(const Ctx& c, int64_t px0, int rem, int16_t* sq, int sq_stride) {
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

  // Gamma as int16 pairs [pair t][vector][lane][2], zero-padded.
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
      // Padded lanes: norm = 1 keeps the table index in range; M0 = 0.
      nc[v].beta[lane] = real ? p.beta[i] : 1;
      const int64_t m = real ? p.mult[i] : 0;
      const int64_t n = real ? p.shift[i] : 15;
      if (lane % 2 == 0) {
        nc[v].mult_even[lane / 2] = m;
        nc[v].shift_even[lane / 2] = n;
      } else {
        nc[v].mult_odd[lane / 2] = m;
        nc[v].shift_odd[lane / 2] = n;
      }
    }
  }
  alignas(64) int32_t table[kRsqrtTableSize];
  for (int t = 0; t < kRsqrtTableSize; ++t) table[t] = kRsqrtTable[t];

  Ctx c;
  c.in = in;
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
