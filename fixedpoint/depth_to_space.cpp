// Depth-to-space, block 2 (PyTorch pixel_shuffle channel order).
#include "fixedpoint/depth_to_space.h"

#include <cstdint>
#include <string>

namespace fxic {

Status DepthToSpace(const Tensor16& in, Tensor16* out) {
  if (in.channels < 4 || in.channels % 4 != 0) {
    return Status::Error("depth_to_space: " + std::to_string(in.channels) +
                         " channels is not a positive multiple of 4");
  }
  if (out == &in) return Status::Error("depth_to_space: output aliases input");
  const int c_out = in.channels / 4;
  out->Reshape(2 * in.height, 2 * in.width, c_out);
  // Input rows are independent (a memory-bound copy; split for two threads).
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(in.data.size()) >= (int64_t{1} << 18))
#endif
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      const int16_t* src = in.pixel(y, x);
      for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) {
          int16_t* dst = out->pixel(2 * y + i, 2 * x + j);
          for (int c = 0; c < c_out; ++c) dst[c] = src[4 * c + 2 * i + j];
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace fxic
