// Evaluate(): the RD measurement loop behind `fxic eval`.
#include "apps/rd_eval.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/metrics.h"
#include "apps/rd_process.h"
#include "codec/codec.h"

namespace fxic::rd {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Substitute(
    const std::vector<std::string>& tmpl,
    const std::map<std::string, std::string>& vars) {
  std::vector<std::string> out;
  for (std::string a : tmpl) {
    for (const auto& [key, value] : vars) {
      for (size_t pos; (pos = a.find(key)) != std::string::npos;)
        a.replace(pos, key.size(), value);
    }
    out.push_back(a);
  }
  return out;
}

std::string Stem(const std::string& path) {
  std::string base = fs::path(path).filename().string();
  const size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

// The last lines of a tool's output, for error messages.
std::string Tail(const std::string& output) {
  std::string s = output;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() > 300) s = "..." + s.substr(s.size() - 300);
  return s;
}

Status RunTool(const std::vector<std::string>& argv, double* seconds) {
  auto r = RunProcess(argv);
  if (!r.ok()) return r.status();
  if (r.value().exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Status::Error(cmd + " failed (exit " +
                         std::to_string(r.value().exit_code) +
                         "): " + Tail(r.value().output));
  }
  *seconds = r.value().seconds;
  return Status::Ok();
}

Status Measure(const Image& original, const Image& decoded, EvalPoint* p) {
  if (decoded.width != original.width || decoded.height != original.height) {
    return Status::Error("decoded size " + std::to_string(decoded.width) + "x" +
                         std::to_string(decoded.height) +
                         " differs from the original");
  }
  p->width = original.width;
  p->height = original.height;
  p->bpp = 8.0 * static_cast<double>(p->bytes) /
           (static_cast<double>(original.width) * original.height);
  p->psnr = PsnrRgb(original, decoded);
  FXIC_ASSIGN_OR_RETURN(p->msssim, MsSsimRgb(original, decoded));
  return Status::Ok();
}

Status EvalFxic(const Image& image, const std::string& base,
                const EvalOptions& o, EvalPoint* p) {
  FXIC_ASSIGN_OR_RETURN(int64_t q256, cli::ParseQuality(p->quality));
  FXIC_ASSIGN_OR_RETURN(int q8, QualityToQ8(*o.model, q256));
  EncodeOptions eo;
  eo.quality_q8 = q8;
  auto t0 = std::chrono::steady_clock::now();
  FXIC_ASSIGN_OR_RETURN(std::vector<uint8_t> bits, Encode(image, *o.model, eo));
  p->enc_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  const std::string file = base + ".fxic";
  Status st = WriteFileAtomic(file, bits, /*overwrite=*/true);
  if (!st.ok()) return st;
  FXIC_ASSIGN_OR_RETURN(std::vector<uint8_t> read_back, ReadFileBytes(file));
  p->bytes = read_back.size();
  t0 = std::chrono::steady_clock::now();
  FXIC_ASSIGN_OR_RETURN(Image decoded,
                        Decode(read_back.data(), read_back.size(), *o.model));
  p->dec_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  return Measure(image, decoded, p);
}

Status EvalClassical(const Image& image, const std::string& base,
                     const EvalOptions& o, EvalPoint* p) {
  const ClassicalCodec& c = *o.codec;
  // The encoder reads the 8-bit RGB pixels we measure against, re-encoded
  // without colour chunks (the encoders treat untagged input as sRGB).
  const std::string in = base + ".in." + c.input_format;
  FXIC_ASSIGN_OR_RETURN(
      std::vector<uint8_t> in_bytes,
      EncodeImageBytes(image, c.input_format == "png" ? ImageFormat::kPng
                                                      : ImageFormat::kPpm));
  Status st = WriteFileAtomic(in, in_bytes, /*overwrite=*/true);
  if (!st.ok()) return st;
  const std::string out = base + "." + c.extension;
  const std::string dec = base + ".dec." + c.decoded_format;
  st = RunTool(
      Substitute(c.encode, {{"{Q}", p->quality}, {"{IN}", in}, {"{OUT}", out}}),
      &p->enc_seconds);
  if (!st.ok()) return st;
  std::error_code ec;
  const auto size = fs::file_size(out, ec);
  if (ec) return Status::Error(out + ": " + ec.message());
  p->bytes = size;
  st = RunTool(Substitute(c.decode, {{"{IN}", out}, {"{OUT}", dec}}),
               &p->dec_seconds);
  if (!st.ok()) return st;
  FXIC_ASSIGN_OR_RETURN(Image decoded, ReadImage(dec, ReadOptions()));
  st = Measure(image, decoded, p);
  fs::remove(in, ec);
  fs::remove(dec, ec);
  return st;
}

}  // namespace

