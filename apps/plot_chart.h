// Rate-distortion charts: curves → a Scene with axes, grid, markers, legend.
#ifndef FXIC_APPS_PLOT_CHART_H_
#define FXIC_APPS_PLOT_CHART_H_

#include <string>
#include <vector>

#include "apps/plot_scene.h"
#include "apps/rd_curve.h"

namespace fxic::plot {

struct ChartOptions {
  std::vector<rd::Metric> metrics = {rd::Metric::kPsnr,
                                     rd::Metric::kMsSsimDb};  // panels
  std::string title;
  bool has_xlim = false;
  double xlim_lo = 0, xlim_hi = 0;  // bpp
  bool has_ylim = false;            // applies to every panel
  double ylim_lo = 0, ylim_hi = 0;
  int panel_width = 560, panel_height = 440;
};

// Axis ticks: multiples of a 1-2-2.5-5 step covering [lo, hi] with about
// `target` intervals. The step is returned in *step.
std::vector<double> NiceTicks(double lo, double hi, int target, double* step);

// One panel per metric, side by side: bpp on x, the metric on y; each curve
// a line through its points (sorted by bpp) with a marker per point, in its
// own colour and marker shape; a legend in each panel's lower right. Curves
// without the metric are left out of that panel.
Scene MakeRdChart(const std::vector<rd::RdCurve>& curves,
                  const ChartOptions& options);

}  // namespace fxic::plot

#endif  // FXIC_APPS_PLOT_CHART_H_
