// Test helpers for fixedpoint/: a splitmix64 generator, an FNV-1a hash of
// integer outputs, and an independent int64 reference of the kernels.
//
// SplitMix64, Uniform and HashValues are implemented identically in
// models/tests/test_intops.py so both suites can pin the same hashes.
#ifndef FXIC_TESTS_FIXEDPOINT_FIXEDPOINT_TEST_UTIL_H_
#define FXIC_TESTS_FIXEDPOINT_FIXEDPOINT_TEST_UTIL_H_

#include <cstdint>
#include <vector>

#include "fixedpoint/conv2d.h"
#include "fixedpoint/normalization.h"
#include "fixedpoint/rsqrt_table.h"
#include "fixedpoint/tensor.h"

namespace fxic::testing {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // lo + Next() % (hi - lo + 1), for lo <= hi.
  int64_t Uniform(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(Next() % span);
  }

 private:
  uint64_t state_;
};

// FNV-1a 64 over each value as 8 little-endian bytes of its int64 value.
class Fnv1a64 {
 public:
  void Add(int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    for (int b = 0; b < 8; ++b) {
      hash_ ^= (u >> (8 * b)) & 0xff;
      hash_ *= 0x100000001b3ULL;
    }
  }
  template <typename T, typename A>
  void AddAll(const std::vector<T, A>& values) {
    for (const T& v : values) Add(static_cast<int64_t>(v));
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Storage for one convolution's parameters, and the ConvParams view of it.
struct ConvLayerData {
  int k = 1, s = 1, cin = 1, cout = 1;
  std::vector<int8_t> w;
  std::vector<int32_t> bias, mult;
  std::vector<uint8_t> shift;
  int16_t lo = -32767, hi = 32767;
  bool w_static = false;

  ConvParams Params() const {
    ConvParams p;
    p.kernel = k;
    p.stride = s;
    p.cin = cin;
    p.cout = cout;
    p.w = w.data();
    p.w_static = w_static;
    p.bias = bias.data();
    p.mult = mult.data();
    p.shift = shift.data();
    p.out_lo = lo;
    p.out_hi = hi;
    return p;
  }
};

// Storage for one GDN/IGDN layer's parameters, and the NormParams view of it.
struct NormLayerData {
  int c = 1;
  int sq_shift = 0;
  std::vector<int16_t> gamma;
  std::vector<int32_t> beta, mult;
  std::vector<uint8_t> shift;
  int16_t lo = -32767, hi = 32767;

  NormParams Params() const {
    NormParams p;
    p.channels = c;
    p.sq_shift = sq_shift;
    p.gamma = gamma.data();
    p.beta = beta.data();
    p.mult = mult.data();
    p.shift = shift.data();
    p.out_lo = lo;
    p.out_hi = hi;
    return p;
  }
};

inline Tensor16 RandomTensor(SplitMix64& rng, int h, int w, int c, int lo,
                             int hi) {
  Tensor16 t(h, w, c);
  for (int16_t& v : t.data) v = static_cast<int16_t>(rng.Uniform(lo, hi));
  return t;
}

template <typename T>
std::vector<T> RandomVector(SplitMix64& rng, size_t n, int64_t lo, int64_t hi) {
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(rng.Uniform(lo, hi));
  return v;
}

// ---- Independent reference: plain division, no shifts, no fxic helpers ----

// floor(a / d) for d > 0, from C++'s truncating division.
inline int64_t RefFloorDiv(int64_t a, int64_t d) {
  const int64_t q = a / d;
  return (a % d != 0 && a < 0) ? q - 1 : q;
}

// x / 2^n rounded half up.
inline int64_t RefRoundHalfUp(int64_t x, int n) {
  if (n == 0) return x;
  const int64_t d = int64_t{1} << n;
  return RefFloorDiv(x + d / 2, d);
}

inline int64_t RefClamp(int64_t x, int64_t lo, int64_t hi) {
  if (x < lo) return lo;
  if (x > hi) return hi;
  return x;
}

inline int RefFloorLog2(int64_t v) {
  int log = 0;
  while (v >= 2) {
    v /= 2;
    ++log;
  }
  return log;
}

// Naive convolution per docs/fixed-point.md, in int64, output channel
// outermost (a different summation order from the library).
inline Tensor16 RefConv2d(const Tensor16& in, int k, int s, int cout,
                          const std::vector<int8_t>& w,
                          const std::vector<int32_t>& bias,
                          const std::vector<int32_t>& mult,
                          const std::vector<uint8_t>& shift, int lo, int hi) {
  const int pad = k / 2;
  const int ho = (in.height + 2 * pad - k) / s + 1;
  const int wo = (in.width + 2 * pad - k) / s + 1;
  const int cin = in.channels;
  Tensor16 out(ho, wo, cout);
  for (int o = 0; o < cout; ++o) {
    for (int y = 0; y < ho; ++y) {
      for (int x = 0; x < wo; ++x) {
        int64_t acc = bias[o];
        for (int i = cin - 1; i >= 0; --i) {
          for (int ky = 0; ky < k; ++ky) {
            for (int kx = 0; kx < k; ++kx) {
              const int iy = y * s + ky - pad;
              const int ix = x * s + kx - pad;
              if (iy < 0 || iy >= in.height || ix < 0 || ix >= in.width) {
                continue;
              }
              acc += int64_t{w[((o * k + ky) * k + kx) * cin + i]} *
                     in.at(iy, ix, i);
            }
          }
        }
        out.at(y, x, o) = static_cast<int16_t>(
            RefClamp(RefRoundHalfUp(acc * mult[o], shift[o]), lo, hi));
      }
    }
  }
  return out;
}

struct RefRsqrt {
  int k;
  int64_t mq, r, s;
};

// The doc's formulas for 1/sqrt and sqrt of the normalizer, written out anew.
inline RefRsqrt RefRsqrtOf(int64_t norm) {
  RefRsqrt out;
  out.k = RefFloorLog2(norm) / 2;
  const int e = 28 - 2 * out.k;
  out.mq =
      e >= 0 ? norm * (int64_t{1} << e) : RefFloorDiv(norm, int64_t{1} << -e);
  const int64_t r0 = kRsqrtTable[RefFloorDiv(out.mq, int64_t{1} << 22) - 64];
  const int64_t h = RefRoundHalfUp(out.mq * r0 * r0, 28);
  out.r = RefRoundHalfUp(r0 * (3 * (int64_t{1} << 30) - h), 16);
  out.s = RefRoundHalfUp(out.mq * out.r, 28);
  return out;
}

// Naive GDN / IGDN per docs/fixed-point.md, in int64.
inline Tensor16 RefNormalize(const Tensor16& in, int sq_shift,
                             const std::vector<int16_t>& gamma,
                             const std::vector<int32_t>& beta,
                             const std::vector<int32_t>& mult,
                             const std::vector<uint8_t>& shift, int lo, int hi,
                             bool inverse) {
  const int c = in.channels;
  Tensor16 out(in.height, in.width, c);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      for (int i = 0; i < c; ++i) {
        int64_t norm = beta[i];
        for (int j = 0; j < c; ++j) {
          const int64_t xj = in.at(y, x, j);
          norm += int64_t{gamma[i * c + j]} * RefRoundHalfUp(xj * xj, sq_shift);
        }
        const RefRsqrt rs = RefRsqrtOf(norm);
        const int64_t xi = in.at(y, x, i);
        int64_t v;
        if (inverse) {
          v = RefRoundHalfUp(RefRoundHalfUp(xi * rs.s, 15) * mult[i],
                             shift[i] - rs.k);
        } else {
          v = RefRoundHalfUp(RefRoundHalfUp(xi * rs.r, 15) * mult[i],
                             shift[i] + rs.k);
        }
        out.at(y, x, i) = static_cast<int16_t>(RefClamp(v, lo, hi));
      }
    }
  }
  return out;
}

}  // namespace fxic::testing

#endif  // FXIC_TESTS_FIXEDPOINT_FIXEDPOINT_TEST_UTIL_H_
