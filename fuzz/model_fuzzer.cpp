// libFuzzer target: LoadModel() of arbitrary bytes. Each input is loaded as
// given (magic, version, crc32, id checks) and with its id and crc32
// recomputed (RefreshModelChecksums), so that mutations reach the metadata,
// tensor directory, network chain and overflow-proof validation. A model
// that loads is then run: a small image is encoded and decoded, and UBSan
// would flag any accumulator overflow the loader's proof missed; a
// bitstream the encoder wrote that the decoder refuses aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "codec/codec.h"

namespace {

// Running a loaded model costs time in proportion to its size.
constexpr size_t kMaxRunModelBytes = 1 << 18;

fxic::Image SmallImage() {
  fxic::Image im;
  im.width = 19;
  im.height = 13;
  im.rgb.resize(size_t{im.width} * im.height * 3);
  for (size_t i = 0; i < im.rgb.size(); ++i) im.rgb[i] = static_cast<uint8_t>(i * 37 + 11);
  return im;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)fxic::LoadModel(data, size);
  std::vector<uint8_t> file(data, data + size);
  fxic::RefreshModelChecksums(&file);
  auto model = fxic::LoadModel(file.data(), file.size());
  if (!model.ok() || size > kMaxRunModelBytes) return 0;
  static const fxic::Image image = SmallImage();
  fxic::EncodeOptions eo;
  eo.quality_q8 = 256 * (model.value().levels - 1);
  auto bits = fxic::Encode(image, model.value(), eo);
  if (!bits.ok()) return 0;
  // What the encoder wrote, the decoder must read.
  auto out = fxic::Decode(bits.value().data(), bits.value().size(), model.value());
  if (!out.ok()) {
    std::fprintf(stderr, "model_fuzzer: round trip failed: %s\n",
                 out.status().message().c_str());
    std::abort();
  }
  return 0;
}
