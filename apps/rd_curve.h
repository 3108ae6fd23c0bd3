// A rate-distortion curve and its JSON form (CompressAI's results schema).
#ifndef FXIC_APPS_RD_CURVE_H_
#define FXIC_APPS_RD_CURVE_H_

#include <string>
#include <vector>

#include "fixedpoint/status.h"

namespace fxic::rd {

// One curve: averages over a set of images, one entry per quality point.
// Every non-empty vector has the same length as bpp.
struct RdCurve {
  std::string name;
  std::string description;
  std::vector<double> bpp;           // bits per pixel (whole file)
  std::vector<double> psnr;          // "psnr-rgb", dB (mean over images)
  std::vector<double> msssim;        // "ms-ssim-rgb" (mean over images)
  std::vector<double> enc_seconds;   // "encoding_time" (mean per image)
  std::vector<double> dec_seconds;   // "decoding_time"
  std::vector<std::string> quality;  // the codec's parameter per point
};

// The metrics a curve can be compared on.
enum class Metric { kPsnr, kMsSsimDb };
const char* MetricLabel(Metric m);  // "PSNR (RGB) [dB]", "MS-SSIM (RGB) [dB]"
const char* MetricKey(Metric m);    // "psnr", "ms-ssim-db"

// The curve's values for a metric. MS-SSIM dB is −10·log10(1 − v) of the
// averaged "ms-ssim-rgb", as CompressAI's plot tool converts it (so our
// curves and the anchors are converted the same way); a file with only
// "ms-ssim-rgb-db" uses that. Empty if the curve lacks the metric.
std::vector<double> MetricValues(const RdCurve& c, Metric m);

// Reads a results file: {"name", "description", "results": {"bpp": [...],
// "psnr-rgb": [...], "ms-ssim-rgb": [...], ...}}. "bpp" is required; the
// other arrays are optional but must match its length. An optional top-level
// "quality" array (strings or numbers) names the points.
StatusOr<RdCurve> ParseRdCurve(const std::string& json_text);
StatusOr<RdCurve> ReadRdCurve(
    const std::string& path);  // errors start with path

// Writes the curve in CompressAI's schema, keys in CompressAI's order
// ("psnr-rgb", "ms-ssim-rgb", then our "ms-ssim-rgb-db", "bpp",
// "encoding_time", "decoding_time"), numbers as Python's repr would print
// them; "quality" goes at the top level, outside "results".
std::string RdCurveToJson(const RdCurve& c);

}  // namespace fxic::rd

#endif  // FXIC_APPS_RD_CURVE_H_
