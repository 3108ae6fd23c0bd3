// Bitstream container v1 (docs/bitstream-format.md): header, sections, crc32.
#ifndef FXIC_CODEC_BITSTREAM_H_
#define FXIC_CODEC_BITSTREAM_H_

#include <cstdint>
#include <vector>

#include "codec/model.h"
#include "fixedpoint/status.h"

namespace fxic {

constexpr uint8_t kBitstreamVersion = 1;
constexpr uint32_t kMaxImageDimension = uint32_t{1} << 20;
// Largest image (width · height) the codec accepts: 256 megapixels.
constexpr uint64_t kMaxImagePixels = uint64_t{1} << 28;
constexpr int kDefaultBandRows = 4;

struct BitstreamHeader {
  uint8_t version = kBitstreamVersion;
  uint8_t flags = 0;
  uint16_t quality_q8 = 0;
  ModelId model_id{};
  uint32_t width = 0, height = 0;
  uint32_t z_bytes = 0;
  uint16_t band_rows = kDefaultBandRows;
  std::vector<uint32_t> band_bytes;  // one per y band
};

// A parsed bitstream: header plus pointers into the caller's buffer.
struct ParsedBitstream {
  BitstreamHeader header;
  const uint8_t* z = nullptr;
  std::vector<const uint8_t*> bands;
};

// Latent geometry of an image for a model (padded size / 16 etc.).
struct Geometry {
  int padded_width = 0, padded_height = 0;
  int y_width = 0, y_height = 0;  // latent y
  int z_width = 0, z_height = 0;  // hyper-latent z
  int n_bands = 0;
};
Geometry ComputeGeometry(const Model& model, uint32_t width, uint32_t height,
                         int band_rows);

// Serialises header + sections + crc32. band_bytes must match bands.
std::vector<uint8_t> WriteBitstream(BitstreamHeader header,
                                    const std::vector<uint8_t>& z,
                                    const std::vector<std::vector<uint8_t>>& bands);

// Parses and checks a bitstream against the model it claims to need: magic,
// version, flags, crc32, model id, quality range, sizes, band count, section
// lengths. Never reads outside [data, data + size).
StatusOr<ParsedBitstream> ParseBitstream(const uint8_t* data, size_t size,
                                         const Model& model);

// Only the header (no model needed): for `fxic info`. Checks magic, version
// and crc32.
StatusOr<BitstreamHeader> PeekBitstreamHeader(const uint8_t* data, size_t size);

}  // namespace fxic

#endif  // FXIC_CODEC_BITSTREAM_H_
