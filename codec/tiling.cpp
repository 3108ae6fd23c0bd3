// Halo derivation and tile plans for the tiled g_a / g_s passes.
#include "codec/tiling.h"

#include <algorithm>

namespace fxic {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

// Walks the layers from the output back to the input. For an output span
// [a − before, b + after) of a layer:
//   conv K, stride S (zero padding P = K/2) reads input rows
//     [(a − before)·S − P, (b + after − 1)·S + P + 1)
//     = [a·S − (before·S + P), b·S + (after·S + P + 1 − S));
//   depth-to-space reads [floor((a − before)/2), ceil((b + after)/2)), which
//     is [a/2 − ceil(before/2), b/2 + ceil(after/2)) for even a, b;
//   GDN / IGDN mix channels of one pixel only: the span is unchanged.
// A negative margin (a 1×1 stride-2 convolution reads one row less than its
// span) is kept at 0: reading more never changes the kept values.
Margins InputMargins(const Network& net) {
  Margins m;
  for (auto it = net.layers.rbegin(); it != net.layers.rend(); ++it) {
    const Layer& l = *it;
    switch (l.op) {
      case LayerOp::kConv: {
        const int64_t p = l.kernel / 2, s = l.stride;
        m.before = m.before * s + p;
        m.after = std::max<int64_t>(0, m.after * s + p + 1 - s);
        break;
      }
      case LayerOp::kDepthToSpace:
        m.before = CeilDiv(m.before, 2);
        m.after = CeilDiv(m.after, 2);
        break;
      case LayerOp::kGdn:
      case LayerOp::kIgdn:
        break;
    }
  }
  return m;
}

Halo AnalysisHalo(const Network& g_a) {
  const Margins m = InputMargins(g_a);
  const int64_t d = std::max(1, g_a.down);
  Halo h;
  h.before = static_cast<int>(CeilDiv(m.before, d));
  h.after = static_cast<int>(CeilDiv(m.after, d));
  return h;
}

Halo SynthesisHalo(const Network& g_s) {
  const Margins m = InputMargins(g_s);
  Halo h;
  h.before = static_cast<int>(m.before);
  h.after = static_cast<int>(m.after);
  return h;
}

std::vector<Span> SplitSpan(int n, int max_len) {
  const int count = static_cast<int>(CeilDiv(n, max_len));
  const int base = n / count, extra = n % count;
  std::vector<Span> spans(count);
  int pos = 0;
  for (int i = 0; i < count; ++i) {
    spans[i].begin = pos;
    pos += base + (i < extra ? 1 : 0);
    spans[i].end = pos;
  }
  return spans;
}

int AutoTileLatent(int y_height, int y_width) {
  return int64_t{y_height} * y_width <= kOneTileMaxLatentArea ? 0 : kMaxTileLatent;
}

TilePlan PlanTiles(int y_height, int y_width, int tile_latent) {
  const int side = tile_latent > 0 ? tile_latent : AutoTileLatent(y_height, y_width);
  TilePlan plan;
  if (side == 0) {
    plan.rows = {Span{0, y_height}};
    plan.cols = {Span{0, y_width}};
  } else {
    plan.rows = SplitSpan(y_height, side);
    plan.cols = SplitSpan(y_width, side);
  }
  return plan;
}

Span WithHalo(const Span& core, const Halo& halo, int n) {
  Span s;
  s.begin = static_cast<int>(std::max<int64_t>(0, int64_t{core.begin} - halo.before));
  s.end = static_cast<int>(std::min<int64_t>(n, int64_t{core.end} + halo.after));
  return s;
}

}  // namespace fxic
