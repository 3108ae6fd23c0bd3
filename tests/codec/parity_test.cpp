// Parity with the Python integer reference: the C++ codec must reproduce the
// symbols, scale indices and reconstructions that models/fxic/intref.py
// recorded in tests/golden/parity_<model>.txt (models/fxic/parity.py).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/image_io.h"
#include "codec/codec.h"
#include "codec/sha256.h"
#include "tests/codec/test_util.h"

namespace fxic {
namespace {

namespace fs = std::filesystem;

template <typename T>
std::string HashLE(const std::vector<T>& v) {
  std::vector<uint8_t> bytes;
  bytes.reserve(v.size() * sizeof(T));
  for (T x : v) {
    const auto u = static_cast<std::make_unsigned_t<T>>(x);
    for (size_t b = 0; b < sizeof(T); ++b) bytes.push_back(static_cast<uint8_t>(u >> (8 * b)));
  }
  const Sha256Digest d = Sha256Of(bytes.data(), bytes.size());
  return ToHex(d.data(), d.size());
}

void CheckParityFile(const fs::path& golden) {
  std::ifstream f(golden);
  std::string hash_mark, model_word, model_file, id_word, id;
  f >> hash_mark >> model_word >> model_file >> id_word >> id;
  REQUIRE(hash_mark == "#");
  const fs::path model_path = fs::path(FXIC_SOURCE_DIR) / "models" / model_file;
  if (!fs::exists(model_path)) {
    WARN("model " << model_path << " not present; skipping " << golden);
    return;
  }
  const std::vector<uint8_t> bytes = test::ReadAll(model_path.string());
  auto m = LoadModel(bytes.data(), bytes.size());
  REQUIRE(m.ok());
  const Model& model = m.value();
  REQUIRE(ModelIdHex(model.id) == id);
  std::string crop, hz, hy, hi, hr;
  int qf = 0, vectors = 0;
  while (f >> crop >> qf >> hz >> hy >> hi >> hr) {
    INFO(golden.filename().string() << ": " << crop << " qf " << qf);
    auto img = ReadImage(std::string(FXIC_SOURCE_DIR) + "/tests/data/" + crop, ReadOptions());
    REQUIRE(img.ok());
    EncodeOptions eo;
    eo.quality_q8 = qf;
    EncodeSymbols enc, dec;
    auto bits = Encode(img.value(), model, eo, &enc);
    REQUIRE(bits.ok());
    auto out = Decode(bits.value().data(), bits.value().size(), model, DecodeOptions(), &dec);
    REQUIRE(out.ok());
    CHECK(HashLE(enc.z) == hz);
    CHECK(HashLE(enc.y) == hy);
    CHECK(HashLE(enc.y_index) == hi);
    CHECK(HashLE(dec.z) == hz);
    CHECK(HashLE(dec.y) == hy);
    const Sha256Digest d = Sha256Of(out.value().rgb.data(), out.value().rgb.size());
    CHECK(ToHex(d.data(), d.size()) == hr);
    ++vectors;
  }
  CHECK(vectors >= 6);
}

TEST_CASE("C++ codec matches the Python integer reference", "[parity]") {
  int files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(FXIC_SOURCE_DIR) / "tests" / "golden")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("parity_", 0) == 0) {
      CheckParityFile(e.path());
      ++files;
    }
  }
  CHECK(files >= 1);
}

}  // namespace
}  // namespace fxic
