// Model loader: accepts the synthetic model, rejects every kind of damage.
#include "codec/model.h"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstring>

#include "tests/codec/test_util.h"

namespace fxic {
namespace {

std::string LoadError(const std::vector<uint8_t>& b) {
  auto m = LoadModel(b.data(), b.size());
  return m.ok() ? std::string() : m.status().message();
}

TEST_CASE("synthetic model loads", "[model]") {
  const std::vector<uint8_t> bytes = test::SyntheticModelBytes();
  REQUIRE(bytes.size() > 100);
  auto m = LoadModel(bytes.data(), bytes.size());
  INFO(m.status().message());
  REQUIRE(m.ok());
  const Model& model = m.value();
  CHECK(model.g_a.down == 16);
  CHECK(model.h_a.down == 4);
  CHECK(model.g_s.up == 16);
  CHECK(model.h_s.up == 4);
  CHECK(model.pad_multiple == 64);
  CHECK(model.description.find("ynthetic") != std::string::npos);
}

TEST_CASE("model loader rejects bad magic and newer versions", "[model]") {
  std::vector<uint8_t> b = test::SyntheticModelBytes();
  std::vector<uint8_t> bad = b;
  bad[0] = 'X';
  CHECK(LoadError(bad).find("magic") != std::string::npos);
  bad = b;
  bad[8] = 2;  // version 2
  RefreshModelChecksums(&bad);
  CHECK(LoadError(bad).find("newer") != std::string::npos);
}

TEST_CASE("model loader rejects every truncation", "[model]") {
  const std::vector<uint8_t> b = test::SyntheticModelBytes();
  for (size_t n = 0; n < b.size(); ++n) {
    std::vector<uint8_t> t(b.begin(), b.begin() + static_cast<long>(n));
    INFO("truncated to " << n << " bytes");
    REQUIRE_FALSE(LoadError(t).empty());
  }
}

// Rewrites only the trailing crc32 (so other checks are what fail).
void FixCrcOnly(std::vector<uint8_t>* f) {
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), f->data(), static_cast<uInt>(f->size() - 4)));
  for (int i = 0; i < 4; ++i) (*f)[f->size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

TEST_CASE("model loader rejects a wrong crc and a wrong id", "[model]") {
  const std::vector<uint8_t> b = test::SyntheticModelBytes();
  std::vector<uint8_t> bad = b;
  bad[b.size() / 2] ^= 0x10;
  CHECK(LoadError(bad).find("crc32") != std::string::npos);
  bad = b;
  bad[16] ^= 1;  // first byte of the model id
  FixCrcOnly(&bad);
  CHECK(LoadError(bad).find("model id") != std::string::npos);
  bad = b;
  bad[b.size() / 2] ^= 0x10;  // contents changed, crc fixed, id stale
  FixCrcOnly(&bad);
  CHECK(LoadError(bad).find("model id") != std::string::npos);
}

TEST_CASE("model loader rejects a layer that could overflow int32", "[model]") {
  std::vector<uint8_t> b = test::SyntheticModelBytes();
  auto loc = FindTensorBytes(b.data(), b.size(), "g_a.2.bias");
  REQUIRE(loc.ok());
  const size_t off = loc.value().first;
  // bias[0] = 2^31 - 1: with any non-zero weight and input range the bound
  // |bias| + A·Σ|w| exceeds int32.
  b[off] = 0xff;
  b[off + 1] = 0xff;
  b[off + 2] = 0xff;
  b[off + 3] = 0x7f;
  RefreshModelChecksums(&b);
  const std::string err = LoadError(b);
  INFO(err);
  CHECK(err.find("g_a.2") != std::string::npos);
}

TEST_CASE("model loader rejects weights beyond weight_bits", "[model]") {
  std::vector<uint8_t> b = test::SyntheticModelBytes();
  auto loc = FindTensorBytes(b.data(), b.size(), "h_a.0.weight");
  REQUIRE(loc.ok());
  b[loc.value().first] = 0x80;  // -128 is outside ±127
  RefreshModelChecksums(&b);
  CHECK_FALSE(LoadError(b).empty());
}

}  // namespace
}  // namespace fxic
