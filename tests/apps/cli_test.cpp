// End-to-end tests of the fxic binary: bad inputs give one line on stderr, a
// non-zero exit and no output file.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "codec/model.h"

namespace fxic {
namespace {

namespace fs = std::filesystem;

struct Run {
  int code;
  std::string err;
};

class CliTest {
 public:
  CliTest() {
    dir_ = fs::temp_directory_path() / ("fxic_cli_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~CliTest() { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  Run Fxic(const std::string& args) const {
    const std::string err = Path("stderr.txt");
    const std::string cmd = std::string(FXIC_BINARY_DIR) + "/apps/fxic " + args + " 2>" + err +
                            " >" + Path("stdout.txt");
    const int status = std::system(cmd.c_str());
    std::ifstream f(err);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
  }
  void Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(Path(name), std::ios::binary) << bytes;
  }
  std::string Read(const std::string& name) const {
    std::ifstream f(Path(name), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  // No output and no temporary left behind: only the inputs and the captures.
  size_t FilesNamed(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind(prefix, 0) == 0) ++n;
    }
    return n;
  }

 private:
  fs::path dir_;
};

const std::string kSample = std::string(FXIC_SOURCE_DIR) + "/tests/data/kodim01_crop.png";

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST_CASE("encode and decode round trip through files", "[cli]") {
  CliTest t;
  Run r = t.Fxic("encode " + kSample + " -o " + t.Path("a.fxic") + " -q 2");
  INFO(r.err);
  REQUIRE(r.code == 0);
  r = t.Fxic("decode " + t.Path("a.fxic") + " -o " + t.Path("a.png"));
  REQUIRE(r.code == 0);
  r = t.Fxic("decode " + t.Path("a.fxic") + " -o " + t.Path("a.ppm") + " --quiet");
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  r = t.Fxic("info " + t.Path("a.fxic"));
  CHECK(r.code == 0);
  // stdin / stdout.
  r = t.Fxic("encode - -o - -q 2 --quiet < " + kSample);
  CHECK(r.code == 0);
  CHECK(t.Read("stdout.txt") == t.Read("a.fxic"));
}

TEST_CASE("bad inputs: one line, non-zero exit, no output file", "[cli]") {
  CliTest t;
  t.Write("text.png", "this is not an image\n");
  Run r = t.Fxic("encode " + t.Path("text.png") + " -o " + t.Path("out1.fxic"));
  CHECK(r.code == 1);
  CHECK(Lines(r.err) == 1);
  CHECK(t.FilesNamed("out1") == 0);

  std::ifstream f(kSample, std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  t.Write("cut.png", png.substr(0, png.size() / 2));
  r = t.Fxic("encode " + t.Path("cut.png") + " -o " + t.Path("out2.fxic"));
  CHECK(r.code == 1);
  CHECK(Lines(r.err) == 1);
  CHECK(t.FilesNamed("out2") == 0);

  REQUIRE(t.Fxic("encode " + kSample + " -o " + t.Path("good.fxic") + " --quiet").code == 0);
  const std::string bits = t.Read("good.fxic");
  t.Write("trunc.fxic", bits.substr(0, bits.size() - 3));
  r = t.Fxic("decode " + t.Path("trunc.fxic") + " -o " + t.Path("out3.png"));
  CHECK(r.code == 1);
  CHECK(Lines(r.err) == 1);
  CHECK(t.FilesNamed("out3") == 0);

  // A bitstream from another model: patch the synthetic model into a
  // different (still valid) model and decode with it.
  std::ifstream mf(std::string(FXIC_SOURCE_DIR) + "/models/synthetic-tiny.fxm", std::ios::binary);
  std::vector<uint8_t> model((std::istreambuf_iterator<char>(mf)), std::istreambuf_iterator<char>());
  auto loc = FindTensorBytes(model.data(), model.size(), "g_s.0.bias");
  REQUIRE(loc.ok());
  model[loc.value().first] ^= 1;
  RefreshModelChecksums(&model);
  t.Write("other.fxm", std::string(model.begin(), model.end()));
  r = t.Fxic("decode " + t.Path("good.fxic") + " -m " + t.Path("other.fxm") + " -o " +
             t.Path("out4.png"));
  CHECK(r.code == 1);
  CHECK(Lines(r.err) == 1);
  CHECK(r.err.find("model") != std::string::npos);
  CHECK(t.FilesNamed("out4") == 0);
}

TEST_CASE("existing outputs are kept without -f; usage errors exit 2", "[cli]") {
  CliTest t;
  t.Write("keep.fxic", "precious");
  Run r = t.Fxic("encode " + kSample + " -o " + t.Path("keep.fxic"));
  CHECK(r.code == 1);
  CHECK(t.Read("keep.fxic") == "precious");
  r = t.Fxic("encode " + kSample + " -o " + t.Path("keep.fxic") + " -f --quiet");
  CHECK(r.code == 0);
  CHECK(t.Read("keep.fxic") != "precious");
  // Refused before any work: a bad input is not even read.
  r = t.Fxic("encode " + t.Path("missing.png") + " -o " + t.Path("keep.fxic"));
  CHECK(r.code == 1);
  CHECK(r.err == "fxic: " + t.Path("keep.fxic") + " exists; use -f to overwrite\n");
  t.Write("keep.png", "precious");
  r = t.Fxic("decode " + t.Path("missing.fxic") + " -o " + t.Path("keep.png"));
  CHECK(r.code == 1);
  CHECK(r.err == "fxic: " + t.Path("keep.png") + " exists; use -f to overwrite\n");
  CHECK(t.Read("keep.png") == "precious");
  CHECK(t.Fxic("encode " + kSample).code == 2);
  CHECK(t.Fxic("encode " + kSample + " -o x -q 99").code == 2);
  CHECK(t.Fxic("encode --bogus").code == 2);
  r = t.Fxic("frobnicate");
  CHECK(r.code == 2);
  CHECK(r.err == "fxic: unknown command 'frobnicate'\nTry 'fxic --help'.\n");
  r = t.Fxic("");
  CHECK(r.code == 2);
  CHECK(r.err.find("Commands:") != std::string::npos);
  CHECK(t.Fxic("encode --help").code == 0);
  r = t.Fxic("--help");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(t.Read("stdout.txt").find("  bdrate ") != std::string::npos);
  CHECK(t.Fxic("--version").code == 0);
  CHECK(t.Read("stdout.txt").rfind("fxic ", 0) == 0);
}

}  // namespace
}  // namespace fxic
