// A progress bar with ETA for long evaluations (drawn only on a terminal).
#ifndef FXIC_APPS_RD_PROGRESS_H_
#define FXIC_APPS_RD_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace fxic::rd {

class Progress {
 public:
  // enabled: draw at all (callers pass isatty(stderr) && !quiet).
  Progress(size_t total, bool enabled, std::FILE* out = stderr);
  ~Progress();
  // Marks one more unit done; thread-safe. Redraws at most ~10 times/s.
  void Step(const std::string& label = "");
  // Clears the bar line.
  void Finish();

  // The text of the bar for `done` of `total` after `elapsed` seconds,
  // `width` characters of bar, e.g. "[#####     ]  12/48  25%  ETA 0:31".
  static std::string Render(size_t done, size_t total, double elapsed,
                            int width);

 private:
  size_t total_, done_ = 0;
  bool enabled_, finished_ = false;
  std::FILE* out_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace fxic::rd

#endif  // FXIC_APPS_RD_PROGRESS_H_
