// MakeRdChart: layout of RD plots (axes, ticks, legend) as a Scene.
#include "apps/plot_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

namespace fxic::plot {
namespace {

// matplotlib's tab10, the colours of CompressAI's plots.
constexpr Color kPalette[] = {{31, 119, 180},  {255, 127, 14},  {44, 160, 44},
                              {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
                              {227, 119, 194}, {127, 127, 127}, {188, 189, 34},
                              {23, 190, 207}};
constexpr Color kBlack{0, 0, 0};
constexpr Color kGrid{225, 225, 225};
constexpr Color kLegendBorder{190, 190, 190};
constexpr Color kWhite{255, 255, 255};

std::string TickLabel(double v, double step) {
  int decimals = 0;
  while (decimals < 6 &&
         std::fabs(step * std::pow(10.0, decimals) -
                   std::round(step * std::pow(10.0, decimals))) > 1e-9) {
    ++decimals;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  std::string s = buf;
  if (s[0] == '-' && std::stod(s) == 0) s = s.substr(1);
  return s;
}

Item Text(Point p, const std::string& s, int px, Anchor a,
          bool vertical = false, bool bold = false) {
  Item it;
  it.kind = Item::Kind::kText;
  it.points = {p};
  it.text = s;
  it.font_px = px;
  it.anchor = a;
  it.vertical = vertical;
  it.bold = bold;
  it.color = kBlack;
  return it;
}

Item Line(Point a, Point b, Color c, double w) {
  Item it;
  it.kind = Item::Kind::kPolyline;
  it.points = {a, b};
  it.color = c;
  it.width = w;
  return it;
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target, double* step) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double s = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    s = m * mag;
    if (s >= raw) break;
  }
  *step = s;
  std::vector<double> ticks;
  const double first = std::ceil(lo / s - 1e-9) * s;
  for (double t = first; t <= hi + s * 1e-9; t += s)
    ticks.push_back(std::fabs(t) < s * 1e-9 ? 0 : t);
  return ticks;
}

Scene MakeRdChart(const std::vector<rd::RdCurve>& curves,
                  const ChartOptions& o) {
  Scene scene;
  const int panels = std::max<int>(1, static_cast<int>(o.metrics.size()));
  const double title_h = o.title.empty() ? 10 : 34;
  scene.width = o.panel_width * panels;
  scene.height = static_cast<int>(o.panel_height + title_h);
  if (!o.title.empty()) {
    scene.items.push_back(Text({scene.width / 2.0, 22}, o.title, 14,
                               Anchor::kMiddle, false, true));
  }
  for (int pi = 0; pi < panels; ++pi) {
    const rd::Metric metric =
        o.metrics.empty() ? rd::Metric::kPsnr : o.metrics[pi];
    const double ox = pi * o.panel_width;
    const Rect area{ox + 66, title_h + 8, o.panel_width - 66.0 - 18.0,
                    o.panel_height - 8.0 - 52.0};

    // Data and ranges.
    struct Series {
      std::vector<Point> data;  // (bpp, metric), sorted by bpp
      size_t index;
    };
    std::vector<Series> series;
    double xmax = 0;
    for (size_t ci = 0; ci < curves.size(); ++ci) {
      const std::vector<double> y = rd::MetricValues(curves[ci], metric);
      if (y.size() != curves[ci].bpp.size()) continue;
      Series s;
      s.index = ci;
      for (size_t i = 0; i < y.size(); ++i) {
        if (std::isfinite(curves[ci].bpp[i]) && std::isfinite(y[i])) {
          s.data.push_back({curves[ci].bpp[i], y[i]});
        }
      }
      std::sort(s.data.begin(), s.data.end(),
                [](Point a, Point b) { return a.x < b.x; });
      for (const Point& p : s.data) xmax = std::max(xmax, p.x);
      if (!s.data.empty()) series.push_back(std::move(s));
    }
    double xstep = 0;
    double x0 = 0, x1 = xmax > 0 ? xmax : 1;
    if (o.has_xlim) {
      x0 = o.xlim_lo;
      x1 = o.xlim_hi;
    }
    std::vector<double> xticks = NiceTicks(x0, x1, 6, &xstep);
    if (!o.has_xlim) {
      // Leave room for the last marker, then end on a tick.
      NiceTicks(x0, x1 * 1.02, 6, &xstep);
      x1 = std::ceil(x1 * 1.02 / xstep - 1e-9) * xstep;
      xticks = NiceTicks(x0, x1, 6, &xstep);
    }
    double y0 = std::numeric_limits<double>::infinity(), y1 = -y0;
    for (const Series& s : series) {
      for (const Point& p : s.data) {
        if (p.x >= x0 && p.x <= x1) {
          y0 = std::min(y0, p.y);
          y1 = std::max(y1, p.y);
        }
      }
    }
    if (!std::isfinite(y0)) {
      y0 = 0;
      y1 = 1;
    }
    double ystep = 0;
    std::vector<double> yticks;
    if (o.has_ylim) {
      y0 = o.ylim_lo;
      y1 = o.ylim_hi;
      yticks = NiceTicks(y0, y1, 7, &ystep);
    } else {
      // 2 % margins keep edge markers whole, then the axis ends on ticks.
      const double margin = 0.02 * std::max(y1 - y0, 1e-6);
      y0 -= margin;
      y1 += margin;
      NiceTicks(y0, y1, 7, &ystep);
      y0 = std::floor(y0 / ystep + 1e-9) * ystep;
      y1 = std::ceil(y1 / ystep - 1e-9) * ystep;
      if (y1 <= y0) y1 = y0 + ystep;
      yticks = NiceTicks(y0, y1, 7, &ystep);
    }
    auto X = [&](double v) { return area.x + (v - x0) / (x1 - x0) * area.w; };
    auto Y = [&](double v) {
      return area.y + area.h - (v - y0) / (y1 - y0) * area.h;
    };

    // Grid, frame, ticks, labels.
    for (double t : xticks)
      scene.items.push_back(
          Line({X(t), area.y}, {X(t), area.y + area.h}, kGrid, 1));
    for (double t : yticks)
      scene.items.push_back(
          Line({area.x, Y(t)}, {area.x + area.w, Y(t)}, kGrid, 1));
    Item frame;
    frame.kind = Item::Kind::kRect;
    frame.rect = area;
    frame.color = kBlack;
    frame.width = 1;
    scene.items.push_back(frame);
    for (double t : xticks) {
      scene.items.push_back(Line({X(t), area.y + area.h},
                                 {X(t), area.y + area.h + 4}, kBlack, 1));
      scene.items.push_back(Text({X(t), area.y + area.h + 17},
                                 TickLabel(t, xstep), 12, Anchor::kMiddle));
    }
    double label_w = 0;
    for (double t : yticks) {
      scene.items.push_back(
          Line({area.x - 4, Y(t)}, {area.x, Y(t)}, kBlack, 1));
      const std::string s = TickLabel(t, ystep);
      label_w = std::max(label_w, TextWidth(s, 12));
      scene.items.push_back(Text({area.x - 7, Y(t) + 4}, s, 12, Anchor::kEnd));
    }
    scene.items.push_back(Text({area.x + area.w / 2, area.y + area.h + 40},
                               "Bit-rate [bpp]", 14, Anchor::kMiddle));
    scene.items.push_back(Text({area.x - label_w - 14, area.y + area.h / 2},
                               rd::MetricLabel(metric), 14, Anchor::kMiddle,
                               /*vertical=*/true));

    // Curves.
    scene.clips.push_back(area);
    const int clip = static_cast<int>(scene.clips.size()) - 1;
    for (const Series& s : series) {
      const Color c = kPalette[s.index % 10];
      Item line;
      line.kind = Item::Kind::kPolyline;
      line.color = c;
      line.width = 1.8;
      line.clip = clip;
      for (const Point& p : s.data) line.points.push_back({X(p.x), Y(p.y)});
      scene.items.push_back(line);
      for (const Point& p : line.points) {
        Item m;
        m.kind = Item::Kind::kMarker;
        m.points = {p};
        m.color = c;
        m.width = 6.5;
        m.marker = static_cast<MarkerShape>(s.index % kMarkerShapes);
        m.clip = clip;
        scene.items.push_back(m);
      }
    }

    // Legend, lower right.
    if (!series.empty()) {
      double text_w = 0;
      for (const Series& s : series)
        text_w = std::max(text_w, TextWidth(curves[s.index].name, 12));
      const double row = 17, pad = 7, sample = 26;
      Rect box;
      box.w = pad + sample + 6 + text_w + pad;
      box.h = pad + row * series.size() + pad - 4;
      box.x = area.x + area.w - box.w - 8;
      box.y = area.y + area.h - box.h - 8;
      Item bg;
      bg.kind = Item::Kind::kRect;
      bg.rect = box;
      bg.filled = true;
      bg.fill = kWhite;
      bg.color = kLegendBorder;
      bg.width = 1;
      scene.items.push_back(bg);
      for (size_t k = 0; k < series.size(); ++k) {
        const Color c = kPalette[series[k].index % 10];
        const double cy = box.y + pad + row * k + 6;
        scene.items.push_back(
            Line({box.x + pad, cy}, {box.x + pad + sample, cy}, c, 1.8));
        Item m;
        m.kind = Item::Kind::kMarker;
        m.points = {{box.x + pad + sample / 2, cy}};
        m.color = c;
        m.width = 6.5;
        m.marker = static_cast<MarkerShape>(series[k].index % kMarkerShapes);
        scene.items.push_back(m);
        scene.items.push_back(Text({box.x + pad + sample + 6, cy + 4},
                                   curves[series[k].index].name, 12,
                                   Anchor::kStart));
      }
    }
  }
  return scene;
}

}  // namespace fxic::plot
