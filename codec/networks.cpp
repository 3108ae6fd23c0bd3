// Integer network runner and the shared hyper-synthesis step.
#include "codec/networks.h"

#include <algorithm>
#include <utility>

#include "fixedpoint/conv2d.h"
#include "fixedpoint/depth_to_space.h"
#include "fixedpoint/linear_scaling.h"
#include "fixedpoint/normalization.h"

namespace fxic {

Status RunNetworkInPlace(const Network& net, const std::string& name, Tensor16* io,
                         Tensor16* spare, const LayerTrace* trace) {
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    switch (l.op) {
      case LayerOp::kConv:
        FXIC_RETURN_IF_ERROR(Conv2d(*io, ToConvParams(l), spare));
        std::swap(*io, *spare);
        break;
      case LayerOp::kGdn:
      case LayerOp::kIgdn: {
        // Per-pixel channel mixing: the kernels support out == in.
        const NormParams p = ToNormParams(l);
        FXIC_RETURN_IF_ERROR(l.op == LayerOp::kGdn ? Gdn(*io, p, io) : Igdn(*io, p, io));
        break;
      }
      case LayerOp::kDepthToSpace:
        FXIC_RETURN_IF_ERROR(DepthToSpace(*io, spare));
        std::swap(*io, *spare);
        break;
    }
    if (trace) (*trace)(name, static_cast<int>(i), *io);
  }
  return Status::Ok();
}

Status RunNetwork(const Network& net, const std::string& name, Tensor16 in,
                  Tensor16* out, const LayerTrace* trace) {
  Tensor16 spare;
  FXIC_RETURN_IF_ERROR(RunNetworkInPlace(net, name, &in, &spare, trace));
  *out = std::move(in);
  return Status::Ok();
}

uint16_t ScaleIndex(const std::vector<int32_t>& thresholds, int32_t sigma) {
  return static_cast<uint16_t>(
      std::upper_bound(thresholds.begin(), thresholds.end(), sigma) -
      thresholds.begin());
}

Status HyperSynthesis(const Model& model, const Tensor16& z_symbols,
                      HyperOutput* out, const LayerTrace* trace) {
  Tensor16 params;
  FXIC_RETURN_IF_ERROR(RunNetwork(model.h_s, "h_s", z_symbols, &params, trace));
  const int M = model.M;
  const size_t pixels = static_cast<size_t>(params.height) * params.width;
  out->mean.Reshape(params.height, params.width, M);
  out->scale_index.resize(pixels * M);
  for (size_t p = 0; p < pixels; ++p) {
    const int16_t* src = params.data.data() + p * 2 * M;
    int16_t* mean = out->mean.data.data() + p * M;
    uint16_t* idx = out->scale_index.data() + p * M;
    for (int c = 0; c < M; ++c) {
      mean[c] = src[c];
      idx[c] = ScaleIndex(model.scale_thresholds, src[M + c]);
    }
  }
  return Status::Ok();
}

Status GainsForQuality(const Model& model, int quality_q8, bool inverse,
                       std::vector<int32_t>* out) {
  out->resize(model.M);
  return InterpolateGains(inverse ? model.inv_gain.data() : model.gain.data(),
                          model.levels, model.M, quality_q8, out->data());
}

}  // namespace fxic
