// GDN / IGDN, the part shared by every x86 path: the per-vector constants,
// the packed gamma, the normalizer sums in register blocks and the pixel loop
// over OpenMP threads. Included once per ISA translation unit, inside that
// ISA's namespace, BEFORE it defines `Isa` (whose functions take the NormCtx
// and NormConst below); that ISA's NormalizeImpl calls NormalizeSimd<Isa>.
//
// No include guard on purpose (one inclusion per translation unit, as
// conv2d_simd_inl.h). The including file includes <immintrin.h>, <cstdint>,
// <cstring>, fixedpoint/kernels.h and fixedpoint/rsqrt_table.h first, and
// provides, in the enclosing namespace:
//   struct Isa {
//     using V = ...;                 // a vector of kLanes int32
//     using TableEntry = ...;        // kRsqrtTable's element for Finish
//     static constexpr int kLanes;   // int32 lanes per vector
//     static constexpr int kMaxNb;   // vectors of channels per register block
//     static constexpr int kPx;      // pixels per register block
//     using Ctx = NormCtx<kLanes, TableEntry>;
//     using Const = NormConst<kLanes>;
//     struct FinishRegs;             // output-stage state, loaded per block
//     static V Load(const void* aligned);
//     static void Store(void* aligned, V v);
//     static V Broadcast32(const int16_t* p);  // the int16 pair p[0], p[1]
//     static V Madd(V acc, V a, V w);  // acc + sum of the two int16 products
//     // sq[j] = RoundingShiftRight(x[j]^2, c.sq_shift) of one pixel's
//     // channels into sq[0 .. kLanes * c.nvec), zero beyond c.c.
//     static void Squares(const Ctx& c, const int16_t* x, int16_t* sq);
//     static FinishRegs LoadFinishRegs(const Ctx& c);
//     // The outputs of kLanes channels of one pixel (the first `valid` are
//     // stored to dst) from their normalizers; x is their input.
//     static void Finish(const Ctx& c, const FinishRegs& fr, V norm,
//                        const Const& q, const int16_t* x, int16_t* dst,
//                        int valid);
//   };
//
// Per pixel, exactly as normalization.cpp (docs/fixed-point.md):
// - sq[j] = RoundingShiftRight(x[j]^2, sq_shift) in 32-bit lanes, stored as
//   int16 (the loader proves sq <= 32767).
// - norm[i] = beta[i] + sum_j gamma[i][j] * sq[j] is a 1x1 convolution of sq
//   by gamma: int16 pairs of sq broadcast, times pairs of gamma for kLanes
//   output channels, by vpmaddwd / vpdpwssd. Both operands are in
//   [0, 32767], so each pair sum is below 2^31 (no wrap), every partial sum
//   is non-negative and bounded by the proven norm <= 2^31 - 1: the order of
//   summation cannot matter. Register block: kMaxNb vectors x kPx pixels, as
//   in the convolution.
// - 1/sqrt (and sqrt) of norm and the output scaling run in vector lanes
//   (Isa::Finish); the output stage of a whole block runs in one function
//   (FinishBlock), so the ISA's FinishRegs are loaded once per block.

namespace {

#if defined(__GNUC__) || defined(__clang__)
#define FXIC_NORM_LAMBDA_INLINE __attribute__((always_inline))
#define FXIC_NORM_NOINLINE __attribute__((noinline))
#else
#define FXIC_NORM_LAMBDA_INLINE
#define FXIC_NORM_NOINLINE
#endif
#define FXIC_NORM_INLINE FXIC_NORM_LAMBDA_INLINE inline

// Constants of one vector of kLanes output channels; the 64-bit lanes of the
// output scaling take even and odd channels separately.
template <int kLanes>
struct alignas(kLanes * sizeof(int32_t)) NormConst {
  int64_t mult_even[kLanes / 2], mult_odd[kLanes / 2];  // M0
  int32_t beta[kLanes];
  int32_t shift32[kLanes];  // n
};

// Everything one call needs; built before the parallel loop, read-only in it.
template <int kLanes, typename TableEntry>
struct NormCtx {
  const int16_t* in;
  int64_t pixels;
  int16_t* out;
  int c;      // channels
  int nvec;   // ceil(c / kLanes)
  int pairs;  // ceil(c / 2)
  int sq_shift;
  bool inverse;
  int lo, hi;
  const int16_t* gamma;         // [pairs][nvec][kLanes][2]
  const NormConst<kLanes>* nc;  // [nvec]
  const TableEntry* table;      // kRsqrtTable, vector-aligned
};

inline int MinInt(int a, int b) { return a < b ? a : b; }

template <int I>
struct Index {
  static constexpr int value = I;
};

// f(Index<I>) for I = 0 .. N-1, expanded at compile time: the accumulator
// arrays are only ever indexed by constants, so they stay in registers.
template <int I, int N, typename F>
FXIC_NORM_INLINE void Unroll(const F& f) {
  if constexpr (I < N) {
    f(Index<I>());
    Unroll<I + 1, N>(f);
  }
}

// The outputs of a block: norms[nb][px][kLanes] for nbs vectors of channels
// from vec0 and pxs pixels from px0. Not inlined: one copy serves every block
// shape, with FinishRegs and the constants in registers across the block.
template <class Isa>
FXIC_NORM_NOINLINE void FinishBlock(const typename Isa::Ctx& c,
                                    const int32_t* norms, int nbs, int pxs,
                                    int64_t px0, int vec0) {
  constexpr int kLanes = Isa::kLanes;
  const typename Isa::FinishRegs fr = Isa::LoadFinishRegs(c);
  for (int nb = 0; nb < nbs; ++nb) {
    const int v = vec0 + nb;
    const int valid = MinInt(kLanes, c.c - v * kLanes);
    const typename Isa::Const& q = c.nc[v];
    for (int px = 0; px < pxs; ++px) {
      const int64_t at = (px0 + px) * c.c + v * kLanes;
      Isa::Finish(c, fr, Isa::Load(norms + (nb * pxs + px) * kLanes), q,
                  c.in + at, c.out + at, valid);
    }
  }
}

// NB vectors of channels (from vector vec0) for PX pixels starting at px0,
// whose squares are in sq (PX rows of kLanes * nvec).
template <class Isa, int NB, int PX>
void Block(const typename Isa::Ctx& c, int64_t px0, int vec0, const int16_t* sq,
           int sq_stride) {
  using V = typename Isa::V;
  constexpr int kLanes = Isa::kLanes;
  V acc[NB][PX];
  Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
    const V b = Isa::Load(c.nc[vec0 + nb.value].beta);
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      acc[nb.value][px.value] = b;
    });
  });
  const int16_t* g = c.gamma + vec0 * kLanes * 2;
  const int64_t gstride = int64_t{c.nvec} * kLanes * 2;
  for (int t = 0; t < c.pairs; ++t) {
    V w[NB];
    Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
      w[nb.value] = Isa::Load(g + nb.value * kLanes * 2);
    });
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      const V a = Isa::Broadcast32(sq + px.value * sq_stride + 2 * t);
      Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
        acc[nb.value][px.value] =
            Isa::Madd(acc[nb.value][px.value], a, w[nb.value]);
      });
    });
    g += gstride;
  }
  alignas(sizeof(V)) int32_t norms[NB][PX][kLanes];
  Unroll<0, NB>([&](auto nb) FXIC_NORM_LAMBDA_INLINE {
    Unroll<0, PX>([&](auto px) FXIC_NORM_LAMBDA_INLINE {
      Isa::Store(norms[nb.value][px.value], acc[nb.value][px.value]);
    });
  });
  FinishBlock<Isa>(c, &norms[0][0][0], NB, PX, px0, vec0);
}

