// `fxic eval`: rate-distortion measurement of fxic or a classical codec.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/rd_eval.h"
#include "apps/rd_process.h"
#include "codec/codec.h"
#include "codec/model.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fxic::cli {
namespace {

constexpr char kHelp[] =
    "Usage: fxic eval IMAGES... [options]\n"
    "\n"
    "Measures a rate-distortion curve: every image (PNG/PPM/PGM files, or\n"
    "directories of them) is encoded at every quality, the compressed file is\n"
    "written, read back and decoded, and bpp (every byte of the file, header\n"
    "included), PSNR over RGB and MS-SSIM over RGB are measured. Writes a\n"
    "per-image CSV and the averaged curve as JSON in CompressAI's results\n"
    "schema, comparable with CompressAI's published results; without --csv or\n"
    "--json the JSON goes to stdout. MS-SSIM needs images of at least\n"
    "161x161 pixels.\n"
    "\n"
    "Options:\n"
    "  -c, --codec C       fxic (default), or a classical codec run through "
    "the\n"
    "                      system's tools: jpeg (= jpeg420), jpeg444, webp\n"
    "                      (= webp_m6), webp_m4, avif (= avif444), jxl, j2k\n"
    "                      (= jpeg2000)\n"
    "  -q, --qualities L   comma-separated qualities: for fxic 1..levels of "
    "the\n"
    "                      model (default: all levels; fractions "
    "interpolate);\n"
    "                      for a classical codec its own parameter (default: "
    "the\n"
    "                      sweep of the project's anchors, see --list-codecs)\n"
    "  -m, --model FILE    model file (default: the embedded model)\n"
    "      --list FILE     read image paths from FILE, one per line, too\n"
    "      --csv FILE      write the per-image results\n"
    "      --json FILE     write the averaged curve\n"
    "      --name NAME     curve name in the JSON (default: codec / model "
    "name)\n"
    "      --description D curve description in the JSON\n"
    "  -j, --jobs N        points evaluated in parallel (default: all cores);\n"
    "                      results other than timings do not depend on it; "
    "use\n"
    "                      -j 1 for timings\n"
    "      --keep DIR      keep the compressed files in DIR (default: a\n"
    "                      temporary directory, removed at the end)\n"
    "      --list-codecs   print the classical codecs and their commands\n"
    "  -f, --force         overwrite existing output files\n"
    "      --drop-alpha    accept images with transparency, discarding alpha\n"
    "      --quiet         no progress bar (it is drawn only on a terminal)\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, I/O, a codec failed),\n"
    "2 bad command line.\n";

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool ValidClassicalParam(const std::string& q) {
  // Numbers only: the value becomes one argv entry of the encoder.
  if (q.empty() || q.size() > 12) return false;
  for (char ch : q) {
    if (!((ch >= '0' && ch <= '9') || ch == '.')) return false;
  }
  return true;
}

}  // namespace

