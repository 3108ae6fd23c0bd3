// `fxic verify`: the conformance suite passes, and tampering, corruption and
// unavailable ISA paths are reported.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/verify_images.h"
#include "apps/verify_isa.h"
#include "apps/verify_manifest.h"
#include "apps/verify_runner.h"
#include "codec/codec.h"
#include "codec/sha256.h"

namespace fxic {
namespace {

namespace fs = std::filesystem;

const std::string kSuite = std::string(FXIC_SOURCE_DIR) + "/tests/conformance";

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  const std::string s = ReadText(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  WriteText(path, std::string(b.begin(), b.end()));
}

// A scratch directory, removed at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    static int counter = 0;
    path = (fs::temp_directory_path() /
            ("fxic_verify_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++)))
               .string();
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Copies the suite's images and one manifest directory into dir.
void CopySuite(const std::string& manifest_dir_name, const std::string& dir) {
  fs::copy(kSuite + "/images", dir + "/images", fs::copy_options::recursive);
  fs::copy(kSuite + "/" + manifest_dir_name, dir + "/" + manifest_dir_name,
           fs::copy_options::recursive);
}

verify::Manifest LoadManifest(const std::string& path) {
  auto m = verify::ParseManifest(ReadText(path));
  INFO(m.status().message());
  REQUIRE(m.ok());
  return m.value();
}

verify::RunOptions Options(const std::vector<int>& threads,
                           const std::vector<std::string>& isas, std::FILE* out) {
  verify::RunOptions o;
  for (const std::string& isa : isas) {
    for (int t : threads) o.paths.push_back({isa, t});
  }
  o.out = out;
  return o;
}

// Runs one manifest, returning the tally and what was printed.
verify::Tally Check(const std::string& manifest_path, bool explain, std::string* printed,
                    const std::vector<int>& threads = {1},
                    const std::vector<std::string>& isas = {"scalar"}) {
  const verify::Manifest m = LoadManifest(manifest_path);
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  verify::RunOptions o = Options(threads, isas, out);
  o.explain = explain;
  verify::Tally tally;
  const std::string dir = fs::path(manifest_path).parent_path().string();
  (void)verify::CheckManifest(m, dir, dir, o, &tally);
  std::rewind(out);
  printed->clear();
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), out)) > 0) printed->append(buf, n);
  std::fclose(out);
  return tally;
}

