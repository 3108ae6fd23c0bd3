// Scene rendering: SVG text, and a small anti-aliasing rasterizer for PNG.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/plot_scene.h"

namespace fxic::plot {
namespace {

struct PlotGlyph {
  int advance, left, top, width, rows;
  const char* coverage;  // width*rows hex digits, 0..f
};
struct PlotFontSize {
  int px, ascent, descent;
  PlotGlyph glyphs[95];
};
#include "apps/plot_font_data.inc"

const PlotFontSize& Font(int px) {
  return px >= 14 ? kPlotFont14 : kPlotFont12;
}

const PlotGlyph& Glyph(const PlotFontSize& f, char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return f.glyphs[(u >= 32 && u < 127) ? u - 32 : '?' - 32];
}

std::string Hex(Color c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// ------------------------------------------------------------- rasterizer

class Canvas {
 public:
  Canvas(int w, int h, Color bg)
      : w_(w), h_(h), px_(static_cast<size_t>(w) * h * 3) {
    for (size_t i = 0; i < px_.size(); i += 3) {
      px_[i] = bg.r;
      px_[i + 1] = bg.g;
      px_[i + 2] = bg.b;
    }
  }
  void SetClip(const Rect* r) {
    if (r) {
      cx0_ = r->x;
      cy0_ = r->y;
      cx1_ = r->x + r->w;
      cy1_ = r->y + r->h;
    } else {
      cx0_ = 0;
      cy0_ = 0;
      cx1_ = w_;
      cy1_ = h_;
    }
  }
  // Blends colour c with coverage a (0..1) into pixel (x, y).
  void Blend(int x, int y, Color c, double a) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_ || a <= 0) return;
    if (x + 0.5 < cx0_ || x + 0.5 > cx1_ || y + 0.5 < cy0_ || y + 0.5 > cy1_)
      return;
    a = std::min(a, 1.0);
    uint8_t* p = &px_[(static_cast<size_t>(y) * w_ + x) * 3];
    p[0] = static_cast<uint8_t>(std::lround(p[0] + (c.r - p[0]) * a));
    p[1] = static_cast<uint8_t>(std::lround(p[1] + (c.g - p[1]) * a));
    p[2] = static_cast<uint8_t>(std::lround(p[2] + (c.b - p[2]) * a));
  }
  // A segment of width `width` with round caps: coverage from the distance
  // of each pixel centre to the segment.
  void Segment(Point a, Point b, double width, Color c) {
    const double r = width / 2;
    const int x0 = static_cast<int>(std::floor(std::min(a.x, b.x) - r - 1));
    const int x1 = static_cast<int>(std::ceil(std::max(a.x, b.x) + r + 1));
    const int y0 = static_cast<int>(std::floor(std::min(a.y, b.y) - r - 1));
    const int y1 = static_cast<int>(std::ceil(std::max(a.y, b.y) + r + 1));
    const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    // Thin lines keep their weight by fading instead of shrinking below 1 px.
    const double scale = std::min(1.0, width);
    const double rr = std::max(r, 0.5);
    for (int y = std::max(y0, 0); y <= std::min(y1, h_ - 1); ++y) {
      for (int x = std::max(x0, 0); x <= std::min(x1, w_ - 1); ++x) {
        const double px = x + 0.5 - a.x, py = y + 0.5 - a.y;
        double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
        t = std::clamp(t, 0.0, 1.0);
        const double ex = px - t * dx, ey = py - t * dy;
        const double d = std::sqrt(ex * ex + ey * ey);
        Blend(x, y, c, std::clamp(rr + 0.5 - d, 0.0, 1.0) * scale);
      }
    }
  }
  // Even-odd fill with 4×4 supersampling.
  void Polygon(const std::vector<Point>& poly, Color c) {
    double minx = 1e9, miny = 1e9, maxx = -1e9, maxy = -1e9;
    for (const Point& p : poly) {
      minx = std::min(minx, p.x);
      maxx = std::max(maxx, p.x);
      miny = std::min(miny, p.y);
      maxy = std::max(maxy, p.y);
    }
    for (int y = std::max(0, static_cast<int>(miny) - 1);
         y <= std::min(h_ - 1, static_cast<int>(maxy) + 1); ++y) {
      for (int x = std::max(0, static_cast<int>(minx) - 1);
           x <= std::min(w_ - 1, static_cast<int>(maxx) + 1); ++x) {
        int inside = 0;
        for (int sy = 0; sy < 4; ++sy) {
          for (int sx = 0; sx < 4; ++sx) {
            const double qx = x + (sx + 0.5) / 4, qy = y + (sy + 0.5) / 4;
            bool in = false;
            for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
              if ((poly[i].y > qy) != (poly[j].y > qy) &&
                  qx < (poly[j].x - poly[i].x) * (qy - poly[i].y) /
                               (poly[j].y - poly[i].y) +
                           poly[i].x) {
                in = !in;
              }
            }
            inside += in;
          }
        }
        Blend(x, y, c, inside / 16.0);
      }
    }
  }
  void Text(const Item& it) {
    const PlotFontSize& f = Font(it.font_px);
    const double w = TextWidth(it.text, it.font_px);
    const double shift = it.anchor == Anchor::kStart    ? 0
                         : it.anchor == Anchor::kMiddle ? w / 2
                                                        : w;
    // Pen position along the baseline; vertical text runs bottom to top.
    double pen = -shift;
    const int bx = static_cast<int>(std::lround(it.points[0].x));
    const int by = static_cast<int>(std::lround(it.points[0].y));
    for (char ch : it.text) {
      const PlotGlyph& g = Glyph(f, ch);
      const int gx = static_cast<int>(std::lround(pen)) + g.left;
      for (int r = 0; r < g.rows; ++r) {
        for (int col = 0; col < g.width; ++col) {
          const char hx = g.coverage[r * g.width + col];
          const int v = hx <= '9' ? hx - '0' : hx - 'a' + 10;
          if (v == 0) continue;
          // Glyph pixel (gx + col, -top + r) relative to the baseline origin.
          const int u = gx + col, vy = r - g.top;
          if (it.vertical) {
            Blend(bx + vy, by - u - 1, it.color, v / 15.0);
          } else {
            Blend(bx + u, by + vy, it.color, v / 15.0);
          }
        }
      }
      pen += g.advance;
    }
  }
  Image Take() {
    Image im;
    im.width = static_cast<uint32_t>(w_);
    im.height = static_cast<uint32_t>(h_);
    im.rgb = std::move(px_);
    return im;
  }

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
  double cx0_ = 0, cy0_ = 0, cx1_ = 1e9, cy1_ = 1e9;
};

