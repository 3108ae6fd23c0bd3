// The conformance suite's images (made by a deterministic generator) and its
// default vector plans, for `fxic verify --update-suite`.
#ifndef FXIC_APPS_VERIFY_IMAGES_H_
#define FXIC_APPS_VERIFY_IMAGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "codec/image.h"
#include "fixedpoint/status.h"

namespace fxic::verify {

struct NamedImage {
  std::string name;  // file stem, e.g. "noise_61x47"
  Image image;
};

// Small images of odd sizes and content: flat, 1×1, 2×2 extremes, noise,
// hard edges, tall, wide, gradient across a padding boundary. Pure integer
// arithmetic and a fixed SplitMix64 seed: identical on every machine.
std::vector<NamedImage> GeneratedImages();

// Crops of a real photo (tests/data/kodim23_crop.png, 256×256): a 64×64 and
// an odd 131×77 one. Error if the photo is smaller than 256×256.
StatusOr<std::vector<NamedImage>> PhotoCrops(const Image& photo);

// Binary PPM (P6, maxval 255) with a "P6\nW H\n255\n" header.
std::vector<uint8_t> EncodePpm(const Image& image);

// A vector to record: image file (relative to the manifest's directory),
// quality text, band rows.
struct PlannedVector {
  std::string name, image, quality;
  int band_rows = 4;
};

// The default vector list for a model with `levels` qualities. full: every
// image at qualities 1, the middle and the top plus a one-row-band variant
// (the synthetic model); otherwise a nine-vector subset (the embedded model,
// which may be a large trained one). Image paths are "../images/<name>.ppm".
std::vector<PlannedVector> DefaultPlan(bool full, int levels);

}  // namespace fxic::verify

#endif  // FXIC_APPS_VERIFY_IMAGES_H_
