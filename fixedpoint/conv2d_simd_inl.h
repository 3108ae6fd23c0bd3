// The SIMD convolution's blocking, shared by every x86 path: included once per
// ISA translation unit, inside that ISA's namespace, after it defined `Isa`.
//
// No include guard on purpose (one inclusion per translation unit). The
// including file provides, in the enclosing namespace:
//   struct Isa {
//     using V = ...;                        // a vector of kLanes int32
//     static constexpr int kLanes;          // int32 lanes per vector
//     static constexpr int kMaxNb;          // vectors per output-channel group
//     static constexpr int Px(int nb);      // output pixels per register block
//     static V Load(const void* aligned);
//     static V Broadcast32(const int16_t* p);   // the int16 pair p[0], p[1]
//     static V Madd(V acc, V a, V w);  // acc + sum of the two int16 products
//     static void RequantStore(V acc, const Requant& q, int lo, int hi,
//                              int16_t* dst, int valid);
//   };
// `struct Requant` (see below) declared before `Isa`, and
// `constexpr char kPackTag[]`, the packed-cache key of the path.
//
// Layout and blocking (docs/speed.md has the measurements):
// - The input is copied once into rows padded with K/2 zero pixels left and
//   right (plus a zero tail), so for output pixel x and kernel row ky the K
//   taps times cin channels are ONE contiguous span of L = K * cin int16 at
//   row iy, column x * S. Rows outside the image are skipped (their terms are
//   zero). Reduction length per kernel row is L, not cin: the 3-channel first
//   layer (L = 15) vectorises as well as the 128-channel ones.
// - Weights are repacked once per layer (packed_cache.h keeps them, keyed by
//   the layer's contents) to int16 pairs:
//   [group][ky][pair t][vector nb][lane][2], zero beyond cin or cout. A pair
//   of int16 activations is broadcast to every int32 lane and multiplied with
//   the pairs of kLanes output channels by one vpmaddwd / vpdpwssd: both form
//   the two int16 x int16 products exactly and add them in 32 bits without
//   saturation. The loader's proof bounds every partial sum by 2^31 - 1, and
//   32-bit wrap-around addition is associative anyway, so the order of
//   summation cannot change a result.
// - Register block: kMaxNb vectors of output channels x Px(nb) output pixels
//   of int32 accumulators stay in registers over the whole reduction; each
//   weight load serves Px pixels and each broadcast serves nb vectors.
// - The requantization (MulShift with an int64 product, round half up,
//   per-channel shift, clamp) runs on the accumulators in registers, in
//   64-bit lanes: even and odd channels separately.
// - Output rows are split over OpenMP threads; rows are independent, so the
//   result never depends on the thread count.

// Requantization constants of one vector of kLanes output channels, split
// into even and odd channels for the 64-bit lanes.
//   mult = M0, round = n == 0 ? 0 : 2^(n-1), shift = n.
// struct Requant {
//   alignas(64) int64_t mult_even[kLanes / 2], mult_odd[kLanes / 2];
//   int64_t round_even[...], round_odd[...], shift_even[...], shift_odd[...];
//   int32_t bias[kLanes];
// };

