// Deterministic conformance images and the default vector plans.
#include "apps/verify_images.h"

#include <algorithm>

namespace fxic::verify {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Image Blank(uint32_t w, uint32_t h) {
  Image im;
  im.width = w;
  im.height = h;
  im.rgb.assign(size_t{w} * h * 3, 0);
  return im;
}

void Put(Image* im, uint32_t x, uint32_t y, int r, int g, int b) {
  uint8_t* p = &im->rgb[(size_t{y} * im->width + x) * 3];
  p[0] = static_cast<uint8_t>(r);
  p[1] = static_cast<uint8_t>(g);
  p[2] = static_cast<uint8_t>(b);
}

Image Crop(const Image& src, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h) {
  Image im = Blank(w, h);
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t* s = &src.rgb[(size_t{y0 + y} * src.width + x0) * 3];
    std::copy(s, s + size_t{w} * 3, &im.rgb[size_t{y} * w * 3]);
  }
  return im;
}

std::string MidQuality(int levels) {
  // (1 + levels) / 2 with one decimal when it is a half.
  const int twice = 1 + levels;
  return std::to_string(twice / 2) + (twice % 2 ? ".5" : "");
}

}  // namespace

std::vector<NamedImage> GeneratedImages() {
  std::vector<NamedImage> out;
  {
    Image im = Blank(1, 1);
    Put(&im, 0, 0, 200, 100, 50);
    out.push_back({"flat_1x1", im});
  }
  {
    Image im = Blank(2, 2);
    Put(&im, 0, 0, 0, 0, 0);
    Put(&im, 1, 0, 255, 255, 255);
    Put(&im, 0, 1, 255, 0, 0);
    Put(&im, 1, 1, 0, 255, 255);
    out.push_back({"extreme_2x2", im});
  }
  {
    Image im = Blank(37, 23);
    for (uint8_t& v : im.rgb) v = 128;
    out.push_back({"flat_37x23", im});
  }
  {
    Image im = Blank(61, 47);
    uint64_t s = 61047;
    for (uint8_t& v : im.rgb) v = static_cast<uint8_t>(SplitMix64(&s) >> 56);
    out.push_back({"noise_61x47", im});
  }
  {
    // 8-pixel checkerboard, primary-colour bars on top, a yellow diagonal.
    Image im = Blank(80, 65);
    for (uint32_t y = 0; y < im.height; ++y) {
      for (uint32_t x = 0; x < im.width; ++x) {
        const int v = ((x / 8 + y / 8) & 1) ? 255 : 0;
        int c[3] = {v, v, v};
        if (y < 16) {
          c[0] = c[1] = c[2] = 0;
          c[(x / 10) % 3] = 255;
        }
        if (x == y || x == y + 1) {
          c[0] = c[1] = 255;
          c[2] = 0;
        }
        Put(&im, x, y, c[0], c[1], c[2]);
      }
    }
    out.push_back({"edges_80x65", im});
  }
  {
    Image im = Blank(3, 200);
    uint64_t s = 3200;
    for (uint32_t y = 0; y < im.height; ++y) {
      for (uint32_t x = 0; x < im.width; ++x) {
        const int v = static_cast<int>(y * 255 / 199);
        const int n = static_cast<int>(SplitMix64(&s) % 9) - 4;
        Put(&im, x, y, v, (v + 85 * x + n + 256) % 256, 255 - v);
      }
    }
    out.push_back({"tall_3x200", im});
  }
  {
    Image im = Blank(200, 3);
    for (uint32_t y = 0; y < im.height; ++y) {
      for (uint32_t x = 0; x < im.width; ++x) {
        const int v = static_cast<int>(x * 255 / 199);
        Put(&im, x, y, 255 - v, v, (x / 25) % 2 ? 230 : 20 + 40 * y);
      }
    }
    out.push_back({"wide_200x3", im});
  }
  {
    Image im = Blank(129, 67);
    for (uint32_t y = 0; y < im.height; ++y) {
      for (uint32_t x = 0; x < im.width; ++x) {
        Put(&im, x, y, x * 255 / 128, y * 255 / 66, (x + y) * 255 / 194);
      }
    }
    out.push_back({"gradient_129x67", im});
  }
  return out;
}

StatusOr<std::vector<NamedImage>> PhotoCrops(const Image& photo) {
  if (photo.width < 256 || photo.height < 256 ||
      photo.rgb.size() != size_t{photo.width} * photo.height * 3) {
    return Status::Error("the photo for the crops must be at least 256x256");
  }
  return std::vector<NamedImage>{{"kodim23_64x64", Crop(photo, 128, 64, 64, 64)},
                                 {"kodim23_131x77", Crop(photo, 17, 150, 131, 77)}};
}

std::vector<uint8_t> EncodePpm(const Image& image) {
  const std::string header = "P6\n" + std::to_string(image.width) + " " +
                             std::to_string(image.height) + "\n255\n";
  std::vector<uint8_t> out(header.begin(), header.end());
  out.insert(out.end(), image.rgb.begin(), image.rgb.end());
  return out;
}

std::vector<PlannedVector> DefaultPlan(bool full, int levels) {
  const std::string top = std::to_string(levels), mid = MidQuality(levels);
  auto vec = [](const std::string& image, const std::string& q, int band_rows = 4) {
    PlannedVector v;
    v.name = image + "_q" + q + (band_rows != 4 ? "_b" + std::to_string(band_rows) : "");
    v.image = "../images/" + image + ".ppm";
    v.quality = q;
    v.band_rows = band_rows;
    return v;
  };
  std::vector<PlannedVector> plan;
  if (full) {
    std::vector<std::string> names;
    for (const NamedImage& im : GeneratedImages()) names.push_back(im.name);
    names.push_back("kodim23_64x64");
    names.push_back("kodim23_131x77");
    for (const std::string& n : names) {
      for (const std::string& q : {std::string("1"), mid, top}) plan.push_back(vec(n, q));
    }
    plan.push_back(vec("kodim23_131x77", top, 1));
    return plan;
  }
  plan = {vec("flat_1x1", "1"),         vec("extreme_2x2", top),
          vec("noise_61x47", top),      vec("edges_80x65", mid),
          vec("tall_3x200", "1"),       vec("wide_200x3", top),
          vec("kodim23_64x64", mid),    vec("kodim23_131x77", "1"),
          vec("kodim23_131x77", top, 1)};
  return plan;
}

}  // namespace fxic::verify