const std::vector<ClassicalCodec>& ClassicalCodecs() {
  static const std::vector<ClassicalCodec> codecs = [] {
    std::vector<ClassicalCodec> v;
    const std::vector<std::string> djpeg = {"djpeg", "-ppm", "-outfile",
                                            "{OUT}", "{IN}"};
    v.push_back(
        {"jpeg420",
         {"jpeg"},
         "ppm",
         "jpg",
         "ppm",
         {"cjpeg", "-quality", "{Q}", "-optimize", "-outfile", "{OUT}", "{IN}"},
         djpeg,
         {"cjpeg", "-version"},
         {"3", "5", "10", "20", "35", "55", "75", "85"},
         "cjpeg -quality Q -optimize (4:2:0)"});
    v.push_back({"jpeg444",
                 {},
                 "ppm",
                 "jpg",
                 "ppm",
                 {"cjpeg", "-quality", "{Q}", "-optimize", "-sample", "1x1",
                  "-outfile", "{OUT}", "{IN}"},
                 djpeg,
                 {"cjpeg", "-version"},
                 {"5", "10", "20", "35", "55", "75", "85"},
                 "cjpeg -quality Q -optimize -sample 1x1"});
    v.push_back(
        {"jpeg2000",
         {"j2k"},
         "ppm",
         "j2k",
         "ppm",
         {"opj_compress", "-i", "{IN}", "-o", "{OUT}", "-I", "-r", "{Q}",
          "-threads", "1"},
         {"opj_decompress", "-i", "{IN}", "-o", "{OUT}", "-threads", "1"},
         {"opj_compress", "-h"},
         {"240", "120", "80", "48", "32", "24", "16", "12"},
         "opj_compress -I -r R -threads 1 (.j2k codestream)"});
    const std::vector<std::string> dwebp = {"dwebp", "-quiet", "{IN}",
                                            "-ppm",  "-o",     "{OUT}"};
    v.push_back(
        {"webp_m6",
         {"webp"},
         "png",
         "webp",
         "ppm",
         {"cwebp", "-quiet", "-q", "{Q}", "-m", "6", "{IN}", "-o", "{OUT}"},
         dwebp,
         {"cwebp", "-version"},
         {"0", "5", "20", "40", "60", "75", "85", "90"},
         "cwebp -q Q -m 6"});
    v.push_back({"webp_m4",
                 {},
                 "png",
                 "webp",
                 "ppm",
                 {"cwebp", "-quiet", "-q", "{Q}", "{IN}", "-o", "{OUT}"},
                 dwebp,
                 {"cwebp", "-version"},
                 {"0", "5", "20", "40", "60", "75", "85", "90"},
                 "cwebp -q Q"});
    v.push_back({"avif444",
                 {"avif"},
                 "png",
                 "avif",
                 "png",
                 {"avifenc", "-j", "1", "-s", "6", "-y", "444", "-d", "8",
                  "--min", "{Q}", "--max", "{Q}", "{IN}", "{OUT}"},
                 {"avifdec", "-j", "1", "-d", "8", "{IN}", "{OUT}"},
                 {"avifenc", "--version"},
                 {"58", "52", "46", "40", "34", "28", "22", "14"},
                 "avifenc -j 1 -s 6 -y 444 -d 8 --min Q --max Q"});
    v.push_back(
        {"jxl",
         {"jpegxl"},
         "png",
         "jxl",
         "ppm",
         {"cjxl", "{IN}", "{OUT}", "-d", "{Q}", "-e", "7", "--num_threads=0"},
         {"djxl", "{IN}", "{OUT}", "--num_threads=1"},
         {"cjxl", "--version"},
         {"25", "12", "8", "5", "3.5", "2.5", "1.6", "1"},
         "cjxl -d D -e 7 --num_threads=0"});
    return v;
  }();
  return codecs;
}

const ClassicalCodec* FindClassicalCodec(const std::string& name) {
  for (const auto& c : ClassicalCodecs()) {
    if (c.name == name) return &c;
    for (const auto& a : c.aliases) {
      if (a == name) return &c;
    }
  }
  return nullptr;
}

std::string ToolVersion(const ClassicalCodec& codec) {
  auto r = RunProcess(codec.version);
  if (!r.ok()) return "";
  const std::string& out = r.value().output;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    for (size_t i = 0; i + 2 < line.size(); ++i) {
      if (isdigit(static_cast<unsigned char>(line[i])) && line[i + 1] == '.' &&
          isdigit(static_cast<unsigned char>(line[i + 2]))) {
        while (!line.empty() &&
               isspace(static_cast<unsigned char>(line.back())))
          line.pop_back();
        size_t first = line.find_first_not_of(" \t");
        return first == std::string::npos ? "" : line.substr(first);
      }
    }
    start = end + 1;
  }
  return "";
}