// Block<Isa, min(NB, left), PX>, for the `left` >= 1 vectors from vec0.
template <class Isa, int NB, int PX>
FXIC_NORM_INLINE void BlockUpTo(int left, const typename Isa::Ctx& c,
                                int64_t px0, int vec0, const int16_t* sq,
                                int sq_stride) {
  if constexpr (NB > 1) {
    if (left < NB) {
      BlockUpTo<Isa, NB - 1, PX>(left, c, px0, vec0, sq, sq_stride);
      return;
    }
  }
  Block<Isa, NB, PX>(c, px0, vec0, sq, sq_stride);
}

template <class Isa, int PX>
void Pixels(const typename Isa::Ctx& c, int64_t px0, int16_t* sq,
            int sq_stride) {
  // The input a few blocks ahead into L1 (the hardware prefetcher alone
  // left the first load of each pixel waiting on memory). Only hints, and
  // only inside the input.
  constexpr int64_t kPrefetchPx = 3 * Isa::kPx;  // prefetch distance, pixels
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
    Isa::Squares(c, c.in + (px0 + px) * c.c, sq + px * sq_stride);
  }
  for (int vec0 = 0; vec0 < c.nvec; vec0 += Isa::kMaxNb) {
    BlockUpTo<Isa, Isa::kMaxNb, PX>(c.nvec - vec0, c, px0, vec0, sq, sq_stride);
  }
}

// Pixels<Isa, rem> for a run-time rem in [1, R].
template <class Isa, int R>
void TailPixels(const typename Isa::Ctx& c, int64_t px0, int rem, int16_t* sq,
                int sq_stride) {
  if (rem == R) {
    Pixels<Isa, R>(c, px0, sq, sq_stride);
  } else if constexpr (R > 1) {
    TailPixels<Isa, R - 1>(c, px0, rem, sq, sq_stride);
  }
}

// Gamma as int16 pairs [pair t][vector][lane][2], zero-padded; _mm_free it.
template <int kLanes>
int16_t* PackGamma(const NormParams& p, int nvec, int pairs) {
  const int ch = p.channels;
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
  return gamma;
}

// The constants of each vector of channels; _mm_free them.
template <int kLanes>
NormConst<kLanes>* PackConsts(const NormParams& p, int nvec) {
  const int ch = p.channels;
  NormConst<kLanes>* nc = static_cast<NormConst<kLanes>*>(
      _mm_malloc(sizeof(NormConst<kLanes>) * nvec, 64));
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
  return nc;
}

// The ISA's NormalizeImpl.
template <class Isa>
void NormalizeSimd(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out) {
  constexpr int kLanes = Isa::kLanes;
  constexpr int kPx = Isa::kPx;
  const int ch = p.channels;
  const int nvec = (ch + kLanes - 1) / kLanes;
  const int pairs = (ch + 1) / 2;
  int16_t* gamma = PackGamma<kLanes>(p, nvec, pairs);
  typename Isa::Const* nc = PackConsts<kLanes>(p, nvec);
  alignas(sizeof(typename Isa::V))
      typename Isa::TableEntry table[kRsqrtTableSize];
  for (int t = 0; t < kRsqrtTableSize; ++t) table[t] = kRsqrtTable[t];

  typename Isa::Ctx c;
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
      for (; px + kPx <= end; px += kPx) {
        Pixels<Isa, kPx>(c, px, sq, sq_stride);
      }
      if (px < end) {
        TailPixels<Isa, kPx - 1>(c, px, static_cast<int>(end - px), sq,
                                 sq_stride);
      }
    }
    _mm_free(sq);
    _mm256_zeroupper();  // see conv2d_simd_inl.h: not emitted by GCC 12 here
  }
  _mm_free(nc);
  _mm_free(gamma);
}

}  // namespace
