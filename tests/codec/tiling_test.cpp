// Tiled g_a / g_s must give the bitstream and the decoded image of one pass
// over the whole image, byte for byte, for every tile size and thread count.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "apps/default_model.h"
#include "codec/codec.h"
#include "codec/tiling.h"
#include "tests/codec/test_util.h"

namespace fxic {
namespace {

bool SameBytes(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// One untiled encode + decode as the reference: a tile larger than any
// latent side makes the whole image one tile, as the codec did before tiling.
struct Reference {
  std::vector<uint8_t> bits;
  Image image;
};

constexpr int kOneTile = 1 << 16;

Reference Untiled(const Model& model, const Image& img, int q8) {
  EncodeOptions eo;
  eo.quality_q8 = q8;
  eo.tiling.tile_latent = kOneTile;
  auto bits = Encode(img, model, eo);
  REQUIRE(bits.ok());
  DecodeOptions dopt;
  dopt.tiling.tile_latent = kOneTile;
  auto out = Decode(bits.value().data(), bits.value().size(), model, dopt);
  REQUIRE(out.ok());
  return {std::move(bits).value(), std::move(out).value()};
}

// Tiled encode must equal the reference bitstream; tiled decode of it must
// equal the reference image.
void CheckTiled(const Model& model, const Image& img, int q8, const Reference& ref,
                int tile) {
  INFO("tile " << tile);
  EncodeOptions eo;
  eo.quality_q8 = q8;
  eo.tiling.tile_latent = tile;
  auto bits = Encode(img, model, eo);
  REQUIRE(bits.ok());
  CHECK(SameBytes(bits.value(), ref.bits));
  DecodeOptions dopt;
  dopt.tiling.tile_latent = tile;
  auto out = Decode(ref.bits.data(), ref.bits.size(), model, dopt);
  REQUIRE(out.ok());
  CHECK(out.value().width == ref.image.width);
  CHECK(out.value().height == ref.image.height);
  CHECK(SameBytes(out.value().rgb, ref.image.rgb));
}

const Model& DefaultModel() {
  static const Model* model = [] {
    auto m = LoadModel(kDefaultModelBytes, kDefaultModelSize);
    return m.ok() ? new Model(std::move(m).value()) : new Model();
  }();
  return *model;
}

TEST_CASE("halo is derived from the layer list", "[tiling]") {
  // conv5/2 reads 2 rows before and 1 after its span of outputs (in inputs);
  // conv3/1 one on each side; depth-to-space halves (rounding up).
  Network net;
  Layer conv5;
  conv5.op = LayerOp::kConv;
  conv5.kernel = 5;
  conv5.stride = 2;
  Layer gdn;
  gdn.op = LayerOp::kGdn;
  for (int i = 0; i < 4; ++i) {
    net.layers.push_back(conv5);
    net.layers.push_back(gdn);
  }
  net.down = 16;
  Margins m = InputMargins(net);
  CHECK(m.before == 30);  // 2 → 6 → 14 → 30
  CHECK(m.after == 15);   // 1 → 3 → 7 → 15
  Halo h = AnalysisHalo(net);
  CHECK(h.before == 2);
  CHECK(h.after == 1);

  Network syn;
  Layer conv3;
  conv3.op = LayerOp::kConv;
  conv3.kernel = 3;
  conv3.stride = 1;
  Layer d2s;
  d2s.op = LayerOp::kDepthToSpace;
  Layer igdn;
  igdn.op = LayerOp::kIgdn;
  for (int i = 0; i < 4; ++i) {
    syn.layers.push_back(conv3);
    syn.layers.push_back(d2s);
    if (i < 3) syn.layers.push_back(igdn);
  }
  syn.up = 16;
  h = SynthesisHalo(syn);
  CHECK(h.before == 2);
  CHECK(h.after == 2);

  // 1×1 stride-2 convolutions read nothing outside their span.
  Network point;
  Layer conv1 = conv5;
  conv1.kernel = 1;
  point.layers = {conv1, conv1};
  point.down = 4;
  h = AnalysisHalo(point);
  CHECK(h.before == 0);
  CHECK(h.after == 0);

  // The real models: the same architecture.
  for (const Model* model : {&test::SyntheticModel(), &DefaultModel()}) {
    REQUIRE(model->levels > 0);
    CHECK(AnalysisHalo(model->g_a).before == 2);
    CHECK(AnalysisHalo(model->g_a).after == 1);
    CHECK(SynthesisHalo(model->g_s).before == 2);
    CHECK(SynthesisHalo(model->g_s).after == 2);
  }
}

TEST_CASE("tile plan depends on the latent geometry only", "[tiling]") {
  // Kodak (768×512 → 48×32 latent) and 2 MiP images are one tile.
  CHECK(PlanTiles(32, 48, 0).single());
  CHECK(PlanTiles(64, 128, 0).single());
  CHECK(PlanTiles(1, 8192, 0).single());
  // 8000×6000 (padded 8000×6016 → 500×376 latent): 7 × 5 tiles.
  TilePlan p = PlanTiles(376, 500, 0);
  REQUIRE(p.rows.size() == 5);
  REQUIRE(p.cols.size() == 7);
  for (const TilePlan& plan : {p, PlanTiles(65, 129, 0), PlanTiles(7, 3, 2)}) {
    for (const std::vector<Span>* spans : {&plan.rows, &plan.cols}) {
      int pos = 0;
      for (const Span& s : *spans) {
        CHECK(s.begin == pos);
        CHECK(s.size() >= 1);
        CHECK(s.size() <= kMaxTileLatent);
        pos = s.end;
      }
    }
  }
  p = PlanTiles(7, 3, 2);
  CHECK(p.rows.size() == 4);
  CHECK(p.rows.back().end == 7);
  CHECK(p.cols.size() == 2);
  CHECK(p.cols.back().end == 3);
  const Span s = WithHalo(Span{0, 2}, Halo{2, 1}, 3);
  CHECK(s.begin == 0);
  CHECK(s.end == 3);
  const Span t = WithHalo(Span{4, 6}, Halo{2, 1}, 10);
  CHECK(t.begin == 2);
  CHECK(t.end == 7);
}

TEST_CASE("tiled coding equals untiled coding (synthetic model)", "[tiling]") {
  const Model& model = test::SyntheticModel();
  REQUIRE(model.levels >= 2);
  struct Case {
    uint32_t w, h;
    std::vector<int> tiles;
  };
  const Case cases[] = {
      {1, 1, {1}},
      {1, 300, {1, 3}},              // 1 pixel wide, 20 latent rows
      {300, 1, {1, 2}},              // 1 pixel high
      {67, 131, {1, 2, 3}},          // odd, not multiples of 64
      {130, 70, {1, 2, 5}},
      {201, 157, {1, 2, 3, 4, 7}},   // several tiles both ways, uneven splits
      {256, 192, {1, 4, 5}},         // exact multiples of 64
      {333, 97, {2, 3, 6}},
  };
  for (const Case& c : cases) {
    INFO(c.w << "x" << c.h);
    const Image img = test::TestImage(c.w, c.h, c.w * 7919 + c.h);
    const int q8 = 256 * (model.levels - 1) * static_cast<int>((c.w + c.h) % 2);
    const Reference ref = Untiled(model, img, q8);
    // The automatic plan (one tile for these sizes) is the reference too.
    CheckTiled(model, img, q8, ref, 0);
    for (int tile : c.tiles) CheckTiled(model, img, q8, ref, tile);
  }
}

TEST_CASE("tiled coding does not depend on the thread count", "[tiling]") {
  // The synthetic model's layers are too small to run on several threads;
  // the default model's first layers on these tiles are large enough.
  struct Case {
    const Model* model;
    uint32_t w, h;
    std::vector<int> tiles;
  };
  const Case cases[] = {{&test::SyntheticModel(), 211, 149, {1, 3, 4}},
                        {&DefaultModel(), 77, 61, {2}}};
  for (const Case& c : cases) {
    const Model& model = *c.model;
    INFO(model.name);
    const Image img = test::TestImage(c.w, c.h, 5);
    const Reference ref = Untiled(model, img, 0);
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    for (int threads : {1, 2}) {
      INFO("threads " << threads);
      omp_set_num_threads(threads);
      for (int tile : c.tiles) CheckTiled(model, img, 0, ref, tile);
      // The reference itself at this thread count.
      const Reference again = Untiled(model, img, 0);
      CHECK(SameBytes(again.bits, ref.bits));
      CHECK(SameBytes(again.image.rgb, ref.image.rgb));
    }
    omp_set_num_threads(saved);
#else
    for (int tile : c.tiles) CheckTiled(model, img, 0, ref, tile);
#endif
  }
}

TEST_CASE("tiled coding equals untiled coding (default model)", "[tiling]") {
  const Model& model = DefaultModel();
  REQUIRE(model.levels >= 1);
  // Padded to 128 × 64: an 8 × 4 latent. Tiles of 2 and 3 give interior,
  // edge and corner tiles, and (2) a column of tiles that is only padding.
  const Image img = test::TestImage(77, 61, 3);
  const Reference ref = Untiled(model, img, 0);
  for (int tile : {2, 3}) CheckTiled(model, img, 0, ref, tile);
}

TEST_CASE("a halo smaller than the derived one changes the result", "[tiling]") {
  // Shows that the tests above can fail: the derived halo is needed, in the
  // encoder (g_a) and in the decoder (g_s). The synthetic model's g_s is too
  // smooth for one missing latent row to change an 8-bit pixel, so the
  // decoder side uses the default model.
  struct Case {
    const Model* model;
    uint32_t w, h;
  };
  const Case cases[] = {{&test::SyntheticModel(), 201, 157}, {&DefaultModel(), 77, 61}};
  for (const Case& c : cases) {
    const Model& model = *c.model;
    INFO(model.name);
    const Image img = test::TestImage(c.w, c.h, 11);
    const Reference ref = Untiled(model, img, 0);
    const Halo ga = AnalysisHalo(model.g_a), gs = SynthesisHalo(model.g_s);
    const int ga_halo = std::max(ga.before, ga.after), gs_halo = std::max(gs.before, gs.after);
    REQUIRE(ga_halo >= 1);
    REQUIRE(gs_halo >= 1);
    const std::vector<int> tiles =
        c.model == &DefaultModel() ? std::vector<int>{2} : std::vector<int>{1, 2, 3};
    for (int tile : tiles) {
      INFO("tile " << tile);
      EncodeOptions eo;
      eo.tiling.tile_latent = tile;
      eo.tiling.halo_override = ga_halo;  // enough
      auto bits = Encode(img, model, eo);
      REQUIRE(bits.ok());
      CHECK(SameBytes(bits.value(), ref.bits));
      eo.tiling.halo_override = ga_halo - 1;  // too small
      bits = Encode(img, model, eo);
      REQUIRE(bits.ok());
      CHECK_FALSE(SameBytes(bits.value(), ref.bits));

      DecodeOptions dopt;
      dopt.tiling.tile_latent = tile;
      dopt.tiling.halo_override = gs_halo;
      auto out = Decode(ref.bits.data(), ref.bits.size(), model, dopt);
      REQUIRE(out.ok());
      CHECK(SameBytes(out.value().rgb, ref.image.rgb));
      if (c.model == &DefaultModel()) {
        dopt.tiling.halo_override = gs_halo - 1;
        out = Decode(ref.bits.data(), ref.bits.size(), model, dopt);
        REQUIRE(out.ok());
        CHECK_FALSE(SameBytes(out.value().rgb, ref.image.rgb));
      }
    }
  }
}

TEST_CASE("a negative tile size is an error", "[tiling]") {
  const Model& model = test::SyntheticModel();
  const Image img = test::TestImage(20, 20, 1);
  EncodeOptions eo;
  eo.tiling.tile_latent = -1;
  auto bits = Encode(img, model, eo);
  REQUIRE_FALSE(bits.ok());
  CHECK(bits.status().message() == "tile size must not be negative");
  auto good = Encode(img, model, EncodeOptions());
  REQUIRE(good.ok());
  DecodeOptions dopt;
  dopt.tiling.tile_latent = -1;
  auto out = Decode(good.value().data(), good.value().size(), model, dopt);
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message() == "tile size must not be negative");
}

}  // namespace
}  // namespace fxic
