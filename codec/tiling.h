// Tiling of the analysis (g_a) and synthesis (g_s) transforms: the halo each
// network needs, derived from its layer list, and the tile plan of an image.
//
// Tiling is exact: every latent value and every output pixel a tile keeps is
// computed from the same inputs, with the same integer arithmetic, as in one
// pass over the whole image, so the bitstream and the decoded image do not
// depend on the tiling (docs/speed.md, "Tiling").
#ifndef FXIC_CODEC_TILING_H_
#define FXIC_CODEC_TILING_H_

#include <cstdint>
#include <vector>

#include "codec/model.h"

namespace fxic {

// How far the values a network's output span depends on reach beyond that
// span, in the network's INPUT units, before (top/left) and after
// (bottom/right). Exact for spans whose ends lie on the output grid of every
// layer (multiples of the network's total stride for an analysis network).
struct Margins {
  int64_t before = 0, after = 0;
};
Margins InputMargins(const Network& net);

// Halo of a tile, in latent units, on each side of its core.
struct Halo {
  int before = 0, after = 0;
};

// g_a: the input margins rounded up to whole latent units (tile origins stay
// on multiples of the total stride, so every stride-2 sampling grid of the
// tile coincides with the whole image's).
Halo AnalysisHalo(const Network& g_a);
// g_s: the input margins (already latent units).
Halo SynthesisHalo(const Network& g_s);

// Internal options (tests): the automatic choice is right for every image.
struct TilingOptions {
  // Tile core side in latent units; 0 chooses it from the image geometry
  // (AutoTileLatent). Never chosen from the thread count.
  int tile_latent = 0;
  // Replaces the derived halo (latent units, every side) when >= 0. A halo
  // smaller than the derived one gives wrong results; tests use it to show
  // that the derived halo is needed.
  int halo_override = -1;
};

// Images whose latent has at most this many positions (a padded image of
// 2 MiP: 8192 · 16 · 16 pixels) run as one tile.
constexpr int64_t kOneTileMaxLatentArea = 8192;
// Larger images: tile cores of at most this many latent units per side
// (1280 pixels for a total stride of 16).
constexpr int kMaxTileLatent = 80;

// A half-open range [begin, end) of latent rows or columns.
struct Span {
  int begin = 0, end = 0;
  int size() const { return end - begin; }
};

// [0, n) cut into ceil(n / max_len) spans of nearly equal length (the first
// ones one longer). Requires n >= 1, max_len >= 1.
std::vector<Span> SplitSpan(int n, int max_len);

// The automatic tile side for a latent of y_height × y_width: 0 (one tile) if
// the latent area is at most kOneTileMaxLatentArea, else kMaxTileLatent.
int AutoTileLatent(int y_height, int y_width);

// Tile cores: every (row span, column span) pair is one tile.
struct TilePlan {
  std::vector<Span> rows, cols;
  bool single() const { return rows.size() == 1 && cols.size() == 1; }
};
// tile_latent: 0 = automatic, > 0 = that side (tests), regardless of size.
TilePlan PlanTiles(int y_height, int y_width, int tile_latent);

// The latent range a tile with core `core` reads: the core widened by the
// halo and clipped to [0, n) (at the image border the network's own zero
// padding is the true semantics).
Span WithHalo(const Span& core, const Halo& halo, int n);

}  // namespace fxic

#endif  // FXIC_CODEC_TILING_H_
