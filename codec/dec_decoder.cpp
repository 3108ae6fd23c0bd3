// Decoder: bitstream → z → h_s → (μ, idx) → ŷ → inverse gain → g_s → image.
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

// A correctly terminated section never makes the decoder read this far past
// its end; more means the section is damaged.
constexpr size_t kMaxReadPastEnd = 4;

Status SectionError(const char* what) {
  return Status::Error(std::string("bitstream ") + what + " section is corrupt");
}

}  // namespace

static StatusOr<Image> DecodeImpl(const uint8_t* data, size_t size, const Model& model,
                       const DecodeOptions& options, EncodeSymbols* symbols) {
  FXIC_ASSIGN_OR_RETURN(ParsedBitstream bs, ParseBitstream(data, size, model));
  const BitstreamHeader& h = bs.header;
  const Geometry g = ComputeGeometry(model, h.width, h.height, h.band_rows);
  const int N = model.N, M = model.M;
  const LayerTrace* trace = options.trace;

  Tensor16 z_sym(g.z_height, g.z_width, N);
  entropy::RangeDecoder z_dec(bs.z, h.z_bytes);
  if (symbols) symbols->z.clear();
  for (size_t i = 0; i < z_sym.data.size(); ++i) {
    FXIC_ASSIGN_OR_RETURN(int32_t s, entropy::DecodeIndexed(z_dec, model.z_tables,
                                                            static_cast<uint32_t>(i % N)));
    z_sym.data[i] = static_cast<int16_t>(Clamp(s, -model.z_max, model.z_max));
    if (symbols) symbols->z.push_back(s);
  }
  if (z_dec.bytes_read_past_end() > kMaxReadPastEnd) return SectionError("z");

  HyperOutput hyper;
  FXIC_RETURN_IF_ERROR(HyperSynthesis(model, z_sym, &hyper, trace));
  if (hyper.mean.height != g.y_height || hyper.mean.width != g.y_width) {
    return Status::Error("model: h_s output size does not match the latent");
  }

  Tensor16 y_g(g.y_height, g.y_width, M);
  const size_t row_elems = static_cast<size_t>(g.y_width) * M;
  const int scale = 1 << model.latent_frac_bits;
  if (symbols) {
    symbols->y.assign(y_g.data.size(), 0);
    symbols->y_index = hyper.scale_index;
  }
  for (int b = 0; b < g.n_bands; ++b) {
    entropy::RangeDecoder dec(bs.bands[b], h.band_bytes[b]);
    const int row_end = std::min(g.y_height, (b + 1) * int{h.band_rows});
    for (size_t i = row_elems * b * h.band_rows; i < row_elems * row_end; ++i) {
      FXIC_ASSIGN_OR_RETURN(int32_t s, entropy::DecodeIndexed(dec, model.y_tables,
                                                              hyper.scale_index[i]));
      y_g.data[i] = static_cast<int16_t>(Clamp(
          int64_t{s} * scale + hyper.mean.data[i], model.yg_lo, model.yg_hi));
      if (symbols) symbols->y[i] = s;
    }
    if (dec.bytes_read_past_end() > kMaxReadPastEnd) return SectionError("y");
  }

  std::vector<int32_t> inv_gains;
  FXIC_RETURN_IF_ERROR(GainsForQuality(model, h.quality_q8, true, &inv_gains));
  Tensor16 y_hat;
  ApplyGain(y_g, inv_gains.data(), model.inv_gain_shift,
            static_cast<int16_t>(model.gs_in_lo), static_cast<int16_t>(model.gs_in_hi),
            &y_hat);
  if (trace) (*trace)("inv_gain", 0, y_hat);
  Tensor16 x;
  FXIC_RETURN_IF_ERROR(RunNetwork(model.g_s, "g_s", std::move(y_hat), &x, trace));
  if (x.height != g.padded_height || x.width != g.padded_width || x.channels != 3) {
    return Status::Error("model: g_s output size does not match the image");
  }

  Image img;
  img.width = h.width;
  img.height = h.height;
  img.rgb.resize(size_t{h.width} * h.height * 3);
  for (uint32_t yy = 0; yy < h.height; ++yy) {
    for (uint32_t xx = 0; xx < h.width; ++xx) {
      const int16_t* src = x.pixel(static_cast<int>(yy), static_cast<int>(xx));
      uint8_t* dst = &img.rgb[(size_t{yy} * h.width + xx) * 3];
      for (int c = 0; c < 3; ++c) {
        dst[c] = static_cast<uint8_t>(
            Clamp(RoundingShiftRight(src[c], model.pixel_frac_bits), 0, 255));
      }
    }
  }
  return img;
}

StatusOr<Image> Decode(const uint8_t* data, size_t size, const Model& model,
                       const DecodeOptions& options, EncodeSymbols* symbols) {
  // Memory for the activations grows with the image; a request the machine
  // cannot satisfy is an error, not a crash.
  try {
    return DecodeImpl(data, size, model, options, symbols);
  } catch (const std::bad_alloc&) {
    return Status::Error("not enough memory for this image");
  }
}

}  // namespace fxic
