// ISA path names and selection for `fxic verify --isa` / FXIC_ISA.
#include "apps/verify_isa.h"

#include <algorithm>
#include <cstdlib>

// The kernel dispatch table (fixedpoint/dispatch.h) decides which paths this
// binary has and this CPU runs. Builds from before it existed have the
// scalar kernels only.
#if __has_include("fixedpoint/dispatch.h")
#include "fixedpoint/dispatch.h"
#define FXIC_VERIFY_HAVE_DISPATCH 1
#endif

namespace fxic::verify {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

const std::vector<std::string>& KnownIsas() {
  static const std::vector<std::string> kIsas = {"scalar", "avx2", "avx512",
                                                 "avx512vnni", "neon"};
  return kIsas;
}

std::vector<std::string> AvailableIsas() {
#ifdef FXIC_VERIFY_HAVE_DISPATCH
  return fxic::AvailableIsas();
#else
  return {"scalar"};
#endif
}

std::string CurrentIsa() {
#ifdef FXIC_VERIFY_HAVE_DISPATCH
  return fxic::CurrentIsa();
#else
  return "scalar";
#endif
}

StatusOr<std::vector<std::string>> ParseIsaList(const std::string& text) {
  const std::vector<std::string> available = AvailableIsas();
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string name = text.substr(start, comma - start);
    start = comma + 1;
    std::vector<std::string> names;
    if (name == "all") {
      names = available;
    } else if (name == "auto") {
      names = {available.back()};  // the best path, as the codec picks it
    } else if (name.empty()) {
      return Status::Error("empty ISA name in '" + text + "'");
    } else {
      const auto& known = KnownIsas();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        return Status::Error("unknown ISA path '" + name + "' (known: " +
                             Join(known) + "; available here: " +
                             Join(available) + ")");
      }
      if (std::find(available.begin(), available.end(), name) == available.end()) {
        return Status::Error("ISA path '" + name +
                             "' is not available in this fxic build or on this "
                             "CPU (available: " + Join(available) + ")");
      }
      names.push_back(name);
    }
    for (const std::string& n : names) {
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
  }
  return out;
}

StatusOr<std::vector<std::string>> IsaListFromFlagOrEnv(const std::string& flag) {
  if (!flag.empty()) return ParseIsaList(flag);
  const char* env = std::getenv("FXIC_ISA");
  if (env != nullptr && env[0] != '\0') {
    auto list = ParseIsaList(env);
    if (!list.ok()) return Status::Error("FXIC_ISA: " + list.status().message());
    return list;
  }
  return ParseIsaList("all");
}

Status ActivateIsa(const std::string& isa) {
  const std::vector<std::string> available = AvailableIsas();
  if (std::find(available.begin(), available.end(), isa) == available.end()) {
    return Status::Error("ISA path '" + isa + "' is not available");
  }
#ifdef FXIC_VERIFY_HAVE_DISPATCH
  return fxic::SetIsa(isa);
#else
  return Status::Ok();  // only the scalar kernels exist
#endif
}

}  // namespace fxic::verify
