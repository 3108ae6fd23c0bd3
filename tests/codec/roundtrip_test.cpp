// Encode → decode round trips with the synthetic model, pinned by golden hashes.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "codec/codec.h"
#include "codec/sha256.h"
#include "tests/codec/test_util.h"

namespace fxic {
namespace {

const char kGoldenPath[] = "/tests/golden/roundtrip_synthetic.txt";

// Golden file lines: "<case> <bitstream sha256> <reconstruction sha256>".
// FXIC_UPDATE_GOLDEN=1 rewrites it; otherwise any difference fails.
std::map<std::string, std::string> ReadGolden() {
  std::map<std::string, std::string> g;
  std::ifstream f(std::string(FXIC_SOURCE_DIR) + kGoldenPath);
  std::string name, bits, recon;
  while (f >> name >> bits >> recon) g[name] = bits + " " + recon;
  return g;
}

struct Case {
  uint32_t w, h;
  int q8;
};

TEST_CASE("round trip of odd sizes matches golden hashes", "[codec][golden]") {
  const Model& model = test::SyntheticModel();
  REQUIRE(model.levels >= 2);
  const Case cases[] = {{1, 1, 0},    {1, 37, 256},  {53, 1, 0},  {67, 131, 0},
                        {67, 131, 256 * (model.levels - 1)}, {64, 64, 128},
                        {130, 70, 256}};
  const bool update = std::getenv("FXIC_UPDATE_GOLDEN") != nullptr;
  std::map<std::string, std::string> golden = ReadGolden();
  std::ostringstream fresh;
  for (const Case& c : cases) {
    const std::string name = std::to_string(c.w) + "x" + std::to_string(c.h) + "_q" +
                             std::to_string(c.q8);
    INFO(name);
    const Image img = test::TestImage(c.w, c.h, c.w * 1000 + c.h);
    EncodeOptions eo;
    eo.quality_q8 = c.q8;
    EncodeSymbols enc_sym, dec_sym;
    auto bits = Encode(img, model, eo, &enc_sym);
    REQUIRE(bits.ok());
    auto out = Decode(bits.value().data(), bits.value().size(), model, DecodeOptions(),
                      &dec_sym);
    INFO(out.status().message());
    REQUIRE(out.ok());
    CHECK(out.value().width == c.w);
    CHECK(out.value().height == c.h);
    CHECK(enc_sym.z == dec_sym.z);
    CHECK(enc_sym.y == dec_sym.y);
    CHECK(enc_sym.y_index == dec_sym.y_index);
    // Encoding twice gives the same bytes.
    auto again = Encode(img, model, eo);
    REQUIRE(again.ok());
    CHECK(again.value() == bits.value());
    const Sha256Digest hb = Sha256Of(bits.value().data(), bits.value().size());
    const Sha256Digest hr = Sha256Of(out.value().rgb.data(), out.value().rgb.size());
    const std::string got = ToHex(hb.data(), hb.size()) + " " + ToHex(hr.data(), hr.size());
    fresh << name << " " << got << "\n";
    if (!update) {
      REQUIRE(golden.count(name) == 1);
      CHECK(golden[name] == got);
    }
  }
  if (update) {
    std::ofstream f(std::string(FXIC_SOURCE_DIR) + kGoldenPath);
    f << fresh.str();
    WARN("golden hashes rewritten");
  }
}

TEST_CASE("fractional quality interpolates between levels", "[codec]") {
  const Model& model = test::SyntheticModel();
  const Image img = test::TestImage(96, 80, 5);
  size_t prev = 0;
  for (int q8 : {0, 64, 128, 256}) {
    EncodeOptions eo;
    eo.quality_q8 = q8;
    auto bits = Encode(img, model, eo);
    REQUIRE(bits.ok());
    auto out = Decode(bits.value().data(), bits.value().size(), model);
    REQUIRE(out.ok());
    CHECK(bits.value().size() >= prev / 2);  // sizes stay in the same regime
    prev = bits.value().size();
  }
}

TEST_CASE("bitstream from another model is refused", "[codec]") {
  const Model& model = test::SyntheticModel();
  Model other = model;
  other.id[0] ^= 0xff;
  const Image img = test::TestImage(20, 20, 1);
  auto bits = Encode(img, other, EncodeOptions());
  REQUIRE(bits.ok());
  auto out = Decode(bits.value().data(), bits.value().size(), model);
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("model") != std::string::npos);
}

TEST_CASE("every truncation and every bit flip is an error or an image", "[codec]") {
  const Model& model = test::SyntheticModel();
  const Image img = test::TestImage(67, 45, 9);
  auto bits = Encode(img, model, EncodeOptions());
  REQUIRE(bits.ok());
  const std::vector<uint8_t>& b = bits.value();
  int truncations_rejected = 0;
  for (size_t n = 0; n < b.size(); ++n) {
    auto out = Decode(b.data(), n, model);
    if (!out.ok()) ++truncations_rejected;
  }
  CHECK(truncations_rejected == static_cast<int>(b.size()));
  int flips_rejected = 0, flips = 0;
  std::vector<uint8_t> c = b;
  for (size_t i = 0; i < c.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      c[i] ^= static_cast<uint8_t>(1 << bit);
      auto out = Decode(c.data(), c.size(), model);
      ++flips;
      if (!out.ok()) ++flips_rejected;
      c[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
  // crc32 detects every single-bit error.
  CHECK(flips_rejected == flips);
}

}  // namespace
}  // namespace fxic
