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
// `constexpr char kPackTag[]` and `kPackTagD2s[]`, the packed-cache keys of
// the path (plain and with the depth-to-space channel order).
//
// Layout and blocking (docs/speed.md has the measurements):
// - For output pixel x and kernel row ky, the K taps times cin channels are
//   ONE contiguous span of L = K * cin int16 at input row iy, column
//   x * S - K/2 (HWC layout). Blocks whose spans lie inside the image read
//   the input in place; blocks at the left and right borders read a small
//   per-thread copy of their kernel rows padded with zero pixels (a
//   "patch"), so the whole input is never copied. Rows outside the image are
//   skipped (their terms are zero). Reduction length per kernel row is L,
//   not cin: the 3-channel first layer (L = 15) vectorises as well as the
//   128-channel ones. With L odd the last pair reads one element past the
//   span, whose weight is zero: in-place blocks then need a column after
//   their span, patches end in zeros.
// - Depth-to-space fused into the store (Conv2dDepthToSpaceImpl): packed
//   output channel o' = (2i + j) * C + c holds original channel 4c + 2i + j,
//   so a vector of kLanes packed channels (C a multiple of kLanes) is kLanes
//   consecutive channels of ONE output pixel (2y + i, 2x + j): one store.
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
  const int16_t* in;      // h x w x cin, unpadded
  int64_t in_row;         // w * cin
  int h, w, pad, k, stride, cin, cout, ho, wo;
  int pairs;                   // ceil(K * cin / 2)
  bool odd_span;               // K * cin odd: the last pair reads one more
  const int16_t* weights;      // packed, see the header comment
  const int64_t* group_start;  // offset of each group's weights
  const Requant* rq;           // [ceil(cout / kLanes)]
  int lo, hi;
  int16_t* out;
  // Output addressing: output (oy, ox), packed channel vector v starts at
  // out + oy * out_row + ox * out_px + VecOffset(v).
  int64_t out_row, out_px;
  int d2s_c;        // 0, or C of a fused depth-to-space (packed channel
                    // o' = (2i + j) * C + c is original channel 4c + 2i + j)
  int64_t d2s_row;  // with d2s: elements per row of the 2Ho x 2Wo x C output
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

// Offset of packed channel vector v within an output pixel's position.
inline int64_t VecOffset(const Ctx& c, int v) {
  const int o = v * kLanes;
  if (c.d2s_c == 0) return o;
  const int s = o / c.d2s_c;  // sub-pixel 2i + j; a vector never straddles two
  const int ch = o - s * c.d2s_c;
  return (s >> 1) * c.d2s_row + (s & 1) * int64_t{c.d2s_c} + ch;
}

