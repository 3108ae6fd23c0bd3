// `fxic info`: describe a model file or a bitstream.
#include <cstdio>
#include <cstring>
#include <string>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "codec/bitstream.h"
#include "codec/model.h"

namespace fxic::cli {
namespace {

constexpr char kHelp[] =
    "Usage: fxic info [FILE]\n"
    "\n"
    "Prints the header of an fxic model file (.fxm) or bitstream (.fxic):\n"
    "format version, model id, sizes, qualities. Without FILE, describes the\n"
    "embedded default model. FILE may be - for stdin.\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, I/O), 2 bad command line.\n";

const char* OpName(LayerOp op) {
  switch (op) {
    case LayerOp::kConv:
      return "conv";
    case LayerOp::kGdn:
      return "gdn";
    case LayerOp::kIgdn:
      return "igdn";
    case LayerOp::kDepthToSpace:
      return "d2s";
  }
  return "?";
}

void PrintNetwork(const char* name, const Network& n) {
  std::printf("  %-4s %zu layers, %d -> %d channels:", name, n.layers.size(),
              n.in_channels, n.out_channels);
  for (const Layer& l : n.layers) {
    if (l.op == LayerOp::kConv) {
      std::printf(" conv%d/%d(%d)", l.kernel, l.stride, l.cout);
    } else {
      std::printf(" %s", OpName(l.op));
    }
  }
  std::printf("\n");
}

void PrintModel(const Model& m, const std::string& label) {
  std::printf("%s: fxic model, format v%u\n", label.c_str(), kModelFormatVersion);
  std::printf("  name         %s\n", m.name.c_str());
  std::printf("  description  %s\n", m.description.c_str());
  std::printf("  model id     %s\n", ModelIdHex(m.id).c_str());
  std::printf("  size         %zu bytes\n", m.file_size);
  std::printf("  channels     N=%d M=%d\n", m.N, m.M);
  std::printf("  qualities    1..%d\n", m.levels);
  std::printf("  weight bits  %d, activations int16\n", m.weight_bits);
  std::printf("  entropy      %u Gaussian tables, %u z tables\n",
              m.y_tables.num_tables(), m.z_tables.num_tables());
  PrintNetwork("g_a", m.g_a);
  PrintNetwork("h_a", m.h_a);
  PrintNetwork("h_s", m.h_s);
  PrintNetwork("g_s", m.g_s);
}

}  // namespace

int InfoMain(int argc, char** argv) {
  Args args({}, {{"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "info");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (args.positional().size() > 1) return UsageError("expected at most one FILE", "info");
  if (args.positional().empty()) {
    auto m = LoadModelArg("");
    if (!m.ok()) return Fail(m.status().message());
    PrintModel(m.value(), "(embedded)");
    return kExitOk;
  }
  const std::string path = args.positional()[0];
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return Fail(bytes.status().message());
  const std::vector<uint8_t>& b = bytes.value();
  if (b.size() >= 8 && std::memcmp(b.data(), "FXICMODL", 8) == 0) {
    auto m = LoadModel(b.data(), b.size());
    if (!m.ok()) return Fail(path + ": " + m.status().message());
    PrintModel(m.value(), path);
    return kExitOk;
  }
  auto h = PeekBitstreamHeader(b.data(), b.size());
  if (!h.ok()) return Fail(path + ": " + h.status().message());
  const BitstreamHeader& hd = h.value();
  size_t y_bytes = 0;
  for (uint32_t n : hd.band_bytes) y_bytes += n;
  std::printf("%s: fxic bitstream, format v%u\n", path.c_str(), hd.version);
  std::printf("  image        %ux%u\n", hd.width, hd.height);
  std::printf("  quality      %.4g\n", 1.0 + hd.quality_q8 / 256.0);
  std::printf("  model id     %s\n", ModelIdHex(hd.model_id).c_str());
  std::printf("  size         %zu bytes, %.4f bpp\n", b.size(),
              8.0 * static_cast<double>(b.size()) / (double{1} * hd.width * hd.height));
  std::printf("  sections     z %u bytes, y %zu bytes in %zu bands of %u latent rows\n",
              hd.z_bytes, y_bytes, hd.band_bytes.size(), hd.band_rows);
  auto m = LoadModelArg("");
  if (m.ok() && m.value().id == hd.model_id) {
    std::printf("  decodable by the embedded model (%s)\n", m.value().name.c_str());
  }
  return kExitOk;
}

}  // namespace fxic::cli
