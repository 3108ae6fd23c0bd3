// Image quality metrics for the apps (double precision is fine here: metrics
// never feed back into a bitstream).
#ifndef FXIC_APPS_METRICS_H_
#define FXIC_APPS_METRICS_H_

#include "codec/image.h"

namespace fxic {

// PSNR over all RGB samples, peak 255. Returns +inf for identical images.
// Precondition: same dimensions.
double PsnrRgb(const Image& a, const Image& b);

}  // namespace fxic

#endif  // FXIC_APPS_METRICS_H_
