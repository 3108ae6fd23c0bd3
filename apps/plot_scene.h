// A small vector scene (lines, markers, text) that the plot renders as SVG
// or rasterizes to PNG.
#ifndef FXIC_APPS_PLOT_SCENE_H_
#define FXIC_APPS_PLOT_SCENE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "codec/image.h"

namespace fxic::plot {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};

struct Point {
  double x = 0, y = 0;  // pixels, y down
};

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
};

enum class MarkerShape {
  kCircle,
  kSquare,
  kTriangleUp,
  kDiamond,
  kTriangleDown,
  kPentagon,
  kHexagon
};
constexpr int kMarkerShapes = 7;

enum class Anchor { kStart, kMiddle, kEnd };

struct Item {
  enum class Kind { kPolyline, kMarker, kText, kRect };
  Kind kind = Kind::kPolyline;
  std::vector<Point> points;  // polyline; marker and text: points[0]
  Color color;
  double width = 1;  // line width; marker: diameter
  bool dashed = false;
  MarkerShape marker = MarkerShape::kCircle;
  std::string text;
  int font_px = 12;   // 12 or 14
  bool bold = false;  // SVG only (PNG draws regular)
  Anchor anchor = Anchor::kStart;
  bool vertical = false;  // text rotated 90° counter-clockwise
  Rect rect;              // kRect
  bool filled = false;    // kRect: fill with `color`, else stroke
  Color fill;             // kRect stroke+fill: fill colour when filled
  int clip = -1;          // index into Scene::clips, -1: none
};

struct Scene {
  int width = 0, height = 0;
  Color background{255, 255, 255};
  std::vector<Rect> clips;
  std::vector<Item> items;
};

// Text width in pixels at font_px (12 or 14) in the embedded DejaVu Sans
// metrics (the SVG asks for the same font, so layouts agree closely).
double TextWidth(const std::string& text, int font_px);

// The polygon of a marker centred at c with diameter d (circle: 24 sides).
std::vector<Point> MarkerPolygon(MarkerShape shape, Point c, double d);

// SVG 1.1 text of the scene.
std::string RenderSvg(const Scene& scene);

// Rasterizes the scene (anti-aliased lines and shapes, embedded bitmap font).
Image RenderRaster(const Scene& scene);

}  // namespace fxic::plot

#endif  // FXIC_APPS_PLOT_SCENE_H_
