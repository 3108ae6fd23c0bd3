// Progress: a one-line bar with ETA on stderr.
#include "apps/rd_progress.h"

#include <cmath>

namespace fxic::rd {
namespace {

std::string Clock(double seconds) {
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60,
                  s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

Progress::Progress(size_t total, bool enabled, std::FILE* out)
    : total_(total),
      enabled_(enabled && total > 0),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { Finish(); }

std::string Progress::Render(size_t done, size_t total, double elapsed,
                             int width) {
  const double frac =
      total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(frac * width);
  std::string bar =
      "[" + std::string(filled, '#') + std::string(width - filled, ' ') + "]";
  char buf[96];
  std::snprintf(buf, sizeof(buf), " %zu/%zu %3d%%", done, total,
                static_cast<int>(std::floor(frac * 100.0)));
  bar += buf;
  if (done == 0) {
    bar += "  ETA --:--";
  } else if (done < total) {
    bar += "  ETA " + Clock(elapsed / static_cast<double>(done) *
                            static_cast<double>(total - done));
  } else {
    bar += "  " + Clock(elapsed);
  }
  return bar;
}

void Progress::Step(const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line = Render(done_, total_, elapsed, 30);
  if (!label.empty()) line += "  " + label.substr(0, 30);
  std::fprintf(out_, "\r%s\033[K", line.c_str());
  std::fflush(out_);
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_ && !finished_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
  finished_ = true;
}

}  // namespace fxic::rd
