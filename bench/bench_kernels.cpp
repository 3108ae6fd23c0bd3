// fxic_bench_kernels: convolution throughput of every ISA path on the
// model's layer shapes, as GMAC/s and as a ratio to the scalar path measured
// in the same run, plus this CPU's peak int16 MAC rate and the fraction of it
// each path reaches. Results are only comparable within one run (the
// machines are shared and noisy).
//
// Usage: fxic_bench_kernels [-t THREADS] [--macs M] [--reps N] [--check]
//   -t       OpenMP threads for the kernels (default 1)
//   --macs   per-layer work budget in millions of MACs: each layer runs on
//            the full output width and as many output rows as fit, at least
//            4 (default 150; the same crop for every path; --macs 100000
//            runs the whole layers)
//   --reps   timed repetitions per path and layer, best kept (default 3)
//   --check  also compare every path's output with the scalar one
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/peak.h"
#include "fixedpoint/bounds.h"
#include "fixedpoint/conv2d.h"
#include "fixedpoint/dispatch.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fxic::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct LayerShape {
  const char* name;
  int k, s, h, w, cin, cout;  // input size h x w
};

// The N = 128, M = 192 hyperprior on a 768x512 image (Kodak size).
const LayerShape kLayers[] = {
    {"g_a.0 conv5/2 3->128", 5, 2, 512, 768, 3, 128},
    {"g_a.2 conv5/2 128->128", 5, 2, 256, 384, 128, 128},
    {"g_a.4 conv5/2 128->128", 5, 2, 128, 192, 128, 128},
    {"g_a.6 conv5/2 128->192", 5, 2, 64, 96, 128, 192},
    {"h_a.0 conv3 192->128", 3, 1, 32, 48, 192, 128},
    {"h_a.2 conv5/2 128->128", 5, 2, 32, 48, 128, 128},
    {"h_a.4 conv5/2 128->128", 5, 2, 16, 24, 128, 128},
    {"h_s.0 conv3 128->768 (d2s)", 3, 1, 8, 12, 128, 768},
    {"h_s.2 conv3 192->1152 (d2s)", 3, 1, 16, 24, 192, 1152},
    {"h_s.4 conv3 288->384", 3, 1, 32, 48, 288, 384},
    {"g_s.0 conv3 192->512 (d2s)", 3, 1, 32, 48, 192, 512},
    {"g_s.2 conv3 128->512 (d2s)", 3, 1, 64, 96, 128, 512},
    {"g_s.4 conv3 128->512 (d2s)", 3, 1, 128, 192, 128, 512},
    {"g_s.6 conv3 128->12 (d2s)", 3, 1, 256, 384, 128, 12},
};

uint64_t Next(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
int64_t Uniform(uint64_t* state, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(Next(state) % uint64_t(hi - lo + 1));
}

// A random layer the overflow proof accepts, with activations in [-a, a].
struct Layer {
  ConvParams p;
  std::vector<int8_t> w;
  std::vector<int32_t> bias, mult;
  std::vector<uint8_t> shift;
};

Layer MakeLayer(const LayerShape& s, int a, uint64_t* rng) {
  Layer l;
  const int64_t taps = int64_t{s.k} * s.k * s.cin;
  const int64_t wmax = std::min<int64_t>(127, (kMaxAccumulator - 4096) / (a * taps));
  l.w.resize(size_t(taps * s.cout));
  for (int8_t& v : l.w) v = int8_t(Uniform(rng, -wmax, wmax));
  for (int o = 0; o < s.cout; ++o) {
    l.bias.push_back(int32_t(Uniform(rng, -4096, 4096)));
    l.mult.push_back(int32_t(Uniform(rng, 1 << 29, 0x7fffffff)));
    l.shift.push_back(uint8_t(Uniform(rng, 36, 44)));
  }
  l.p.kernel = s.k;
  l.p.stride = s.s;
  l.p.cin = s.cin;
  l.p.cout = s.cout;
  l.p.w = l.w.data();
  l.p.bias = l.bias.data();
  l.p.mult = l.mult.data();
  l.p.shift = l.shift.data();
  return l;
}

struct Peak {
  const char* what;
  const char* isa;  // the conv path it bounds
  int64_t (*fn)(int64_t, int32_t*);
  double gmacs = 0;
};

double MeasurePeak(int64_t (*fn)(int64_t, int32_t*)) {
  int32_t sink = 0;
  fn(1 << 16, &sink);  // warm up (and wake up the wide units)
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    const int64_t macs = fn(int64_t{1} << 21, &sink);
    const double s = Seconds(t0, Clock::now());
    best = std::max(best, macs / s * 1e-9);
  }
  if (sink == 12345) std::printf(" ");
  return best;
}

