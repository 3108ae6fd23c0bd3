// Overflow proofs for convolution, normalization and gain layers.
#include "fixedpoint/bounds.h"

#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64: no ISA flag, no dispatch
#endif

#include "fixedpoint/rounding.h"

namespace fxic {
namespace {

using std::to_string;

int64_t MaxAbs(int lo, int hi) {
  const int64_t a = lo < 0 ? -int64_t{lo} : int64_t{lo};
  const int64_t b = hi < 0 ? -int64_t{hi} : int64_t{hi};
  return a > b ? a : b;
}

// sum |w[i]| and min(0, min w[i]) over n int8 weights (the model loader runs
// this over every weight of a model). With SSE2, 16 weights per step:
// u = w ^ 0x80 is w + 128 as an unsigned byte, so psadbw(u, 128) sums
// |u - 128| = |w| exactly (128 for -128) in 64-bit lanes, and pminub finds
// the smallest u; the scalar loop takes the rest. Same results either way.
void AbsSumAndMin(const int8_t* w, size_t n, int64_t* sum_abs, int* min_w) {
  int64_t sum = 0;
  int lo = 0;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
  __m128i acc = _mm_setzero_si128();
  __m128i umin = _mm_set1_epi8(static_cast<char>(0xff));
  for (; i + 16 <= n; i += 16) {
    const __m128i u =
        _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)), bias);
    acc = _mm_add_epi64(acc, _mm_sad_epu8(u, bias));
    umin = _mm_min_epu8(umin, u);
  }
  alignas(16) uint64_t sums[2];
  alignas(16) uint8_t mins[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(sums), acc);
  _mm_store_si128(reinterpret_cast<__m128i*>(mins), umin);
  sum = static_cast<int64_t>(sums[0] + sums[1]);
  for (uint8_t m : mins) {
    const int v = int{m} - 128;
    lo = v < lo ? v : lo;
  }
#endif
  for (; i < n; ++i) {
    const int v = w[i];
    sum += v < 0 ? -v : v;
    lo = v < lo ? v : lo;
  }
  *sum_abs = sum;
  *min_w = lo;
}

std::string Channel(const char* layer, int c) {
  return std::string(layer) + ": channel " + to_string(c) + ": ";
}

}  // namespace

Status CheckActivationRange(int lo, int hi, const char* what) {
  if (lo < -kMaxActivation || hi > kMaxActivation || lo > hi) {
    return Status::Error(std::string(what) + ": range [" + to_string(lo) +
                         ", " + to_string(hi) + "] not inside [-" +
                         to_string(kMaxActivation) + ", " +
                         to_string(kMaxActivation) + "] or empty");
  }
  return Status::Ok();
}

Status CheckConvBounds(const ConvParams& p, int in_lo, int in_hi) {
  if (p.kernel != 1 && p.kernel != 3 && p.kernel != 5) {
    return Status::Error("conv: kernel " + to_string(p.kernel) +
                         " not in {1, 3, 5}");
  }
  if (p.stride != 1 && p.stride != 2) {
    return Status::Error("conv: stride " + to_string(p.stride) +
                         " not in {1, 2}");
  }
  if (p.cin < 1 || p.cout < 1) {
    return Status::Error("conv: " + to_string(p.cin) + " -> " +
                         to_string(p.cout) + " channels");
  }
  if (!p.w || !p.bias || !p.mult || !p.shift) {
    return Status::Error("conv: missing weights, bias, multipliers or shifts");
  }
  FXIC_RETURN_IF_ERROR(CheckActivationRange(in_lo, in_hi, "conv input"));
  FXIC_RETURN_IF_ERROR(CheckActivationRange(p.out_lo, p.out_hi, "conv output"));
  const int64_t a = MaxAbs(in_lo, in_hi);
  const size_t filter = static_cast<size_t>(p.kernel) * p.kernel * p.cin;
  for (int o = 0; o < p.cout; ++o) {
    const int8_t* w = p.w + static_cast<size_t>(o) * filter;
    int64_t sum_abs = 0;
    int min_w = 0;
    AbsSumAndMin(w, filter, &sum_abs, &min_w);
    if (min_w == -128) {
      return Status::Error(Channel("conv", o) +
                           "weight -128 outside [-127, 127]");
    }
    const int64_t bias = p.bias[o];
    const int64_t bound = (bias < 0 ? -bias : bias) + a * sum_abs;
    if (bound > kMaxAccumulator) {
      return Status::Error(Channel("conv", o) +
                           "|bias| + A * sum|w| = " + to_string(bound) +
                           " > 2^31 - 1 (A = " + to_string(a) +
                           ", sum|w| = " + to_string(sum_abs) +
                           ", bias = " + to_string(bias) + ")");
    }
    if (p.mult[o] < 1) {
      return Status::Error(Channel("conv", o) + "multiplier " +
                           to_string(p.mult[o]) + " outside [1, 2^31 - 1]");
    }
    if (kMaxAccumulator * p.mult[o] >= kProductLimit) {  // int32 M0: never
      return Status::Error(Channel("conv", o) + "(2^31 - 1) * M0 >= 2^62");
    }
    if (p.shift[o] > 62) {
      return Status::Error(Channel("conv", o) + "shift " +
                           to_string(p.shift[o]) + " not in [0, 62]");
    }
  }
  return Status::Ok();
}

