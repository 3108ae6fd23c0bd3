// Bjøntegaard deltas (BD-rate, BD-PSNR) with piecewise cubic interpolation.
#ifndef FXIC_APPS_RD_BDRATE_H_
#define FXIC_APPS_RD_BDRATE_H_

#include <vector>

#include "fixedpoint/status.h"

namespace fxic::rd {

// Monotone piecewise cubic Hermite interpolation (PCHIP, Fritsch–Carlson
// slopes with the three-point end conditions: the same curve as MATLAB's
// pchip and scipy's PchipInterpolator). Needs >= 2 points with strictly
// increasing x (two points give a line).
class Pchip {
 public:
  static StatusOr<Pchip> Make(std::vector<double> x, std::vector<double> y);
  double Eval(double x) const;                // x within [x.front(), x.back()]
  double Integral(double a, double b) const;  // exact; a <= b within range
  double lo() const { return x_.front(); }
  double hi() const { return x_.back(); }

 private:
  std::vector<double> x_, y_, d_;  // knots, values, slopes
};

// How the difference of the two interpolated curves is integrated.
enum class BdIntegration {
  kExact,         // the cubic pieces integrated in closed form
  kTrapezoid100,  // 100 equally spaced samples and the trapezoid rule, as
                  // the widely copied Python bd_rate(piecewise=1) does
};

// BD-rate of `test` against `anchor` in percent (negative: test needs fewer
// bits for the same quality): log(rate) interpolated as a function of the
// distortion metric on each curve, averaged over the overlapping metric
// range, exp(mean difference) − 1. Points are sorted internally. Errors:
// fewer than 2 points, non-positive rates, equal metric values on one curve,
// or no overlap.
StatusOr<double> BdRate(const std::vector<double>& anchor_rate,
                        const std::vector<double>& anchor_metric,
                        const std::vector<double>& test_rate,
                        const std::vector<double>& test_metric,
                        BdIntegration integration = BdIntegration::kExact);

// BD-metric (e.g. BD-PSNR in dB; positive: test is better): the metric
// interpolated over log(rate), mean difference over the overlapping range.
StatusOr<double> BdMetric(const std::vector<double>& anchor_rate,
                          const std::vector<double>& anchor_metric,
                          const std::vector<double>& test_rate,
                          const std::vector<double>& test_metric,
                          BdIntegration integration = BdIntegration::kExact);

}  // namespace fxic::rd

#endif  // FXIC_APPS_RD_BDRATE_H_
