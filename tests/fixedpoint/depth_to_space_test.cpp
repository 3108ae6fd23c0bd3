// Tests for depth-to-space (block 2, PyTorch pixel_shuffle order).
#include "fixedpoint/depth_to_space.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

TEST_CASE("DepthToSpace, hand-computed", "[depth_to_space]") {
  // One pixel, 4 channels a b c d -> 2x2 [[a b] [c d]].
  Tensor16 in(1, 1, 4);
  in.data = {1, 2, 3, 4};
  Tensor16 out;
  REQUIRE(DepthToSpace(in, &out).ok());
  CHECK(out.height == 2);
  CHECK(out.width == 2);
  CHECK(out.channels == 1);
  CHECK(out.data == std::vector<int16_t>{1, 2, 3, 4});

  // One pixel, 8 channels: output channel c takes input 4c .. 4c + 3.
  Tensor16 in8(1, 1, 8);
  in8.data = {10, 11, 12, 13, 20, 21, 22, 23};
  REQUIRE(DepthToSpace(in8, &out).ok());
  CHECK(out.channels == 2);
  CHECK(out.data == std::vector<int16_t>{10, 20, 11, 21, 12, 22, 13, 23});

  // 1x2 pixels, 4 channels: a row of two 2x2 blocks.
  Tensor16 row(1, 2, 4);
  row.data = {1, 2, 3, 4, 5, 6, 7, 8};
  REQUIRE(DepthToSpace(row, &out).ok());
  CHECK(out.height == 2);
  CHECK(out.width == 4);
  CHECK(out.data == std::vector<int16_t>{1, 2, 5, 6, 3, 4, 7, 8});
}

TEST_CASE("DepthToSpace matches the doc's formula on random inputs",
          "[depth_to_space]") {
  testing::SplitMix64 rng(7);
  for (int c : {1, 2, 3, 5}) {
    for (int h : {1, 2, 5}) {
      for (int w : {1, 3, 4}) {
        const Tensor16 in =
            testing::RandomTensor(rng, h, w, 4 * c, -32767, 32767);
        Tensor16 out;
        REQUIRE(DepthToSpace(in, &out).ok());
        REQUIRE(out.height == 2 * h);
        REQUIRE(out.width == 2 * w);
        REQUIRE(out.channels == c);
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            for (int i = 0; i < 2; ++i)
              for (int j = 0; j < 2; ++j)
                for (int ch = 0; ch < c; ++ch)
                  REQUIRE(out.at(2 * y + i, 2 * x + j, ch) ==
                          in.at(y, x, 4 * ch + 2 * i + j));
      }
    }
  }
}

TEST_CASE("DepthToSpace rejects channel counts not divisible by 4",
          "[depth_to_space]") {
  Tensor16 out;
  for (int c : {0, 1, 2, 3, 5, 6}) {
    Tensor16 in(2, 2, c);
    CHECK_FALSE(DepthToSpace(in, &out).ok());
  }
  Tensor16 in(2, 2, 4);
  CHECK_FALSE(DepthToSpace(in, &in).ok());
}

}  // namespace
}  // namespace fxic
