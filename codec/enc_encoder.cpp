// Encoder: image → g_a → gain → h_a → z, h_s → (μ, idx) → range-coded bitstream.
#include <algorithm>
#include <new>
#include <string>
#include <utility>

#include "codec/bitstream.h"
#include "codec/codec.h"
#include "entropy/indexed_coder.h"
#include "entropy/range_coder.h"
#include "fixedpoint/linear_scaling.h"
#include "fixedpoint/rounding.h"

namespace fxic {
namespace {

// Pads to the model's multiple by repeating the last column and row.
Tensor16 PadImage(const Image& image, int padded_w, int padded_h) {
  Tensor16 t(padded_h, padded_w, 3);
  for (int y = 0; y < padded_h; ++y) {
    const uint32_t sy = std::min<uint32_t>(static_cast<uint32_t>(y), image.height - 1);
    for (int x = 0; x < padded_w; ++x) {
      const uint32_t sx = std::min<uint32_t>(static_cast<uint32_t>(x), image.width - 1);
      const uint8_t* src = &image.rgb[(static_cast<size_t>(sy) * image.width + sx) * 3];
      int16_t* dst = t.pixel(y, x);
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
  return t;
}

}  // namespace

StatusOr<int> QualityToQ8(const Model& model, int64_t q_times_256) {
  const int64_t q8 = q_times_256 - 256;
  if (q8 < 0 || q8 > 256 * int64_t{model.levels - 1}) {
    return Status::Error("quality must be between 1 and " + std::to_string(model.levels) +
                         " for this model");
  }
  return static_cast<int>(q8);
}

static StatusOr<std::vector<uint8_t>> EncodeImpl(const Image& image, const Model& model,
                                      const EncodeOptions& options,
                                      EncodeSymbols* symbols) {
  if (image.width < 1 || image.height < 1 || image.width > kMaxImageDimension ||
      image.height > kMaxImageDimension) {
    return Status::Error("image size " + std::to_string(image.width) + "x" +
                         std::to_string(image.height) + " is out of range");
  }
  if (uint64_t{image.width} * image.height > kMaxImagePixels) {
    return Status::Error("image has more than 2^28 pixels");
  }
  if (image.rgb.size() != size_t{image.width} * image.height * 3) {
    return Status::Error("image buffer size does not match its dimensions");
  }
  if (options.quality_q8 < 0 || options.quality_q8 > 256 * (model.levels - 1)) {
    return Status::Error("quality is outside the model's levels");
  }
  if (options.band_rows < 1 || options.band_rows > 65535) {
    return Status::Error("band_rows must be between 1 and 65535");
  }
  const Geometry g = ComputeGeometry(model, image.width, image.height, options.band_rows);
  if (g.n_bands > 65535) return Status::Error("too many y bands; raise band_rows");
  const LayerTrace* trace = options.trace;

  Tensor16 y;
  FXIC_RETURN_IF_ERROR(RunNetwork(model.g_a, "g_a", PadImage(image, g.padded_width,
                                                             g.padded_height),
                                  &y, trace));
  std::vector<int32_t> gains;
  FXIC_RETURN_IF_ERROR(GainsForQuality(model, options.quality_q8, false, &gains));
  Tensor16 y_g;
  ApplyGain(y, gains.data(), model.gain_shift, static_cast<int16_t>(model.yg_lo),
            static_cast<int16_t>(model.yg_hi), &y_g);
  if (trace) (*trace)("gain", 0, y_g);
  Tensor16 z;
  FXIC_RETURN_IF_ERROR(RunNetwork(model.h_a, "h_a", y_g, &z, trace));

  // z symbols: coded unclamped, read by h_s clamped to ±z_max.
  const int N = model.N, M = model.M;
  entropy::RangeEncoder z_enc;
  Tensor16 z_sym(z.height, z.width, N);
  if (symbols) symbols->z.clear();
  for (size_t i = 0; i < z.data.size(); ++i) {
    const int32_t s = static_cast<int32_t>(RoundingShiftRight(z.data[i], model.hyper_frac_bits));
    entropy::EncodeIndexed(z_enc, model.z_tables, static_cast<uint32_t>(i % N), s);
    z_sym.data[i] = static_cast<int16_t>(Clamp(s, -model.z_max, model.z_max));
    if (symbols) symbols->z.push_back(s);
  }
  std::vector<uint8_t> z_bytes = z_enc.Finish();

  HyperOutput hyper;
  FXIC_RETURN_IF_ERROR(HyperSynthesis(model, z_sym, &hyper, trace));
  if (hyper.mean.height != y_g.height || hyper.mean.width != y_g.width) {
    return Status::Error("model: h_s output size does not match the latent");
  }

  std::vector<std::vector<uint8_t>> bands(g.n_bands);
  const size_t row_elems = static_cast<size_t>(g.y_width) * M;
  if (symbols) {
    symbols->y.assign(y_g.data.size(), 0);
    symbols->y_index = hyper.scale_index;
  }
  for (int b = 0; b < g.n_bands; ++b) {
    entropy::RangeEncoder enc;
    const int row_end = std::min(g.y_height, (b + 1) * options.band_rows);
    for (size_t i = row_elems * b * options.band_rows; i < row_elems * row_end; ++i) {
      const int32_t s = static_cast<int32_t>(RoundingShiftRight(
          int64_t{y_g.data[i]} - hyper.mean.data[i], model.latent_frac_bits));
      entropy::EncodeIndexed(enc, model.y_tables, hyper.scale_index[i], s);
      if (symbols) symbols->y[i] = s;
    }
    bands[b] = enc.Finish();
  }

  BitstreamHeader h;
  h.quality_q8 = static_cast<uint16_t>(options.quality_q8);
  h.model_id = model.id;
  h.width = image.width;
  h.height = image.height;
  h.band_rows = static_cast<uint16_t>(options.band_rows);
  return WriteBitstream(std::move(h), z_bytes, bands);
}

StatusOr<std::vector<uint8_t>> Encode(const Image& image, const Model& model,
                                      const EncodeOptions& options,
                                      EncodeSymbols* symbols) {
  // Memory for the activations grows with the image; a request the machine
  // cannot satisfy is an error, not a crash.
  try {
    return EncodeImpl(image, model, options, symbols);
  } catch (const std::bad_alloc&) {
    return Status::Error("not enough memory for this image");
  }
}

}  // namespace fxic
