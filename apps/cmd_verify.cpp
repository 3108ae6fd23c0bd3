// `fxic verify`: prove bit-exact encoding and decoding on this machine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/verify_images.h"
#include "apps/verify_isa.h"
#include "apps/verify_manifest.h"
#include "apps/verify_runner.h"
#include "codec/codec.h"
#include "codec/model.h"

#ifndef FXIC_SOURCE_DIR
#define FXIC_SOURCE_DIR "."
#endif

namespace fxic::cli {
namespace {

namespace fs = std::filesystem;
using verify::Manifest;
using verify::Path;
using verify::PlannedVector;
using verify::Vector;

constexpr char kHelp[] =
    "Usage: fxic verify [options]                      run the conformance suite\n"
    "       fxic verify --manifest MANIFEST [DIR]       check images against a manifest\n"
    "       fxic verify --record DIR -o MANIFEST        record a manifest for DIR's images\n"
    "       fxic verify --update-suite                  re-record the conformance suite\n"
    "\n"
    "Checks that this build of fxic is bit-exact: for every vector, encoding\n"
    "must reproduce the reference bitstream byte for byte, decoding the\n"
    "reference must reproduce the recorded reconstruction (SHA-256), and\n"
    "decoding our own bitstream must give the same - on every ISA path and\n"
    "thread count. Prints a table (vector x path), a summary line, and exits 1\n"
    "on any mismatch.\n"
    "\n"
    "Options:\n"
    "      --suite DIR       conformance suite (default: $FXIC_CONFORMANCE_DIR, else\n"
    "                        the source tree's tests/conformance)\n"
    "  -t, --threads LIST    thread counts, comma-separated (default 1,2,3)\n"
    "      --isa LIST        kernel paths: scalar, avx2, avx512, avx512vnni, all\n"
    "                        or auto (default: $FXIC_ISA, else all that this build\n"
    "                        has and this CPU runs)\n"
    "      --explain         for each failing vector, name the first differing\n"
    "                        bitstream byte and the first differing layer\n"
    "      --corrupt         also check that every single-bit flip and every\n"
    "                        truncation of each reference bitstream is rejected\n"
    "  -m, --model FILE      model to use instead of the manifest's (its id must\n"
    "                        match the record)\n"
    "      --manifest FILE   check the manifest FILE; image paths are relative to\n"
    "                        DIR (default: the manifest's directory)\n"
    "      --record DIR      record the images in DIR (.png .ppm .pnm .pgm) into\n"
    "                        the manifest named by -o, with the model of -m or the\n"
    "                        embedded one\n"
    "  -o, --output FILE     manifest to write (--record)\n"
    "  -q, --qualities LIST  qualities to record (default: 1, middle, top level)\n"
    "      --bitstreams DIR  also store the bitstreams in DIR (--record), so that\n"
    "                        the check can decode them and --explain can name bytes\n"
    "  -f, --force           overwrite the manifest (--record)\n"
    "      --update-suite    regenerate the suite's images and re-record every\n"
    "                        manifest in it (after an intended change of output)\n"
    "      --replan          with --update-suite: use the default vector lists\n"
    "                        instead of the manifests' own\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 all bit-exact, 1 mismatch or error, 2 bad command line.\n";

StatusOr<std::vector<int>> ParseThreadList(const std::string& text) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    FXIC_ASSIGN_OR_RETURN(int t, ParseInt(text.substr(start, comma - start), 1, 1024,
                                          "each --threads entry"));
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    start = comma + 1;
  }
  return out;
}

