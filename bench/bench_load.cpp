// fxic_bench_load: what loading the model costs (docs/speed.md, "Loading the
// model"): SHA-256 throughput of each implementation, and LoadModel() of the
// embedded default model as the program does it (prehashed at build time),
// and of a copy of the same bytes (hashed, as a `-m FILE` model is), all in
// one run. Times are the best of --reps runs.
//
// Usage: fxic_bench_load [--reps N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/default_model.h"
#include "codec/model.h"
#include "codec/sha256.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double BestMs(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: fxic_bench_load [--reps N]\n");
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  const uint8_t* bytes = fxic::kDefaultModelBytes;
  const size_t size = fxic::kDefaultModelSize;
  std::printf("# embedded model: %zu bytes, build-time id %s; best of %d runs\n\n", size,
              fxic::kDefaultModelIdKnown ? "known" : "unknown", reps);

  std::printf("| SHA-256 implementation | ms for the model | MB/s |\n|---|---:|---:|\n");
  for (const std::string& impl : fxic::Sha256Implementations()) {
    fxic::Sha256BlocksFn fn = fxic::Sha256BlocksFor(impl);
    uint8_t sink = 0;
    const double ms = BestMs(reps, [&] {
      fxic::Sha256 s(fn);
      s.Update(bytes, size);
      sink ^= s.Final()[0];
    });
    std::printf("| %s%s | %.2f | %.0f |\n", impl.c_str(),
                impl == fxic::Sha256DefaultImplementation() ? " (default)" : "", ms,
                static_cast<double>(size) / ms * 1e-3);
    if (sink == 0x5a) std::printf(" ");
  }

  const std::vector<uint8_t> copy(bytes, bytes + size);
  bool ok = true;
  // Interleaved, so that both see the same machine.
  double embedded_ms = 1e30, copy_ms = 1e30;
  for (int r = 0; r < reps; ++r) {
    embedded_ms = std::min(embedded_ms, BestMs(1, [&] { ok &= fxic::LoadModel(bytes, size).ok(); }));
    copy_ms = std::min(copy_ms,
                       BestMs(1, [&] { ok &= fxic::LoadModel(copy.data(), copy.size()).ok(); }));
  }
  std::printf("\n| LoadModel() | ms | x time of hashed |\n|---|---:|---:|\n");
  std::printf("| copy of the bytes (hashed with %s, as -m FILE) | %.2f | 1.00 |\n",
              fxic::Sha256DefaultImplementation().c_str(), copy_ms);
  std::printf("| embedded bytes (id from the build) | %.2f | %.2f |\n", embedded_ms,
              embedded_ms / copy_ms);
  if (!ok) {
    std::fprintf(stderr, "fxic_bench_load: the embedded model failed to load\n");
    return 1;
  }
  return 0;
}
