// PCHIP interpolation and the Bjøntegaard delta computations.
#include "apps/rd_bdrate.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace fxic::rd {
namespace {

int Sign(double v) { return (v > 0) - (v < 0); }

// The three-point end slope with Fritsch–Carlson's shape preservation
// (scipy's PchipInterpolator._edge_case).
double EdgeSlope(double h0, double h1, double m0, double m1) {
  double d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
  if (Sign(d) != Sign(m0)) {
    d = 0.0;
  } else if (Sign(m0) != Sign(m1) && std::fabs(d) > 3.0 * std::fabs(m0)) {
    d = 3.0 * m0;
  }
  return d;
}

// Antiderivatives of the cubic Hermite basis on t in [0, 1].
double H00(double t) { return t * t * t * t / 2.0 - t * t * t + t; }
double H10(double t) {
  return t * t * t * t / 4.0 - 2.0 * t * t * t / 3.0 + t * t / 2.0;
}
double H01(double t) { return -t * t * t * t / 2.0 + t * t * t; }
double H11(double t) { return t * t * t * t / 4.0 - t * t * t / 3.0; }

struct Curve {
  std::vector<double> x, y;
};

// Sorts (x, y) by x.
Curve Sorted(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return x[a] < x[b]; });
  Curve c;
  for (size_t i : order) {
    c.x.push_back(x[i]);
    c.y.push_back(y[i]);
  }
  return c;
}

double Integrate(const Pchip& p, double lo, double hi, BdIntegration how) {
  if (how == BdIntegration::kExact) return p.Integral(lo, hi);
  constexpr int kSamples = 100;
  const double step = (hi - lo) / (kSamples - 1);
  double sum = 0.0;
  for (int i = 0; i < kSamples; ++i) {
    const double x = i == kSamples - 1 ? hi : lo + step * i;
    const double w = (i == 0 || i == kSamples - 1) ? 0.5 : 1.0;
    sum += w * p.Eval(x);
  }
  return sum * step;
}

// Mean of (test − anchor) over the overlap of their x ranges, where each
// curve is y as a PCHIP function of x.
StatusOr<double> MeanDifference(const Curve& anchor, const Curve& test,
                                BdIntegration how) {
  FXIC_ASSIGN_OR_RETURN(Pchip pa, Pchip::Make(anchor.x, anchor.y));
  FXIC_ASSIGN_OR_RETURN(Pchip pt, Pchip::Make(test.x, test.y));
  const double lo = std::max(pa.lo(), pt.lo());
  const double hi = std::min(pa.hi(), pt.hi());
  if (!(hi > lo)) return Status::Error("the curves do not overlap");
  return (Integrate(pt, lo, hi, how) - Integrate(pa, lo, hi, how)) / (hi - lo);
}

Status CheckInputs(const std::vector<double>& rate,
                   const std::vector<double>& metric) {
  if (rate.size() != metric.size())
    return Status::Error("rate and metric lengths differ");
  if (rate.size() < 2) return Status::Error("a curve needs at least 2 points");
  for (size_t i = 0; i < rate.size(); ++i) {
    if (!(rate[i] > 0.0) || !std::isfinite(rate[i])) {
      return Status::Error("rates must be positive and finite");
    }
    if (!std::isfinite(metric[i]))
      return Status::Error("metric values must be finite");
  }
  return Status::Ok();
}

std::vector<double> Log(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(std::log(x));
  return out;
}

}  // namespace

