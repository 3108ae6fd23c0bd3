// Model loader: accepts the synthetic model, rejects every kind of damage.
#include "codec/model.h"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "apps/default_model.h"
#include "codec/sha256.h"
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

// ------------------------------------------------------------ model ids

std::vector<uint8_t> Text(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::string HexWith(Sha256BlocksFn fn, const std::vector<uint8_t>& data) {
  Sha256 s(fn);
  s.Update(data.data(), data.size());
  const Sha256Digest d = s.Final();
  return ToHex(d.data(), d.size());
}

TEST_CASE("every SHA-256 implementation matches the FIPS 180-4 examples", "[model][sha256]") {
  const std::vector<std::string> impls = Sha256Implementations();
  REQUIRE(impls.front() == "portable");
  CHECK(impls.back() == Sha256DefaultImplementation());
  CHECK(Sha256BlocksFor("no such implementation") == nullptr);
  for (const std::string& impl : impls) {
    INFO(impl);
    Sha256BlocksFn fn = Sha256BlocksFor(impl);
    REQUIRE(fn != nullptr);
    CHECK(HexWith(fn, {}) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(HexWith(fn, Text("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(HexWith(fn, Text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(HexWith(fn, Text("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                           "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")) ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(HexWith(fn, std::vector<uint8_t>(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST_CASE("SHA-256 implementations agree on every length and any split", "[model][sha256]") {
  uint64_t rng = 0x5a17;
  std::vector<uint8_t> data(1100);
  for (uint8_t& b : data) b = static_cast<uint8_t>(test::SplitMix64(&rng));
  Sha256BlocksFn portable = Sha256BlocksFor("portable");
  for (const std::string& impl : Sha256Implementations()) {
    Sha256BlocksFn fn = Sha256BlocksFor(impl);
    for (size_t n = 0; n <= data.size(); n += (n < 200 ? 1 : 37)) {
      INFO(impl << ", " << n << " bytes");
      Sha256 whole(portable);
      whole.Update(data.data(), n);
      const Sha256Digest expect = whole.Final();
      // The same bytes in pieces of random lengths (0 included).
      Sha256 pieces(fn);
      size_t at = 0;
      while (at < n) {
        const size_t take = std::min<size_t>(n - at, test::SplitMix64(&rng) % 150);
        pieces.Update(data.data() + at, take);
        at += take;
      }
      REQUIRE(pieces.Final() == expect);
      REQUIRE(Sha256Of(data.data(), n) == expect);
    }
  }
}

TEST_CASE("the embedded model's build-time id is the SHA-256 of its contents", "[model][sha256]") {
  if (!kDefaultModelIdKnown) {
    WARN("this build could not compute the embedded model's id (CMake < 3.24): skipped");
    return;
  }
  const ModelId built = {kDefaultModelId[0], kDefaultModelId[1], kDefaultModelId[2],
                         kDefaultModelId[3], kDefaultModelId[4], kDefaultModelId[5],
                         kDefaultModelId[6], kDefaultModelId[7]};
  REQUIRE(kDefaultModelSize > kModelHeaderSize + 4);
  const uint8_t* contents = kDefaultModelBytes + kModelHeaderSize;
  const size_t length = kDefaultModelSize - kModelHeaderSize - 4;
  for (const std::string& impl : Sha256Implementations()) {
    INFO(impl);
    Sha256 s(Sha256BlocksFor(impl));
    s.Update(contents, length);
    const Sha256Digest d = s.Final();
    CHECK(std::memcmp(d.data(), built.data(), built.size()) == 0);
  }
  CHECK(std::memcmp(kDefaultModelBytes + 16, built.data(), built.size()) == 0);
  auto m = LoadModel(kDefaultModelBytes, kDefaultModelSize);
  INFO(m.status().message());
  REQUIRE(m.ok());
  CHECK(m.value().id == built);
}

TEST_CASE("a prehashed model skips only the hash, and only for its own bytes", "[model]") {
  // A model whose contents no longer match its id (one bias changed, crc
  // fixed): hashed, it is rejected. Kept for the whole run, as registered
  // storage must be.
  static const std::vector<uint8_t>* damaged = [] {
    auto* b = new std::vector<uint8_t>(test::SyntheticModelBytes());
    auto loc = FindTensorBytes(b->data(), b->size(), "g_a.0.bias");
    if (loc.ok()) (*b)[loc.value().first] ^= 1;
    FixCrcOnly(b);
    return b;
  }();
  REQUIRE(LoadError(*damaged).find("model id does not match") != std::string::npos);
  ModelId header_id;
  std::memcpy(header_id.data(), damaged->data() + 16, 8);

  // Registered under another id: still hashed, still rejected.
  ModelId other = header_id;
  other[0] ^= 0xff;
  RegisterPrehashedModel(damaged->data(), damaged->size(), other);
  CHECK(LoadError(*damaged).find("model id does not match") != std::string::npos);
  // Registered with a shorter size: not these bytes.
  RegisterPrehashedModel(damaged->data(), damaged->size() - 1, header_id);
  CHECK(LoadError(*damaged).find("model id does not match") != std::string::npos);
  // A copy at another address is hashed.
  RegisterPrehashedModel(damaged->data(), damaged->size(), header_id);
  const std::vector<uint8_t> copy = *damaged;
  CHECK(LoadError(copy).find("model id does not match") != std::string::npos);
  // The registered bytes themselves: the id is taken as given; every other
  // check still runs.
  auto m = LoadModel(damaged->data(), damaged->size());
  INFO(m.status().message());
  CHECK(m.ok());
  static const std::vector<uint8_t>* bad_crc = [] {
    auto* b = new std::vector<uint8_t>(test::SyntheticModelBytes());
    b->back() ^= 1;
    return b;
  }();
  ModelId bad_crc_id;
  std::memcpy(bad_crc_id.data(), bad_crc->data() + 16, 8);
  RegisterPrehashedModel(bad_crc->data(), bad_crc->size(), bad_crc_id);
  CHECK(LoadError(*bad_crc).find("crc32") != std::string::npos);
}

}  // namespace
}  // namespace fxic
