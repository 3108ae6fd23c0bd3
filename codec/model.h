// The integer mean-scale hyperprior model: in-memory form and validating loader.
#ifndef FXIC_CODEC_MODEL_H_
#define FXIC_CODEC_MODEL_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "entropy/cdf.h"
#include "fixedpoint/conv2d.h"
#include "fixedpoint/normalization.h"
#include "fixedpoint/status.h"

namespace fxic {

constexpr uint32_t kModelFormatVersion = 1;
constexpr size_t kModelHeaderSize = 32;
using ModelId = std::array<uint8_t, 8>;

enum class LayerOp { kConv, kGdn, kIgdn, kDepthToSpace };

// One layer of a network; which fields are used depends on op.
struct Layer {
  LayerOp op = LayerOp::kConv;
  // conv
  int kernel = 0, stride = 0, cin = 0, cout = 0;
  std::vector<int8_t> weight;  // [cout][kernel][kernel][cin], copied from the file
  // Or, for the embedded model, those weights where they lie in the
  // program's read-only data (LoadModel of prehashed bytes does not copy
  // them): then `weight` is empty. Use weights().
  const int8_t* weight_in_place = nullptr;
  std::vector<int32_t> bias;   // [cout], accumulator scale
  // gdn / igdn
  int channels = 0, sq_shift = 0;
  std::vector<int16_t> gamma;  // [channels][channels], >= 0
  std::vector<int32_t> beta;   // [channels], >= 1
  // conv and gdn / igdn: per-channel output scaling and clamp
  std::vector<int32_t> mult;   // M0 >= 1
  std::vector<uint8_t> shift;  // n
  int out_lo = 0, out_hi = 0;
  // Derived by the loader: the range of this layer's input.
  int in_lo = 0, in_hi = 0;

  const int8_t* weights() const { return weight_in_place ? weight_in_place : weight.data(); }
  size_t weight_count() const {
    return static_cast<size_t>(cout) * kernel * kernel * cin;
  }
};

struct Network {
  std::vector<Layer> layers;
  int in_channels = 0, out_channels = 0;
  int in_lo = 0, in_hi = 0;    // input range
  int out_lo = 0, out_hi = 0;  // output range
  // Spatial factor: output size = input size * up / down.
  int down = 1, up = 1;
};

struct Model {
  ModelId id{};
  std::string name, description;
  int N = 0, M = 0, levels = 0, weight_bits = 0;
  int latent_frac_bits = 0, hyper_frac_bits = 0, z_max = 0;
  int gain_shift = 0, inv_gain_shift = 0;
  int yg_lo = 0, yg_hi = 0, gs_in_lo = 0, gs_in_hi = 0;
  int pixel_frac_bits = 0, pad_multiple = 0;
  Network g_a, h_a, h_s, g_s;
  std::vector<int32_t> gain, inv_gain;  // [levels][M]
  entropy::IndexedTables y_tables, z_tables;
  std::vector<int32_t> scale_thresholds;  // [y tables - 1], increasing
  size_t file_size = 0;
};

// Views of a conv / normalization layer for the fixedpoint kernels. The
// layer must outlive the returned parameters.
ConvParams ToConvParams(const Layer& layer);
NormParams ToNormParams(const Layer& layer);

// Parses and validates a model file (docs/model-format.md): magic, version,
// crc32, model id, every field, the network chain, and the overflow bound of
// every layer (docs/fixed-point.md). Any failure is an error naming the field.
StatusOr<Model> LoadModel(const uint8_t* data, size_t size);

// Declares that the `size` bytes at `data` are a model file in storage that
// never changes while the program runs (a model compiled into it: the
// embedded default model, apps/embed_file.cmake) and whose model id `id` was
// computed from its contents when the program was built. LoadModel() of
// exactly these bytes (same address and size) whose header carries `id` then
// takes the id as proven instead of hashing the contents again (SHA-256 of
// 8.8 MB, the largest cost of loading it), and uses the convolution weights
// in place (Layer::weight_in_place) instead of copying them, so the bytes
// must stay valid and unchanged for the rest of the run; the crc32 and every
// other check still run. Any other buffer, or a header with another id, is hashed as
// usual. tests/codec/model_test.cpp checks the build-time id of the embedded
// model against Sha256Of.
void RegisterPrehashedModel(const uint8_t* data, size_t size, const ModelId& id);

// Where tensor `name`'s data lie in a model file: byte offset and length.
// For tests and tools that patch a model; the file must parse as a container
// (crc and id are checked). The result points into the same file.
StatusOr<std::pair<size_t, size_t>> FindTensorBytes(const uint8_t* data, size_t size,
                                                    const std::string& name);

// Recomputes the model id and the crc32 of a model file in place (tools and
// tests that patch a model; never called on the decode path).
void RefreshModelChecksums(std::vector<uint8_t>* file);

// Model id as 16 lower-case hex digits.
std::string ModelIdHex(const ModelId& id);

}  // namespace fxic

#endif  // FXIC_CODEC_MODEL_H_
