// A small JSON reader and writer for rate-distortion result files.
#ifndef FXIC_APPS_RD_JSON_H_
#define FXIC_APPS_RD_JSON_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fixedpoint/status.h"

namespace fxic::rd {

// A parsed JSON value (RFC 8259). Objects keep their keys sorted; the files
// read here never depend on key order or on duplicate keys (the last wins).
struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<JsonValue> array;
  std::map<std::string, JsonValue> object;

  // The member `key` of an object, or nullptr.
  const JsonValue* Find(const std::string& key) const;
};

// Parses a complete JSON text (surrounding white space allowed). NaN and
// Infinity (which Python's json module writes) are accepted as numbers.
// Nesting deeper than 64 levels is an error.
StatusOr<JsonValue> ParseJson(const std::string& text);

// Formats a double as the shortest decimal that reads back as the same
// value (as Python's repr does); NaN and ±inf as NaN / Infinity / -Infinity.
std::string JsonNumber(double v);

// Quotes and escapes a string for JSON.
std::string JsonString(const std::string& s);

}  // namespace fxic::rd

#endif  // FXIC_APPS_RD_JSON_H_