std::vector<std::string> SuiteManifests() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kSuite)) {
    if (fs::exists(e.path() / "manifest.txt")) out.push_back((e.path() / "manifest.txt").string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("the conformance suite is bit-exact on this build", "[verify][conformance]") {
  const std::vector<std::string> manifests = SuiteManifests();
  REQUIRE(manifests.size() >= 2);
  int vectors = 0;
  for (const std::string& m : manifests) {
    INFO(m);
    std::string printed;
    const verify::Tally t = Check(m, true, &printed, {1, 3}, verify::AvailableIsas());
    INFO(printed);
    CHECK(t.setup_errors == 0);
    CHECK(t.failed_runs == 0);
    CHECK(t.runs == 2 * static_cast<int>(verify::AvailableIsas().size()) * t.vectors);
    CHECK(t.ok());
    vectors += t.vectors;
  }
  CHECK(vectors >= 40);
}

TEST_CASE("the whole command passes: fxic verify", "[verify][conformance]") {
  std::string suite_flag = "--suite=" + kSuite;
  // Thread counts above 1 are covered above; spinning OpenMP threads make
  // them slow on a loaded machine.
  const char* argv[] = {"verify", suite_flag.c_str(), "--threads", "1", "--corrupt"};
  CHECK(cli::VerifyMain(5, const_cast<char**>(argv)) == cli::kExitOk);
}

TEST_CASE("every bit flip and truncation of every reference bitstream is rejected",
          "[verify][corruption]") {
  uint64_t flips = 0, truncations = 0;
  for (const std::string& path : SuiteManifests()) {
    const verify::Manifest m = LoadManifest(path);
    const std::string dir = fs::path(path).parent_path().string();
    auto model = verify::LoadManifestModel(m, dir);
    REQUIRE(model.ok());
    for (const verify::Vector& v : m.vectors) {
      INFO(v.name);
      const std::vector<uint8_t> bits = ReadBytes(dir + "/" + v.bitstream);
      REQUIRE(bits.size() == v.bits_size);
      const verify::CorruptionCounts c = verify::CheckCorruption(bits, model.value());
      CHECK(c.flips == 8 * bits.size());
      CHECK(c.flips_rejected == c.flips);
      CHECK(c.truncations == bits.size());
      CHECK(c.truncations_rejected == c.truncations);
      flips += c.flips;
      truncations += c.truncations;
    }
  }
  CHECK(flips > 100000);
  WARN("rejected " << flips << " single-bit flips and " << truncations << " truncations");
}

TEST_CASE("fxic decode of a corrupted bitstream fails and writes nothing",
          "[verify][corruption]") {
  TempDir tmp;
  const std::vector<uint8_t> bits = ReadBytes(kSuite + "/embedded/tall_3x200_q1.fxic");
  REQUIRE(bits.size() > 100);
  const std::string in = tmp.path + "/bad.fxic", out = tmp.path + "/out.ppm";
  // One flipped bit in each byte (rotating the bit), and some truncations.
  int cases = 0;
  for (size_t i = 0; i < bits.size(); i += 3) {
    std::vector<uint8_t> bad = bits;
    if (i % 2 == 0) {
      bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
    } else {
      bad.resize(i);
    }
    WriteBytes(in, bad);
    const char* argv[] = {"decode", in.c_str(), "-o", out.c_str(), "--quiet"};
    INFO("case " << i);
    CHECK(cli::DecodeMain(5, const_cast<char**>(argv)) == cli::kExitError);
    CHECK_FALSE(fs::exists(out));
    ++cases;
  }
  CHECK(cases > 30);
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  }
}

TEST_CASE("a damaged reference bitstream is reported", "[verify][tamper]") {
  TempDir tmp;
  CopySuite("embedded", tmp.path);
  const std::string file = tmp.path + "/embedded/noise_61x47_q4.fxic";
  std::vector<uint8_t> b = ReadBytes(file);
  b[b.size() / 2] ^= 0x10;
  WriteBytes(file, b);
  std::string printed;
  const verify::Tally t = Check(tmp.path + "/embedded/manifest.txt", false, &printed);
  INFO(printed);
  CHECK_FALSE(t.ok());
  CHECK(t.setup_errors == 1);
  CHECK(t.failed_vectors == 1);
  CHECK(printed.find("does not match its recorded size and sha256") != std::string::npos);
  // The command exits 1.
  const std::string suite_flag = "--suite=" + tmp.path;
  const char* argv[] = {"verify", suite_flag.c_str(), "-t", "1"};
  CHECK(cli::VerifyMain(4, const_cast<char**>(argv)) == cli::kExitError);
}

TEST_CASE("a reference bitstream the encoder does not reproduce is explained",
          "[verify][tamper]") {
  TempDir tmp;
  CopySuite("synthetic-tiny", tmp.path);
  const std::string dir = tmp.path + "/synthetic-tiny";
  // Make the q4 vector's reference the q1 bitstream (recording its hash, as
  // a stale or foreign record would): encoding now differs at the quality
  // field, and decoding the reference gives another image.
  verify::Manifest m = LoadManifest(dir + "/manifest.txt");
  verify::Vector* q1 = nullptr;
  verify::Vector* q4 = nullptr;
  for (verify::Vector& v : m.vectors) {
    if (v.name == "edges_80x65_q1") q1 = &v;
    if (v.name == "edges_80x65_q4") q4 = &v;
  }
  REQUIRE(q1 != nullptr);
  REQUIRE(q4 != nullptr);
  q4->bitstream = q1->bitstream;
  q4->bits_size = q1->bits_size;
  q4->bits_sha256 = q1->bits_sha256;
  // And as if the recording machine's g_a.2 output had differed.
  REQUIRE(q4->enc_layers.size() > 2);
  std::string& h = q4->enc_layers[2].hash;
  h[0] = h[0] == 'a' ? 'b' : 'a';
  WriteText(dir + "/manifest.txt", verify::FormatManifest(m));
  std::string printed;
  const verify::Tally t = Check(dir + "/manifest.txt", true, &printed);
  INFO(printed);
  CHECK_FALSE(t.ok());
  CHECK(t.failed_vectors == 1);
  CHECK(t.failed_runs == 1);
  CHECK(printed.find("ENC+DEC") != std::string::npos);
  CHECK(printed.find("first differing byte 7 (header field quality): reference 0x00, got 0x03") != std::string::npos);
  CHECK(printed.find("first differing layer: g_a.2 (conv5/2, 32x32x8)") != std::string::npos);
  // Decoding the q1 bitstream differs from the q4 record from h_s on.
  CHECK(printed.find("decoding the reference: reconstruction sha256 differs") !=
        std::string::npos);
  CHECK(printed.find("first differing layer: h_s.0") != std::string::npos);
}

TEST_CASE("a reconstruction that differs from the record names the first layer",
          "[verify][tamper]") {
  TempDir tmp;
  CopySuite("embedded", tmp.path);
  const std::string path = tmp.path + "/embedded/manifest.txt";
  verify::Manifest m = LoadManifest(path);
  verify::Vector& v = m.vectors.at(3);
  REQUIRE(v.dec_layers.size() > 8);
  // As if the record came from a machine whose g_s.4 output differed.
  v.recon_sha256[0] = v.recon_sha256[0] == '0' ? '1' : '0';
  std::string& h = v.dec_layers[8].hash;
  h[5] = h[5] == 'a' ? 'b' : 'a';
  const std::string layer = v.dec_layers[8].layer;
  WriteText(path, verify::FormatManifest(m));
  std::string printed;
  const verify::Tally t = Check(path, true, &printed);
  INFO(printed);
  CHECK(t.failed_runs == 1);
  CHECK(printed.find("DEC+SELF") != std::string::npos);
  CHECK(printed.find("first differing layer: " + layer) != std::string::npos);
}

TEST_CASE("a manifest for another model is refused", "[verify][tamper]") {
  TempDir tmp;
  CopySuite("embedded", tmp.path);
  const std::string path = tmp.path + "/embedded/manifest.txt";
  verify::Manifest m = LoadManifest(path);
  m.model_id[0] = m.model_id[0] == '0' ? '1' : '0';
  WriteText(path, verify::FormatManifest(m));
  std::string printed;
  const verify::Tally t = Check(path, false, &printed);
  CHECK_FALSE(t.ok());
  CHECK(t.setup_errors == 1);
  CHECK(printed.find("is not the one this manifest was recorded with") != std::string::npos);
}

TEST_CASE("record on one machine, check on another: fxic verify --record / --manifest",
          "[verify][record]") {
  TempDir tmp;
  const std::string images = tmp.path + "/my photos";
  fs::create_directories(images);
  fs::copy_file(kSuite + "/images/kodim23_64x64.ppm", images + "/a.ppm");
  fs::copy_file(kSuite + "/images/edges_80x65.ppm", images + "/b c.ppm");
  fs::copy_file(std::string(FXIC_SOURCE_DIR) + "/tests/data/kodim23_crop.png",
                images + "/photo.png");
  const std::string manifest = tmp.path + "/mine.txt";
  {
    const char* argv[] = {"verify", "--record", images.c_str(), "-o", manifest.c_str(),
                          "-q", "1,3.5"};
    REQUIRE(cli::VerifyMain(7, const_cast<char**>(argv)) == cli::kExitOk);
  }
  const verify::Manifest m = LoadManifest(manifest);
  CHECK(m.model_spec == "embedded");
  CHECK(m.vectors.size() == 6);
  CHECK(m.vectors[2].image == "b c.ppm");
  CHECK(m.vectors[2].bitstream.empty());
  {
    const char* argv[] = {"verify", "--manifest", manifest.c_str(), images.c_str(), "-t",
                          "1"};
    CHECK(cli::VerifyMain(6, const_cast<char**>(argv)) == cli::kExitOk);
  }
  // Another image under the same name is a mismatch.
  fs::copy_file(kSuite + "/images/noise_61x47.ppm", images + "/a.ppm",
                fs::copy_options::overwrite_existing);
  {
    const char* argv[] = {"verify", "--manifest", manifest.c_str(), images.c_str(), "-t",
                          "1", "--explain"};
    CHECK(cli::VerifyMain(7, const_cast<char**>(argv)) == cli::kExitError);
  }
  // An existing manifest is kept without -f.
  {
    const char* argv[] = {"verify", "--record", images.c_str(), "-o", manifest.c_str()};
    CHECK(cli::VerifyMain(5, const_cast<char**>(argv)) == cli::kExitError);
  }
}

TEST_CASE("ISA paths: every available one can be chosen, others fail clearly",
          "[verify][isa]") {
  const std::vector<std::string> available = verify::AvailableIsas();
  REQUIRE_FALSE(available.empty());
  CHECK(available.front() == "scalar");
  auto all = verify::ParseIsaList("all");
  REQUIRE(all.ok());
  CHECK(all.value() == available);
  CHECK(verify::ParseIsaList("auto").value() ==
        std::vector<std::string>{available.back()});
  CHECK(verify::ParseIsaList("scalar,scalar").value().size() == 1);
  for (const std::string& isa : available) {
    CHECK(verify::ActivateIsa(isa).ok());
    CHECK(verify::CurrentIsa() == isa);
  }
  CHECK(verify::ActivateIsa(available.back()).ok());
  // A known path this machine lacks (neon on x86-64, avx2 elsewhere).
  std::string missing;
  for (const std::string& isa : verify::KnownIsas()) {
    if (std::find(available.begin(), available.end(), isa) == available.end()) missing = isa;
  }
  REQUIRE_FALSE(missing.empty());
  auto lacking = verify::ParseIsaList("scalar," + missing);
  REQUIRE_FALSE(lacking.ok());
  CHECK(lacking.status().message().find("not available") != std::string::npos);
  auto bogus = verify::ParseIsaList("sse9");
  REQUIRE_FALSE(bogus.ok());
  CHECK(bogus.status().message().find("unknown ISA path 'sse9'") != std::string::npos);
  CHECK_FALSE(verify::ParseIsaList("").ok());

  setenv("FXIC_ISA", missing.c_str(), 1);
  auto env = verify::IsaListFromFlagOrEnv("");
  CHECK_FALSE(env.ok());
  CHECK(env.status().message().find("FXIC_ISA") != std::string::npos);
  CHECK(verify::IsaListFromFlagOrEnv("scalar").ok());  // the flag wins
  const char* argv[] = {"verify", "-t", "1"};
  CHECK(cli::VerifyMain(3, const_cast<char**>(argv)) == cli::kExitUsage);
  setenv("FXIC_ISA", "scalar", 1);
  CHECK(verify::IsaListFromFlagOrEnv("").value() == std::vector<std::string>{"scalar"});
  unsetenv("FXIC_ISA");
  const std::string flag = "--isa=" + missing;
  const char* argv2[] = {"verify", flag.c_str()};
  CHECK(cli::VerifyMain(2, const_cast<char**>(argv2)) == cli::kExitUsage);
}

TEST_CASE("manifests round-trip and reject malformed lines", "[verify][manifest]") {
  const verify::Manifest m = LoadManifest(kSuite + "/synthetic-tiny/manifest.txt");
  const std::string text = verify::FormatManifest(m);
  auto again = verify::ParseManifest(text);
  REQUIRE(again.ok());
  CHECK(verify::FormatManifest(again.value()) == text);
  CHECK(again.value().vectors.size() == m.vectors.size());

  const std::string head = "fxic-verify-manifest 1\nmodel 0123456789abcdef embedded\n";
  CHECK(verify::ParseManifest(head).ok());
  CHECK_FALSE(verify::ParseManifest("fxic-verify-manifest 2\n").ok());
  CHECK_FALSE(verify::ParseManifest("hello\n").ok());
  CHECK_FALSE(verify::ParseManifest("fxic-verify-manifest 1\n").ok());  // no model
  CHECK_FALSE(verify::ParseManifest(head + "frobnicate\n").ok());
  CHECK_FALSE(verify::ParseManifest(head + "vector a b 1 4 10 xyz xyz -\n").ok());
  CHECK_FALSE(verify::ParseManifest(head + "enc nobody g_a.0:1x1x1:0123456789abcdef\n").ok());
  auto bad = verify::ParseManifest(head + "vector a\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("line 3") != std::string::npos);

  std::string s;
  CHECK(verify::UnescapeToken(verify::EscapeToken("a b%c\td"), &s));
  CHECK(s == "a b%c\td");
  CHECK(verify::EscapeToken("a b") == "a%20b");
  CHECK_FALSE(verify::UnescapeToken("a%2", &s));
  CHECK_FALSE(verify::UnescapeToken("a%zz", &s));
}

TEST_CASE("the suite's images come from the generator and its model is current",
          "[verify][suite]") {
  auto photo = ReadImage(std::string(FXIC_SOURCE_DIR) + "/tests/data/kodim23_crop.png",
                         ReadOptions());
  REQUIRE(photo.ok());
  auto crops = verify::PhotoCrops(photo.value());
  REQUIRE(crops.ok());
  std::vector<verify::NamedImage> images = verify::GeneratedImages();
  for (auto& c : crops.value()) images.push_back(c);
  CHECK(images.size() == 10);
  for (const verify::NamedImage& im : images) {
    INFO(im.name);
    CHECK(ReadBytes(kSuite + "/images/" + im.name + ".ppm") == verify::EncodePpm(im.image));
  }
  // The suite keeps a copy of the synthetic model; when the model is
  // regenerated, the suite must be re-recorded (fxic verify --update-suite).
  CHECK(ReadBytes(kSuite + "/synthetic-tiny/model.fxm") ==
        ReadBytes(std::string(FXIC_SOURCE_DIR) + "/models/synthetic-tiny.fxm"));
}

TEST_CASE("layer digests hash fixed little-endian bytes", "[verify]") {
  Tensor16 t(1, 2, 3);
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<int16_t>(i * 1000 - 2500);
  // SHA-256 of u32 1, 2, 3 then int16 -2500, -1500, ..., 2500, all
  // little-endian; pinned so that no platform can hash native bytes.
  const uint8_t bytes[] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x3c, 0xf6, 0x24, 0xfa,
                           0x0c, 0xfe, 0xf4, 0x01, 0xdc, 0x05, 0xc4, 0x09};
  const Sha256Digest d = Sha256Of(bytes, sizeof(bytes));
  CHECK(verify::LayerDigest(t) == ToHex(d.data(), 8));
  Tensor16 u = t;
  u.data[5] ^= 1;
  CHECK(verify::LayerDigest(u) != verify::LayerDigest(t));
}

}  // namespace
}  // namespace fxic
