// The SIMD translation units must define no weak (COMDAT) code symbol: the
// linker keeps one copy of an inline function or template instantiated in
// several objects, and if it kept the AVX-512 one, generic code would run
// AVX-512 instructions on any CPU. Reads the objects of this build with nm;
// skips (with a warning) where they or nm cannot be found.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fxic {
namespace {

namespace fs = std::filesystem;

TEST_CASE("SIMD objects define no weak code symbols", "[dispatch][isa_objects]") {
  const fs::path dir = fs::path(FXIC_BINARY_DIR) / "fixedpoint" / "CMakeFiles" /
                       "fxic_fixedpoint.dir";
  std::vector<fs::path> objects;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      const bool isa = name.find("_avx2.") != std::string::npos ||
                       name.find("_avx512") != std::string::npos;
      if (isa && (e.path().extension() == ".o" || e.path().extension() == ".obj")) {
        objects.push_back(e.path());
      }
    }
  }
  if (objects.empty()) {
    WARN("no SIMD objects under " << dir.string() << ": skipped");
    return;
  }
  for (const fs::path& obj : objects) {
    const std::string cmd = "nm -C '" + obj.string() + "' 2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
      WARN("cannot run nm: skipped");
      return;
    }
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    const int status = pclose(pipe);
    if (status != 0 || out.empty()) {
      WARN("nm failed on " << obj.string() << ": skipped");
      continue;
    }
    // Lines look like "0000000000000000 W name": W/w are weak symbols; V/v
    // weak objects are data (same bytes for every ISA) and allowed.
    size_t pos = 0;
    while (pos < out.size()) {
      const size_t end = out.find('\n', pos);
      const std::string line =
          out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? out.size() : end + 1;
      const size_t sp = line.find(' ', line.find_first_not_of(' '));
      if (sp == std::string::npos || sp + 2 >= line.size()) continue;
      const char type = line[sp + 1];
      INFO(obj.filename().string() << ": " << line);
      CHECK(type != 'W');
      CHECK(type != 'w');
    }
  }
}

}  // namespace
}  // namespace fxic