int Main(int argc, char** argv) {
  int threads = 1;
  double budget_macs = 150e6;
  int reps = 3;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-t" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--macs" && i + 1 < argc) {
      budget_macs = std::atof(argv[++i]) * 1e6;
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--check") {
      check = true;
    } else {
      std::fprintf(stderr,
                   "usage: fxic_bench_kernels [-t THREADS] [--macs M] "
                   "[--reps N] [--check]\n");
      return 2;
    }
  }
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  threads = 1;
#endif
  const std::vector<std::string> isas = AvailableIsas();
  std::printf("# fxic_bench_kernels: %d thread(s), ISA paths:", threads);
  for (const std::string& isa : isas) std::printf(" %s", isa.c_str());
  std::printf("\n\n");

  // Peak MAC rates (single core: the loops are not threaded).
  std::vector<Peak> peaks;
#if defined(FXIC_BENCH_X86)
  const auto has = [&](const char* isa) {
    return std::find(isas.begin(), isas.end(), isa) != isas.end();
  };
  if (has("avx2")) peaks.push_back({"vpmaddwd+vpaddd ymm (int16)", "avx2", PeakAvx2Madd});
  if (has("avx512")) peaks.push_back({"vpmaddwd+vpaddd zmm (int16)", "avx512", PeakAvx512Madd});
  if (has("avx512vnni")) {
    peaks.push_back({"vpdpwssd zmm (int16)", "avx512vnni", PeakAvx512Dpwssd});
    peaks.push_back({"vpdpbusd zmm (u8 x s8, reference)", "", PeakAvx512Dpbusd});
  }
