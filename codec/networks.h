// Runs the model's integer networks and the parts of the hyperprior shared by
// the encoder and the decoder (h_s → means and scale indices, gains).
#ifndef FXIC_CODEC_NETWORKS_H_
#define FXIC_CODEC_NETWORKS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "codec/model.h"
#include "fixedpoint/status.h"
#include "fixedpoint/tensor.h"

namespace fxic {

// Called with every layer's output when tracing (for `fxic verify --explain`
// and the parity tests): network name, layer index, tensor.
using LayerTrace = std::function<void(const std::string&, int, const Tensor16&)>;

// Runs `net` on `in` (whose values lie in net.in_lo..in_hi).
Status RunNetwork(const Network& net, const std::string& name, Tensor16 in,
                  Tensor16* out, const LayerTrace* trace = nullptr);

// The same on *io, replaced by the output; *spare is the second buffer the
// layers alternate with. Both keep their capacity, so a caller running the
// network on many tiles reuses the same memory. GDN / IGDN run in place.
Status RunNetworkInPlace(const Network& net, const std::string& name, Tensor16* io,
                         Tensor16* spare, const LayerTrace* trace = nullptr);

// The hyper-synthesis shared by both sides: z symbols (clamped to ±z_max by
// the caller) → μ (M channels, format 2^−f_y) and a scale index per latent
// element (same layout as μ).
struct HyperOutput {
  Tensor16 mean;
  std::vector<uint16_t> scale_index;
};
Status HyperSynthesis(const Model& model, const Tensor16& z_symbols,
                      HyperOutput* out, const LayerTrace* trace = nullptr);

// idx = #{ j : sigma >= thresholds[j] }.
uint16_t ScaleIndex(const std::vector<int32_t>& thresholds, int32_t sigma);

// ScaleIndex of every int16 sigma: table[sigma + 32768], 2^16 entries
// (thresholds increasing, as the model loader checks).
void ScaleIndexTable(const std::vector<int32_t>& thresholds, uint16_t* table);

// Gain (inverse = false) or inverse gain multipliers for quality qf (Q8).
Status GainsForQuality(const Model& model, int quality_q8, bool inverse,
                       std::vector<int32_t>* out);

}  // namespace fxic

#endif  // FXIC_CODEC_NETWORKS_H_
