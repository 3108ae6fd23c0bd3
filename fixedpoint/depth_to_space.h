// Depth-to-space (sub-pixel upsampling) with block 2, PyTorch pixel_shuffle.
#ifndef FXIC_FIXEDPOINT_DEPTH_TO_SPACE_H_
#define FXIC_FIXEDPOINT_DEPTH_TO_SPACE_H_

#include "fixedpoint/status.h"
#include "fixedpoint/tensor.h"

namespace fxic {

// in: H x W x 4C, out: 2H x 2W x C with
// out[2y + i][2x + j][c] = in[y][x][4c + 2i + j] (i, j in {0, 1}).
// Errors if in.channels is not a positive multiple of 4. `out` must not alias
// `in`.
Status DepthToSpace(const Tensor16& in, Tensor16* out);

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_DEPTH_TO_SPACE_H_