#endif
  if (!peaks.empty()) {
    std::printf("| peak loop, 1 core | GMAC/s |\n|---|---:|\n");
    for (Peak& p : peaks) {
      p.gmacs = MeasurePeak(p.fn);
      std::printf("| %s | %.1f |\n", p.what, p.gmacs);
    }
    std::printf("\n");
  }
  const auto peak_of = [&](const std::string& isa) {
    for (const Peak& p : peaks) {
      if (isa == p.isa) return p.gmacs;
    }
    return 0.0;
  };

  // Convolutions.
  std::printf("| layer (768x512 image) | rows | MMAC |");
  for (const std::string& isa : isas) std::printf(" %s GMAC/s (x scalar) |", isa.c_str());
  std::printf("\n|---|---:|---:|");
  for (size_t i = 0; i < isas.size(); ++i) std::printf("---:|");
  std::printf("\n");
  std::vector<double> total_time(isas.size(), 0.0);
  // Whole-layer times extrapolated from each crop's rate (1 image, the
  // thread count above), split into the encoder's transforms (g_a, h_a, h_s)
  // and the decoder's (h_s, g_s).
  std::vector<double> enc_ms(isas.size(), 0.0), dec_ms(isas.size(), 0.0);
  double enc_macs = 0, dec_macs = 0;
  double total_macs = 0;
  uint64_t rng = 0x5eed;
  bool all_same = true;
  for (const LayerShape& s : kLayers) {
    const int ho = ConvOutputSize(s.h, s.k, s.s);
    const int wo = ConvOutputSize(s.w, s.k, s.s);
    const double macs_per_row = double(wo) * s.cout * s.k * s.k * s.cin;
    const int rows = std::max(std::min(ho, 4),
                              std::min(ho, int(budget_macs / macs_per_row)));
    const int h_in = std::min(s.h, rows * s.s);
    const int ho_run = ConvOutputSize(h_in, s.k, s.s);
    // MACs actually executed: kernel rows outside the (cropped) image are
    // skipped by every path; zero columns are counted (the SIMD paths
    // multiply them, the usual convention).
    double macs = 0;
    for (int oy = 0; oy < ho_run; ++oy) {
      const int pad = s.k / 2;
      const int ky0 = std::max(0, pad - oy * s.s);
      const int ky1 = std::min(s.k, h_in + pad - oy * s.s);
      macs += double(ky1 - ky0) * s.k * s.cin * wo * s.cout;
    }
    const int a = 8192;
    Layer l = MakeLayer(s, a, &rng);
    std::vector<int16_t> in(size_t(h_in) * s.w * s.cin);
    for (int16_t& v : in) v = int16_t(Uniform(&rng, -a, a));
    std::vector<int16_t> out(size_t(ho_run) * wo * s.cout), ref;
    std::printf("| %s | %d/%d | %.0f |", s.name, ho_run, ho, macs * 1e-6);
    double full_macs = 0;
    for (int oy = 0; oy < ho; ++oy) {
      const int pad = s.k / 2;
      const int ky0 = std::max(0, pad - oy * s.s);
      const int ky1 = std::min(s.k, s.h + pad - oy * s.s);
      full_macs += double(ky1 - ky0) * s.k * s.cin * wo * s.cout;
    }
    const bool enc = s.name[2] == 'a' || (s.name[0] == 'h' && s.name[2] == 's');
    const bool dec = s.name[2] == 's';
    if (enc) enc_macs += full_macs;
    if (dec) dec_macs += full_macs;
    double scalar_time = 0;
    for (size_t i = 0; i < isas.size(); ++i) {
      const KernelTable* t = KernelsFor(isas[i]);
      t->conv2d(in.data(), h_in, s.w, l.p, out.data());  // warm-up
      double best = 1e30;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        t->conv2d(in.data(), h_in, s.w, l.p, out.data());
        best = std::min(best, Seconds(t0, Clock::now()));
      }
      if (i == 0) {
        scalar_time = best;
        if (check) ref = out;
      } else if (check && out != ref) {
        all_same = false;
        std::fprintf(stderr, "MISMATCH: %s on %s\n", isas[i].c_str(), s.name);
      }
      total_time[i] += best;
      if (enc) enc_ms[i] += full_macs / macs * best * 1e3;
      if (dec) dec_ms[i] += full_macs / macs * best * 1e3;
      std::printf(" %.2f (%.1fx) |", macs / best * 1e-9, scalar_time / best);
    }
    total_macs += macs;
    std::printf("\n");
  }
  std::printf("| **all layers** | | %.0f |", total_macs * 1e-6);
  for (size_t i = 0; i < isas.size(); ++i) {
    std::printf(" **%.2f (%.1fx)** |", total_macs / total_time[i] * 1e-9,
                total_time[0] / total_time[i]);
  }
  std::printf("\n\n| conv time per 768x512 image, extrapolated | GMAC |");
  for (const std::string& isa : isas) std::printf(" %s ms |", isa.c_str());
  std::printf("\n|---|---:|");
  for (size_t i = 0; i < isas.size(); ++i) std::printf("---:|");
  std::printf("\n| encoder (g_a, h_a, h_s) | %.2f |", enc_macs * 1e-9);
  for (size_t i = 0; i < isas.size(); ++i) std::printf(" %.0f |", enc_ms[i]);
  std::printf("\n| decoder (h_s, g_s) | %.2f |", dec_macs * 1e-9);
  for (size_t i = 0; i < isas.size(); ++i) std::printf(" %.0f |", dec_ms[i]);
  std::printf("\n\n");
  // GDN / IGDN: C = 128 over a crop of the largest (384x256) layer.
  {
    const int c = 128;
    const int64_t pixels = std::max<int64_t>(
        384, std::min<int64_t>(384 * 256, int64_t(budget_macs / (c * c))));
    std::vector<int16_t> gamma(size_t(c) * c), in(size_t(pixels) * c),
        out(in.size()), ref;
    std::vector<int32_t> beta(c), mult(c);
    std::vector<uint8_t> shift_gdn(c), shift_igdn(c);
    const int a = 8192;  // sq_shift 12 below: sq <= 2^14
    for (int16_t& g : gamma) g = int16_t(Uniform(&rng, 0, 1000));
    for (int i = 0; i < c; ++i) {
      beta[i] = int32_t(Uniform(&rng, 1, 1 << 20));
      mult[i] = int32_t(Uniform(&rng, 1 << 29, 0x7fffffff));
      shift_gdn[i] = uint8_t(Uniform(&rng, 20, 40));
      shift_igdn[i] = uint8_t(Uniform(&rng, 30, 50));
    }
    for (int16_t& v : in) v = int16_t(Uniform(&rng, -a, a));
    std::printf("| GDN/IGDN C=128 (%lld px crop of 384x256) | Mvalues/s per path (x scalar) |\n|---|---|\n",
                static_cast<long long>(pixels));
    for (bool inverse : {false, true}) {
      NormParams p;
      p.channels = c;
      p.sq_shift = 12;
      p.gamma = gamma.data();
      p.beta = beta.data();
      p.mult = mult.data();
      p.shift = inverse ? shift_igdn.data() : shift_gdn.data();
      if (!CheckNormalizationBounds(p, inverse, -a, a).ok()) {
        std::fprintf(stderr, "bench GDN params rejected: %s\n",
                     CheckNormalizationBounds(p, inverse, -a, a).message().c_str());
        return 1;
      }
      std::printf("| %s |", inverse ? "IGDN" : "GDN");
      double scalar_time = 0;
      for (size_t i = 0; i < isas.size(); ++i) {
        const KernelTable* t = KernelsFor(isas[i]);
        t->normalize(in.data(), pixels, p, inverse, out.data());
        double best = 1e30;
        for (int r = 0; r < reps; ++r) {
          const auto t0 = Clock::now();
          t->normalize(in.data(), pixels, p, inverse, out.data());
          best = std::min(best, Seconds(t0, Clock::now()));
        }
        if (i == 0) {
          scalar_time = best;
          if (check) ref = out;
        } else if (check && out != ref) {
          all_same = false;
          std::fprintf(stderr, "MISMATCH: %s on %s\n", isas[i].c_str(),
                       inverse ? "IGDN" : "GDN");
        }
        std::printf(" %s %.0f (%.1fx)%s", isas[i].c_str(),
                    double(pixels) * c / best * 1e-6, scalar_time / best,
                    i + 1 < isas.size() ? "," : " |\n");
      }
    }
    std::printf("\n");
  }

  if (!peaks.empty()) {
    std::printf("| path | conv GMAC/s (all layers) | peak of its instruction, 1 core x %d thread(s) | fraction |\n|---|---:|---:|---:|\n", threads);
    for (size_t i = 1; i < isas.size(); ++i) {
      const double peak = peak_of(isas[i]) * threads;
      const double got = total_macs / total_time[i] * 1e-9;
      if (peak > 0) {
        std::printf("| %s | %.2f | %.1f | %.0f%% |\n", isas[i].c_str(), got,
                    peak, 100.0 * got / peak);
      }
    }
  }
  if (check) std::printf("\ncheck: %s\n", all_same ? "all paths identical to scalar" : "MISMATCH");
  return all_same ? 0 : 1;
}

}  // namespace
}  // namespace fxic::bench

int main(int argc, char** argv) { return fxic::bench::Main(argc, argv); }
