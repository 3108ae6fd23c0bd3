// Tests for apps/rd_eval (fxic eval's measurement loop) and the progress bar.
#include "apps/rd_eval.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/metrics.h"
#include "apps/rd_curve.h"
#include "apps/rd_process.h"
#include "codec/codec.h"

namespace fxic::rd {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "fxic_rd_eval_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Data(const std::string& rel) {
  return std::string(FXIC_SOURCE_DIR) + "/tests/data/" + rel;
}

const Model& EmbeddedModel() {
  static const Model model = [] {
    auto m = cli::LoadModelArg("");
    REQUIRE(m.ok());
    return std::move(m).value();
  }();
  return model;
}

int RunCli(int (*main_fn)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return main_fn(static_cast<int>(args.size()), argv.data());
}

TEST_CASE("fxic points: real bitstream, metrics of the decoded image",
          "[rd_eval]") {
  TempDir dir;
  const std::vector<std::string> images = {Data("kodim23_crop.png"),
                                           Data("rd/kodim05_crop181x163.png")};
  EvalOptions o;
  o.model = &EmbeddedModel();
  o.qualities = {"1", std::to_string(EmbeddedModel().levels)};
  o.work_dir = dir.path();
  auto points = Evaluate(images, o);
  REQUIRE(points.ok());
  REQUIRE(points.value().size() == 4);
  // (quality, image) order.
  CHECK(points.value()[0].image == "kodim23_crop");
  CHECK(points.value()[1].image == "kodim05_crop181x163");
  CHECK(points.value()[2].quality == o.qualities[1]);
  for (const EvalPoint& p : points.value()) {
    // Recompute independently through the library API.
    auto image = ReadImage(p.image == "kodim23_crop" ? images[0] : images[1],
                           ReadOptions());
    REQUIRE(image.ok());
    EncodeOptions eo;
    eo.quality_q8 =
        QualityToQ8(EmbeddedModel(), std::stoi(p.quality) * 256).value();
    auto bits = Encode(image.value(), EmbeddedModel(), eo);
    REQUIRE(bits.ok());
    CHECK(p.bytes == bits.value().size());
    CHECK(p.bpp == 8.0 * bits.value().size() /
                       (double(image.value().width) * image.value().height));
    auto decoded =
        Decode(bits.value().data(), bits.value().size(), EmbeddedModel());
    REQUIRE(decoded.ok());
    CHECK(p.psnr == PsnrRgb(image.value(), decoded.value()));
    CHECK(p.msssim == MsSsimRgb(image.value(), decoded.value()).value());
    CHECK(p.width == image.value().width);
    CHECK(p.enc_seconds > 0);
    CHECK(p.dec_seconds > 0);
  }
}

TEST_CASE("Results do not depend on the number of jobs", "[rd_eval]") {
  TempDir d1, d2;
  const std::vector<std::string> images = {Data("kodim23_crop.png"),
                                           Data("rd/kodim23_crop_jpeg_q10.png"),
                                           Data("rd/kodim05_crop181x163.png")};
  EvalOptions o;
  o.model = &EmbeddedModel();
  o.qualities = {"1", "2.5"};
  o.work_dir = d1.path();
  o.jobs = 1;
  auto a = Evaluate(images, o);
  o.work_dir = d2.path();
  o.jobs = 3;
  auto b = Evaluate(images, o);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a.value().size() == b.value().size());
  for (size_t i = 0; i < a.value().size(); ++i) {
    CHECK(a.value()[i].image == b.value()[i].image);
    CHECK(a.value()[i].bytes == b.value()[i].bytes);
    CHECK(a.value()[i].psnr == b.value()[i].psnr);
    CHECK(a.value()[i].msssim == b.value()[i].msssim);
  }
}

TEST_CASE("A classical codec reproduces the reference pair", "[rd_eval]") {
  const ClassicalCodec* jpeg = FindClassicalCodec("jpeg");
  REQUIRE(jpeg != nullptr);
  CHECK(jpeg->name == "jpeg420");
  CHECK(FindClassicalCodec("j2k")->name == "jpeg2000");
  CHECK(FindClassicalCodec("webp")->name == "webp_m6");
  CHECK(FindClassicalCodec("avif")->name == "avif444");
  CHECK(FindClassicalCodec("jxl")->name == "jxl");
  CHECK(FindClassicalCodec("bpg") == nullptr);
  if (!ProgramInPath("cjpeg") || !ProgramInPath("djpeg")) {
    WARN(
        "cjpeg/djpeg not installed (libjpeg-turbo-progs): classical eval not "
        "tested");
    return;
  }
  TempDir dir;
  EvalOptions o;
  o.codec = jpeg;
  o.qualities = {"10"};
  o.work_dir = dir.path();
  auto points = Evaluate({Data("kodim23_crop.png")}, o);
  REQUIRE(points.ok());
  const EvalPoint& p = points.value()[0];
  CHECK(p.bytes > 1000);
  CHECK(p.bpp == 8.0 * p.bytes / (256.0 * 256.0));
  // tests/data/rd/kodim23_crop_jpeg_q10.png was made by the same commands
  // (scripts/rd/make_test_pairs.sh) with libjpeg-turbo 2.1.5.
  if (ToolVersion(*jpeg).find("libjpeg-turbo version 2.1.5") !=
      std::string::npos) {
    CHECK(std::fabs(p.psnr - 27.589386302295) < 1e-6);
    CHECK(std::fabs(p.msssim - 0.898062391061803) < 1e-6);
  }
  // Only the compressed file stays in the work directory.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    CHECK(e.path().extension() == ".jpg");
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("Evaluation errors name the image", "[rd_eval]") {
  TempDir dir;
  // 100x100: too small for MS-SSIM's five scales.
  Image small;
  small.width = small.height = 100;
  small.rgb.assign(100 * 100 * 3, 128);
  const std::string path = dir.path() + "/small.png";
  REQUIRE(WriteImage(small, path).ok());
  EvalOptions o;
  o.model = &EmbeddedModel();
  o.qualities = {"1"};
  o.work_dir = dir.path();
  auto r = Evaluate({path}, o);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("small.png") != std::string::npos);
  CHECK(r.status().message().find("161") != std::string::npos);
  auto missing = Evaluate({dir.path() + "/nope.png"}, o);
  CHECK(!missing.ok());
}

