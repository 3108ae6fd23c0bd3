// Bitstream container: header round trip and validation.
#include "codec/bitstream.h"

#include <catch2/catch.hpp>

#include "tests/codec/test_util.h"

namespace fxic {
namespace {

TEST_CASE("bitstream header round trips", "[bitstream]") {
  const Model& model = test::SyntheticModel();
  BitstreamHeader h;
  h.quality_q8 = 256;
  h.model_id = model.id;
  h.width = 100;
  h.height = 70;
  h.band_rows = 2;
  const Geometry g = ComputeGeometry(model, h.width, h.height, h.band_rows);
  CHECK(g.padded_width == 128);
  CHECK(g.padded_height == 128);
  CHECK(g.y_height == 8);
  CHECK(g.n_bands == 4);
  std::vector<std::vector<uint8_t>> bands(g.n_bands, std::vector<uint8_t>{1, 2, 3});
  const std::vector<uint8_t> z = {9, 8};
  const std::vector<uint8_t> bytes = WriteBitstream(h, z, bands);
  CHECK(bytes.size() == 32 + 4 * 4 + 2 + 4 * 3 + 4);
  auto p = ParseBitstream(bytes.data(), bytes.size(), model);
  INFO(p.status().message());
  REQUIRE(p.ok());
  CHECK(p.value().header.width == 100);
  CHECK(p.value().header.height == 70);
  CHECK(p.value().header.quality_q8 == 256);
  CHECK(p.value().header.z_bytes == 2);
  CHECK(p.value().z[0] == 9);
  CHECK(p.value().bands[3][2] == 3);
}

TEST_CASE("bitstream parser rejects bad magic, version, sizes", "[bitstream]") {
  const Model& model = test::SyntheticModel();
  BitstreamHeader h;
  h.model_id = model.id;
  h.width = 10;
  h.height = 10;
  const std::vector<uint8_t> good = WriteBitstream(h, {}, {{}});
  REQUIRE(ParseBitstream(good.data(), good.size(), model).ok());
  std::vector<uint8_t> b = good;
  b[0] = 'G';
  CHECK(ParseBitstream(b.data(), b.size(), model).status().message().find("magic") !=
        std::string::npos);
  BitstreamHeader h2 = h;
  h2.version = 2;
  b = WriteBitstream(h2, {}, {{}});
  CHECK(ParseBitstream(b.data(), b.size(), model).status().message().find("newer") !=
        std::string::npos);
  h2 = h;
  h2.width = 0;
  b = WriteBitstream(h2, {}, {{}});
  CHECK_FALSE(ParseBitstream(b.data(), b.size(), model).ok());
  h2 = h;
  h2.quality_q8 = static_cast<uint16_t>(256 * model.levels);
  b = WriteBitstream(h2, {}, {{}});
  CHECK_FALSE(ParseBitstream(b.data(), b.size(), model).ok());
  // Two bands where the geometry needs one.
  b = WriteBitstream(h, {}, {{}, {}});
  CHECK_FALSE(ParseBitstream(b.data(), b.size(), model).ok());
}

}  // namespace
}  // namespace fxic
