// PSNR and MS-SSIM over RGB (the definitions CompressAI reports).
#include "apps/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace fxic {
namespace {

constexpr int kWindow = 11;
constexpr double kSigma = 1.5;
constexpr std::array<double, 5> kWeights = {0.0448, 0.2856, 0.3001, 0.2363,
                                            0.1333};
constexpr double kC1 = (0.01 * 255.0) * (0.01 * 255.0);
constexpr double kC2 = (0.03 * 255.0) * (0.03 * 255.0);

// One channel as a row-major double plane.
struct Plane {
  int w = 0, h = 0;
  std::vector<double> v;
  double at(int x, int y) const { return v[static_cast<size_t>(y) * w + x]; }
};

std::array<double, kWindow> GaussianWindow() {
  std::array<double, kWindow> g{};
  double sum = 0.0;
  for (int i = 0; i < kWindow; ++i) {
    const double x = i - kWindow / 2;
    g[i] = std::exp(-(x * x) / (2.0 * kSigma * kSigma));
    sum += g[i];
  }
  for (double& x : g) x /= sum;
  return g;
}

// Separable valid correlation of the five SSIM moments (x, y, x², y², xy).
// A side shorter than the window is left unfiltered, as pytorch_msssim
// does (it cannot happen above kMsSsimMinSide).
struct Moments {
  int w = 0, h = 0;
  std::vector<double> mx, my, mxx, myy, mxy;
};

Moments FilterMoments(const Plane& x, const Plane& y,
                      const std::array<double, kWindow>& g) {
  const bool filter_rows = x.h >= kWindow, filter_cols = x.w >= kWindow;
  const int oh = filter_rows ? x.h - kWindow + 1 : x.h;
  const int ow = filter_cols ? x.w - kWindow + 1 : x.w;
  // Vertical pass first (x.w wide, oh tall), then horizontal.
  std::vector<double> v[5];
  for (auto& p : v) p.assign(static_cast<size_t>(oh) * x.w, 0.0);
  for (int r = 0; r < oh; ++r) {
    for (int k = 0; k < (filter_rows ? kWindow : 1); ++k) {
      const double gk = filter_rows ? g[k] : 1.0;
      const double* xs = &x.v[static_cast<size_t>(r + k) * x.w];
      const double* ys = &y.v[static_cast<size_t>(r + k) * x.w];
      double* d[5];
      for (int i = 0; i < 5; ++i) d[i] = &v[i][static_cast<size_t>(r) * x.w];
      for (int c = 0; c < x.w; ++c) {
        const double a = xs[c], b = ys[c];
        d[0][c] += gk * a;
        d[1][c] += gk * b;
        d[2][c] += gk * (a * a);
        d[3][c] += gk * (b * b);
        d[4][c] += gk * (a * b);
      }
    }
  }
  Moments m;
  m.w = ow;
  m.h = oh;
  std::vector<double>* out[5] = {&m.mx, &m.my, &m.mxx, &m.myy, &m.mxy};
  for (int i = 0; i < 5; ++i) {
    out[i]->assign(static_cast<size_t>(oh) * ow, 0.0);
    for (int r = 0; r < oh; ++r) {
      const double* s = &v[i][static_cast<size_t>(r) * x.w];
      double* d = &(*out[i])[static_cast<size_t>(r) * ow];
      for (int c = 0; c < ow; ++c) {
        double acc = 0.0;
        if (filter_cols) {
          for (int k = 0; k < kWindow; ++k) acc += g[k] * s[c + k];
        } else {
          acc = s[c];
        }
        d[c] = acc;
      }
    }
  }
  return m;
}

// Means of the SSIM and cs maps at one scale.
void SsimCs(const Plane& x, const Plane& y,
            const std::array<double, kWindow>& g, double* ssim, double* cs) {
  const Moments m = FilterMoments(x, y, g);
  double ssim_sum = 0.0, cs_sum = 0.0;
  for (size_t i = 0; i < m.mx.size(); ++i) {
    const double mu1 = m.mx[i], mu2 = m.my[i];
    const double s11 = m.mxx[i] - mu1 * mu1;
    const double s22 = m.myy[i] - mu2 * mu2;
    const double s12 = m.mxy[i] - mu1 * mu2;
    const double cs_i = (2.0 * s12 + kC2) / (s11 + s22 + kC2);
    const double l_i = (2.0 * mu1 * mu2 + kC1) / (mu1 * mu1 + mu2 * mu2 + kC1);
    cs_sum += cs_i;
    ssim_sum += l_i * cs_i;
  }
  const double n = static_cast<double>(m.mx.size());
  *ssim = ssim_sum / n;
  *cs = cs_sum / n;
}

// 2×2 stride-2 average pool; an odd side is padded by one zero in front
// (pytorch's avg_pool2d(padding=side % 2) starts its windows at −1 and never
// reaches the trailing pad), and the divisor is always 4.
Plane AvgPool2(const Plane& p) {
  const int ph = p.h % 2, pw = p.w % 2;
  Plane o;
  o.h = (p.h + 2 * ph - 2) / 2 + 1;
  o.w = (p.w + 2 * pw - 2) / 2 + 1;
  o.v.assign(static_cast<size_t>(o.w) * o.h, 0.0);
  auto sample = [&](int x, int y) {
    return (x < 0 || y < 0 || x >= p.w || y >= p.h) ? 0.0 : p.at(x, y);
  };
  for (int r = 0; r < o.h; ++r) {
    for (int c = 0; c < o.w; ++c) {
      const int x0 = 2 * c - pw, y0 = 2 * r - ph;
      o.v[static_cast<size_t>(r) * o.w + c] =
          (sample(x0, y0) + sample(x0, y0 + 1) + sample(x0 + 1, y0) +
           sample(x0 + 1, y0 + 1)) /
          4.0;
    }
  }
  return o;
}

Plane Channel(const Image& im, int c) {
  Plane p;
  p.w = static_cast<int>(im.width);
  p.h = static_cast<int>(im.height);
  p.v.resize(static_cast<size_t>(p.w) * p.h);
  for (size_t i = 0; i < p.v.size(); ++i) p.v[i] = im.rgb[i * 3 + c];
  return p;
}

}  // namespace

