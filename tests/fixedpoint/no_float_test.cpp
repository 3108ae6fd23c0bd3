// Rule 1 of the design: the words float and double appear nowhere in the
// sources of codec/, entropy/ and fixedpoint/ (comments included).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fxic {
namespace {

namespace fs = std::filesystem;

TEST_CASE("No float or double in codec/, entropy/, fixedpoint/", "[no_float]") {
  const fs::path root = FXIC_SOURCE_DIR;
  const std::set<std::string> extensions = {
      ".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cxx", ".inc", ".ipp"};
  const std::regex banned(R"(\b(float|double)\b)");
  std::vector<std::string> hits;
  int files = 0;
  for (const char* dir : {"codec", "entropy", "fixedpoint"}) {
    const fs::path folder = root / dir;
    if (!fs::is_directory(folder)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
      if (!entry.is_regular_file()) continue;
      if (!extensions.count(entry.path().extension().string())) continue;
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        if (std::regex_search(line, banned)) {
          hits.push_back(fs::relative(entry.path(), root).string() + ":" +
                         std::to_string(n) + ": " + line);
        }
      }
    }
  }
  for (const std::string& hit : hits) UNSCOPED_INFO(hit);
  CHECK(files > 0);
  CHECK(hits.empty());
}

}  // namespace
}  // namespace fxic
