// libFuzzer target: Decode() of arbitrary bytes with the synthetic model.
// Every input is decoded twice: as given (container checks: magic, version,
// crc32) and with the model id and crc32 made valid, so that mutations reach
// the header validation, the range decoder and the networks. The model is
// $FXIC_FUZZ_MODEL, else models/synthetic-tiny.fxm of the source tree.
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/codec.h"

namespace {

const fxic::Model* g_model = nullptr;

// Decoding an image costs time and memory in proportion to its padded area;
// the fuzzer skips headers above this many pixels (the format allows 2^40).
constexpr uint64_t kMaxFuzzPixels = 128 * 128;

uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
         (uint32_t{p[3]} << 24);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("FXIC_FUZZ_MODEL");
  const std::string path =
      env ? env : std::string(FXIC_SOURCE_DIR) + "/models/synthetic-tiny.fxm";
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(f), {});
  auto m = fxic::LoadModel(bytes.data(), bytes.size());
  if (!m.ok()) {
    std::fprintf(stderr, "decode_fuzzer: %s: %s\n", path.c_str(), m.status().message().c_str());
    std::abort();
  }
  g_model = new fxic::Model(std::move(m).value());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)fxic::Decode(data, size, *g_model);
  if (size < 40) return 0;
  std::vector<uint8_t> b(data, data + size);
  std::memcpy(&b[8], g_model->id.data(), g_model->id.size());
  if (uint64_t{Le32(&b[16])} * Le32(&b[20]) > kMaxFuzzPixels) return 0;
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), b.data(), static_cast<uInt>(size - 4)));
  for (int i = 0; i < 4; ++i) b[size - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  auto image = fxic::Decode(b.data(), b.size(), *g_model);
  if (image.ok() && image.value().rgb.size() !=
                        size_t{image.value().width} * image.value().height * 3) {
    std::abort();  // a decoded image must be complete
  }
  return 0;
}
