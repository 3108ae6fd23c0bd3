// Checks entropy/ sources for the integer-only rule and purpose lines.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// True if word occurs in text as a whole identifier.
bool ContainsWord(const std::string& text, const std::string& word) {
  for (size_t pos = text.find(word); pos != std::string::npos;
       pos = text.find(word, pos + 1)) {
    const bool left_ok = pos == 0 || !IsIdentChar(text[pos - 1]);
    const size_t end = pos + word.size();
    const bool right_ok = end >= text.size() || !IsIdentChar(text[end]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

TEST_CASE("entropy/ sources use no floating point", "[entropy][policy]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(FXIC_SOURCE_DIR) / "entropy";
  REQUIRE(fs::is_directory(dir));
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string ext = entry.path().extension().string();
    if (ext != ".h" && ext != ".cpp" && ext != ".cc" &&
        entry.path().filename() != "CMakeLists.txt") {
      continue;
    }
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    INFO("file " << entry.path().string());
    for (const char* word :
         {"float", "double", "cmath", "math.h", "_Float16", "__fp16"}) {
      INFO("word " << word);
      CHECK_FALSE(ContainsWord(text, word));
    }
    // Every file opens with a one-line purpose comment.
    const bool comment = text.rfind("// ", 0) == 0 || text.rfind("# ", 0) == 0;
    CHECK(comment);
  }
  CHECK(files >= 7);
}

}  // namespace
