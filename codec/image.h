// Image: the 8-bit RGB raster the codec encodes and decodes.
#ifndef FXIC_CODEC_IMAGE_H_
#define FXIC_CODEC_IMAGE_H_

#include <cstdint>
#include <vector>

namespace fxic {

// Interleaved 8-bit RGB, row-major: pixel (x, y) channel c is
// rgb[(y * width + x) * 3 + c]; rgb.size() == width * height * 3.
struct Image {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> rgb;
};

}  // namespace fxic

#endif  // FXIC_CODEC_IMAGE_H_
