// Bitstream container v1: one routine describes the header for read and write.
#include "codec/bitstream.h"

#include <zlib.h>

#include <cstring>
#include <string>

#include "codec/byte_io.h"

namespace fxic {
namespace {

constexpr size_t kFixedHeaderBytes = 32;

uint32_t Crc32(const uint8_t* p, size_t n) {
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), p, static_cast<uInt>(n)));
}

// The header layout, written once: Io is ByteReader-like or ByteWriter-like.
struct HeaderReadIo {
  ByteReader& r;
  void U8(uint8_t& v) { v = r.U8(); }
  void U16(uint16_t& v) { v = r.U16(); }
  void U32(uint32_t& v) { v = r.U32(); }
  void Raw(uint8_t* p, size_t n) {
    const uint8_t* s = r.Bytes(n);
    if (s) std::memcpy(p, s, n);
  }
};
struct HeaderWriteIo {
  ByteWriter& w;
  void U8(uint8_t& v) { w.U8(v); }
  void U16(uint16_t& v) { w.U16(v); }
  void U32(uint32_t& v) { w.U32(v); }
  void Raw(uint8_t* p, size_t n) { w.Bytes(p, n); }
};

template <typename Io>
void VisitFixedHeader(Io& io, BitstreamHeader& h, uint16_t& n_bands) {
  uint8_t magic[4] = {'F', 'X', 'I', 'C'};
  io.Raw(magic, 4);
  io.U8(h.version);
  io.U8(h.flags);
  io.U16(h.quality_q8);
  io.Raw(h.model_id.data(), h.model_id.size());
  io.U32(h.width);
  io.U32(h.height);
  io.U32(h.z_bytes);
  io.U16(h.band_rows);
  io.U16(n_bands);
}

StatusOr<BitstreamHeader> ParseHeader(const uint8_t* data, size_t size,
                                      size_t* payload_start) {
  if (size < 4 || std::memcmp(data, "FXIC", 4) != 0) {
    return Status::Error("not an fxic bitstream (bad magic)");
  }
  if (size < kFixedHeaderBytes + 4) return Status::Error("bitstream truncated (header)");
  if (data[4] > kBitstreamVersion) {
    return Status::Error("bitstream version " + std::to_string(data[4]) +
                         " is newer than this fxic supports (" +
                         std::to_string(kBitstreamVersion) + ")");
  }
  const uint32_t stored = uint32_t{data[size - 4]} | (uint32_t{data[size - 3]} << 8) |
                          (uint32_t{data[size - 2]} << 16) |
                          (uint32_t{data[size - 1]} << 24);
  if (Crc32(data, size - 4) != stored) {
    return Status::Error("bitstream crc32 mismatch (corrupt or truncated)");
  }
  ByteReader r(data, size - 4);
  HeaderReadIo io{r};
  BitstreamHeader h;
  uint16_t n_bands = 0;
  VisitFixedHeader(io, h, n_bands);
  if (h.version != kBitstreamVersion) return Status::Error("bitstream has unknown version");
  if (h.flags != 0) return Status::Error("bitstream has unknown flags");
  if (h.width < 1 || h.height < 1 || h.width > kMaxImageDimension ||
      h.height > kMaxImageDimension) {
    return Status::Error("bitstream image size is out of range");
  }
  if (uint64_t{h.width} * h.height > kMaxImagePixels) {
    return Status::Error("bitstream image has more than 2^28 pixels");
  }
  if (h.band_rows < 1 || n_bands < 1) return Status::Error("bitstream has no y bands");
  h.band_bytes.resize(n_bands);
  for (uint32_t& b : h.band_bytes) b = r.U32();
  if (!r.ok()) return Status::Error("bitstream truncated (band table)");
  *payload_start = r.pos();
  return h;
}

}  // namespace

Geometry ComputeGeometry(const Model& model, uint32_t width, uint32_t height,
                         int band_rows) {
  Geometry g;
  const int64_t p = model.pad_multiple;
  g.padded_width = static_cast<int>((int64_t{width} + p - 1) / p * p);
  g.padded_height = static_cast<int>((int64_t{height} + p - 1) / p * p);
  g.y_width = g.padded_width / model.g_a.down;
  g.y_height = g.padded_height / model.g_a.down;
  g.z_width = g.y_width / model.h_a.down;
  g.z_height = g.y_height / model.h_a.down;
  g.n_bands = band_rows > 0 ? (g.y_height + band_rows - 1) / band_rows : 0;
  return g;
}

std::vector<uint8_t> WriteBitstream(BitstreamHeader h, const std::vector<uint8_t>& z,
                                    const std::vector<std::vector<uint8_t>>& bands) {
  h.z_bytes = static_cast<uint32_t>(z.size());
  h.band_bytes.clear();
  for (const auto& b : bands) h.band_bytes.push_back(static_cast<uint32_t>(b.size()));
  ByteWriter w;
  HeaderWriteIo io{w};
  uint16_t n_bands = static_cast<uint16_t>(bands.size());
  VisitFixedHeader(io, h, n_bands);
  for (uint32_t b : h.band_bytes) w.U32(b);
  w.Bytes(z.data(), z.size());
  for (const auto& b : bands) w.Bytes(b.data(), b.size());
  w.U32(Crc32(w.bytes().data(), w.bytes().size()));
  return std::move(w.bytes());
}

StatusOr<BitstreamHeader> PeekBitstreamHeader(const uint8_t* data, size_t size) {
  size_t start = 0;
  return ParseHeader(data, size, &start);
}

StatusOr<ParsedBitstream> ParseBitstream(const uint8_t* data, size_t size,
                                         const Model& model) {
  size_t pos = 0;
  FXIC_ASSIGN_OR_RETURN(BitstreamHeader h, ParseHeader(data, size, &pos));
  if (h.model_id != model.id) {
    return Status::Error("bitstream was written by model " + ModelIdHex(h.model_id) +
                         ", but the model given is " + ModelIdHex(model.id) + " (" +
                         model.name + ")");
  }
  if (h.quality_q8 > 256 * (model.levels - 1)) {
    return Status::Error("bitstream quality is outside the model's levels");
  }
  const Geometry g = ComputeGeometry(model, h.width, h.height, h.band_rows);
  if (static_cast<size_t>(g.n_bands) != h.band_bytes.size()) {
    return Status::Error("bitstream band count does not match the image size");
  }
  uint64_t total = pos + uint64_t{h.z_bytes} + 4;
  for (uint32_t b : h.band_bytes) total += b;
  if (total != size) return Status::Error("bitstream section lengths do not match its size");
  ParsedBitstream out;
  out.z = data + pos;
  pos += h.z_bytes;
  for (uint32_t b : h.band_bytes) {
    out.bands.push_back(data + pos);
    pos += b;
  }
  out.header = std::move(h);
  return out;
}

}  // namespace fxic