TEST_CASE("ListImages expands directories, sorted, images only", "[rd_eval]") {
  TempDir dir;
  for (const char* n : {"b.png", "a.PNG", "c.ppm", "notes.txt"}) {
    std::ofstream(dir.path() + "/" + n) << "x";
  }
  auto list = ListImages({dir.path()});
  REQUIRE(list.ok());
  REQUIRE(list.value().size() == 3);
  CHECK(fs::path(list.value()[0]).filename() == "a.PNG");
  CHECK(fs::path(list.value()[2]).filename() == "c.ppm");
  CHECK(!ListImages({dir.path() + "/none"}).ok());
  fs::remove_all(dir.path() + "/b.png");
  CHECK(
      ListImages({dir.path() + "/notes.txt"}).ok());  // files are kept as given
}

TEST_CASE("AverageCurve and the CSV", "[rd_eval]") {
  std::vector<EvalPoint> pts(4);
  const char* q[] = {"1", "1", "2", "2"};
  for (int i = 0; i < 4; ++i) {
    pts[i].image = i % 2 ? "b" : "a";
    pts[i].quality = q[i];
    pts[i].width = 10;
    pts[i].height = 10;
    pts[i].bytes = 100 * (i + 1);
    pts[i].bpp = i + 1;
    pts[i].psnr = 30 + i;
    pts[i].msssim = 0.9 + 0.01 * i;
    pts[i].enc_seconds = 1;
    pts[i].dec_seconds = 2;
  }
  RdCurve c = AverageCurve(pts, {"1", "2"});
  CHECK(c.bpp == std::vector<double>{1.5, 3.5});
  CHECK(c.psnr == std::vector<double>{30.5, 32.5});
  CHECK(c.msssim[1] == Approx(0.925));
  CHECK(c.quality == std::vector<std::string>{"1", "2"});
  const std::string csv = EvalCsv(pts, "x");
  CHECK(csv.rfind("codec,param,image,width,height,bytes,bpp,psnr,msssim,msssim_"
                  "db,enc_s,dec_s\n",
                  0) == 0);
  CHECK(csv.find("x,2,b,10,10,400,4.000000,33.000000,0.930000000,") !=
        std::string::npos);
}

TEST_CASE("fxic eval writes CSV and JSON; refuses to overwrite", "[rd_eval]") {
  TempDir dir;
  const std::string csv = dir.path() + "/r.csv", json = dir.path() + "/r.json";
  const std::vector<std::string> args = {"eval",    Data("kodim23_crop.png"),
                                         "-q",      "1,2",
                                         "--csv",   csv,
                                         "--json",  json,
                                         "--quiet", "-j",
                                         "2"};
  REQUIRE(RunCli(cli::EvalMain, args) == cli::kExitOk);
  auto curve = ReadRdCurve(json);
  REQUIRE(curve.ok());
  CHECK(curve.value().bpp.size() == 2);
  CHECK(curve.value().quality == std::vector<std::string>{"1", "2"});
  CHECK(curve.value().description.find(EmbeddedModel().name) !=
        std::string::npos);
  std::ifstream f(csv);
  std::string header, line;
  std::getline(f, header);
  int rows = 0;
  while (std::getline(f, line)) ++rows;
  CHECK(rows == 2);
  CHECK(RunCli(cli::EvalMain, args) == cli::kExitError);  // exists, no -f
  CHECK(RunCli(cli::EvalMain, {"eval", Data("kodim23_crop.png"), "-c",
                               "bpg"}) == cli::kExitUsage);
  CHECK(RunCli(cli::EvalMain, {"eval", Data("kodim23_crop.png"), "-q", "99"}) ==
        cli::kExitUsage);
  CHECK(RunCli(cli::EvalMain, {"eval", Data("kodim23_crop.png"), "-c", "jpeg",
                               "-q", "5;rm"}) == cli::kExitUsage);
}

TEST_CASE("Progress bar text", "[rd_eval]") {
  CHECK(Progress::Render(0, 4, 0.0, 4) == "[    ] 0/4   0%  ETA --:--");
  CHECK(Progress::Render(1, 4, 10.0, 4) == "[#   ] 1/4  25%  ETA 0:30");
  CHECK(Progress::Render(4, 4, 75.0, 4) == "[####] 4/4 100%  1:15");
  CHECK(Progress::Render(1, 2, 3600.0, 2) == "[# ] 1/2  50%  ETA 1:00:00");
}

}  // namespace
}  // namespace fxic::rd