StatusOr<std::vector<std::string>> ListImages(
    const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(p, ec)) {
        if (!entry.is_regular_file(ec)) continue;
        std::string ext = entry.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(),
                       [](unsigned char ch) {
                         return static_cast<char>(std::tolower(ch));
                       });
        if (ext == ".png" || ext == ".ppm" || ext == ".pgm")
          found.push_back(entry.path().string());
      }
      if (ec) return Status::Error(p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);
    } else {
      return Status::Error(p + ": no such file or directory");
    }
  }
  if (out.empty()) return Status::Error("no images (PNG, PPM, PGM) found");
  return out;
}

StatusOr<std::vector<EvalPoint>> Evaluate(
    const std::vector<std::string>& images, const EvalOptions& o) {
  if (o.qualities.empty()) return Status::Error("no qualities");
  if (o.codec == nullptr && o.model == nullptr)
    return Status::Error("no model");
  const size_t n_img = images.size(), n = o.qualities.size() * n_img;
  std::vector<EvalPoint> points(n);
  std::vector<Status> status(n, Status::Ok());
  std::atomic<bool> failed{false};
  const int jobs = std::max(1, o.jobs);
  // Point i is quality i / n_img, image i % n_img. Each point reads its image
  // itself, so memory stays at `jobs` images.
#pragma omp parallel for schedule(dynamic, 1) num_threads(jobs)
  for (long i = 0; i < static_cast<long>(n); ++i) {
    if (failed.load()) continue;
    const size_t qi = static_cast<size_t>(i) / n_img,
                 ii = static_cast<size_t>(i) % n_img;
    EvalPoint& p = points[i];
    p.image = Stem(images[ii]);
    p.quality = o.qualities[qi];
    ReadOptions ro;
    ro.drop_alpha = o.drop_alpha;
    auto image = ReadImage(images[ii], ro);
    Status st = image.status();
    if (st.ok()) {
      const std::string base =
          (fs::path(o.work_dir) /
           (std::to_string(i) + "_" + p.image + "_q" + p.quality))
              .string();
      st = o.codec ? EvalClassical(image.value(), base, o, &p)
                   : EvalFxic(image.value(), base, o, &p);
      if (!st.ok())
        st = Status::Error(images[ii] + " at quality " + p.quality + ": " +
                           st.message());
    }
    if (!st.ok()) {
      status[i] = st;
      failed.store(true);
    }
    if (o.progress) o.progress->Step(p.image + " q" + p.quality);
  }
  for (const Status& st : status) {
    if (!st.ok()) return st;
  }
  return points;
}

RdCurve AverageCurve(const std::vector<EvalPoint>& points,
                     const std::vector<std::string>& qualities) {
  RdCurve c;
  for (const auto& q : qualities) {
    double bpp = 0, psnr = 0, msssim = 0, enc = 0, dec = 0;
    size_t count = 0;
    for (const auto& p : points) {
      if (p.quality != q) continue;
      bpp += p.bpp;
      psnr += p.psnr;
      msssim += p.msssim;
      enc += p.enc_seconds;
      dec += p.dec_seconds;
      ++count;
    }
    if (count == 0) continue;
    const double k = static_cast<double>(count);
    c.quality.push_back(q);
    c.bpp.push_back(bpp / k);
    c.psnr.push_back(psnr / k);
    c.msssim.push_back(msssim / k);
    c.enc_seconds.push_back(enc / k);
    c.dec_seconds.push_back(dec / k);
  }
  return c;
}

std::string EvalCsv(const std::vector<EvalPoint>& points,
                    const std::string& codec) {
  std::string out =
      "codec,param,image,width,height,bytes,bpp,psnr,msssim,msssim_db,enc_s,"
      "dec_s\n";
  char buf[512];
  for (const auto& p : points) {
    std::snprintf(
        buf, sizeof(buf), "%s,%s,%s,%u,%u,%llu,%.6f,%.6f,%.9f,%.6f,%.4f,%.4f\n",
        codec.c_str(), p.quality.c_str(), p.image.c_str(), p.width, p.height,
        static_cast<unsigned long long>(p.bytes), p.bpp, p.psnr, p.msssim,
        MsSsimDb(p.msssim), p.enc_seconds, p.dec_seconds);
    out += buf;
  }
  return out;
}

}  // namespace fxic::rd
