// Tests for apps/plot_chart and apps/plot_render (fxic plot).
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/plot_chart.h"
#include "apps/plot_scene.h"
#include "apps/rd_curve.h"

namespace fxic::plot {
namespace {

namespace fs = std::filesystem;

rd::RdCurve Curve(const std::string& name, double offset) {
  rd::RdCurve c;
  c.name = name;
  c.bpp = {0.1, 0.25, 0.5, 1.0, 1.6};
  for (double b : c.bpp) {
    c.psnr.push_back(24 + offset + 6 * std::log2(1 + 4 * b));
    c.msssim.push_back(1 - 0.2 * std::pow(0.35, b * 3 + offset / 4));
  }
  return c;
}

int RunPlot(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return cli::PlotMain(static_cast<int>(args.size()), argv.data());
}

TEST_CASE("NiceTicks picks 1-2-2.5-5 steps covering the range", "[rd_plot]") {
  double step = 0;
  auto t = NiceTicks(0, 2, 6, &step);
  CHECK(step == 0.5);
  CHECK(t == std::vector<double>{0, 0.5, 1, 1.5, 2});
  t = NiceTicks(21.3, 40.6, 7, &step);
  CHECK(step == 5);
  CHECK(t.front() == 25);
  CHECK(t.back() == 40);
  NiceTicks(0, 0.9, 6, &step);
  CHECK(step == Approx(0.2));
  NiceTicks(0, 9, 6, &step);
  CHECK(step == 2);
  NiceTicks(0, 13, 6, &step);
  CHECK(step == 2.5);
}

TEST_CASE("The SVG has both panels, every curve in the legend, escaped text",
          "[rd_plot]") {
  ChartOptions o;
  o.title = "Kodak <24> & more";
  const Scene s = MakeRdChart({Curve("fxic", 0), Curve("jpeg420", -4)}, o);
  CHECK(s.width == 2 * o.panel_width);
  const std::string svg = RenderSvg(s);
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("Kodak &lt;24&gt; &amp; more") != std::string::npos);
  CHECK(svg.find("PSNR (RGB) [dB]") != std::string::npos);
  CHECK(svg.find("MS-SSIM (RGB) [dB]") != std::string::npos);
  CHECK(svg.find("Bit-rate [bpp]") != std::string::npos);
  size_t legend_entries = 0;
  for (size_t p = 0; (p = svg.find(">jpeg420</text>", p)) != std::string::npos;
       ++p)
    ++legend_entries;
  CHECK(legend_entries == 2);  // one legend per panel
  // Five markers per curve and panel: 20 markers (circles or polygons)
  // plus 2 legend markers per curve and panel... counted via the clip.
  size_t clipped_markers = 0;
  for (size_t p = 0;
       (p = svg.find("clip-path=\"url(#c", p)) != std::string::npos; ++p) {
    ++clipped_markers;
  }
  CHECK(clipped_markers ==
        2 * 2 * (5 + 1));  // panels × curves × (markers + line)
}

TEST_CASE("A single metric, limits; curves without the metric are skipped",
          "[rd_plot]") {
  ChartOptions o;
  o.metrics = {rd::Metric::kMsSsimDb};
  o.has_xlim = true;
  o.xlim_lo = 0;
  o.xlim_hi = 1;
  rd::RdCurve no_msssim = Curve("psnr-only", 1);
  no_msssim.msssim.clear();
  const Scene s = MakeRdChart({Curve("a", 0), no_msssim}, o);
  CHECK(s.width == o.panel_width);
  const std::string svg = RenderSvg(s);
  CHECK(svg.find(">a</text>") != std::string::npos);
  CHECK(svg.find("psnr-only") == std::string::npos);
  CHECK(svg.find("PSNR (RGB)") == std::string::npos);
  CHECK(svg.find(">1.0</text>") != std::string::npos);  // last x tick at xlim
}

TEST_CASE("The raster shows the curves' colours and the text", "[rd_plot]") {
  ChartOptions o;
  o.metrics = {rd::Metric::kPsnr};
  const Scene s = MakeRdChart({Curve("fxic", 0)}, o);
  const Image im = RenderRaster(s);
  REQUIRE(im.width == static_cast<uint32_t>(s.width));
  REQUIRE(im.rgb.size() == size_t{im.width} * im.height * 3);
  size_t blue = 0, dark = 0;
  for (size_t i = 0; i < im.rgb.size(); i += 3) {
    blue += im.rgb[i] == 31 && im.rgb[i + 1] == 119 &&
            im.rgb[i + 2] == 180;  // tab10 blue
    dark += im.rgb[i] < 60 && im.rgb[i + 1] < 60 && im.rgb[i + 2] < 60;
  }
  CHECK(blue > 200);  // line and markers
  CHECK(dark > 500);  // frame, ticks, labels
  CHECK(TextWidth("0.5", 12) > TextWidth("0", 12));
  CHECK(TextWidth("Bit-rate", 14) > TextWidth("Bit-rate", 12));
}

TEST_CASE("fxic plot writes SVG and PNG and checks its arguments",
          "[rd_plot]") {
  std::string pattern =
      (fs::temp_directory_path() / "fxic_plot_XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  const std::string dir = pattern;
  const std::string json = dir + "/a.json";
  std::ofstream(json) << rd::RdCurveToJson(Curve("fxic", 0));
  CHECK(RunPlot({"plot", json, "-o", dir + "/rd.svg"}) == cli::kExitOk);
  CHECK(RunPlot({"plot", json, "-o", dir + "/rd.png", "--metric", "psnr",
                 "--title", "T", "--xlim", "0,1.2"}) == cli::kExitOk);
  auto png = ReadImage(dir + "/rd.png", ReadOptions());
  REQUIRE(png.ok());
  CHECK(png.value().width == 560);
  CHECK(RunPlot({"plot", json, "-o", dir + "/rd.svg"}) ==
        cli::kExitError);  // exists
  CHECK(RunPlot({"plot", json, "-o", dir + "/rd.gif"}) == cli::kExitUsage);
  CHECK(RunPlot({"plot", json, "-o", dir + "/x.svg", "--xlim", "1,0"}) ==
        cli::kExitUsage);
  CHECK(RunPlot({"plot", json, "-o", dir + "/x.svg", "--metric", "ssim"}) ==
        cli::kExitUsage);
  CHECK(RunPlot({"plot", dir + "/missing.json", "-o", dir + "/x.svg"}) ==
        cli::kExitError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fxic::plot
