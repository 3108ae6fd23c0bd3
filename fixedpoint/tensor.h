// Tensor16: an int16 activation tensor of one image, height x width x channels.
#ifndef FXIC_FIXEDPOINT_TENSOR_H_
#define FXIC_FIXEDPOINT_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fxic {

// HWC layout, channels innermost: element (y, x, c) is
// data[(y * width + x) * channels + c]. Every kernel reads and writes this
// layout; a whole pixel's channels are contiguous.
struct Tensor16 {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<int16_t> data;

  Tensor16() = default;
  // Zero-filled. Precondition: all sizes >= 0.
  Tensor16(int h, int w, int c)
      : height(h), width(w), channels(c), data(Size(h, w, c)) {}

  static size_t Size(int h, int w, int c) {
    return static_cast<size_t>(h) * static_cast<size_t>(w) *
           static_cast<size_t>(c);
  }
  size_t Index(int y, int x, int c) const {
    return (static_cast<size_t>(y) * static_cast<size_t>(width) +
            static_cast<size_t>(x)) *
               static_cast<size_t>(channels) +
           static_cast<size_t>(c);
  }
  int16_t& at(int y, int x, int c) { return data[Index(y, x, c)]; }
  int16_t at(int y, int x, int c) const { return data[Index(y, x, c)]; }
  // The channels of pixel (y, x), contiguous.
  int16_t* pixel(int y, int x) { return data.data() + Index(y, x, 0); }
  const int16_t* pixel(int y, int x) const {
    return data.data() + Index(y, x, 0);
  }
  // Resizes to h x w x c (contents unspecified afterwards).
  void Reshape(int h, int w, int c) {
    height = h;
    width = w;
    channels = c;
    data.resize(Size(h, w, c));
  }
};

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_TENSOR_H_