void Dashed(Canvas* cv, Point a, Point b, double width, Color c) {
  const double len = std::hypot(b.x - a.x, b.y - a.y);
  const double on = 4, off = 3;
  for (double s = 0; s < len; s += on + off) {
    const double e = std::min(s + on, len);
    cv->Segment({a.x + (b.x - a.x) * s / len, a.y + (b.y - a.y) * s / len},
                {a.x + (b.x - a.x) * e / len, a.y + (b.y - a.y) * e / len},
                width, c);
  }
}

}  // namespace

double TextWidth(const std::string& text, int font_px) {
  const PlotFontSize& f = Font(font_px);
  double w = 0;
  for (char c : text) w += Glyph(f, c).advance;
  return w;
}

std::vector<Point> MarkerPolygon(MarkerShape shape, Point c, double d) {
  const double r = d / 2;
  const double pi = 3.14159265358979323846;
  auto regular = [&](int n, double start, double radius) {
    std::vector<Point> p;
    for (int i = 0; i < n; ++i) {
      const double a = start + 2 * pi * i / n;
      p.push_back({c.x + radius * std::cos(a), c.y - radius * std::sin(a)});
    }
    return p;
  };
  switch (shape) {
    case MarkerShape::kCircle:
      return regular(24, 0, r);
    case MarkerShape::kSquare:
      return regular(4, pi / 4, r * 1.2);
    case MarkerShape::kTriangleUp:
      return regular(3, pi / 2, r * 1.25);
    case MarkerShape::kDiamond:
      return regular(4, pi / 2, r * 1.25);
    case MarkerShape::kTriangleDown:
      return regular(3, -pi / 2, r * 1.25);
    case MarkerShape::kPentagon:
      return regular(5, pi / 2, r * 1.1);
    case MarkerShape::kHexagon:
      return regular(6, 0, r * 1.1);
  }
  return {};
}