double PsnrRgb(const Image& a, const Image& b) {
  uint64_t sse = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    const int d = int{a.rgb[i]} - int{b.rgb[i]};
    sse += static_cast<uint64_t>(d * d);
  }
  if (sse == 0) return std::numeric_limits<double>::infinity();
  const double mse =
      static_cast<double>(sse) / static_cast<double>(a.rgb.size());
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

StatusOr<double> MsSsimRgb(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height ||
      a.rgb.size() != b.rgb.size()) {
    return Status::Error("MS-SSIM: images differ in size");
  }
  if (a.width < kMsSsimMinSide || a.height < kMsSsimMinSide) {
    return Status::Error(
        "MS-SSIM needs both sides >= " + std::to_string(kMsSsimMinSide) +
        " pixels (5 scales), got " + std::to_string(a.width) + "x" +
        std::to_string(a.height));
  }
  const auto g = GaussianWindow();
  double total = 0.0;
  for (int c = 0; c < 3; ++c) {
    Plane x = Channel(a, c), y = Channel(b, c);
    double value = 1.0;
    for (size_t level = 0; level < kWeights.size(); ++level) {
      double ssim = 0.0, cs = 0.0;
      SsimCs(x, y, g, &ssim, &cs);
      if (level + 1 < kWeights.size()) {
        value *= std::pow(std::max(cs, 0.0), kWeights[level]);
        x = AvgPool2(x);
        y = AvgPool2(y);
      } else {
        value *= std::pow(std::max(ssim, 0.0), kWeights[level]);
      }
    }
    total += value;
  }
  return total / 3.0;
}

double MsSsimDb(double ms_ssim) {
  if (ms_ssim >= 1.0) return std::numeric_limits<double>::infinity();
  return -10.0 * std::log10(1.0 - ms_ssim);
}

}  // namespace fxic
