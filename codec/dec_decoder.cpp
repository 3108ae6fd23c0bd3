// Decoder: bitstream → z → h_s → (μ, idx) → ŷ → inverse gain → g_s → image.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "codec/bitstream.h"
#include "codec/codec.h"
#include "codec/tiling.h"
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

// Writes g_s output pixels to the image: rows [y0, y1) and columns [x0, x1)
// of the image come from x's pixel (y − oy, x − ox), rounded to 8 bits.
void WritePixels(const Tensor16& x, int oy, int ox, uint32_t y0, uint32_t y1, uint32_t x0,
                 uint32_t x1, int pixel_frac_bits, Image* img) {
  // Rows are independent (a memory-bound pass; split for two threads).
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (uint64_t{y1 - y0} * (x1 - x0) >= (uint64_t{1} << 17))
#endif
  for (uint32_t yy = y0; yy < y1; ++yy) {
    const int16_t* src = x.pixel(static_cast<int>(yy) - oy, static_cast<int>(x0) - ox);
    uint8_t* dst = &img->rgb[(size_t{yy} * img->width + x0) * 3];
    for (uint32_t xx = x0; xx < x1; ++xx, src += 3, dst += 3) {
      for (int c = 0; c < 3; ++c) {
        dst[c] = static_cast<uint8_t>(
            Clamp(RoundingShiftRight(src[c], pixel_frac_bits), 0, 255));
      }
    }
  }
}

// image = crop(g_s(y_hat)), tile by tile (docs/speed.md, "Tiling"). Each tile
// reads its core latent rows and columns widened by the derived halo and
// writes only its core's pixels. A trace needs whole layers, so it makes the
// image one tile.
Status RunSynthesis(const Model& model, Tensor16 y_hat, const Geometry& g,
                    const DecodeOptions& options, Image* img) {
  const Network& g_s = model.g_s;
  const int u = g_s.up;
  const LayerTrace* trace = options.trace;
  const TilePlan plan =
      trace ? PlanTiles(g.y_height, g.y_width, std::max(g.y_height, g.y_width))
            : PlanTiles(g.y_height, g.y_width, options.tiling.tile_latent);
  Halo halo = SynthesisHalo(g_s);
  if (options.tiling.halo_override >= 0) {
    halo.before = halo.after = options.tiling.halo_override;
  }
  const Status size_error = Status::Error("model: g_s output size does not match the image");
  Tensor16 work, spare;
  if (plan.single()) {
    work = std::move(y_hat);
    FXIC_RETURN_IF_ERROR(RunNetworkInPlace(g_s, "g_s", &work, &spare, trace));
    if (work.height != g.padded_height || work.width != g.padded_width || work.channels != 3) {
      return size_error;
    }
    WritePixels(work, 0, 0, 0, img->height, 0, img->width, model.pixel_frac_bits, img);
    return Status::Ok();
  }
  const size_t pixel_bytes = sizeof(int16_t) * static_cast<size_t>(y_hat.channels);
  for (const Span& rows : plan.rows) {
    const Span ry = WithHalo(rows, halo, g.y_height);
    const uint32_t y0 = static_cast<uint32_t>(rows.begin) * u;
    const uint32_t y1 = std::min(img->height, static_cast<uint32_t>(rows.end) * u);
    for (const Span& cols : plan.cols) {
      const Span rx = WithHalo(cols, halo, g.y_width);
      const uint32_t x0 = static_cast<uint32_t>(cols.begin) * u;
      const uint32_t x1 = std::min(img->width, static_cast<uint32_t>(cols.end) * u);
      if (y0 >= y1 || x0 >= x1) continue;  // only padding
      work.Reshape(ry.size(), rx.size(), y_hat.channels);
      for (int yy = ry.begin; yy < ry.end; ++yy) {
        std::memcpy(work.pixel(yy - ry.begin, 0), y_hat.pixel(yy, rx.begin),
                    pixel_bytes * static_cast<size_t>(rx.size()));
      }
      FXIC_RETURN_IF_ERROR(RunNetworkInPlace(g_s, "g_s", &work, &spare));
      if (work.height != ry.size() * u || work.width != rx.size() * u || work.channels != 3) {
        return size_error;
      }
      WritePixels(work, ry.begin * u, rx.begin * u, y0, y1, x0, x1, model.pixel_frac_bits,
                  img);
    }
  }
  return Status::Ok();
}

}  // namespace

static StatusOr<Image> DecodeImpl(const uint8_t* data, size_t size, const Model& model,
                       const DecodeOptions& options, EncodeSymbols* symbols) {
  FXIC_ASSIGN_OR_RETURN(ParsedBitstream bs, ParseBitstream(data, size, model));
  const BitstreamHeader& h = bs.header;
  const Geometry g = ComputeGeometry(model, h.width, h.height, h.band_rows);
  const int N = model.N, M = model.M;
  const LayerTrace* trace = options.trace;
  if (options.tiling.tile_latent < 0) return Status::Error("tile size must not be negative");

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
  // Bands are independent sections (each its own range decoder and latent
  // rows), so they are decoded in parallel; the first failing band in order
  // gives the error, as a serial loop would.
  std::vector<Status> band_status(g.n_bands);
  auto decode_band = [&](int b) -> Status {
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
    return Status::Ok();
  };
  const bool parallel_bands = g.n_bands > 1 && y_g.data.size() >= (size_t{1} << 16);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (parallel_bands)
#endif
  for (int b = 0; b < g.n_bands; ++b) {
    try {
      band_status[b] = decode_band(b);
    } catch (const std::bad_alloc&) {  // must not leave the parallel region
      band_status[b] = Status::Error("not enough memory for this image");
    }
  }
  (void)parallel_bands;
  for (const Status& st : band_status) FXIC_RETURN_IF_ERROR(st);

  // The hyperprior's outputs are not needed any more: free them before g_s.
  hyper = HyperOutput();

  std::vector<int32_t> inv_gains;
  FXIC_RETURN_IF_ERROR(GainsForQuality(model, h.quality_q8, true, &inv_gains));
  // ŷ = inverse gain of ŷ_g, in place (ŷ_g is not needed afterwards).
  ApplyGain(y_g, inv_gains.data(), model.inv_gain_shift,
            static_cast<int16_t>(model.gs_in_lo), static_cast<int16_t>(model.gs_in_hi),
            &y_g);
  if (trace) (*trace)("inv_gain", 0, y_g);

  Image img;
  img.width = h.width;
  img.height = h.height;
  img.rgb.resize(size_t{h.width} * h.height * 3);
  FXIC_RETURN_IF_ERROR(RunSynthesis(model, std::move(y_g), g, options, &img));
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
