// Rate-distortion evaluation: encode → file → decode → metrics, for fxic and
// for the system's classical codecs, over images × qualities.
#ifndef FXIC_APPS_RD_EVAL_H_
#define FXIC_APPS_RD_EVAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "apps/rd_curve.h"
#include "apps/rd_progress.h"
#include "codec/model.h"
#include "fixedpoint/status.h"

namespace fxic::rd {

// A classical codec driven through its command-line tools. In the argv
// templates {Q} is the quality parameter, {IN} the input file and {OUT} the
// output file.
struct ClassicalCodec {
  std::string name;                  // "jpeg420": the JSON and CSV name
  std::vector<std::string> aliases;  // "jpeg"
  std::string input_format;          // "ppm" or "png": what the encoder reads
  std::string extension;             // of the compressed file, e.g. "jpg"
  std::string decoded_format;        // "ppm" or "png": what the decoder writes
  std::vector<std::string> encode, decode;
  std::vector<std::string> version;         // argv printing the tool's version
  std::vector<std::string> default_params;  // the sweep, low to high rate
  std::string command;  // the encoder command, for descriptions
};

// The codecs and sweeps of ../shared/anchors/classical (jpeg420, jpeg444,
// jpeg2000, webp_m6, webp_m4, avif444, jxl), with the same commands.
const std::vector<ClassicalCodec>& ClassicalCodecs();
// By name or alias (jpeg, webp, avif, j2k, ...); nullptr if unknown.
const ClassicalCodec* FindClassicalCodec(const std::string& name);
// "libjpeg-turbo version 2.1.5 (build 20230203)": the first output line of
// the version command that holds a version number; empty if none.
std::string ToolVersion(const ClassicalCodec& codec);

// One image at one quality.
struct EvalPoint {
  std::string image;    // file name without directory and extension
  std::string quality;  // as given ("3", "2.5", "75", "3.5")
  uint32_t width = 0, height = 0;
  uint64_t bytes = 0;  // the whole compressed file
  double bpp = 0, psnr = 0, msssim = 0;
  double enc_seconds = 0, dec_seconds = 0;
};

struct EvalOptions {
  const ClassicalCodec* codec = nullptr;  // nullptr: fxic with `model`
  const Model* model = nullptr;
  std::vector<std::string> qualities;  // must not be empty
  int jobs = 1;                        // points evaluated at once
  std::string work_dir;                // existing directory for the files
  bool drop_alpha = false;
  Progress* progress = nullptr;  // optional
};

// Expands directories (their *.png, *.ppm, *.pgm, sorted by name) and keeps
// files as given. Error if nothing is left or a path does not exist.
StatusOr<std::vector<std::string>> ListImages(
    const std::vector<std::string>& paths);

// Evaluates every image at every quality: encode, write the compressed file
// to work_dir, read it back, decode, and measure bpp (file bytes · 8 /
// pixels), PSNR and MS-SSIM against the original. Timings: fxic's in-process
// Encode()/Decode() calls; a classical codec's process wall time (start-up
// included). Results are in (quality, image) order and, apart from the
// timings, identical for any `jobs`. The first failure (in that order) is
// the error.
StatusOr<std::vector<EvalPoint>> Evaluate(
    const std::vector<std::string>& images, const EvalOptions& options);

// Means over images per quality (CompressAI's averaging: bpp, PSNR in dB,
// MS-SSIM and seconds are each averaged arithmetically), in the order of
// `qualities`.
RdCurve AverageCurve(const std::vector<EvalPoint>& points,
                     const std::vector<std::string>& qualities);

// Per-image CSV with the columns of ../shared/anchors/classical's
// kodak_per_image.csv: codec,param,image,width,height,bytes,bpp,psnr,msssim,
// msssim_db,enc_s,dec_s.
std::string EvalCsv(const std::vector<EvalPoint>& points,
                    const std::string& codec);

}  // namespace fxic::rd

#endif  // FXIC_APPS_RD_EVAL_H_
