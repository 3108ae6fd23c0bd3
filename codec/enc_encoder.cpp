// Encoder: image → g_a → gain → h_a → z, h_s → (μ, idx) → range-coded bitstream.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "codec/bitstream.h"
#include "codec/codec.h"
#include "codec/tiling.h"
#include "entropy/indexed_coder.h"
#include "entropy/range_coder.h"
#include "fixedpoint/linear_scaling.h"
#include "fixedpoint/rounding.h"

namespace fxic {
namespace {

// Fills *t with the pixels [x0, x0 + w) × [y0, y0 + h) of the image padded to
// the model's multiple by repeating its last column and row, as int16.
void FillTileInput(const Image& image, int x0, int y0, int w, int h, Tensor16* t) {
  t->Reshape(h, w, 3);
  // Rows are independent (a memory-bound copy; split for two threads).
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (int64_t{w} * h >= (int64_t{1} << 17))
#endif
  for (int y = 0; y < h; ++y) {
    const uint32_t sy = std::min<uint32_t>(static_cast<uint32_t>(y0 + y), image.height - 1);
    const uint8_t* row = &image.rgb[static_cast<size_t>(sy) * image.width * 3];
    int16_t* dst = t->pixel(y, 0);
    for (int x = 0; x < w; ++x, dst += 3) {
      const uint32_t sx = std::min<uint32_t>(static_cast<uint32_t>(x0 + x), image.width - 1);
      const uint8_t* src = row + static_cast<size_t>(sx) * 3;
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
}

// y = g_a(padded image), tile by tile (docs/speed.md, "Tiling"). Each tile
// reads its core latent rows and columns widened by the derived halo, in
// pixels aligned to the network's total stride; only the core is kept. A
// trace needs whole layers, so it makes the image one tile.
Status RunAnalysis(const Model& model, const Image& image, const Geometry& g,
                   const EncodeOptions& options, Tensor16* y) {
  const Network& g_a = model.g_a;
  const int d = g_a.down;
  const LayerTrace* trace = options.trace;
  const TilePlan plan =
      trace ? PlanTiles(g.y_height, g.y_width, std::max(g.y_height, g.y_width))
            : PlanTiles(g.y_height, g.y_width, options.tiling.tile_latent);
  Halo halo = AnalysisHalo(g_a);
  if (options.tiling.halo_override >= 0) {
    halo.before = halo.after = options.tiling.halo_override;
  }
  const Status size_error = Status::Error("model: g_a output size does not match the latent");
  Tensor16 work, spare;
  if (plan.single()) {
    FillTileInput(image, 0, 0, g.padded_width, g.padded_height, &work);
    FXIC_RETURN_IF_ERROR(RunNetworkInPlace(g_a, "g_a", &work, &spare, trace));
    if (work.height != g.y_height || work.width != g.y_width || work.channels != model.M) {
      return size_error;
    }
    *y = std::move(work);
    return Status::Ok();
  }
  y->Reshape(g.y_height, g.y_width, model.M);
  const size_t pixel_bytes = sizeof(int16_t) * static_cast<size_t>(model.M);
  for (const Span& rows : plan.rows) {
    const Span ry = WithHalo(rows, halo, g.y_height);
    for (const Span& cols : plan.cols) {
      const Span rx = WithHalo(cols, halo, g.y_width);
      FillTileInput(image, rx.begin * d, ry.begin * d, rx.size() * d, ry.size() * d, &work);
      FXIC_RETURN_IF_ERROR(RunNetworkInPlace(g_a, "g_a", &work, &spare));
      if (work.height != ry.size() || work.width != rx.size() || work.channels != model.M) {
        return size_error;
      }
      for (int yy = rows.begin; yy < rows.end; ++yy) {
        std::memcpy(y->pixel(yy, cols.begin),
                    work.pixel(yy - ry.begin, cols.begin - rx.begin),
                    pixel_bytes * static_cast<size_t>(cols.size()));
      }
    }
  }
  return Status::Ok();
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

  if (options.tiling.tile_latent < 0) return Status::Error("tile size must not be negative");

  // y, then y_g in place (the same buffer: y is not needed afterwards).
  Tensor16 y_g;
  FXIC_RETURN_IF_ERROR(RunAnalysis(model, image, g, options, &y_g));
  std::vector<int32_t> gains;
  FXIC_RETURN_IF_ERROR(GainsForQuality(model, options.quality_q8, false, &gains));
  ApplyGain(y_g, gains.data(), model.gain_shift, static_cast<int16_t>(model.yg_lo),
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
  // Bands are independent sections (each its own range coder), so they are
  // coded in parallel: the bytes of each band do not depend on the split.
  const bool parallel_bands = g.n_bands > 1 && y_g.data.size() >= (size_t{1} << 16);
  bool out_of_memory = false;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (parallel_bands)
#endif
  for (int b = 0; b < g.n_bands; ++b) {
    try {
      entropy::RangeEncoder enc;
      const int row_end = std::min(g.y_height, (b + 1) * options.band_rows);
      for (size_t i = row_elems * b * options.band_rows; i < row_elems * row_end; ++i) {
        const int32_t s = static_cast<int32_t>(RoundingShiftRight(
            int64_t{y_g.data[i]} - hyper.mean.data[i], model.latent_frac_bits));
        entropy::EncodeIndexed(enc, model.y_tables, hyper.scale_index[i], s);
        if (symbols) symbols->y[i] = s;
      }
      bands[b] = enc.Finish();
    } catch (const std::bad_alloc&) {  // must not leave the parallel region
#ifdef _OPENMP
#pragma omp atomic write
#endif
      out_of_memory = true;
    }
  }
  (void)parallel_bands;
  if (out_of_memory) return Status::Error("not enough memory for this image");

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