StatusOr<Pchip> Pchip::Make(std::vector<double> x, std::vector<double> y) {
  const size_t n = x.size();
  if (n < 2 || y.size() != n) return Status::Error("PCHIP needs >= 2 points");
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!(x[i + 1] > x[i])) {
      return Status::Error(
          "PCHIP needs strictly increasing x (two points share a value)");
    }
  }
  Pchip p;
  p.x_ = std::move(x);
  p.y_ = std::move(y);
  p.d_.assign(n, 0.0);
  std::vector<double> h(n - 1), m(n - 1);
  for (size_t i = 0; i + 1 < n; ++i) {
    h[i] = p.x_[i + 1] - p.x_[i];
    m[i] = (p.y_[i + 1] - p.y_[i]) / h[i];
  }
  if (n == 2) {
    p.d_[0] = p.d_[1] = m[0];
    return p;
  }
  for (size_t k = 1; k + 1 < n; ++k) {
    if (Sign(m[k - 1]) != Sign(m[k]) || m[k - 1] == 0.0 || m[k] == 0.0) {
      p.d_[k] = 0.0;
    } else {
      // Weighted harmonic mean (Fritsch–Butland / Brodlie weights).
      const double w1 = 2.0 * h[k] + h[k - 1], w2 = h[k] + 2.0 * h[k - 1];
      p.d_[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k]);
    }
  }
  p.d_[0] = EdgeSlope(h[0], h[1], m[0], m[1]);
  p.d_[n - 1] = EdgeSlope(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
  return p;
}

double Pchip::Eval(double x) const {
  size_t k = std::upper_bound(x_.begin(), x_.end(), x) - x_.begin();
  k = std::min(std::max<size_t>(k, 1), x_.size() - 1) - 1;
  const double h = x_[k + 1] - x_[k], t = (x - x_[k]) / h;
  const double t2 = t * t, t3 = t2 * t;
  return (2 * t3 - 3 * t2 + 1) * y_[k] + (t3 - 2 * t2 + t) * h * d_[k] +
         (-2 * t3 + 3 * t2) * y_[k + 1] + (t3 - t2) * h * d_[k + 1];
}

double Pchip::Integral(double a, double b) const {
  double sum = 0.0;
  for (size_t k = 0; k + 1 < x_.size(); ++k) {
    const double x0 = std::max(a, x_[k]), x1 = std::min(b, x_[k + 1]);
    if (!(x1 > x0)) continue;
    const double h = x_[k + 1] - x_[k];
    const double ta = (x0 - x_[k]) / h, tb = (x1 - x_[k]) / h;
    sum += h * (y_[k] * (H00(tb) - H00(ta)) + h * d_[k] * (H10(tb) - H10(ta)) +
                y_[k + 1] * (H01(tb) - H01(ta)) +
                h * d_[k + 1] * (H11(tb) - H11(ta)));
  }
  return sum;
}

StatusOr<double> BdRate(const std::vector<double>& anchor_rate,
                        const std::vector<double>& anchor_metric,
                        const std::vector<double>& test_rate,
                        const std::vector<double>& test_metric,
                        BdIntegration integration) {
  Status st = CheckInputs(anchor_rate, anchor_metric);
  if (!st.ok()) return Status::Error("anchor: " + st.message());
  st = CheckInputs(test_rate, test_metric);
  if (!st.ok()) return Status::Error("test: " + st.message());
  FXIC_ASSIGN_OR_RETURN(
      double diff,
      MeanDifference(Sorted(anchor_metric, Log(anchor_rate)),
                     Sorted(test_metric, Log(test_rate)), integration));
  return (std::exp(diff) - 1.0) * 100.0;
}

StatusOr<double> BdMetric(const std::vector<double>& anchor_rate,
                          const std::vector<double>& anchor_metric,
                          const std::vector<double>& test_rate,
                          const std::vector<double>& test_metric,
                          BdIntegration integration) {
  Status st = CheckInputs(anchor_rate, anchor_metric);
  if (!st.ok()) return Status::Error("anchor: " + st.message());
  st = CheckInputs(test_rate, test_metric);
  if (!st.ok()) return Status::Error("test: " + st.message());
  return MeanDifference(Sorted(Log(anchor_rate), anchor_metric),
                        Sorted(Log(test_rate), test_metric), integration);
}

}  // namespace fxic::rd
