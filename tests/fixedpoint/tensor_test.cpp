// Tests for Tensor16's HWC layout.
#include "fixedpoint/tensor.h"

#include <catch2/catch.hpp>

namespace fxic {
namespace {

TEST_CASE("Tensor16 is HWC with channels innermost", "[tensor]") {
  Tensor16 t(2, 3, 4);
  REQUIRE(t.data.size() == 24u);
  for (int16_t v : t.data) CHECK(v == 0);
  t.at(1, 2, 3) = 7;
  CHECK(t.data[(1 * 3 + 2) * 4 + 3] == 7);
  CHECK(t.pixel(1, 2)[3] == 7);
  CHECK(t.Index(0, 1, 0) == 4u);
  CHECK(t.Index(1, 0, 0) == 12u);
  const Tensor16& c = t;
  CHECK(c.at(1, 2, 3) == 7);
  t.Reshape(1, 1, 5);
  CHECK(t.data.size() == 5u);
  CHECK(Tensor16().data.empty());
}

}  // namespace
}  // namespace fxic
