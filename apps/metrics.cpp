// PSNR (and, later, MS-SSIM) over RGB.
#include "apps/metrics.h"

#include <cmath>
#include <limits>

namespace fxic {

double PsnrRgb(const Image& a, const Image& b) {
  uint64_t sse = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    const int d = int{a.rgb[i]} - int{b.rgb[i]};
    sse += static_cast<uint64_t>(d * d);
  }
  if (sse == 0) return std::numeric_limits<double>::infinity();
  const double mse = static_cast<double>(sse) / static_cast<double>(a.rgb.size());
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace fxic