namespace {

constexpr int kLanes = Isa::kLanes;
constexpr int kMaxNb = Isa::kMaxNb;
constexpr int kGroup = kLanes * kMaxNb;  // output channels per full group

inline int MinInt(int a, int b) { return a < b ? a : b; }
inline int MaxInt(int a, int b) { return a > b ? a : b; }

// Everything one call needs; built before the parallel loop, read-only in it.
struct Ctx {
  const int16_t* padded;  // h rows of row_elems, then a zero tail
  int64_t row_elems;      // (w + 2 * pad) * cin
  int h, pad, k, stride, cin, cout, ho, wo;
  int pairs;                   // ceil(K * cin / 2)
  const int16_t* weights;      // packed, see the header comment
  const int64_t* group_start;  // offset of each group's weights
  const Requant* rq;           // [ceil(cout / kLanes)]
  int lo, hi;
  int16_t* out;
};

#if defined(__GNUC__) || defined(__clang__)
#define FXIC_ALWAYS_INLINE __attribute__((always_inline))
#else
#define FXIC_ALWAYS_INLINE
#endif

template <int I>
struct Index {
  static constexpr int value = I;
};

// f(Index<I>) for I = 0 .. N-1, expanded at compile time: the accumulator
// arrays below are only ever indexed by constants, so the compiler keeps them
// in registers (a pragma-unrolled loop left GCC 12 spilling them every step).
template <int I, int N, typename F>
FXIC_ALWAYS_INLINE inline void Unroll(const F& f) {
  if constexpr (I < N) {
    f(Index<I>());
    Unroll<I + 1, N>(f);
  }
}

// One register block: NB vectors of output channels (starting at vector
// `vec0`) times PX output pixels (starting at column ox0) of output row oy.
template <int NB, int PX>
inline void Block(const Ctx& c, int oy, int ky0, int ky1, int ox0, int vec0,
                  const int16_t* wg) {
  using V = typename Isa::V;
  V acc[NB][PX];
  Unroll<0, NB>([&](auto nb) FXIC_ALWAYS_INLINE {
    const V b = Isa::Load(c.rq[vec0 + nb.value].bias);
    Unroll<0, PX>([&](auto px) FXIC_ALWAYS_INLINE { acc[nb.value][px.value] = b; });
  });
  const int64_t pstride = int64_t{c.stride} * c.cin;
  const int64_t wrow = int64_t{c.pairs} * NB * kLanes * 2;
  for (int ky = ky0; ky < ky1; ++ky) {
    const int iy = oy * c.stride + ky - c.pad;
    const int16_t* src = c.padded + iy * c.row_elems + ox0 * pstride;
    const int16_t* w = wg + ky * wrow;
    for (int t = 0; t < c.pairs; ++t) {
      V wv[NB];
      Unroll<0, NB>([&](auto nb) FXIC_ALWAYS_INLINE {
        wv[nb.value] = Isa::Load(w + nb.value * kLanes * 2);
      });
      Unroll<0, PX>([&](auto px) FXIC_ALWAYS_INLINE {
        const V a = Isa::Broadcast32(src + px.value * pstride);
        Unroll<0, NB>([&](auto nb) FXIC_ALWAYS_INLINE {
          acc[nb.value][px.value] =
              Isa::Madd(acc[nb.value][px.value], a, wv[nb.value]);
        });
      });
      src += 2;
      w += NB * kLanes * 2;
    }
  }
  int16_t* dst = c.out + (int64_t{oy} * c.wo + ox0) * c.cout + vec0 * kLanes;
  Unroll<0, NB>([&](auto nb) FXIC_ALWAYS_INLINE {
    const int valid = MinInt(kLanes, c.cout - (vec0 + nb.value) * kLanes);
    Unroll<0, PX>([&](auto px) FXIC_ALWAYS_INLINE {
      Isa::RequantStore(acc[nb.value][px.value], c.rq[vec0 + nb.value], c.lo,
                        c.hi, dst + int64_t{px.value} * c.cout + nb.value * kLanes,
                        valid);
    });
  });
}

// The last `rem` (< PX) pixels of a row, with a block exactly that wide.
template <int NB, int R>
inline void Tail(const Ctx& c, int oy, int ky0, int ky1, int ox0, int vec0,
                 const int16_t* wg, int rem) {
  if (rem == R) {
    Block<NB, R>(c, oy, ky0, ky1, ox0, vec0, wg);
  } else if constexpr (R > 1) {
    Tail<NB, R - 1>(c, oy, ky0, ky1, ox0, vec0, wg, rem);
  }
}

template <int NB>
void GroupRow(const Ctx& c, int oy, int ky0, int ky1, int group) {
  constexpr int kPx = Isa::Px(NB);
  const int vec0 = group * kMaxNb;
  const int16_t* wg = c.weights + c.group_start[group];
  int ox = 0;
  for (; ox + kPx <= c.wo; ox += kPx) Block<NB, kPx>(c, oy, ky0, ky1, ox, vec0, wg);
  if (ox < c.wo) {
    if constexpr (kPx > 1) Tail<NB, kPx - 1>(c, oy, ky0, ky1, ox, vec0, wg, c.wo - ox);
  }
}

void Row(const Ctx& c, int oy) {
  // Kernel rows that fall inside the image.
  const int ky0 = MaxInt(0, c.pad - oy * c.stride);
  const int ky1 = MinInt(c.k, c.h + c.pad - oy * c.stride);
  const int groups = (c.cout + kGroup - 1) / kGroup;
  for (int g = 0; g < groups; ++g) {
    const int vecs = MinInt(kMaxNb, (c.cout - g * kGroup + kLanes - 1) / kLanes);
    switch (vecs) {
      case 1: GroupRow<1>(c, oy, ky0, ky1, g); break;
      case 2: GroupRow<2>(c, oy, ky0, ky1, g); break;
      case 3: if constexpr (kMaxNb >= 3) GroupRow<3>(c, oy, ky0, ky1, g); break;
      case 4: if constexpr (kMaxNb >= 4) GroupRow<4>(c, oy, ky0, ky1, g); break;
      default: break;
    }
  }
}

int GroupVecs(int cout, int g) {
  return MinInt(kMaxNb, (cout - g * kGroup + kLanes - 1) / kLanes);
}

// Byte offsets of the packed layer's parts in one 64-byte aligned buffer.
struct PackedLayout {
  size_t rq = 0;           // Requant[ceil(cout / kLanes)]
  size_t group_start = 0;  // int64_t[groups], in int16 elements from weights
  size_t weights = 0;      // int16 pairs, see the header comment
  size_t total = 0;
};

size_t Align64(size_t n) { return (n + 63) / 64 * 64; }

PackedLayout LayoutOf(const ConvParams& p) {
  const int pairs = (p.kernel * p.cin + 1) / 2;
  const int groups = (p.cout + kGroup - 1) / kGroup;
  const int nvec = (p.cout + kLanes - 1) / kLanes;
  PackedLayout l;
  l.rq = 0;
  l.group_start = Align64(sizeof(Requant) * nvec);
  l.weights = l.group_start + Align64(sizeof(int64_t) * groups);
  int64_t elems = 0;
  for (int g = 0; g < groups; ++g) {
    elems += int64_t{p.kernel} * pairs * GroupVecs(p.cout, g) * kLanes * 2;
  }
  l.total = l.weights + Align64(sizeof(int16_t) * elems);
  return l;
}

// Packs weights and requantization constants (a PackFn for the cache).
void Pack(const ConvParams& p, void* dst_bytes) {
  const PackedLayout l = LayoutOf(p);
  char* base = static_cast<char*>(dst_bytes);
  Requant* rq = reinterpret_cast<Requant*>(base + l.rq);
  int64_t* group_start = reinterpret_cast<int64_t*>(base + l.group_start);
  int16_t* weights = reinterpret_cast<int16_t*>(base + l.weights);
  const int k = p.kernel;
  const int cout = p.cout;
  const int span = k * p.cin;  // L
  const int pairs = (span + 1) / 2;
  const int groups = (cout + kGroup - 1) / kGroup;
  const int64_t filter = int64_t{k} * span;

  int64_t total = 0;
  for (int g = 0; g < groups; ++g) {
    group_start[g] = total;
    total += int64_t{k} * pairs * GroupVecs(cout, g) * kLanes * 2;
  }
  for (int g = 0; g < groups; ++g) {
    const int vecs = GroupVecs(cout, g);
    int16_t* dst = weights + group_start[g];
    for (int ky = 0; ky < k; ++ky) {
      for (int t = 0; t < pairs; ++t) {
        for (int nb = 0; nb < vecs; ++nb) {
          for (int lane = 0; lane < kLanes; ++lane) {
            const int o = g * kGroup + nb * kLanes + lane;
            for (int e = 0; e < 2; ++e) {
              const int j = 2 * t + e;  // kx * cin + i
              *dst++ = (o < cout && j < span)
                           ? p.w[o * filter + int64_t{ky} * span + j]
                           : int16_t{0};
            }
          }
        }
      }
    }
  }

  const int nvec = (cout + kLanes - 1) / kLanes;
  for (int v = 0; v < nvec; ++v) {
    Requant& q = rq[v];
    for (int lane = 0; lane < kLanes; ++lane) {
      const int o = v * kLanes + lane;
      const bool real = o < cout;
      const int64_t m = real ? p.mult[o] : 0;
      const int n = real ? p.shift[o] : 0;
      // RoundingShiftRight's rounding term (rounding.h), per channel.
      const int64_t r = n == 0 ? 0 : (int64_t{1} << (n - 1));
      q.bias[lane] = real ? p.bias[o] : 0;
      if (lane % 2 == 0) {
        q.mult_even[lane / 2] = m;
        q.round_even[lane / 2] = r;
        q.shift_even[lane / 2] = n;
      } else {
        q.mult_odd[lane / 2] = m;
        q.round_odd[lane / 2] = r;
        q.shift_odd[lane / 2] = n;
      }
    }
  }
}

}  // namespace

