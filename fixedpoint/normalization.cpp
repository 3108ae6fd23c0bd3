// Integer GDN / IGDN: shape checks, dispatch, and the scalar reference kernel
// (the specification of every SIMD path).
#include "fixedpoint/normalization.h"

#include <string>
#include <vector>

#include "fixedpoint/dispatch.h"
#include "fixedpoint/kernels.h"
#include "fixedpoint/rounding.h"
#include "fixedpoint/rsqrt_table.h"

namespace fxic {

Rsqrt RsqrtQ30(int32_t norm) {
  Rsqrt rs;
  const int log = FloorLog2(static_cast<uint32_t>(norm));  // 0..30
  rs.k = log >> 1;
  const int64_t n = norm;
  const int64_t mq = (2 * rs.k <= 28) ? n * (int64_t{1} << (28 - 2 * rs.k))
                                      : n >> (2 * rs.k - 28);
  const int64_t r0 = kRsqrtTable[(mq >> 22) - 64];         // Q15
  const int64_t h = RoundingShiftRight(mq * r0 * r0, 28);  // m * r0^2, Q30
  const int64_t r = RoundingShiftRight(r0 * (3 * (int64_t{1} << 30) - h), 16);
  rs.mq = static_cast<int32_t>(mq);
  rs.r = static_cast<int32_t>(r);
  return rs;
}

int64_t SqrtQ30(const Rsqrt& rs) {
  return RoundingShiftRight(int64_t{rs.mq} * rs.r, 28);
}

namespace scalar {

// The specification: every other path must give these bytes.
void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out) {
  const int c_count = p.channels;
  // Pixels are independent: splitting them over threads cannot change a
  // result. Chunks of kChunk pixels share one scratch vector.
  constexpr int64_t kChunk = 256;
  const int64_t chunks = (pixels + kChunk - 1) / kChunk;
  // Small calls stay on one thread (parallel regions cost more than they
  // save there).
  const bool parallel =
      pixels * c_count * (c_count + 64) >= (int64_t{1} << 20);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (parallel)
#endif
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    std::vector<int32_t> sq(static_cast<size_t>(c_count));
    const int64_t end = (chunk + 1) * kChunk < pixels ? (chunk + 1) * kChunk
                                                      : pixels;
    for (int64_t px = chunk * kChunk; px < end; ++px) {
      const int16_t* src = in + px * c_count;
      int16_t* dst = out + px * c_count;
      for (int j = 0; j < c_count; ++j) {
        // <= 32767 for every |x| <= A (CheckNormalizationBounds).
        sq[j] = static_cast<int32_t>(
            RoundingShiftRight(int32_t{src[j]} * int32_t{src[j]}, p.sq_shift));
      }
      // All of src is read into sq before dst is written, and dst[i] only
      // after src[i]: in-place is safe.
      for (int i = 0; i < c_count; ++i) {
        const int16_t* g = p.gamma + static_cast<size_t>(i) * c_count;
        int32_t norm = p.beta[i];  // <= 2^31 - 1 (proven), >= 1
        for (int j = 0; j < c_count; ++j) norm += int32_t{g[j]} * sq[j];
        const Rsqrt rs = RsqrtQ30(norm);
        const int64_t xi = src[i];
        int64_t v;
        if (inverse) {
          v = MulShift(RoundingShiftRight(xi * SqrtQ30(rs), 15), p.mult[i],
                       p.shift[i] - rs.k);
        } else {
          v = MulShift(RoundingShiftRight(xi * rs.r, 15), p.mult[i],
                       p.shift[i] + rs.k);
        }
        dst[i] = static_cast<int16_t>(Clamp(v, p.out_lo, p.out_hi));
      }
    }
  }
}

}  // namespace scalar

namespace {

// Shared checks of GDN and IGDN; `inverse` selects IGDN.
Status Normalize(const Tensor16& input, const NormParams& p, bool inverse,
                 Tensor16* out) {
  if (p.channels < 1 || input.channels != p.channels) {
    return Status::Error(std::string(inverse ? "igdn" : "gdn") +
                         ": input has " + std::to_string(input.channels) +
                         " channels, layer expects " +
                         std::to_string(p.channels));
  }
  if (out != &input) out->Reshape(input.height, input.width, p.channels);
  const int64_t pixels = int64_t{input.height} * input.width;
  ActiveKernels().normalize(input.data.data(), pixels, p, inverse,
                            out->data.data());
  return Status::Ok();
}

}  // namespace

Status Gdn(const Tensor16& input, const NormParams& params, Tensor16* out) {
  return Normalize(input, params, /*inverse=*/false, out);
}

Status Igdn(const Tensor16& input, const NormParams& params, Tensor16* out) {
  return Normalize(input, params, /*inverse=*/true, out);
}

}  // namespace fxic
