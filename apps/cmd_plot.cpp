// `fxic plot`: RD curves (CompressAI-style JSON) drawn as SVG or PNG.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/plot_chart.h"
#include "apps/rd_curve.h"

namespace fxic::cli {
namespace {

constexpr char kHelp[] =
    "Usage: fxic plot CURVE.json... -o OUT.svg|OUT.png [options]\n"
    "\n"
    "Draws rate-distortion curves: bits per pixel against PSNR over RGB and\n"
    "against MS-SSIM over RGB in dB (-10 log10(1 - MS-SSIM)), one panel each,\n"
    "a line and a marker per point for every curve, with a legend. Curves are\n"
    "files in CompressAI's results schema (what 'fxic eval' writes, and\n"
    "CompressAI's published results). PNG is drawn by fxic itself (embedded\n"
    "DejaVu Sans bitmaps), no other program needed.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   .svg or .png (required)\n"
    "      --metric M      psnr, ms-ssim, or both (default: both, side by "
    "side)\n"
    "      --title TEXT    title above the plot\n"
    "      --xlim LO,HI    bpp range (default: 0 to the largest bpp)\n"
    "      --ylim LO,HI    metric range (default: fitted to the points shown)\n"
    "  -f, --force         overwrite OUTPUT if it exists\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 success, 1 error (unreadable curve, I/O), 2 bad command "
    "line.\n";

bool ParseRange(const std::string& s, double* lo, double* hi) {
  const size_t comma = s.find(',');
  if (comma == std::string::npos) return false;
  char* end = nullptr;
  const std::string a = s.substr(0, comma), b = s.substr(comma + 1);
  *lo = std::strtod(a.c_str(), &end);
  if (a.empty() || *end != '\0') return false;
  *hi = std::strtod(b.c_str(), &end);
  if (b.empty() || *end != '\0') return false;
  return *hi > *lo;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(
            s[s.size() - suffix.size() + i])) != suffix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

int PlotMain(int argc, char** argv) {
  Args args(
      {{"-o", "--output"}, {"--metric"}, {"--title"}, {"--xlim"}, {"--ylim"}},
      {{"-f", "--force"}, {"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "plot");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (args.positional().empty())
    return UsageError("expected curve files", "plot");
  if (!args.Has("-o")) return UsageError("missing -o OUTPUT", "plot");
  const std::string out = args.Get("-o");
  const bool png = EndsWith(out, ".png");
  if (!png && !EndsWith(out, ".svg"))
    return UsageError("OUTPUT must end in .svg or .png", "plot");

  plot::ChartOptions o;
  const std::string metric = args.Get("--metric", "both");
  if (metric == "psnr") {
    o.metrics = {rd::Metric::kPsnr};
  } else if (metric == "ms-ssim") {
    o.metrics = {rd::Metric::kMsSsimDb};
  } else if (metric != "both") {
    return UsageError("--metric must be psnr, ms-ssim or both", "plot");
  }
  o.title = args.Get("--title");
  if (args.Has("--xlim")) {
    o.has_xlim = ParseRange(args.Get("--xlim"), &o.xlim_lo, &o.xlim_hi);
    if (!o.has_xlim)
      return UsageError("--xlim must be LO,HI with LO < HI", "plot");
  }
  if (args.Has("--ylim")) {
    o.has_ylim = ParseRange(args.Get("--ylim"), &o.ylim_lo, &o.ylim_hi);
    if (!o.has_ylim)
      return UsageError("--ylim must be LO,HI with LO < HI", "plot");
  }

  std::vector<rd::RdCurve> curves;
  for (const auto& p : args.positional()) {
    auto c = rd::ReadRdCurve(p);
    if (!c.ok()) return Fail(c.status().message());
    curves.push_back(std::move(c).value());
  }
  const plot::Scene scene = plot::MakeRdChart(curves, o);
  std::vector<uint8_t> bytes;
  if (png) {
    auto encoded =
        EncodeImageBytes(plot::RenderRaster(scene), ImageFormat::kPng);
    if (!encoded.ok()) return Fail(encoded.status().message());
    bytes = std::move(encoded).value();
  } else {
    const std::string svg = plot::RenderSvg(scene);
    bytes.assign(svg.begin(), svg.end());
  }
  st = WriteFileAtomic(out, bytes, args.Has("-f"));
  if (!st.ok()) return Fail(st.message());
  return kExitOk;
}

}  // namespace fxic::cli