// One register block: NB vectors of output channels (starting at vector
// `vec0`) times PX output pixels (starting at column ox0) of output row oy.
// The input span of kernel row ky (ky0 <= ky < ky1) for pixel ox0 + px
// starts at src0 + (ky - ky0) * src_row + px * S * cin: the input itself
// (interior blocks) or a small zero-padded copy (blocks at the borders).
template <int NB, int PX>
inline void Block(const Ctx& c, const int16_t* src0, int64_t src_row, int oy,
                  int ky0, int ky1, int ox0, int vec0, const int16_t* wg) {
  using V = typename Isa::V;
  V acc[NB][PX];
  Unroll<0, NB>([&](auto nb) FXIC_ALWAYS_INLINE {
    const V b = Isa::Load(c.rq[vec0 + nb.value].bias);
    Unroll<0, PX>([&](auto px) FXIC_ALWAYS_INLINE { acc[nb.value][px.value] = b; });
  });
  const int64_t pstride = int64_t{c.stride} * c.cin;
  const int64_t wrow = int64_t{c.pairs} * NB * kLanes * 2;
  for (int ky = ky0; ky < ky1; ++ky) {
    const int16_t* src = src0 + (ky - ky0) * src_row;
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
  int16_t* dst = c.out + int64_t{oy} * c.out_row + int64_t{ox0} * c.out_px;
  Unroll<0, NB>([&](auto nb) FXIC_ALWAYS_INLINE {
    const int v = vec0 + nb.value;
    const int valid = MinInt(kLanes, c.cout - v * kLanes);
    int16_t* dv = dst + VecOffset(c, v);
    Unroll<0, PX>([&](auto px) FXIC_ALWAYS_INLINE {
      Isa::RequantStore(acc[nb.value][px.value], c.rq[v], c.lo, c.hi,
                        dv + int64_t{px.value} * c.out_px, valid);
    });
  });
}

// The widest register block: patches are sized for it.
constexpr int kPxMax = Isa::Px(1);
static_assert(Isa::Px(kMaxNb) <= kPxMax, "Px(1) must be the widest block");
// Zero elements after a patch's last row (the odd last pair of a span).
constexpr int64_t kPatchTail = 64;

// Elements of one patch: output pixels [a, b) with b - a <= 2 * kPxMax.
int64_t PatchCapacity(int k, int stride, int cin) {
  return int64_t{k} * ((2 * kPxMax - 1) * stride + k) * cin + kPatchTail;
}

// A zero-padded copy of the input spans of output pixels [a, b) of one
// output row, kernel rows [ky0, ky1): row r (= ky - ky0) holds input row
// oy * S + ky - P, columns a * S - P .. (b - 1) * S - P + K - 1, zero outside
// the image; then kPatchTail zeros.
struct Patch {
  const int16_t* data = nullptr;
  int a = 0, b = 0;
  int64_t row = 0;  // elements per row
  bool built = false;
};

void BuildPatch(const Ctx& c, int oy, int ky0, int ky1, int a, int b,
                int16_t* dst, Patch* patch) {
  const int64_t cin = c.cin;
  const int col0 = a * c.stride - c.pad;
  const int npix = (b - 1 - a) * c.stride + c.k;
  const int64_t row = npix * cin;
  const int v0 = MaxInt(col0, 0);
  const int v1 = MinInt(col0 + npix, c.w);  // input columns inside the image
  for (int ky = ky0; ky < ky1; ++ky) {
    const int iy = oy * c.stride + ky - c.pad;
    int16_t* d = dst + (ky - ky0) * row;
    if (v1 <= v0) {
      std::memset(d, 0, static_cast<size_t>(row) * 2);
      continue;
    }
    std::memset(d, 0, static_cast<size_t>((v0 - col0) * cin) * 2);
    std::memcpy(d + (v0 - col0) * cin, c.in + iy * c.in_row + v0 * cin,
                static_cast<size_t>((v1 - v0) * cin) * 2);
    std::memset(d + (v1 - col0) * cin, 0,
                static_cast<size_t>((col0 + npix - v1) * cin) * 2);
  }
  std::memset(dst + (ky1 - ky0) * row, 0, kPatchTail * 2);
  patch->data = dst;
  patch->a = a;
  patch->b = b;
  patch->row = row;
  patch->built = true;
}

// Where the blocks of one output row read their input: blocks whose spans
// lie inside the image read the input itself; blocks at the left or right
// border read a patch, built on first use (the first block of the row, the
// last 2 * kPxMax pixels), and any other block an ad-hoc patch.
struct RowSrc {
  int oy, ky0, ky1;
  int64_t in_off;  // element offset of input row oy * S + ky0 - P, column 0
  int16_t* buf;    // 3 patches of PatchCapacity elements
  int64_t cap;
  Patch left, right, other;
};

template <int NB, int PX>
inline void RunBlock(const Ctx& c, RowSrc& r, int ox0, int vec0,
                     const int16_t* wg) {
  const int64_t pstride = int64_t{c.stride} * c.cin;
  const int first = ox0 * c.stride - c.pad;            // first input column
  const int end = (ox0 + PX - 1) * c.stride - c.pad + c.k;  // one past the last
  if (first >= 0 && (c.odd_span ? end < c.w : end <= c.w)) {
    Block<NB, PX>(c, c.in + r.in_off + int64_t{first} * c.cin, c.in_row, r.oy,
                  r.ky0, r.ky1, ox0, vec0, wg);
    return;
  }
  const int e = kPxMax;
  Patch* p;
  if (ox0 + PX <= MinInt(c.wo, e) || c.wo <= 2 * e) {
    p = &r.left;
    if (!p->built) BuildPatch(c, r.oy, r.ky0, r.ky1, 0, MinInt(c.wo, 2 * e), r.buf, p);
  } else if (ox0 >= c.wo - 2 * e) {
    p = &r.right;
    if (!p->built) {
      BuildPatch(c, r.oy, r.ky0, r.ky1, c.wo - 2 * e, c.wo, r.buf + r.cap, p);
    }
  } else {
    p = &r.other;  // not reached with the blocking above; kept for safety
    BuildPatch(c, r.oy, r.ky0, r.ky1, ox0, ox0 + PX, r.buf + 2 * r.cap, p);
  }
  Block<NB, PX>(c, p->data + (ox0 - p->a) * pstride, p->row, r.oy, r.ky0,
                r.ky1, ox0, vec0, wg);
}

// The last `rem` (< PX) pixels of a row, with a block exactly that wide.
template <int NB, int R>
inline void Tail(const Ctx& c, RowSrc& r, int ox0, int vec0,
                 const int16_t* wg, int rem) {
  if (rem == R) {
    RunBlock<NB, R>(c, r, ox0, vec0, wg);
  } else if constexpr (R > 1) {
    Tail<NB, R - 1>(c, r, ox0, vec0, wg, rem);
  }
}

template <int NB>
void GroupRow(const Ctx& c, RowSrc& r, int group) {
  constexpr int kPx = Isa::Px(NB);
  const int vec0 = group * kMaxNb;
  const int16_t* wg = c.weights + c.group_start[group];
  int ox = 0;
  for (; ox + kPx <= c.wo; ox += kPx) RunBlock<NB, kPx>(c, r, ox, vec0, wg);
  if (ox < c.wo) {
    if constexpr (kPx > 1) Tail<NB, kPx - 1>(c, r, ox, vec0, wg, c.wo - ox);
  }
}

void Row(const Ctx& c, int oy, int16_t* patch_buf, int64_t cap) {
  RowSrc r;
  r.oy = oy;
  // Kernel rows that fall inside the image.
  r.ky0 = MaxInt(0, c.pad - oy * c.stride);
  r.ky1 = MinInt(c.k, c.h + c.pad - oy * c.stride);
  r.in_off = int64_t{oy * c.stride + r.ky0 - c.pad} * c.in_row;
  r.buf = patch_buf;
  r.cap = cap;
  const int groups = (c.cout + kGroup - 1) / kGroup;
  for (int g = 0; g < groups; ++g) {
    const int vecs = MinInt(kMaxNb, (c.cout - g * kGroup + kLanes - 1) / kLanes);
    switch (vecs) {
      case 1: GroupRow<1>(c, r, g); break;
      case 2: GroupRow<2>(c, r, g); break;
      case 3: if constexpr (kMaxNb >= 3) GroupRow<3>(c, r, g); break;
      case 4: if constexpr (kMaxNb >= 4) GroupRow<4>(c, r, g); break;
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

// The original output channel of packed channel o: the identity, or for a
// fused depth-to-space o = (2i + j) * C + c -> 4c + 2i + j.
inline int64_t OrigChannel(int o, int cout, bool d2s) {
  if (!d2s) return o;
  const int cc = cout / 4;
  return 4 * int64_t{o % cc} + o / cc;
}

// Packs weights and requantization constants (a PackFn for the cache), in
// packed channel order (OrigChannel).
template <bool kD2s>
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
  // Groups are independent; packing the largest layers (a few M weights)
  // takes milliseconds, so they are split over threads.
  const bool parallel = int64_t{cout} * filter >= (int64_t{1} << 19);
  (void)parallel;  // (without OpenMP)
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (parallel && groups > 1)
#endif
  for (int g = 0; g < groups; ++g) {
    const int vecs = GroupVecs(cout, g);
    const int nch = vecs * kLanes;
    // Offset of each packed channel's filter in p.w, -1 beyond cout.
    int64_t src[kGroup];
    for (int i = 0; i < nch; ++i) {
      const int o = g * kGroup + i;
      src[i] = o < cout ? OrigChannel(o, cout, kD2s) * filter : -1;
    }
    int16_t* dst = weights + group_start[g];
    for (int ky = 0; ky < k; ++ky) {
      const int64_t row = int64_t{ky} * span;
      for (int t = 0; t < pairs; ++t) {
        const int j = 2 * t;  // kx * cin + i
        const bool second = j + 1 < span;
        for (int i = 0; i < nch; ++i) {
          if (src[i] < 0) {
            dst[0] = 0;
            dst[1] = 0;
          } else {
            const int8_t* w = p.w + src[i] + row + j;
            dst[0] = w[0];
            dst[1] = second ? w[1] : int16_t{0};
          }
          dst += 2;
        }
      }
    }
#ifdef _OPENMP
    _mm256_zeroupper();
#endif
  }

  const int nvec = (cout + kLanes - 1) / kLanes;
  for (int v = 0; v < nvec; ++v) {
    Requant& q = rq[v];
    for (int lane = 0; lane < kLanes; ++lane) {
      const bool real = v * kLanes + lane < cout;
      const int64_t o = real ? OrigChannel(v * kLanes + lane, cout, kD2s) : 0;
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

namespace {

// The convolution, its output stored either as Ho x Wo x cout or, with d2s
// (cout / 4 a multiple of kLanes), as the 2Ho x 2Wo x (cout / 4) depth-to-space
// of that.
void Run(const int16_t* in, int height, int width, const ConvParams& p,
         int16_t* out, bool d2s) {
  const int k = p.kernel;
  const int pad = k / 2;
  const int cin = p.cin;

  const PackedLayout layout = LayoutOf(p);
  void* token = nullptr;
  const char* packed = static_cast<const char*>(internal::AcquirePackedConv(
      d2s ? kPackTagD2s : kPackTag, p, layout.total,
      d2s ? Pack<true> : Pack<false>, &token));

  Ctx c;
  c.in = in;
  c.in_row = int64_t{width} * cin;
  c.h = height;
  c.w = width;
  c.pad = pad;
  c.k = k;
  c.stride = p.stride;
  c.cin = cin;
  c.cout = p.cout;
  c.ho = (height + 2 * pad - k) / p.stride + 1;
  c.wo = (width + 2 * pad - k) / p.stride + 1;
  c.pairs = (k * cin + 1) / 2;
  c.odd_span = (k * cin) % 2 != 0;
  c.weights = reinterpret_cast<const int16_t*>(packed + layout.weights);
  c.group_start = reinterpret_cast<const int64_t*>(packed + layout.group_start);
  c.rq = reinterpret_cast<const Requant*>(packed + layout.rq);
  c.lo = p.out_lo;
  c.hi = p.out_hi;
  c.out = out;
  if (d2s) {
    c.d2s_c = p.cout / 4;
    c.d2s_row = int64_t{2} * c.wo * c.d2s_c;
    c.out_row = 2 * c.d2s_row;
    c.out_px = 2 * int64_t{c.d2s_c};
  } else {
    c.d2s_c = 0;
    c.d2s_row = 0;
    c.out_row = int64_t{c.wo} * c.cout;
    c.out_px = c.cout;
  }
  const int64_t cap = PatchCapacity(k, p.stride, cin);

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
    // Each thread's border patches (the input is read in place otherwise:
    // no padded copy of the whole input).
    void* patch_token = nullptr;
    int16_t* patches = static_cast<int16_t*>(
        internal::AcquireScratch(static_cast<size_t>(3 * cap) * 2, &patch_token));
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int oy = 0; oy < ho; ++oy) Row(c, oy, patches, cap);
    // GCC 12 emits no vzeroupper at the end of an outlined OpenMP body; the
    // dirty upper register state then slows every SSE instruction that
    // follows in generic code (5x for the scalar convolution on Zen). Also
    // before the call into the (generic) scratch pool.
    _mm256_zeroupper();
    internal::ReleaseScratch(patch_token);
  }

  internal::ReleasePackedConv(token);
}

}  // namespace

void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out) {
  Run(in, height, width, p, out, false);
}

bool Conv2dDepthToSpaceImpl(const int16_t* in, int height, int width,
                            const ConvParams& p, int16_t* out) {
  if (p.cout % 4 != 0 || (p.cout / 4) % kLanes != 0) return false;
  Run(in, height, width, p, out, true);
  return true;
}
