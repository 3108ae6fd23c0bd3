// The fxic library API: Encode() an image to a bitstream, Decode() it back.
#ifndef FXIC_CODEC_CODEC_H_
#define FXIC_CODEC_CODEC_H_

#include <cstdint>
#include <vector>

#include "codec/image.h"
#include "codec/model.h"
#include "codec/networks.h"
#include "codec/tiling.h"
#include "fixedpoint/status.h"

namespace fxic {

struct EncodeOptions {
  // Quality in Q8: level index × 256, 0 .. 256·(levels − 1). Fractional
  // values interpolate the neighbouring levels' gains.
  int quality_q8 = 0;
  // Latent rows per independently decodable y section.
  int band_rows = 4;
  // Optional: receives every layer's output (parity tests, verify --explain).
  // Tracing runs g_a on the whole image as one tile.
  const LayerTrace* trace = nullptr;
  // Internal (tests): g_a tile size and halo. The bitstream never depends on
  // them unless halo_override is too small.
  TilingOptions tiling;
};

struct DecodeOptions {
  // Tracing runs g_s on the whole image as one tile.
  const LayerTrace* trace = nullptr;
  // Internal (tests): g_s tile size and halo. The decoded image never depends
  // on them unless halo_override is too small.
  TilingOptions tiling;
};

// Symbols and indices the encoder produced, for parity tests.
struct EncodeSymbols {
  std::vector<int32_t> z, y;
  std::vector<uint16_t> y_index;
};

// Encodes an 8-bit RGB image (1×1 up to 2^20 on a side) with `model`.
// Output: a complete bitstream (docs/bitstream-format.md).
StatusOr<std::vector<uint8_t>> Encode(const Image& image, const Model& model,
                                      const EncodeOptions& options,
                                      EncodeSymbols* symbols = nullptr);

// Decodes a bitstream written by `model`. Malformed input of any kind is an
// error, never a crash.
StatusOr<Image> Decode(const uint8_t* data, size_t size, const Model& model,
                       const DecodeOptions& options = DecodeOptions(),
                       EncodeSymbols* symbols = nullptr);

// Converts a quality on the CLI's scale (1 .. levels, fractional allowed, in
// 1/256 steps: q_times_256 = q · 256) to Q8 and validates it.
StatusOr<int> QualityToQ8(const Model& model, int64_t q_times_256);

}  // namespace fxic

#endif  // FXIC_CODEC_CODEC_H_
