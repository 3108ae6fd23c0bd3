// Integer 2-D convolution fused with its linear-scaling output stage.
#ifndef FXIC_FIXEDPOINT_CONV2D_H_
#define FXIC_FIXEDPOINT_CONV2D_H_

#include <cstdint>

#include "fixedpoint/status.h"
#include "fixedpoint/tensor.h"

namespace fxic {

// One convolution layer (docs/fixed-point.md, "Convolution + linear
// scaling"). The arrays are not owned; they outlive the call.
struct ConvParams {
  int kernel = 1;  // K in {1, 3, 5}; zero padding K / 2 on every side
  int stride = 1;  // S in {1, 2}
  int cin = 0;     // input channels, >= 1
  int cout = 0;    // output channels, >= 1
  // Weights w[o][ky][kx][i], cout * K * K * cin entries, each in
  // [-127, 127] (symmetric int8, -128 never occurs).
  const int8_t* w = nullptr;
  // w lies in storage that is never changed or freed while the program runs
  // (the embedded model's read-only data): the packed-weights cache then
  // keys on the address instead of keeping a copy of the weights.
  bool w_static = false;
  const int32_t* bias = nullptr;   // [cout], at the accumulator scale
  const int32_t* mult = nullptr;   // [cout] M0, in [1, 2^31 - 1]
  const uint8_t* shift = nullptr;  // [cout] n, in [0, 62]
  int16_t out_lo = -32767;         // output clamp, -32767 <= out_lo <= out_hi
  int16_t out_hi = 32767;          //   <= 32767 (out_lo = 0 is a ReLU)
};

// Output size along one axis: (size + 2 * (K / 2) - K) / S + 1.
int ConvOutputSize(int size, int kernel, int stride);

// out[y][x][o] = Clamp(MulShift(acc, mult[o], shift[o]), out_lo, out_hi) with
// acc = bias[o] + sum_{ky,kx,i} w[o][ky][kx][i] * in[y*S+ky-P][x*S+kx-P][i]
// accumulated in int32 (terms outside the input are zero).
// Errors on a shape mismatch (in.channels != cin, empty input) or an
// unsupported kernel/stride. Arithmetic preconditions: CheckConvBounds
// accepted `params` for a range containing every value of `input`; then no
// intermediate overflows and the result does not depend on summation order.
// `out` must not alias `input`. Rows may run in parallel (OpenMP); the result
// never depends on the thread count.
Status Conv2d(const Tensor16& input, const ConvParams& params, Tensor16* out);

// Conv2d followed by DepthToSpace (depth_to_space.h) in one pass, when the
// active kernel path fuses this shape: then *fused is true and `out` holds
// exactly the bytes of Conv2d then DepthToSpace (2Ho x 2Wo x cout / 4).
// Otherwise *fused is false and `out`'s shape and contents are unspecified:
// the caller runs the two steps. Errors as Conv2d, and if cout is not a multiple of 4.
Status Conv2dDepthToSpace(const Tensor16& input, const ConvParams& params,
                          Tensor16* out, bool* fused);

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_CONV2D_H_