Status CheckNormalizationBounds(const NormParams& p, bool inverse, int in_lo,
                                int in_hi) {
  const char* layer = inverse ? "igdn" : "gdn";
  const std::string name = layer;
  if (p.channels < 1) {
    return Status::Error(name + ": " + to_string(p.channels) + " channels");
  }
  if (!p.gamma || !p.beta || !p.mult || !p.shift) {
    return Status::Error(name + ": missing gamma, beta, multipliers or shifts");
  }
  if (p.sq_shift < 0 || p.sq_shift > 62) {
    return Status::Error(name + ": sq_shift " + to_string(p.sq_shift) +
                         " not in [0, 62]");
  }
  FXIC_RETURN_IF_ERROR(CheckActivationRange(in_lo, in_hi, layer));
  FXIC_RETURN_IF_ERROR(CheckActivationRange(p.out_lo, p.out_hi, layer));
  const int64_t a = MaxAbs(in_lo, in_hi);
  const int64_t q = RoundingShiftRight(a * a, p.sq_shift);
  if (q > 32767) {
    return Status::Error(name + ": Q = RoundingShiftRight(A^2, sq_shift) = " +
                         to_string(q) + " > 32767 (A = " + to_string(a) +
                         ", sq_shift = " + to_string(p.sq_shift) + ")");
  }
  const int shift_lo = inverse ? 15 : 0;
  const int shift_hi = inverse ? 62 : 47;
  const int c_count = p.channels;
  for (int i = 0; i < c_count; ++i) {
    const int16_t* g = p.gamma + static_cast<size_t>(i) * c_count;
    int64_t gamma_sum = 0;
    for (int j = 0; j < c_count; ++j) {
      if (g[j] < 0) {
        return Status::Error(Channel(layer, i) + "gamma[" + to_string(i) +
                             "][" + to_string(j) + "] = " + to_string(g[j]) +
                             " outside [0, 32767]");
      }
      gamma_sum += g[j];
    }
    const int64_t beta = p.beta[i];
    if (beta < 1) {
      return Status::Error(Channel(layer, i) + "beta " + to_string(beta) +
                           " < 1");
    }
    const int64_t bound = beta + q * gamma_sum;
    if (bound > kMaxAccumulator) {
      return Status::Error(Channel(layer, i) +
                           "beta + Q * sum gamma = " + to_string(bound) +
                           " > 2^31 - 1 (Q = " + to_string(q) +
                           ", sum gamma = " + to_string(gamma_sum) + ")");
    }
    if (p.mult[i] < 1) {
      return Status::Error(Channel(layer, i) + "multiplier " +
                           to_string(p.mult[i]) + " outside [1, 2^31 - 1]");
    }
    if (p.shift[i] < shift_lo || p.shift[i] > shift_hi) {
      return Status::Error(
          Channel(layer, i) + "shift " + to_string(p.shift[i]) + " not in [" +
          to_string(shift_lo) + ", " + to_string(shift_hi) + "]");
    }
  }
  return Status::Ok();
}

Status CheckGainBounds(const int32_t* table, int levels, int channels,
                       int shift, int in_lo, int in_hi, int out_lo,
                       int out_hi) {
  if (levels < 1 || channels < 1 || !table) {
    return Status::Error("gain: " + to_string(levels) + " levels x " +
                         to_string(channels) + " channels");
  }
  if (shift < 0 || shift > 62) {
    return Status::Error("gain: shift " + to_string(shift) + " not in [0, 62]");
  }
  FXIC_RETURN_IF_ERROR(CheckActivationRange(in_lo, in_hi, "gain input"));
  FXIC_RETURN_IF_ERROR(CheckActivationRange(out_lo, out_hi, "gain output"));
  const int64_t a = MaxAbs(in_lo, in_hi);
  for (int l = 0; l < levels; ++l) {
    for (int c = 0; c < channels; ++c) {
      const int64_t g = table[static_cast<size_t>(l) * channels + c];
      if (g < 1) {
        return Status::Error(Channel("gain", c) + "level " + to_string(l) +
                             ": multiplier " + to_string(g) +
                             " outside [1, 2^31 - 1]");
      }
      if (a * g >= kProductLimit) {  // int32 gains: never
        return Status::Error(Channel("gain", c) + "level " + to_string(l) +
                             ": A * G >= 2^62");
      }
    }
  }
  return Status::Ok();
}

}  // namespace fxic