void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out) {
  const int k = p.kernel;
  const int pad = k / 2;
  const int cin = p.cin;

  // Padded input: zero columns left and right, a zero tail for the odd
  // last pair of the last span (its weight is zero, its value must exist).
  const int64_t row_elems = int64_t{width + 2 * pad} * cin;
  const int64_t tail = 64;
  const size_t padded_count = static_cast<size_t>(row_elems * height + tail);
  void* scratch_token = nullptr;
  int16_t* padded = static_cast<int16_t*>(
      internal::AcquireScratch(padded_count * 2, &scratch_token));
  for (int y = 0; y < height; ++y) {
    int16_t* row = padded + y * row_elems;
    std::memset(row, 0, static_cast<size_t>(pad) * cin * 2);
    std::memcpy(row + int64_t{pad} * cin, in + int64_t{y} * width * cin,
                static_cast<size_t>(width) * cin * 2);
    std::memset(row + int64_t{pad + width} * cin, 0,
                static_cast<size_t>(pad) * cin * 2);
  }
  std::memset(padded + row_elems * height, 0, tail * 2);

  const PackedLayout layout = LayoutOf(p);
  void* token = nullptr;
  const char* packed = static_cast<const char*>(internal::AcquirePackedConv(
      kPackTag, p, layout.total, Pack, &token));

  Ctx c;
  c.padded = padded;
  c.row_elems = row_elems;
  c.h = height;
  c.pad = pad;
  c.k = k;
  c.stride = p.stride;
  c.cin = cin;
  c.cout = p.cout;
  c.ho = (height + 2 * pad - k) / p.stride + 1;
  c.wo = (width + 2 * pad - k) / p.stride + 1;
  c.pairs = (k * cin + 1) / 2;
  c.weights = reinterpret_cast<const int16_t*>(packed + layout.weights);
  c.group_start = reinterpret_cast<const int64_t*>(packed + layout.group_start);
  c.rq = reinterpret_cast<const Requant*>(packed + layout.rq);
  c.lo = p.out_lo;
  c.hi = p.out_hi;
  c.out = out;

  // Output rows are independent: splitting them over threads cannot change a
  // result.
  const int ho = c.ho;
  // Small layers run on one thread: a parallel region costs microseconds,
  // and far more when a core is busy elsewhere (spinning barriers). The
  // bytes never depend on it.
  const bool parallel = int64_t{ho} * c.wo * c.cout * k * k * cin >=
                        (int64_t{1} << 23);
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  {
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int oy = 0; oy < ho; ++oy) Row(c, oy);
    // GCC 12 emits no vzeroupper at the end of an outlined OpenMP body; the
    // dirty upper register state then slows every SSE instruction that
    // follows in generic code (5x for the scalar convolution on Zen).
    _mm256_zeroupper();
  }

  internal::ReleasePackedConv(token);
  internal::ReleaseScratch(scratch_token);
}
