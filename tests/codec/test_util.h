// Helpers for codec tests: the synthetic model, deterministic images.
#ifndef FXIC_TESTS_CODEC_TEST_UTIL_H_
#define FXIC_TESTS_CODEC_TEST_UTIL_H_

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/image.h"
#include "codec/model.h"

namespace fxic::test {

inline std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline std::vector<uint8_t> SyntheticModelBytes() {
  return ReadAll(std::string(FXIC_SOURCE_DIR) + "/models/synthetic-tiny.fxm");
}

inline const Model& SyntheticModel() {
  static const Model* model = [] {
    const std::vector<uint8_t> bytes = SyntheticModelBytes();
    auto m = LoadModel(bytes.data(), bytes.size());
    return m.ok() ? new Model(std::move(m).value()) : new Model();
  }();
  return *model;
}

inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A smooth gradient with noise and an edge: image-like, deterministic.
inline Image TestImage(uint32_t w, uint32_t h, uint64_t seed) {
  Image im;
  im.width = w;
  im.height = h;
  im.rgb.resize(size_t{w} * h * 3);
  uint64_t s = seed;
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        int v = static_cast<int>((x * 255) / (w > 1 ? w - 1 : 1) * (c + 1) / 3 +
                                 (y * 128) / (h > 1 ? h - 1 : 1));
        if (x > w / 2) v = 255 - v / 2;
        v += static_cast<int>(SplitMix64(&s) % 17) - 8;
        im.rgb[(size_t{y} * w + x) * 3 + c] =
            static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
  }
  return im;
}

}  // namespace fxic::test

#endif  // FXIC_TESTS_CODEC_TEST_UTIL_H_
