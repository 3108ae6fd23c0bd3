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
//   k = FloorLog2(norm) >> 1 by a 4-step binary search over 4^k, the table
//   lookup by three word permutes from registers (no gather), the Newton
//   step and MulShift in 64-bit lanes (even and odd channels separately).
//   Every intermediate stays inside the bounds the doc proves, so the 64-bit
//   lane arithmetic equals the scalar int64 code. The output stage of a whole
//   block runs in one function with the table and constants in registers.

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
constexpr int64_t kPrefetchPx = 3 * kPx;  // prefetch distance, pixels

struct alignas(64) NormConst {
  int64_t mult_even[8], mult_odd[8];
  int32_t beta[16];
  int32_t shift32[16];  // n
};

struct Ctx {
  const int16_t* in;
  int64_t pixels;
  int16_t* out;
  int c;        // channels
  int nvec;     // ceil(c / 16)
  int pairs;    // ceil(c / 2)
  int sq_shift;
  bool inverse;
  int lo, hi;
  const int16_t* gamma;   // [pairs][nvec][16][2]
  const NormConst* nc;    // [nvec]
  const uint16_t* table16;  // kRsqrtTable, 64-byte aligned
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

// Constants of the output stage, loaded once per block of normalizers.
struct FinishRegs {
  __m512i tab[6];  // kRsqrtTable as 192 uint16 words, 64 per register pair
};

// kRsqrtTable[idx] for idx in [0, 192) held in the low word of each 32-bit
// lane (high word 0): three two-register word permutes (vpermt2w reads the
// low 6 bits of each index word), each selecting one 64-entry third of the
// table, merged by idx >= 64 / >= 128. The odd words (high halves of the
// lanes) come out 0. Same values as a gather of the int32 table.
FXIC_NORM_INLINE __m512i RsqrtLookup(const FinishRegs& fr, __m512i idx) {
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

// The output of 16 channels of one pixel from their normalizers.
FXIC_NORM_INLINE void Finish(const Ctx& c, const FinishRegs& fr, __m512i norm,
                             const NormConst& q, const int16_t* x, int16_t* dst,
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

#if defined(__GNUC__) || defined(__clang__)
#define FXIC_NORM_NOINLINE __attribute__((noinline))
#else
#define FXIC_NORM_NOINLINE
#endif

// The outputs of a block: norms[nb][px][16] for NB vectors of channels from
// vec0 and PX pixels from px0. Not inlined: one copy serves every block
// shape, with the table and constants in registers across the whole block.
FXIC_NORM_NOINLINE void FinishBlock(const Ctx& c, const int32_t* norms, int nbs,
                                    int pxs, int64_t px0, int vec0) {
  FinishRegs fr;
  for (int i = 0; i < 6; ++i) {
    fr.tab[i] = _mm512_load_si512(c.table16 + 32 * i);
  }
  for (int nb = 0; nb < nbs; ++nb) {
    const int v = vec0 + nb;
    const int valid = MinInt(kLanes, c.c - v * kLanes);
    const NormConst& q = c.nc[v];
    for (int px = 0; px < pxs; ++px) {
      const int64_t at = (px0 + px) * c.c + v * kLanes;
      Finish(c, fr, _mm512_load_si512(norms + (nb * pxs + px) * kLanes), q,
             c.in + at, c.out + at, valid);
    }
  }
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
  FinishBlock(c, &norms[0][0][0], NB, PX, px0, vec0);
}

template <int PX>
void Pixels(const Ctx& c, int64_t px0, int16_t* sq, int sq_stride) {
  // The input a few blocks ahead into L1 (the hardware prefetcher alone
  // left the first load of each pixel waiting on memory). Only hints, and
  // only inside the input.
  const int64_t ahead = px0 + kPrefetchPx;
  if (ahead + PX <= c.pixels) {
    const char* pf = reinterpret_cast<const char*>(c.in + ahead * c.c);
    const int64_t bytes = int64_t{PX} * c.c * 2;
    for (int64_t b = 0; b < bytes; b += 64) {
      _mm_prefetch(pf + b, _MM_HINT_T0);
    }
  }
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
      nc[v].shift32[lane] = static_cast<int32_t>(n);
      if (lane % 2 == 0) {
        nc[v].mult_even[lane / 2] = m;
      } else {
        nc[v].mult_odd[lane / 2] = m;
      }
    }
  }
  alignas(64) uint16_t table16[kRsqrtTableSize];
  for (int t = 0; t < kRsqrtTableSize; ++t) table16[t] = kRsqrtTable[t];

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
  c.table16 = table16;

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
