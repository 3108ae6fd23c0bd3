// Tests for apps/rd_json and apps/rd_curve: CompressAI results JSON.
#include "apps/rd_curve.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "apps/metrics.h"
#include "apps/rd_json.h"

namespace fxic::rd {
namespace {

// The shape of CompressAI's published files (values shortened).
constexpr char kCompressAi[] = R"json({
  "name": "bmshj2018-hyperprior",
  "description": "Inference (ans)",
  "results": {
    "psnr-rgb": [27.58153679333392, 29.19669412138477],
    "ms-ssim-rgb": [0.9173671156167984, 0.9420618464549383],
    "bpp": [0.13129340277777776, 0.20889282226562503],
    "encoding_time": [0.6970945994059244, 0.6808836857477824],
    "decoding_time": [0.9112057387828827, 0.8845294018586477]
  }
})json";

TEST_CASE("Reads CompressAI's results schema", "[rd_curve]") {
  auto c = ParseRdCurve(kCompressAi);
  REQUIRE(c.ok());
  CHECK(c.value().name == "bmshj2018-hyperprior");
  CHECK(c.value().description == "Inference (ans)");
  REQUIRE(c.value().bpp.size() == 2);
  CHECK(c.value().bpp[0] == 0.13129340277777776);
  CHECK(c.value().psnr[1] == 29.19669412138477);
  CHECK(c.value().msssim[0] == 0.9173671156167984);
  CHECK(c.value().enc_seconds[1] == 0.6808836857477824);
  CHECK(c.value().dec_seconds[0] == 0.9112057387828827);
  const auto db = MetricValues(c.value(), Metric::kMsSsimDb);
  CHECK(db[0] == Approx(-10 * std::log10(1 - 0.9173671156167984)));
}

TEST_CASE("Writes the schema and reads it back exactly", "[rd_curve]") {
  RdCurve c;
  c.name = "fxic \"test\"";
  c.description = "line\nbreak";
  c.quality = {"1", "2.5"};
  c.bpp = {0.1, 1.0 / 3.0};
  c.psnr = {27.5, 30.123456789012345};
  c.msssim = {0.9, 0.95};
  c.enc_seconds = {0.01, 0.02};
  c.dec_seconds = {0.03, 0.04};
  const std::string json = RdCurveToJson(c);
  // CompressAI's key order, and our dB key.
  const size_t p = json.find("\"psnr-rgb\""), m = json.find("\"ms-ssim-rgb\""),
               d = json.find("\"ms-ssim-rgb-db\""), b = json.find("\"bpp\""),
               e = json.find("\"encoding_time\""),
               t = json.find("\"decoding_time\"");
  CHECK((p < m && m < d && d < b && b < e && e < t && t != std::string::npos));
  CHECK(json.find("0.1,") != std::string::npos);  // shortest repr
  auto back = ParseRdCurve(json);
  REQUIRE(back.ok());
  CHECK(back.value().name == c.name);
  CHECK(back.value().description == c.description);
  CHECK(back.value().quality == c.quality);
  CHECK(back.value().bpp == c.bpp);
  CHECK(back.value().psnr == c.psnr);
  CHECK(back.value().msssim == c.msssim);
  CHECK(back.value().enc_seconds == c.enc_seconds);
  CHECK(back.value().dec_seconds == c.dec_seconds);
  auto doc = ParseJson(json);
  REQUIRE(doc.ok());
  const JsonValue* db = doc.value().Find("results")->Find("ms-ssim-rgb-db");
  REQUIRE(db != nullptr);
  CHECK(db->array[1].number == MsSsimDb(0.95));
}

TEST_CASE("A curve with only ms-ssim-rgb-db still gives MS-SSIM",
          "[rd_curve]") {
  auto c = ParseRdCurve(
      R"({"name":"x","results":{"bpp":[0.5],"ms-ssim-rgb-db":[20.0]}})");
  REQUIRE(c.ok());
  CHECK(c.value().msssim[0] == Approx(0.99));
}

TEST_CASE("Bad results files are clear errors", "[rd_curve]") {
  CHECK(!ParseRdCurve("").ok());
  CHECK(!ParseRdCurve("[]").ok());
  CHECK(!ParseRdCurve(R"({"name":"x"})").ok());
  CHECK(!ParseRdCurve(R"({"results":{"psnr-rgb":[1]}})").ok());
  CHECK(!ParseRdCurve(R"({"results":{"bpp":[1,2],"psnr-rgb":[1]}})").ok());
  CHECK(!ParseRdCurve(R"({"results":{"bpp":[1,"2"]}})").ok());
  CHECK(!ParseRdCurve(R"({"results":{"bpp":[1]}} x)").ok());
  auto err = ParseRdCurve("{\n\"results\": {\"bpp\": [1,]}}");
  REQUIRE(!err.ok());
  CHECK(err.status().message().find("line 2") != std::string::npos);
}

TEST_CASE("JSON parser details", "[rd_curve]") {
  auto v = ParseJson(
      R"( {"a": [true, false, null, -1.5e3, "\u00e9\ud83d\ude00\n"], "b": NaN} )");
  REQUIRE(v.ok());
  const JsonValue* a = v.value().Find("a");
  REQUIRE(a != nullptr);
  CHECK(a->array[0].boolean);
  CHECK(a->array[2].type == JsonValue::Type::kNull);
  CHECK(a->array[3].number == -1500.0);
  CHECK(a->array[4].string == "\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(std::isnan(v.value().Find("b")->number));
  std::string deep(100, '[');
  deep += std::string(100, ']');
  CHECK(!ParseJson(deep).ok());
  CHECK(!ParseJson("\"unterminated").ok());
  CHECK(!ParseJson("01x").ok());
  CHECK(JsonNumber(2.0) == "2.0");
  CHECK(JsonNumber(0.1) == "0.1");
  CHECK(JsonNumber(1e-7) == "1e-07");
  CHECK(JsonString("a\"b\\\x01") == "\"a\\\"b\\\\\\u0001\"");
}

}  // namespace
}  // namespace fxic::rd
