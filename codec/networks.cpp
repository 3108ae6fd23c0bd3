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
        // A convolution followed by depth-to-space stores its output straight
        // in the depth-to-space layout when the kernel path can (same bytes;
        // not when tracing, which needs the convolution's own output).
        if (!trace && i + 1 < net.layers.size() &&
            net.layers[i + 1].op == LayerOp::kDepthToSpace) {
          bool fused = false;
          FXIC_RETURN_IF_ERROR(Conv2dDepthToSpace(*io, ToConvParams(l), spare, &fused));
          if (fused) {
            std::swap(*io, *spare);
            ++i;  // the depth-to-space is done
            break;
          }
        }
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

namespace {

// #{ j : sigma >= t[j] } for increasing t[0..n): ScaleIndex without
// branches on the data (a fixed sequence of halvings with conditional moves).
inline uint16_t CountAtMost(const int32_t* t, size_t n, int32_t sigma) {
  if (n == 0) return 0;
  const int32_t* base = t;
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half - 1] <= sigma ? base + half : base;
    n -= half;
  }
  return static_cast<uint16_t>((base - t) + (*base <= sigma ? 1 : 0));
}

}  // namespace

uint16_t ScaleIndex(const std::vector<int32_t>& thresholds, int32_t sigma) {
  return CountAtMost(thresholds.data(), thresholds.size(), sigma);
}

void ScaleIndexTable(const std::vector<int32_t>& thresholds, uint16_t* table) {
  size_t j = 0;
  const size_t n = thresholds.size();
  for (int32_t v = -32768; v <= 32767; ++v) {
    while (j < n && thresholds[j] <= v) ++j;
    table[v + 32768] = static_cast<uint16_t>(j);
  }
}

Status HyperSynthesis(const Model& model, const Tensor16& z_symbols,
                      HyperOutput* out, const LayerTrace* trace) {
  Tensor16 params;
  FXIC_RETURN_IF_ERROR(RunNetwork(model.h_s, "h_s", z_symbols, &params, trace));
  const int M = model.M;
  const int64_t pixels = static_cast<int64_t>(params.height) * params.width;
  out->mean.Reshape(params.height, params.width, M);
  out->scale_index.resize(static_cast<size_t>(pixels) * M);
  // sigma is an int16: one table lookup per element (the table takes a
  // linear pass over the 2^16 values).
  std::vector<uint16_t> table(size_t{1} << 16);
  ScaleIndexTable(model.scale_thresholds, table.data());
  const uint16_t* index_of = table.data() + 32768;
  // Pixels are independent: any split over threads gives the same values.
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (pixels * M >= (int64_t{1} << 16))
#endif
  for (int64_t p = 0; p < pixels; ++p) {
    const int16_t* src = params.data.data() + p * 2 * M;
    int16_t* mean = out->mean.data.data() + p * M;
    uint16_t* idx = out->scale_index.data() + p * M;
    for (int c = 0; c < M; ++c) {
      mean[c] = src[c];
      idx[c] = index_of[src[M + c]];
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
