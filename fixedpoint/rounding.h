// Rounding, shift and saturation helpers: the only definitions the codec uses.
//
// Every integer operation of docs/fixed-point.md is built from these five
// helpers; SIMD kernels and the Python mirror (models/fxic/intops.py) must
// reproduce them exactly. All are constexpr so tests can pin them at compile
// time.
#ifndef FXIC_FIXEDPOINT_ROUNDING_H_
#define FXIC_FIXEDPOINT_ROUNDING_H_

#include <cstdint>
#include <limits>
#include <type_traits>

namespace fxic {

// RoundingShiftRight relies on >> of a negative value being a floor division
// (arithmetic shift). C++20 guarantees it; every supported compiler does it.
static_assert((int64_t{-5} >> 1) == -3 && (int64_t{-1} >> 62) == -1,
              "right shift of negative int64_t must be arithmetic");
static_assert((int32_t{-5} >> 1) == -3 && (int32_t{-1} >> 31) == -1,
              "right shift of negative int32_t must be arithmetic");

// x / 2^n rounded half up (towards +inf): floor((x + 2^(n-1)) / 2^n), and x
// itself for n == 0. Units: if x has f fractional bits, the result has f - n.
// Precondition: |x| < 2^62, 0 <= n <= 62 (so x + 2^(n-1) cannot overflow).
constexpr int64_t RoundingShiftRight(int64_t x, int n) {
  return n == 0 ? x : (x + (int64_t{1} << (n - 1))) >> n;
}

// min(max(x, lo), hi). Precondition: lo <= hi.
constexpr int64_t Clamp(int64_t x, int64_t lo, int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// x clamped to the range of the integer type T, then converted to T.
// T is any integer type whose range fits in int64_t.
template <typename T>
constexpr T SaturateCast(int64_t x) {
  static_assert(std::is_integral<T>::value, "SaturateCast needs an integer");
  static_assert(std::is_signed<T>::value || sizeof(T) < sizeof(int64_t),
                "the range of T must fit in int64_t");
  return static_cast<T>(
      Clamp(x, std::numeric_limits<T>::min(),
            static_cast<int64_t>(std::numeric_limits<T>::max())));
}

// a * m / 2^n rounded half up: the linear-scaling step, with m a multiplier
// (M0, a gain) and n its shift. If a has scale s_a, the result has scale
// s_a / (m * 2^-n).
// Precondition: |a * m| < 2^62, 0 <= n <= 62.
constexpr int64_t MulShift(int64_t a, int64_t m, int n) {
  return RoundingShiftRight(a * m, n);
}

// Position of the leading one bit of v (0 for v == 1, 31 for v >= 2^31).
// Precondition: v >= 1.
constexpr int FloorLog2(uint32_t v) {
  int log = 0;
  for (int step = 16; step > 0; step >>= 1) {
    if (v >= (uint32_t{1} << step)) {
      v >>= step;
      log += step;
    }
  }
  return log;
}

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_ROUNDING_H_
