// RdCurve: reading and writing CompressAI-style results JSON.
#include "apps/rd_curve.h"

#include <cmath>

#include "apps/image_io.h"
#include "apps/metrics.h"
#include "apps/rd_json.h"

namespace fxic::rd {
namespace {

Status ReadArray(const JsonValue& results, const char* key, size_t n,
                 std::vector<double>* out) {
  const JsonValue* v = results.Find(key);
  if (v == nullptr || v->type == JsonValue::Type::kNull) return Status::Ok();
  if (v->type != JsonValue::Type::kArray) {
    return Status::Error(std::string("\"") + key + "\" is not an array");
  }
  if (n != 0 && v->array.size() != n) {
    return Status::Error(std::string("\"") + key + "\" has " +
                         std::to_string(v->array.size()) + " values, \"bpp\" " +
                         std::to_string(n));
  }
  for (const JsonValue& x : v->array) {
    if (x.type != JsonValue::Type::kNumber) {
      return Status::Error(std::string("\"") + key + "\" holds a non-number");
    }
    out->push_back(x.number);
  }
  return Status::Ok();
}

void AppendArray(std::string* out, const char* key,
                 const std::vector<double>& v, bool last) {
  *out += "    \"" + std::string(key) + "\": [";
  for (size_t i = 0; i < v.size(); ++i) {
    *out += (i ? ",\n      " : "\n      ") + JsonNumber(v[i]);
  }
  *out += v.empty() ? "]" : "\n    ]";
  *out += last ? "\n" : ",\n";
}

}  // namespace

const char* MetricLabel(Metric m) {
  return m == Metric::kPsnr ? "PSNR (RGB) [dB]" : "MS-SSIM (RGB) [dB]";
}

const char* MetricKey(Metric m) {
  return m == Metric::kPsnr ? "psnr" : "ms-ssim-db";
}

std::vector<double> MetricValues(const RdCurve& c, Metric m) {
  if (m == Metric::kPsnr) return c.psnr;
  std::vector<double> db;
  for (double v : c.msssim) db.push_back(MsSsimDb(v));
  return db;
}

StatusOr<RdCurve> ParseRdCurve(const std::string& json_text) {
  FXIC_ASSIGN_OR_RETURN(JsonValue doc, ParseJson(json_text));
  if (doc.type != JsonValue::Type::kObject) {
    return Status::Error("not a JSON object");
  }
  RdCurve c;
  if (const JsonValue* n = doc.Find("name");
      n && n->type == JsonValue::Type::kString) {
    c.name = n->string;
  }
  if (const JsonValue* d = doc.Find("description");
      d && d->type == JsonValue::Type::kString) {
    c.description = d->string;
  }
  const JsonValue* results = doc.Find("results");
  if (results == nullptr || results->type != JsonValue::Type::kObject) {
    return Status::Error("no \"results\" object");
  }
  Status st = ReadArray(*results, "bpp", 0, &c.bpp);
  if (!st.ok()) return st;
  if (c.bpp.empty()) return Status::Error("no \"bpp\" values");
  const size_t n = c.bpp.size();
  if (!(st = ReadArray(*results, "psnr-rgb", n, &c.psnr)).ok()) return st;
  if (!(st = ReadArray(*results, "ms-ssim-rgb", n, &c.msssim)).ok()) return st;
  if (c.msssim.empty()) {
    std::vector<double> db;
    if (!(st = ReadArray(*results, "ms-ssim-rgb-db", n, &db)).ok()) return st;
    for (double x : db) c.msssim.push_back(1.0 - std::pow(10.0, -x / 10.0));
  }
  if (!(st = ReadArray(*results, "encoding_time", n, &c.enc_seconds)).ok())
    return st;
  if (!(st = ReadArray(*results, "decoding_time", n, &c.dec_seconds)).ok())
    return st;
  if (const JsonValue* q = doc.Find("quality");
      q && q->type == JsonValue::Type::kArray) {
    if (q->array.size() != n)
      return Status::Error("\"quality\" length differs from \"bpp\"");
    for (const JsonValue& x : q->array) {
      c.quality.push_back(
          x.type == JsonValue::Type::kString ? x.string : JsonNumber(x.number));
    }
  }
  return c;
}

StatusOr<RdCurve> ReadRdCurve(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  auto c =
      ParseRdCurve(std::string(bytes.value().begin(), bytes.value().end()));
  if (!c.ok()) return Status::Error(path + ": " + c.status().message());
  if (c.value().name.empty()) {
    // Fall back to the file name without directory and extension.
    std::string base = path.substr(path.find_last_of('/') + 1);
    c.value().name = base.substr(0, base.rfind(".json"));
  }
  return c;
}

std::string RdCurveToJson(const RdCurve& c) {
  std::string out = "{\n  \"name\": " + JsonString(c.name) +
                    ",\n  \"description\": " + JsonString(c.description) +
                    ",\n";
  if (!c.quality.empty()) {
    out += "  \"quality\": [";
    for (size_t i = 0; i < c.quality.size(); ++i) {
      out += (i ? ", " : "") + JsonString(c.quality[i]);
    }
    out += "],\n";
  }
  out += "  \"results\": {\n";
  struct Item {
    const char* key;
    std::vector<double> values;
  };
  std::vector<Item> items;
  if (!c.psnr.empty()) items.push_back({"psnr-rgb", c.psnr});
  if (!c.msssim.empty()) {
    items.push_back({"ms-ssim-rgb", c.msssim});
    items.push_back({"ms-ssim-rgb-db", MetricValues(c, Metric::kMsSsimDb)});
  }
  items.push_back({"bpp", c.bpp});
  if (!c.enc_seconds.empty()) items.push_back({"encoding_time", c.enc_seconds});
  if (!c.dec_seconds.empty()) items.push_back({"decoding_time", c.dec_seconds});
  for (size_t i = 0; i < items.size(); ++i) {
    AppendArray(&out, items[i].key, items[i].values, i + 1 == items.size());
  }
  out += "  }\n}\n";
  return out;
}

}  // namespace fxic::rd