std::string DefaultSuiteDir() {
  const char* env = std::getenv("FXIC_CONFORMANCE_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return std::string(FXIC_SOURCE_DIR) + "/tests/conformance";
}

std::string DirOf(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : file.substr(0, slash);
}

StatusOr<std::string> ReadText(const std::string& path) {
  FXIC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
  return std::string(bytes.begin(), bytes.end());
}

StatusOr<Manifest> ReadManifest(const std::string& path) {
  FXIC_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  auto m = verify::ParseManifest(text);
  if (!m.ok()) return Status::Error(path + ": " + m.status().message());
  return m;
}

Status WriteText(const std::string& path, const std::string& text, bool overwrite) {
  return WriteFileAtomic(path, std::vector<uint8_t>(text.begin(), text.end()), overwrite);
}

// The suite's manifests: DIR/<name>/manifest.txt, sorted by name.
StatusOr<std::vector<std::string>> SuiteManifests(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path m = entry.path() / "manifest.txt";
    if (entry.is_directory() && fs::exists(m)) out.push_back(m.string());
  }
  if (ec) return Status::Error(dir + ": " + ec.message());
  if (out.empty()) return Status::Error(dir + ": no */manifest.txt: not a conformance suite");
  std::sort(out.begin(), out.end());
  return out;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

int PrintSummary(const verify::Tally& t, const std::vector<Path>& paths, bool corrupt,
                 double seconds) {
  if (!t.failures.empty()) {
    std::printf("\nfailures:\n");
    for (const std::string& f : t.failures) std::printf("  %s\n", f.c_str());
  }
  std::vector<std::string> labels;
  for (const Path& p : paths) labels.push_back(p.Label());
  std::string corruption;
  if (corrupt) {
    corruption = "; corruption: " + std::to_string(t.flips_rejected) + "/" +
                 std::to_string(t.flips) + " bit flips and " +
                 std::to_string(t.truncations_rejected) + "/" +
                 std::to_string(t.truncations) + " truncations rejected";
  }
  std::printf(
      "\nverify: %s - %d/%d vectors bit-exact on %zu paths (%s) = %d runs, %d mismatched, "
      "%d errors%s; results digest %s; %s; %.1f s\n",
      t.ok() ? "PASS" : "FAIL", t.vectors - t.failed_vectors, t.vectors, paths.size(),
      Join(labels, " ").c_str(), t.runs,
      t.failed_runs, t.setup_errors, corruption.c_str(), verify::ResultsDigest(t).c_str(),
      verify::PlatformDescription().c_str(), seconds);
  return t.ok() ? kExitOk : kExitError;
}

// Lists image files directly in dir, sorted.
StatusOr<std::vector<std::string>> ListImages(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (ext == ".png" || ext == ".ppm" || ext == ".pnm" || ext == ".pgm") {
      out.push_back(entry.path().filename().string());
    }
  }
  if (ec) return Status::Error(dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Path of `target` as written in a manifest in `manifest_dir`: relative
// when it lies below that directory, else absolute.
std::string ManifestRelative(const std::string& target, const std::string& manifest_dir) {
  std::error_code ec;
  const fs::path abs_target = fs::absolute(target, ec);
  const fs::path abs_dir = fs::absolute(manifest_dir, ec);
  const fs::path rel = abs_target.lexically_normal().lexically_relative(
      abs_dir.lexically_normal());
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return abs_target.lexically_normal().generic_string();
}

// Records `plan` (images relative to image_dir) with `model` into a manifest.
// Bitstreams go to bits_dir (if not empty) and are named relative to
// manifest_dir.
StatusOr<Manifest> RecordPlan(const std::vector<PlannedVector>& plan,
                              const std::string& image_dir, const Model& model,
                              const std::string& model_spec, const std::string& manifest_dir,
                              const std::string& bits_dir) {
  Manifest m;
  m.model_id = ModelIdHex(model.id);
  m.model_spec = model_spec;
  m.model_name = model.name;
  if (!bits_dir.empty()) {
    std::error_code ec;
    fs::create_directories(bits_dir, ec);
    if (ec) return Status::Error(bits_dir + ": " + ec.message());
  }
  for (const PlannedVector& p : plan) {
    FXIC_ASSIGN_OR_RETURN(Image image,
                          ReadImage(verify::JoinPath(image_dir, p.image), ReadOptions()));
    std::vector<uint8_t> bits;
    auto v = verify::RecordVector(p, image, model, &bits);
    if (!v.ok()) return Status::Error(p.name + ": " + v.status().message());
    if (!bits_dir.empty()) {
      const std::string file = verify::JoinPath(bits_dir, p.name + ".fxic");
      FXIC_RETURN_IF_ERROR(WriteFileAtomic(file, bits, true));
      v.value().bitstream = ManifestRelative(file, manifest_dir);
    }
    std::printf("  recorded %-28s %6zu bytes  %s\n", p.name.c_str(), bits.size(),
                v.value().recon_sha256.substr(0, 16).c_str());
    m.vectors.push_back(std::move(v).value());
  }
  return m;
}

std::vector<PlannedVector> PlanOf(const Manifest& m) {
  std::vector<PlannedVector> plan;
  for (const Vector& v : m.vectors) plan.push_back({v.name, v.image, v.quality, v.band_rows});
  return plan;
}

int RecordUserImages(const Args& args) {
  const std::string dir = args.Get("--record"), out = args.Get("-o");
  if (out.empty()) return UsageError("--record needs -o MANIFEST", "verify");
  if (!args.Has("-f") && fs::exists(fs::symlink_status(out))) {
    return Fail(out + " exists; use -f to overwrite");
  }
  auto model = LoadModelArg(args.Get("-m"));
  if (!model.ok()) return Fail(model.status().message());
  const std::string manifest_dir = DirOf(out);
  std::string spec = "embedded";
  if (args.Has("-m")) spec = ManifestRelative(args.Get("-m"), manifest_dir);
  const int levels = model.value().levels;
  const std::string mid =
      std::to_string((1 + levels) / 2) + ((1 + levels) % 2 ? ".5" : "");
  std::string qualities = args.Get("-q", "1," + mid + "," + std::to_string(levels));
  std::vector<std::string> qs;
  for (size_t start = 0; start <= qualities.size();) {
    size_t comma = qualities.find(',', start);
    if (comma == std::string::npos) comma = qualities.size();
    const std::string q = qualities.substr(start, comma - start);
    auto parsed = ParseQuality(q);
    if (!parsed.ok()) return UsageError(parsed.status().message(), "verify");
    auto q8 = QualityToQ8(model.value(), parsed.value());
    if (!q8.ok()) return UsageError(q8.status().message(), "verify");
    if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
    start = comma + 1;
  }
  auto files = ListImages(dir);
  if (!files.ok()) return Fail(files.status().message());
  if (files.value().empty()) return Fail(dir + ": no .png, .ppm, .pnm or .pgm images");
  std::vector<PlannedVector> plan;
  for (const std::string& f : files.value()) {
    for (const std::string& q : qs) plan.push_back({f + "_q" + q, f, q, 4});
  }
  std::printf("recording %zu images x %zu qualities with model %s (%s)\n",
              files.value().size(), qs.size(), ModelIdHex(model.value().id).c_str(),
              model.value().name.c_str());
  auto m = RecordPlan(plan, dir, model.value(), spec, manifest_dir, args.Get("--bitstreams"));
  if (!m.ok()) return Fail(m.status().message());
  const std::string text = verify::FormatManifest(
      m.value(), {"Recorded by fxic verify --record on " + verify::PlatformDescription(),
                  "Check elsewhere with: fxic verify --manifest MANIFEST IMAGE_DIR"});
  const Status st = WriteText(out, text, args.Has("-f"));
  if (!st.ok()) return Fail(st.message());
  std::printf("wrote %s: %zu vectors\n", out.c_str(), m.value().vectors.size());
  return kExitOk;
}

// The suite's built-in entries: the synthetic test model (a copy of
// models/synthetic-tiny.fxm, every vector) and the embedded default model.
struct SuiteEntry {
  const char* dir;
  const char* source_model;  // relative to the source tree; "" = embedded
  bool full_plan;
};
constexpr SuiteEntry kSuiteEntries[] = {{"synthetic-tiny", "models/synthetic-tiny.fxm", true},
                                        {"embedded", "", false}};

int UpdateSuite(const Args& args, const std::string& suite) {
  const std::string source = FXIC_SOURCE_DIR;
  std::error_code ec;
  fs::create_directories(suite + "/images", ec);
  if (ec) return Fail(suite + "/images: " + ec.message());
  auto photo = ReadImage(source + "/tests/data/kodim23_crop.png", ReadOptions());
  if (!photo.ok()) return Fail(photo.status().message());
  auto crops = verify::PhotoCrops(photo.value());
  if (!crops.ok()) return Fail(crops.status().message());
  std::vector<verify::NamedImage> images = verify::GeneratedImages();
  for (auto& c : crops.value()) images.push_back(std::move(c));
  for (const verify::NamedImage& im : images) {
    const Status st = WriteFileAtomic(suite + "/images/" + im.name + ".ppm",
                                      verify::EncodePpm(im.image), true);
    if (!st.ok()) return Fail(st.message());
  }
  std::printf("wrote %zu images to %s/images\n", images.size(), suite.c_str());

  std::vector<std::string> dirs;
  for (const SuiteEntry& e : kSuiteEntries) dirs.push_back(suite + "/" + e.dir);
  auto existing = SuiteManifests(suite);
  if (existing.ok()) {
    for (const std::string& m : existing.value()) {
      const std::string d = DirOf(m);
      if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
    }
  }
  for (const std::string& dir : dirs) {
    const std::string manifest_path = dir + "/manifest.txt";
    const SuiteEntry* entry = nullptr;
    for (const SuiteEntry& e : kSuiteEntries) {
      if (dir == suite + "/" + e.dir) entry = &e;
    }
    fs::create_directories(dir, ec);
    if (ec) return Fail(dir + ": " + ec.message());
    std::string spec = "embedded";
    if (entry != nullptr && entry->source_model[0] != '\0') {
      // A private copy keeps the suite self-contained; a test checks it
      // still equals the source tree's model.
      auto bytes = ReadFileBytes(source + "/" + entry->source_model);
      if (!bytes.ok()) return Fail(bytes.status().message());
      const Status st = WriteFileAtomic(dir + "/model.fxm", bytes.value(), true);
      if (!st.ok()) return Fail(st.message());
      spec = "model.fxm";
    }
    Manifest old;
    const bool have_old = fs::exists(manifest_path);
    if (have_old) {
      auto m = ReadManifest(manifest_path);
      if (!m.ok()) return Fail(m.status().message());
      old = std::move(m).value();
      if (entry == nullptr) spec = old.model_spec;
    } else if (entry == nullptr) {
      continue;
    }
    Manifest probe;
    probe.model_spec = spec;
    auto model = verify::LoadManifestModel(probe, dir);
    if (!model.ok()) return Fail(model.status().message());
    std::vector<PlannedVector> plan;
    if (have_old && !args.Has("--replan")) {
      plan = PlanOf(old);
    } else if (entry != nullptr) {
      plan = verify::DefaultPlan(entry->full_plan, model.value().levels);
    } else {
      plan = PlanOf(old);
    }
    std::printf("%s: model %s (%s), %zu vectors\n", manifest_path.c_str(),
                ModelIdHex(model.value().id).c_str(), model.value().name.c_str(),
                plan.size());
    // Old bitstreams go first, so none is left behind by a renamed vector.
    for (const auto& f : fs::directory_iterator(dir, ec)) {
      if (f.path().extension() == ".fxic") fs::remove(f.path(), ec);
    }
    auto m = RecordPlan(plan, dir, model.value(), spec, dir, dir);
    if (!m.ok()) return Fail(m.status().message());
    const std::string text = verify::FormatManifest(
        m.value(),
        {"fxic conformance vectors. Generated by `fxic verify --update-suite`;",
         "change them only on purpose (docs/verify.md)."});
    const Status st = WriteText(manifest_path, text, true);
    if (!st.ok()) return Fail(st.message());
  }
  std::printf("suite %s updated; run `fxic verify` to check it\n", suite.c_str());
  return kExitOk;
}

}  // namespace

int VerifyMain(int argc, char** argv) {
  Args args({{"--suite"}, {"-t", "--threads"}, {"--isa"}, {"-m", "--model"},
             {"--manifest"}, {"--record"}, {"-o", "--output"}, {"-q", "--qualities"},
             {"--bitstreams"}},
            {{"--explain"}, {"--corrupt"}, {"-f", "--force"}, {"--update-suite"},
             {"--replan"}, {"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "verify");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  const int modes = args.Has("--manifest") + args.Has("--record") + args.Has("--update-suite");
  if (modes > 1) {
    return UsageError("--manifest, --record and --update-suite exclude each other", "verify");
  }
  const std::string suite = args.Get("--suite", DefaultSuiteDir());
  if (args.Has("--record")) {
    if (!args.positional().empty()) return UsageError("unexpected argument", "verify");
    return RecordUserImages(args);
  }
  if (args.Has("--update-suite")) {
    if (!args.positional().empty()) return UsageError("unexpected argument", "verify");
    return UpdateSuite(args, suite);
  }
  if (args.positional().size() > (args.Has("--manifest") ? 1u : 0u)) {
    return UsageError("unexpected argument '" + args.positional().back() + "'", "verify");
  }

  auto threads = ParseThreadList(args.Get("-t", "1,2,3"));
  if (!threads.ok()) return UsageError(threads.status().message(), "verify");
  auto isas = verify::IsaListFromFlagOrEnv(args.Get("--isa"));
  if (!isas.ok()) return UsageError(isas.status().message(), "verify");
  if (!verify::HaveThreads() && threads.value() != std::vector<int>{1}) {
    std::printf("note: this fxic is built without OpenMP; every thread count runs as 1, "
                "so only t1 is checked\n");
    threads = std::vector<int>{1};
  }
  verify::RunOptions options;
  for (const std::string& isa : isas.value()) {
    for (int t : threads.value()) options.paths.push_back({isa, t});
  }
  options.explain = args.Has("--explain");
  options.corrupt = args.Has("--corrupt");
  Model override_model;
  if (args.Has("-m")) {
    auto m = LoadModelArg(args.Get("-m"));
    if (!m.ok()) return Fail(m.status().message());
    override_model = std::move(m).value();
    options.model = &override_model;
  }

  // (manifest file, image directory) pairs to check.
  std::vector<std::pair<std::string, std::string>> work;
  if (args.Has("--manifest")) {
    const std::string m = args.Get("--manifest");
    work.push_back({m, args.positional().empty() ? DirOf(m) : args.positional()[0]});
  } else {
    auto manifests = SuiteManifests(suite);
    if (!manifests.ok()) return Fail(manifests.status().message());
    for (const std::string& m : manifests.value()) work.push_back({m, DirOf(m)});
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::printf("fxic verify on %s\n", verify::PlatformDescription().c_str());
  verify::Tally tally;
  for (const auto& [manifest_path, image_dir] : work) {
    std::printf("\n%s: ", manifest_path.c_str());
    auto m = ReadManifest(manifest_path);
    if (!m.ok()) {
      std::printf("\n");
      ++tally.manifests;
      ++tally.setup_errors;
      tally.failures.push_back(m.status().message());
      continue;
    }
    // Errors are counted in the tally and reported in the summary.
    (void)verify::CheckManifest(m.value(), DirOf(manifest_path), image_dir, options, &tally);
    std::fflush(stdout);
  }
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - t0).count();
  return PrintSummary(tally, options.paths, options.corrupt, seconds);
}

}  // namespace fxic::cli