std::string RenderSvg(const Scene& s) {
  std::string out;
  char buf[256];
  std::snprintf(
      buf, sizeof(buf),
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, Arial, "
      "sans-serif\">\n",
      s.width, s.height, s.width, s.height);
  out += buf;
  out += "<rect width=\"100%\" height=\"100%\" fill=\"" + Hex(s.background) +
         "\"/>\n";
  if (!s.clips.empty()) {
    out += "<defs>\n";
    for (size_t i = 0; i < s.clips.size(); ++i) {
      const Rect& r = s.clips[i];
      out += "<clipPath id=\"c" + std::to_string(i) + "\"><rect x=\"" +
             Num(r.x) + "\" y=\"" + Num(r.y) + "\" width=\"" + Num(r.w) +
             "\" height=\"" + Num(r.h) + "\"/></clipPath>\n";
    }
    out += "</defs>\n";
  }
  for (const Item& it : s.items) {
    const std::string clip =
        it.clip >= 0 ? " clip-path=\"url(#c" + std::to_string(it.clip) + ")\""
                     : "";
    switch (it.kind) {
      case Item::Kind::kPolyline: {
        std::string pts;
        for (const Point& p : it.points)
          pts += (pts.empty() ? "" : " ") + Num(p.x) + "," + Num(p.y);
        out += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" +
               Hex(it.color) + "\" stroke-width=\"" + Num(it.width) +
               "\" stroke-linejoin=\"round\"" +
               (it.dashed ? " stroke-dasharray=\"4,3\"" : "") + clip + "/>\n";
        break;
      }
      case Item::Kind::kMarker: {
        const Point c = it.points[0];
        if (it.marker == MarkerShape::kCircle) {
          out += "<circle cx=\"" + Num(c.x) + "\" cy=\"" + Num(c.y) +
                 "\" r=\"" + Num(it.width / 2) + "\" fill=\"" + Hex(it.color) +
                 "\"" + clip + "/>\n";
        } else {
          std::string pts;
          for (const Point& p : MarkerPolygon(it.marker, c, it.width)) {
            pts += (pts.empty() ? "" : " ") + Num(p.x) + "," + Num(p.y);
          }
          out += "<polygon points=\"" + pts + "\" fill=\"" + Hex(it.color) +
                 "\"" + clip + "/>\n";
        }
        break;
      }
      case Item::Kind::kText: {
        const Point p = it.points[0];
        const char* anchor = it.anchor == Anchor::kStart    ? "start"
                             : it.anchor == Anchor::kMiddle ? "middle"
                                                            : "end";
        out += "<text x=\"" + Num(p.x) + "\" y=\"" + Num(p.y) +
               "\" font-size=\"" + std::to_string(it.font_px) +
               "\" text-anchor=\"" + anchor + "\" fill=\"" + Hex(it.color) +
               "\"" + (it.bold ? " font-weight=\"bold\"" : "") +
               (it.vertical ? " transform=\"rotate(-90 " + Num(p.x) + " " +
                                  Num(p.y) + ")\""
                            : "") +
               clip + ">" + XmlEscape(it.text) + "</text>\n";
        break;
      }
      case Item::Kind::kRect: {
        const Rect& r = it.rect;
        out += "<rect x=\"" + Num(r.x) + "\" y=\"" + Num(r.y) + "\" width=\"" +
               Num(r.w) + "\" height=\"" + Num(r.h) + "\" fill=\"" +
               (it.filled ? Hex(it.fill) : "none") + "\" stroke=\"" +
               Hex(it.color) + "\" stroke-width=\"" + Num(it.width) + "\"" +
               clip + "/>\n";
        break;
      }
    }
  }
  out += "</svg>\n";
  return out;
}

Image RenderRaster(const Scene& s) {
  Canvas cv(s.width, s.height, s.background);
  for (const Item& it : s.items) {
    cv.SetClip(it.clip >= 0 ? &s.clips[it.clip] : nullptr);
    switch (it.kind) {
      case Item::Kind::kPolyline:
        for (size_t i = 0; i + 1 < it.points.size(); ++i) {
          if (it.dashed) {
            Dashed(&cv, it.points[i], it.points[i + 1], it.width, it.color);
          } else {
            cv.Segment(it.points[i], it.points[i + 1], it.width, it.color);
          }
        }
        break;
      case Item::Kind::kMarker:
        cv.Polygon(MarkerPolygon(it.marker, it.points[0], it.width), it.color);
        break;
      case Item::Kind::kText:
        cv.Text(it);
        break;
      case Item::Kind::kRect: {
        const Rect& r = it.rect;
        if (it.filled) {
          cv.Polygon({{r.x, r.y},
                      {r.x + r.w, r.y},
                      {r.x + r.w, r.y + r.h},
                      {r.x, r.y + r.h}},
                     it.fill);
        }
        const Point a{r.x, r.y}, b{r.x + r.w, r.y}, c{r.x + r.w, r.y + r.h},
            d{r.x, r.y + r.h};
        cv.Segment(a, b, it.width, it.color);
        cv.Segment(b, c, it.width, it.color);
        cv.Segment(c, d, it.width, it.color);
        cv.Segment(d, a, it.width, it.color);
        break;
      }
    }
  }
  return cv.Take();
}

}  // namespace fxic::plot
