// Image quality metrics for the apps (double precision is fine here: metrics
// never feed back into a bitstream).
#ifndef FXIC_APPS_METRICS_H_
#define FXIC_APPS_METRICS_H_

#include "codec/image.h"
#include "fixedpoint/status.h"

namespace fxic {

// PSNR over all RGB samples, peak 255. Returns +inf for identical images.
// Precondition: same dimensions.
double PsnrRgb(const Image& a, const Image& b);

// The smallest side MS-SSIM accepts: after 4 halvings the image must still be
// wider than the 11-tap window (pytorch_msssim asserts side > 10·2^4).
constexpr uint32_t kMsSsimMinSide = 161;

// MS-SSIM over RGB on the 0..255 scale, the value CompressAI reports as
// "ms-ssim-rgb" (pytorch_msssim's ms_ssim, data_range 255), in double:
//   - per channel: 5 scales weighted 0.0448/0.2856/0.3001/0.2363/0.1333;
//     at each scale an 11-tap Gaussian (σ 1.5, sum 1) filters separably with
//     no padding (valid: each side shrinks by 10), C1 = (0.01·255)²,
//     C2 = (0.03·255)², and the contrast-structure (cs) map, or at the last
//     scale the SSIM map, is averaged;
//   - between scales a 2×2 stride-2 average pool; a side of odd length gets
//     one zero in front that counts in the divisor of 4 (avg_pool2d with
//     padding = side % 2, count_include_pad);
//   - negative means are clamped to 0 (relu) before the power;
//   - the per-channel products are averaged over R, G, B.
// In [0, 1]; 1 for identical images. Errors: sizes differ, or a side below
// kMsSsimMinSide.
StatusOr<double> MsSsimRgb(const Image& a, const Image& b);

// MS-SSIM in dB: −10·log10(1 − v); +inf for v = 1.
double MsSsimDb(double ms_ssim);

}  // namespace fxic

#endif  // FXIC_APPS_METRICS_H_
