// Integer convolution + linear scaling: shape checks, dispatch, and the
// scalar reference kernel (the specification of every SIMD path).
#include "fixedpoint/conv2d.h"

#include <string>
#include <vector>

#include "fixedpoint/dispatch.h"
#include "fixedpoint/kernels.h"
#include "fixedpoint/linear_scaling.h"

namespace fxic {

int ConvOutputSize(int size, int kernel, int stride) {
  return (size + 2 * (kernel / 2) - kernel) / stride + 1;
}

namespace {

Status CheckConvShapes(const Tensor16& input, const ConvParams& p) {
  if (p.kernel != 1 && p.kernel != 3 && p.kernel != 5) {
    return Status::Error("conv2d: kernel " + std::to_string(p.kernel) +
                         " not in {1, 3, 5}");
  }
  if (p.stride != 1 && p.stride != 2) {
    return Status::Error("conv2d: stride " + std::to_string(p.stride) +
                         " not in {1, 2}");
  }
  if (p.cin < 1 || p.cout < 1 || input.channels != p.cin) {
    return Status::Error("conv2d: input has " + std::to_string(input.channels) +
                         " channels, layer expects " + std::to_string(p.cin));
  }
  if (input.height < 1 || input.width < 1) {
    return Status::Error("conv2d: empty input");
  }
  return Status::Ok();
}

}  // namespace

Status Conv2d(const Tensor16& input, const ConvParams& p, Tensor16* out) {
  FXIC_RETURN_IF_ERROR(CheckConvShapes(input, p));
  if (out == &input) return Status::Error("conv2d: output aliases input");
  out->Reshape(ConvOutputSize(input.height, p.kernel, p.stride),
               ConvOutputSize(input.width, p.kernel, p.stride), p.cout);
  ActiveKernels().conv2d(input.data.data(), input.height, input.width, p,
                         out->data.data());
  return Status::Ok();
}

Status Conv2dDepthToSpace(const Tensor16& input, const ConvParams& p,
                          Tensor16* out, bool* fused) {
  *fused = false;
  FXIC_RETURN_IF_ERROR(CheckConvShapes(input, p));
  if (out == &input) return Status::Error("conv2d: output aliases input");
  if (p.cout % 4 != 0) {
    return Status::Error("depth_to_space: " + std::to_string(p.cout) +
                         " channels is not a positive multiple of 4");
  }
  const KernelTable& t = ActiveKernels();
  if (t.conv2d_d2s == nullptr) return Status::Ok();
  const int ho = ConvOutputSize(input.height, p.kernel, p.stride);
  const int wo = ConvOutputSize(input.width, p.kernel, p.stride);
  out->Reshape(2 * ho, 2 * wo, p.cout / 4);
  *fused = t.conv2d_d2s(input.data.data(), input.height, input.width, p,
                        out->data.data());
  return Status::Ok();
}

namespace scalar {

// The specification: every other path must give these bytes.
void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out) {
  const int k = p.kernel;
  const int pad = k / 2;
  const int h = height;
  const int w = width;
  const int ho = ConvOutputSize(h, k, p.stride);
  const int wo = ConvOutputSize(w, k, p.stride);
  const int cin = p.cin;
  const int cout = p.cout;
  const size_t tap_stride = static_cast<size_t>(cin);           // per kx
  const size_t filter_size = static_cast<size_t>(k) * k * cin;  // per o

  // Output rows are independent: splitting them over threads cannot change a
  // result. Small layers stay on one thread (parallel regions cost more than
  // they save there).
  const bool parallel =
      int64_t{ho} * wo * cout * static_cast<int64_t>(filter_size) >=
      (int64_t{1} << 20);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (parallel)
#endif
  for (int oy = 0; oy < ho; ++oy) {
    std::vector<int32_t> acc(static_cast<size_t>(wo) * cout);
    for (int ox = 0; ox < wo; ++ox) {
      int32_t* a = acc.data() + static_cast<size_t>(ox) * cout;
      for (int o = 0; o < cout; ++o) a[o] = p.bias[o];
      for (int ky = 0; ky < k; ++ky) {
        const int iy = oy * p.stride + ky - pad;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < k; ++kx) {
          const int ix = ox * p.stride + kx - pad;
          if (ix < 0 || ix >= w) continue;
          const int16_t* src =
              in + (static_cast<size_t>(iy) * w + ix) * tap_stride;
          const int8_t* wk =
              p.w + (static_cast<size_t>(ky) * k + kx) * tap_stride;
          for (int o = 0; o < cout; ++o) {
            const int8_t* wo_k = wk + o * filter_size;
            // Any partial sum is bounded by |bias| + A * sum|w| <= 2^31 - 1.
            int32_t sum = 0;
            for (int i = 0; i < cin; ++i) {
              sum += int32_t{wo_k[i]} * int32_t{src[i]};
            }
            a[o] += sum;
          }
        }
      }
    }
    LinearScaleRow(acc.data(), wo, cout, p.mult, p.shift, p.out_lo, p.out_hi,
                   out + static_cast<size_t>(oy) * wo * cout);
  }
}

}  // namespace scalar

}  // namespace fxic