int EvalMain(int argc, char** argv) {
  Args args({{"-c", "--codec"},
             {"-q", "--qualities"},
             {"-m", "--model"},
             {"--list"},
             {"--csv"},
             {"--json"},
             {"--name"},
             {"--description"},
             {"-j", "--jobs"},
             {"--keep"}},
            {{"-f", "--force"},
             {"--drop-alpha"},
             {"--quiet"},
             {"--list-codecs"},
             {"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "eval");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (args.Has("--list-codecs")) {
    for (const auto& c : rd::ClassicalCodecs()) {
      std::string aliases, sweep;
      for (const auto& a : c.aliases)
        aliases += (aliases.empty() ? " (" : ", ") + a;
      if (!aliases.empty()) aliases += ")";
      for (const auto& q : c.default_params)
        sweep += (sweep.empty() ? "" : ",") + q;
      std::printf("%s%s: %s; sweep %s\n", c.name.c_str(), aliases.c_str(),
                  c.command.c_str(), sweep.c_str());
    }
    return kExitOk;
  }

  std::vector<std::string> inputs = args.positional();
  if (args.Has("--list")) {
    auto bytes = ReadFileBytes(args.Get("--list"));
    if (!bytes.ok()) return Fail(bytes.status().message());
    std::string text(bytes.value().begin(), bytes.value().end()), line;
    for (size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == '\n') {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
          line.pop_back();
        if (!line.empty()) inputs.push_back(line);
        line.clear();
      } else {
        line += text[i];
      }
    }
  }
  if (inputs.empty())
    return UsageError("expected images or directories", "eval");

  const std::string codec_name = args.Get("-c", "fxic");
  const rd::ClassicalCodec* codec = nullptr;
  if (codec_name != "fxic") {
    codec = rd::FindClassicalCodec(codec_name);
    if (codec == nullptr)
      return UsageError("unknown codec '" + codec_name + "'", "eval");
  }
  int jobs_default = 1;
#ifdef _OPENMP
  jobs_default = omp_get_num_procs();
#endif
  auto jobs =
      ParseInt(args.Get("-j", std::to_string(jobs_default)), 1, 1024, "--jobs");
  if (!jobs.ok()) return UsageError(jobs.status().message(), "eval");
  for (const char* flag : {"--csv", "--json"}) {
    if (args.Has(flag) && args.Get(flag) != "-" && !args.Has("-f") &&
        std::filesystem::exists(args.Get(flag))) {
      return Fail(args.Get(flag) + " exists; use -f to overwrite");
    }
  }

  rd::EvalOptions eo;
  eo.codec = codec;
  eo.jobs = jobs.value();
  eo.drop_alpha = args.Has("--drop-alpha");
  Model model;
  std::string name = args.Get("--name"),
              description = args.Get("--description");
  if (codec == nullptr) {
    auto m = LoadModelArg(args.Get("-m"));
    if (!m.ok()) return Fail(m.status().message());
    model = std::move(m).value();
    eo.model = &model;
    if (args.Has("-q")) {
      eo.qualities = SplitComma(args.Get("-q"));
      for (const auto& q : eo.qualities) {
        auto q256 = ParseQuality(q);
        if (!q256.ok()) return UsageError(q256.status().message(), "eval");
        auto q8 = QualityToQ8(model, q256.value());
        if (!q8.ok()) return UsageError(q8.status().message(), "eval");
      }
    } else {
      for (int q = 1; q <= model.levels; ++q)
        eo.qualities.push_back(std::to_string(q));
    }
    if (name.empty())
      name =
          model.name.rfind("fxic", 0) == 0 ? model.name : "fxic-" + model.name;
    if (description.empty()) {
      description = "fxic " FXIC_VERSION ", model " + model.name + " (id " +
                    ModelIdHex(model.id) + ")" +
                    (model.description.empty() ? "" : ": " + model.description);
    }
  } else {
    eo.qualities =
        args.Has("-q") ? SplitComma(args.Get("-q")) : codec->default_params;
    for (const auto& q : eo.qualities) {
      if (!ValidClassicalParam(q)) {
        return UsageError("quality '" + q + "' is not a number", "eval");
      }
    }
    for (const auto* argv0 : {&codec->encode[0], &codec->decode[0]}) {
      if (!rd::ProgramInPath(*argv0)) {
        return Fail(
            *argv0 +
            " not found; install it (Debian: libjpeg-turbo-progs, webp, "
            "libavif-bin, libjxl-tools, libopenjp2-tools)");
      }
    }
    if (name.empty()) name = codec->name;
    if (description.empty()) {
      const std::string version = rd::ToolVersion(*codec);
      description = codec->command + (version.empty() ? "" : "; " + version) +
                    "; measured by fxic eval";
    }
  }
  if (eo.qualities.empty()) return UsageError("no qualities", "eval");

  auto images = rd::ListImages(inputs);
  if (!images.ok()) return Fail(images.status().message());

  // Work directory: --keep DIR, or a fresh temporary one removed at the end.
  std::string work;
  bool remove_work = false;
  if (args.Has("--keep")) {
    work = args.Get("--keep");
    std::error_code ec;
    std::filesystem::create_directories(work, ec);
    if (ec) return Fail(work + ": " + ec.message());
  } else {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "fxic_eval_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      return Fail("cannot create a temporary directory");
    work = pattern;
    remove_work = true;
  }
  eo.work_dir = work;

  rd::Progress progress(eo.qualities.size() * images.value().size(),
                        isatty(STDERR_FILENO) && !args.Has("--quiet"));
  eo.progress = &progress;
  auto points = rd::Evaluate(images.value(), eo);
  progress.Finish();
  if (remove_work) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  }
  if (!points.ok()) return Fail(points.status().message());

  const std::string csv_codec = codec ? codec->name : name;
  rd::RdCurve curve = rd::AverageCurve(points.value(), eo.qualities);
  curve.name = name;
  curve.description = description;
  const std::string json = rd::RdCurveToJson(curve);
  if (args.Has("--csv")) {
    const std::string csv = rd::EvalCsv(points.value(), csv_codec);
    st = WriteFileAtomic(args.Get("--csv"),
                         std::vector<uint8_t>(csv.begin(), csv.end()),
                         args.Has("-f"));
    if (!st.ok()) return Fail(st.message());
  }
  if (args.Has("--json")) {
    st = WriteFileAtomic(args.Get("--json"),
                         std::vector<uint8_t>(json.begin(), json.end()),
                         args.Has("-f"));
    if (!st.ok()) return Fail(st.message());
  }
  if (!args.Has("--csv") && !args.Has("--json"))
    std::fputs(json.c_str(), stdout);
  return kExitOk;
}

}  // namespace fxic::cli
