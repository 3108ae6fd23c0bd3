// checkasm-style tests of the dispatch table: every SIMD path this CPU runs
// must give the scalar reference's bytes exactly (memcmp == 0), on random and
// extreme inputs, odd sizes, every kernel size and stride, channel counts that
// are not multiples of any vector width, with canaries around the outputs.
// Paths the CPU lacks are skipped (and listed). FXIC_TEST_SEED=<n> reruns a
// failure; the seed is printed with every failure.
#include "fixedpoint/dispatch.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "fixedpoint/bounds.h"
#include "fixedpoint/conv2d.h"
#include "fixedpoint/depth_to_space.h"
#include "fixedpoint/normalization.h"
#include "tests/fixedpoint/fixedpoint_test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fxic {
namespace {

using testing::SplitMix64;

constexpr int kGuard = 64;             // int16 canaries on each side
constexpr int16_t kCanary = 0x5a3c;  // not a value any test produces

uint64_t BaseSeed() {
  const char* env = std::getenv("FXIC_TEST_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 0) : 0x5eed2024ULL;
}

// A buffer of n int16 with kGuard canaries before and after.
struct Guarded {
  std::vector<int16_t> buf;
  explicit Guarded(size_t n) : buf(n + 2 * kGuard, kCanary) {}
  int16_t* data() { return buf.data() + kGuard; }
  size_t size() const { return buf.size() - 2 * kGuard; }
  bool CanariesIntact() const {
    for (int i = 0; i < kGuard; ++i) {
      if (buf[i] != kCanary || buf[buf.size() - 1 - i] != kCanary) return false;
    }
    return true;
  }
};

// An empty tensor whose storage holds n canaries. Reshape does not
// zero-fill what it adds (Tensor16's allocator), so growing this tensor
// within that capacity leaves the canaries in place: a kernel that skipped
// an element of its output would show one.
Tensor16 StaleTensor(size_t n) {
  Tensor16 t;
  t.Reshape(1, 1, static_cast<int>(n));
  std::fill(t.data.begin(), t.data.end(), kCanary);
  t.Reshape(0, 0, 0);
  REQUIRE(t.data.capacity() >= n);
  return t;
}

struct ConvCase : testing::ConvLayerData {
  int h = 1, width = 1;
  std::vector<int16_t> input;

  std::string Describe() const {
    std::ostringstream os;
    os << "K=" << k << " S=" << s << " in " << h << "x" << width << "x" << cin
       << " -> cout " << cout << " clamp [" << lo << ", " << hi << "]";
    return os.str();
  }
};

// Kinds of data a case is filled with.
enum class Fill {
  kRandom,        // random activations in [-A, A], weights as large as the
                  // overflow proof allows
  kExtreme,       // activations at +-A only, weights at +-wmax only
  kSaturate,      // all same-signed extremes: accumulators near +-(2^31 - 1)
};

// A random case that CheckConvBounds accepts for inputs in [-a, a].
ConvCase MakeCase(SplitMix64& rng, int k, int s, int h, int w, int cin,
                  int cout, Fill fill) {
  ConvCase c;
  c.k = k;
  c.s = s;
  c.h = h;
  c.width = w;
  c.cin = cin;
  c.cout = cout;
  const int64_t taps = int64_t{k} * k * cin;
  const int a = fill == Fill::kRandom && rng.Uniform(0, 1) ? 1000 : 32767;
  const int64_t bias_max = fill == Fill::kSaturate ? 0 : (1 << 20);
  const int64_t wmax =
      std::min<int64_t>(127, (kMaxAccumulator - bias_max) / (a * taps));
  REQUIRE(wmax >= 1);
  c.w.resize(static_cast<size_t>(taps * cout));
  for (int8_t& v : c.w) {
    if (fill == Fill::kRandom) {
      v = static_cast<int8_t>(rng.Uniform(-wmax, wmax));
    } else if (fill == Fill::kExtreme) {
      v = static_cast<int8_t>(rng.Uniform(0, 1) ? wmax : -wmax);
    } else {
      v = static_cast<int8_t>(wmax);
    }
  }
  c.input.resize(static_cast<size_t>(h) * w * cin);
  const int sign = rng.Uniform(0, 1) ? 1 : -1;
  for (int16_t& v : c.input) {
    if (fill == Fill::kRandom) {
      v = static_cast<int16_t>(rng.Uniform(-a, a));
    } else if (fill == Fill::kExtreme) {
      v = static_cast<int16_t>(rng.Uniform(0, 1) ? a : -a);
    } else {
      v = static_cast<int16_t>(sign * a);
    }
  }
  for (int o = 0; o < cout; ++o) {
    c.bias.push_back(static_cast<int32_t>(rng.Uniform(-bias_max, bias_max)));
    // Multipliers and shifts over their whole ranges: shift 0 (no rounding),
    // 62 (the largest), M0 up to 2^31 - 1.
    const int kind = static_cast<int>(rng.Uniform(0, 5));
    if (kind == 0) {
      c.mult.push_back(1);
      c.shift.push_back(0);
    } else if (kind == 1) {
      c.mult.push_back(0x7fffffff);
      c.shift.push_back(62);
    } else if (kind == 2) {
      // Any shift; small ones mostly saturate at the clamp bounds.
      c.mult.push_back(static_cast<int32_t>(rng.Uniform(1, 0x7fffffff)));
      c.shift.push_back(static_cast<uint8_t>(rng.Uniform(1, 62)));
    } else {
      // Shifts that leave the result inside the int16 range most of the time.
      c.mult.push_back(static_cast<int32_t>(rng.Uniform(1, 0x7fffffff)));
      c.shift.push_back(static_cast<uint8_t>(rng.Uniform(20, 50)));
    }
  }
  const int clamp = static_cast<int>(rng.Uniform(0, 3));
  if (clamp == 1) c.lo = 0;  // ReLU
  if (clamp == 2) {
    c.lo = static_cast<int16_t>(rng.Uniform(-32767, 0));
    c.hi = static_cast<int16_t>(rng.Uniform(c.lo, 32767));
  }
  REQUIRE(CheckConvBounds(c.Params(), -a, a).ok());
  return c;
}

// Runs `kernel` into a guarded buffer.
Guarded RunConv(Conv2dKernel kernel, const ConvCase& c) {
  const int ho = ConvOutputSize(c.h, c.k, c.s);
  const int wo = ConvOutputSize(c.width, c.k, c.s);
  Guarded out(static_cast<size_t>(ho) * wo * c.cout);
  kernel(c.input.data(), c.h, c.width, c.Params(), out.data());
  return out;
}

// Compares a path with the scalar reference; on failure reports the seed,
// the case and the first mismatch.
void ExpectSameConv(const KernelTable& path, const ConvCase& c, uint64_t seed) {
  const KernelTable* scalar = KernelsFor("scalar");
  REQUIRE(scalar != nullptr);
  const Guarded ref = RunConv(scalar->conv2d, c);
  Guarded got = RunConv(path.conv2d, c);
  const int ho = ConvOutputSize(c.h, c.k, c.s);
  const int wo = ConvOutputSize(c.width, c.k, c.s);
  INFO("isa=" << path.isa << " seed=" << seed << " " << c.Describe());
  REQUIRE(ref.CanariesIntact());
  CHECK(got.CanariesIntact());
  const bool same = std::memcmp(ref.buf.data() + kGuard, got.data(),
                                ref.size() * sizeof(int16_t)) == 0;
  if (!same) {
    for (size_t i = 0; i < ref.size(); ++i) {
      if (ref.buf[kGuard + i] != got.data()[i]) {
        const size_t px = i / c.cout;
        FAIL_CHECK("first mismatch at y=" << px / wo << " x=" << px % wo
                                          << " c=" << i % c.cout << ": scalar "
                                          << ref.buf[kGuard + i] << ", "
                                          << path.isa << " " << got.data()[i]
                                          << " (output " << ho << "x" << wo
                                          << ")");
        break;
      }
    }
  }
  CHECK(same);
}

std::vector<const KernelTable*> SimdPaths() {
  std::vector<const KernelTable*> paths;
  for (const std::string& isa : AvailableIsas()) {
    if (isa != "scalar") paths.push_back(KernelsFor(isa));
  }
  for (const char* isa : {"avx2", "avx512", "avx512vnni"}) {
    if (KernelsFor(isa) == nullptr) {
      WARN("ISA " << isa << " not available here: skipped");
    }
  }
  return paths;
}

TEST_CASE("Dispatch lists, selects and rejects ISA paths", "[dispatch]") {
  const std::vector<std::string> isas = AvailableIsas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == "scalar");
  const std::string before = CurrentIsa();
  for (const std::string& isa : isas) {
    REQUIRE(KernelsFor(isa) != nullptr);
    REQUIRE(SetIsa(isa).ok());
    CHECK(CurrentIsa() == isa);
    CHECK(std::string(ActiveKernels().isa) == isa);
  }
  const Status bad = SetIsa("sse9");
  CHECK_FALSE(bad.ok());
  CHECK(bad.message().find("scalar") != std::string::npos);  // lists them
  CHECK(CurrentIsa() == isas.back());  // unchanged by the failed call
  CHECK(KernelsFor("sse9") == nullptr);
  REQUIRE(SetIsa("auto").ok());
  CHECK(CurrentIsa() == isas.back());
  REQUIRE(SetIsa(before).ok());
}

TEST_CASE("SIMD convolution equals the scalar reference: every K, S and odd "
          "shape", "[dispatch][conv2d]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t base = BaseSeed();
  const int sizes[] = {1, 2, 3, 7, 13, 67};
  const int channels[] = {1, 2, 3, 5, 12, 17, 32, 33, 64, 65, 80};
  uint64_t n = 0;
  for (int k : {1, 3, 5}) {
    for (int s : {1, 2}) {
      for (int hi = 0; hi < 6; ++hi) {
        for (int wi = 0; wi < 6; ++wi) {
          const uint64_t seed = base + 1000003 * (n++);
          SplitMix64 rng(seed);
          const int h = sizes[hi];
          const int w = sizes[wi];
          // Keep the big images' channel counts small so the scalar
          // reference stays fast; the wide-channel cases run on small ones.
          const int cmax = (h * w > 200) ? 6 : 11;
          const int cin = channels[rng.Uniform(0, cmax - 1)];
          const int cout = channels[rng.Uniform(0, cmax - 1)];
          const Fill fill =
              static_cast<Fill>(rng.Uniform(0, 5) < 4 ? 0 : rng.Uniform(1, 2));
          const ConvCase c = MakeCase(rng, k, s, h, w, cin, cout, fill);
          for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
        }
      }
    }
  }
}

TEST_CASE("SIMD convolution equals the scalar reference: extreme inputs and "
          "accumulators at the int32 limit", "[dispatch][conv2d]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t base = BaseSeed() ^ 0xe7e7e7ULL;
  uint64_t n = 0;
  for (int k : {1, 3, 5}) {
    for (int s : {1, 2}) {
      for (int cin : {1, 3, 5, 12, 17}) {
        for (Fill fill : {Fill::kExtreme, Fill::kSaturate}) {
          const uint64_t seed = base + 7919 * (n++);
          SplitMix64 rng(seed);
          const int cout = static_cast<int>(rng.Uniform(1, 40));
          const ConvCase c = MakeCase(rng, k, s, 7, 13, cin, cout, fill);
          for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
        }
      }
    }
  }
  // The exact limit: |bias| + 32767 * sum|w| == 2^31 - 1 (as conv2d_test).
  ConvCase c;
  c.k = 5;
  c.s = 1;
  c.h = c.width = 5;
  c.cin = 20;
  c.cout = 2;
  c.w.assign(500, 127);
  c.w.resize(1000, -127);
  const int32_t bias = 2147483647 - 32767 * 63500;
  c.mult = {1, 0x7fffffff};
  c.shift = {31, 62};
  for (int sign : {1, -1}) {
    c.bias = {sign * bias, -sign * bias};
    c.input.assign(500, static_cast<int16_t>(sign * 32767));
    REQUIRE(CheckConvBounds(c.Params(), -32767, 32767).ok());
    for (const KernelTable* path : paths) ExpectSameConv(*path, c, 0);
  }
}

TEST_CASE("SIMD convolution equals the scalar reference on the model's layer "
          "shapes (reduced size)", "[dispatch][conv2d]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  struct Shape {
    int k, s, h, w, cin, cout;
  };
  // g_a, h_a, h_s, g_s of the N=128, M=192 hyperprior on small images.
  const Shape shapes[] = {{5, 2, 16, 12, 3, 128},   {5, 2, 8, 6, 128, 128},
                          {5, 2, 4, 6, 128, 192},   {3, 1, 4, 3, 192, 128},
                          {3, 1, 3, 2, 128, 768},   {3, 1, 3, 4, 192, 1152},
                          {3, 1, 6, 4, 288, 384},   {3, 1, 3, 5, 192, 512},
                          {3, 1, 9, 7, 128, 512},   {3, 1, 13, 11, 128, 12}};
  uint64_t n = 0;
  for (const Shape& sh : shapes) {
    const uint64_t seed = BaseSeed() + 31337 * (n++);
    SplitMix64 rng(seed);
    const ConvCase c = MakeCase(rng, sh.k, sh.s, sh.h, sh.w, sh.cin, sh.cout,
                                Fill::kRandom);
    for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
  }
}

TEST_CASE("SIMD convolution gives the same bytes for any thread count",
          "[dispatch][conv2d]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t seed = BaseSeed() + 99;
  SplitMix64 rng(seed);
  // 24 M MACs: above the kernels' single-thread threshold.
  const ConvCase c = MakeCase(rng, 3, 1, 64, 61, 17, 40, Fill::kRandom);
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    omp_set_num_threads(threads);
    INFO("threads=" << threads);
    for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
  }
  omp_set_num_threads(saved);
#else
  for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
#endif
}

TEST_CASE("SIMD convolution never reuses stale packed weights",
          "[dispatch][conv2d]") {
  // The packed-weights cache is keyed by contents: the same arrays (same
  // addresses) changed in place must give the new layer's result.
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t seed = BaseSeed() + 5;
  SplitMix64 rng(seed);
  ConvCase c = MakeCase(rng, 3, 1, 9, 11, 12, 20, Fill::kRandom);
  for (int change = 0; change < 5; ++change) {
    INFO("change=" << change);
    if (change == 1) c.w[rng.Uniform(0, c.w.size() - 1)] ^= 1;
    if (change == 2) c.bias[rng.Uniform(0, c.cout - 1)] += 1;
    if (change == 3) c.mult[rng.Uniform(0, c.cout - 1)] ^= 1;
    if (change == 4) {
      uint8_t& n = c.shift[rng.Uniform(0, c.cout - 1)];
      n = n == 0 ? 1 : n - 1;  // stays in [0, 62]
    }
    for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
  }
  ClearPackedWeightsCache();
  for (const KernelTable* path : paths) ExpectSameConv(*path, c, seed);
}

TEST_CASE("SIMD convolution with static weights: keyed by address, never confused",
          "[dispatch][conv2d]") {
  // Static weights (ConvParams::w_static) are cached without a copy, keyed
  // by their address; layers with equal contents elsewhere, or with other
  // contents, static or not, must still give their own results.
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t seed = BaseSeed() + 6;
  SplitMix64 rng(seed);
  ClearPackedWeightsCache();
  ConvCase a = MakeCase(rng, 3, 1, 9, 11, 12, 20, Fill::kRandom);
  a.w_static = true;
  ConvCase same_copy = a;  // same contents at another address, not static
  same_copy.w_static = false;
  ConvCase other_static = a;  // other contents, static
  other_static.w[rng.Uniform(0, a.w.size() - 1)] ^= 1;
  ConvCase other = other_static;  // other contents, not static
  other.w_static = false;
  other.w[rng.Uniform(0, a.w.size() - 1)] ^= 2;
  for (int round = 0; round < 2; ++round) {  // the second round hits the cache
    INFO("round=" << round);
    for (const ConvCase* c : {&a, &same_copy, &other_static, &other, &a}) {
      for (const KernelTable* path : paths) ExpectSameConv(*path, *c, seed);
    }
  }
  ClearPackedWeightsCache();
}

TEST_CASE("Conv2d through SetIsa gives the same tensor on every path",
          "[dispatch][conv2d]") {
  const uint64_t seed = BaseSeed() + 7;
  SplitMix64 rng(seed);
  const ConvCase c = MakeCase(rng, 5, 2, 13, 7, 5, 17, Fill::kRandom);
  Tensor16 in(c.h, c.width, c.cin);
  in.data.assign(c.input.begin(), c.input.end());
  const std::string before = CurrentIsa();
  REQUIRE(SetIsa("scalar").ok());
  Tensor16 ref;
  REQUIRE(Conv2d(in, c.Params(), &ref).ok());
  for (const std::string& isa : AvailableIsas()) {
    INFO("isa=" << isa << " seed=" << seed);
    REQUIRE(SetIsa(isa).ok());
    Tensor16 out = StaleTensor(ref.data.size() + 64);
    REQUIRE(Conv2d(in, c.Params(), &out).ok());
    CHECK(out.height == ref.height);
    CHECK(out.width == ref.width);
    CHECK(out.data == ref.data);
  }
  REQUIRE(SetIsa(before).ok());
}

// The fused convolution + depth-to-space must give the bytes of the scalar
// convolution followed by DepthToSpace, with canaries around the output.
void ExpectSameConvD2s(const KernelTable& path, const ConvCase& c,
                       uint64_t seed, bool expect_fused) {
  INFO("isa=" << path.isa << " seed=" << seed << " " << c.Describe()
              << " (conv + depth-to-space)");
  REQUIRE(path.conv2d_d2s != nullptr);
  const KernelTable* scalar = KernelsFor("scalar");
  REQUIRE(scalar != nullptr);
  const Guarded conv = RunConv(scalar->conv2d, c);
  REQUIRE(conv.CanariesIntact());
  Tensor16 conv_t(ConvOutputSize(c.h, c.k, c.s), ConvOutputSize(c.width, c.k, c.s),
                  c.cout);
  std::memcpy(conv_t.data.data(), conv.buf.data() + kGuard,
              conv.size() * sizeof(int16_t));
  Tensor16 ref;
  REQUIRE(DepthToSpace(conv_t, &ref).ok());
  Guarded got(ref.data.size());
  const bool fused =
      path.conv2d_d2s(c.input.data(), c.h, c.width, c.Params(), got.data());
  CHECK(fused == expect_fused);
  CHECK(got.CanariesIntact());
  if (!fused) {
    // Nothing written.
    CHECK(std::all_of(got.buf.begin(), got.buf.end(),
                      [](int16_t v) { return v == kCanary; }));
    return;
  }
  const bool same = std::memcmp(ref.data.data(), got.data(),
                                ref.data.size() * sizeof(int16_t)) == 0;
  if (!same) {
    for (size_t i = 0; i < ref.data.size(); ++i) {
      if (ref.data[i] != got.data()[i]) {
        const size_t px = i / ref.channels;
        FAIL_CHECK("first mismatch at y=" << px / ref.width << " x="
                   << px % ref.width << " c=" << i % ref.channels
                   << ": scalar " << ref.data[i] << ", " << path.isa << " "
                   << got.data()[i]);
        break;
      }
    }
  }
  CHECK(same);
}

TEST_CASE("SIMD convolution fused with depth-to-space equals the scalar "
          "convolution then DepthToSpace", "[dispatch][conv2d][d2s]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t base = BaseSeed() ^ 0xd25d25ULL;
  uint64_t n = 0;
  // cout / 4 a multiple of 16 (fused on every path), of 8 only (AVX2 only),
  // and not a multiple of 8 (never fused); narrow and wide rows (border
  // patches and in-place reads), every K and S.
  struct Shape {
    int k, s, h, w, cin, cout;
  };
  const Shape shapes[] = {
      {3, 1, 3, 2, 128, 768},  {3, 1, 3, 4, 192, 1152}, {3, 1, 3, 5, 192, 512},
      {3, 1, 9, 7, 128, 512},  {3, 1, 5, 67, 16, 64},   {3, 1, 2, 41, 33, 128},
      {1, 1, 4, 70, 12, 64},   {5, 1, 3, 40, 7, 64},    {5, 2, 6, 75, 5, 128},
      {3, 2, 4, 33, 3, 64},    {3, 1, 4, 19, 16, 32},   {3, 1, 4, 37, 17, 96},
      {3, 1, 7, 9, 8, 12},     {3, 1, 5, 6, 4, 4},      {1, 2, 1, 1, 1, 64},
  };
  for (const Shape& sh : shapes) {
    const uint64_t seed = base + 104729 * (n++);
    SplitMix64 rng(seed);
    const Fill fill = n % 4 == 3 ? Fill::kExtreme : Fill::kRandom;
    const ConvCase c =
        MakeCase(rng, sh.k, sh.s, sh.h, sh.w, sh.cin, sh.cout, fill);
    for (const KernelTable* path : paths) {
      const int lanes = std::string(path->isa) == "avx2" ? 8 : 16;
      ExpectSameConvD2s(*path, c, seed, (sh.cout / 4) % lanes == 0);
    }
  }
#ifdef _OPENMP
  // Above the single-thread threshold, with several thread counts.
  SplitMix64 rng(base + 1);
  const ConvCase big = MakeCase(rng, 3, 1, 40, 50, 32, 128, Fill::kRandom);
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    omp_set_num_threads(threads);
    INFO("threads=" << threads);
    for (const KernelTable* path : paths) ExpectSameConvD2s(*path, big, base + 1, true);
  }
  omp_set_num_threads(saved);
#endif
}

TEST_CASE("Conv2dDepthToSpace through SetIsa gives the bytes of Conv2d then "
          "DepthToSpace", "[dispatch][conv2d][d2s]") {
  const uint64_t seed = BaseSeed() + 11;
  SplitMix64 rng(seed);
  const ConvCase c = MakeCase(rng, 3, 1, 11, 23, 24, 256, Fill::kRandom);
  Tensor16 in(c.h, c.width, c.cin);
  in.data.assign(c.input.begin(), c.input.end());
  const std::string before = CurrentIsa();
  REQUIRE(SetIsa("scalar").ok());
  Tensor16 conv, ref;
  REQUIRE(Conv2d(in, c.Params(), &conv).ok());
  REQUIRE(DepthToSpace(conv, &ref).ok());
  for (const std::string& isa : AvailableIsas()) {
    INFO("isa=" << isa << " seed=" << seed);
    REQUIRE(SetIsa(isa).ok());
    Tensor16 out = StaleTensor(ref.data.size() + 64);
    bool fused = true;
    REQUIRE(Conv2dDepthToSpace(in, c.Params(), &out, &fused).ok());
    CHECK(fused == (isa != "scalar"));
    if (fused) {
      CHECK(out.height == ref.height);
      CHECK(out.width == ref.width);
      CHECK(out.channels == ref.channels);
      CHECK(out.data == ref.data);
    }
  }
  REQUIRE(SetIsa(before).ok());
  ConvCase bad = c;
  bad.cout = 6;
  bool fused = true;
  Tensor16 out;
  CHECK_FALSE(Conv2dDepthToSpace(in, bad.Params(), &out, &fused).ok());
  CHECK_FALSE(fused);
}

// ---- GDN / IGDN ----

struct NormCase : testing::NormLayerData {
  bool inverse = false;
  int64_t pixels = 1;
  std::vector<int16_t> input;

  std::string Describe() const {
    std::ostringstream os;
    os << (inverse ? "IGDN" : "GDN") << " C=" << c << " pixels=" << pixels
       << " sq_shift=" << sq_shift << " clamp [" << lo << ", " << hi << "]";
    return os.str();
  }
};

// A random GDN/IGDN layer CheckNormalizationBounds accepts for [-a, a];
// `extreme` puts inputs at +-a and gamma / beta at their largest.
NormCase MakeNormCase(SplitMix64& rng, bool inverse, int c, int64_t pixels,
                      bool extreme) {
  NormCase n;
  n.inverse = inverse;
  n.c = c;
  n.pixels = pixels;
  const int a = extreme || rng.Uniform(0, 1) ? 32767 : int(rng.Uniform(1, 3000));
  // Smallest shift with RoundingShiftRight(a^2, s) <= 32767, sometimes more
  // (up to past 31, where every square rounds to 0).
  int s_min = 0;
  while ((((int64_t{a} * a) + (s_min ? (int64_t{1} << (s_min - 1)) : 0)) >>
          s_min) > 32767) {
    ++s_min;
  }
  n.sq_shift = rng.Uniform(0, 7) == 0 ? int(rng.Uniform(s_min, 40))
                                      : int(rng.Uniform(s_min, s_min + 3));
  const int64_t q =
      n.sq_shift == 0
          ? int64_t{a} * a
          : (int64_t{a} * a + (int64_t{1} << (n.sq_shift - 1))) >> n.sq_shift;
  const int64_t beta_max = extreme ? (1 << 24) : (1 << 20);
  const int64_t gmax = std::min<int64_t>(
      32767, q == 0 ? 32767 : (kMaxAccumulator - beta_max) / (q * c));
  for (int i = 0; i < c * c; ++i) {
    n.gamma.push_back(static_cast<int16_t>(
        extreme ? (rng.Uniform(0, 3) ? gmax : 0) : rng.Uniform(0, gmax)));
  }
  for (int i = 0; i < c; ++i) {
    n.beta.push_back(static_cast<int32_t>(
        extreme ? (rng.Uniform(0, 1) ? beta_max : 1) : rng.Uniform(1, beta_max)));
    n.mult.push_back(static_cast<int32_t>(
        rng.Uniform(0, 3) == 0 ? 0x7fffffff : rng.Uniform(1, 0x7fffffff)));
    const int n_lo = inverse ? 15 : 0;
    const int n_hi = inverse ? 62 : 47;
    const int kind = static_cast<int>(rng.Uniform(0, 3));
    n.shift.push_back(static_cast<uint8_t>(
        kind == 0 ? n_lo : kind == 1 ? n_hi : rng.Uniform(n_lo, n_hi)));
  }
  n.input.resize(static_cast<size_t>(pixels) * c);
  for (int16_t& v : n.input) {
    v = static_cast<int16_t>(extreme ? (rng.Uniform(0, 1) ? a : -a)
                                     : rng.Uniform(-a, a));
  }
  const int clamp = static_cast<int>(rng.Uniform(0, 2));
  if (clamp == 1) {
    n.lo = static_cast<int16_t>(rng.Uniform(-32767, 0));
    n.hi = static_cast<int16_t>(rng.Uniform(n.lo, 32767));
  }
  const Status ok = CheckNormalizationBounds(n.Params(), inverse, -a, a);
  INFO(ok.message());
  REQUIRE(ok.ok());
  return n;
}

void ExpectSameNorm(const KernelTable& path, const NormCase& n, uint64_t seed) {
  const KernelTable* scalar = KernelsFor("scalar");
  REQUIRE(scalar != nullptr);
  const size_t size = n.input.size();
  Guarded ref(size), got(size);
  scalar->normalize(n.input.data(), n.pixels, n.Params(), n.inverse, ref.data());
  path.normalize(n.input.data(), n.pixels, n.Params(), n.inverse, got.data());
  // In place: the output overwrites its own input.
  Guarded inplace(size);
  std::memcpy(inplace.data(), n.input.data(), size * sizeof(int16_t));
  path.normalize(inplace.data(), n.pixels, n.Params(), n.inverse,
                 inplace.data());
  INFO("isa=" << path.isa << " seed=" << seed << " " << n.Describe());
  REQUIRE(ref.CanariesIntact());
  CHECK(got.CanariesIntact());
  CHECK(inplace.CanariesIntact());
  for (const Guarded* g : {&got, &inplace}) {
    const bool same = std::memcmp(ref.buf.data() + kGuard,
                                  g->buf.data() + kGuard,
                                  size * sizeof(int16_t)) == 0;
    if (!same) {
      for (size_t i = 0; i < size; ++i) {
        if (ref.buf[kGuard + i] != g->buf[kGuard + i]) {
          FAIL_CHECK((g == &inplace ? "in place: " : "")
                     << "first mismatch at pixel " << i / n.c << " c="
                     << i % n.c << " (x=" << n.input[i] << "): scalar "
                     << ref.buf[kGuard + i] << ", " << path.isa << " "
                     << g->buf[kGuard + i]);
          break;
        }
      }
    }
    CHECK(same);
  }
}

TEST_CASE("SIMD GDN / IGDN equal the scalar reference", "[dispatch][gdn]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t base = BaseSeed() ^ 0x9d9d9dULL;
  uint64_t n = 0;
  for (bool inverse : {false, true}) {
    for (int c : {1, 2, 3, 5, 12, 16, 17, 33, 64, 128, 130}) {
      for (int64_t pixels : {1, 2, 5, 7, 13, 67, 203}) {
        for (bool extreme : {false, true}) {
          const uint64_t seed = base + 104729 * (n++);
          SplitMix64 rng(seed);
          const NormCase nc = MakeNormCase(rng, inverse, c, pixels, extreme);
          for (const KernelTable* path : paths) ExpectSameNorm(*path, nc, seed);
        }
      }
    }
  }
}

TEST_CASE("SIMD GDN / IGDN cover the whole normalizer range", "[dispatch][gdn]") {
  // One channel, gamma 0: norm = beta, so beta sweeps every leading-bit
  // position 0..30 and both ends of every table bucket.
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  SplitMix64 rng(BaseSeed() + 3);
  for (bool inverse : {false, true}) {
    NormCase n = MakeNormCase(rng, inverse, 17, 1, false);
    n.gamma.assign(17 * 17, 0);
    std::vector<int32_t> betas;
    for (int bit = 0; bit <= 30; ++bit) {
      const int64_t lo = int64_t{1} << bit;
      for (int64_t v : {lo, lo + 1, lo + lo / 3, 2 * lo - 1}) {
        if (v >= 1 && v <= kMaxAccumulator) betas.push_back(int32_t(v));
      }
    }
    for (size_t first = 0; first < betas.size(); first += 17) {
      for (int i = 0; i < 17; ++i) {
        n.beta[i] = betas[std::min(betas.size() - 1, first + i)];
      }
      n.pixels = 3;
      n.input.resize(3 * 17);
      for (int16_t& v : n.input) v = int16_t(rng.Uniform(-32767, 32767));
      for (const KernelTable* path : paths) ExpectSameNorm(*path, n, first);
    }
  }
}

TEST_CASE("SIMD GDN / IGDN cover every rsqrt table bucket at every k",
          "[dispatch][gdn]") {
  // gamma 0, so norm = beta: for every k in 0..15 and table index t in
  // 0..191 the first and last norm whose mantissa falls in bucket t (the
  // word-permute lookup switches registers at t = 32, 64, 128, ...), with
  // shifts at both ends of their range (MulShift by 0 included) and
  // multipliers up to 2^31 - 1.
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  SplitMix64 rng(BaseSeed() + 5);
  std::vector<int32_t> betas;
  for (int k = 0; k <= 15; ++k) {
    for (int64_t t = 0; t < 192; ++t) {
      // norm * 64 / 4^k in [t + 64, t + 65)
      const int64_t scale = int64_t{1} << (2 * k);
      const int64_t first = ((t + 64) * scale + 63) / 64;
      const int64_t last = ((t + 65) * scale + 63) / 64 - 1;
      for (int64_t v : {first, last}) {
        if (v >= 1 && v <= kMaxAccumulator && v >= first && v <= last) {
          betas.push_back(int32_t(v));
        }
      }
    }
  }
  for (bool inverse : {false, true}) {
    const int c = 19;
    NormCase n = MakeNormCase(rng, inverse, c, 1, false);
    n.gamma.assign(size_t(c) * c, 0);
    const int n_lo = inverse ? 15 : 0;
    const int n_hi = inverse ? 62 : 47;
    for (size_t first = 0; first < betas.size(); first += c) {
      for (int i = 0; i < c; ++i) {
        n.beta[i] = betas[std::min(betas.size() - 1, first + i)];
        const int kind = int(rng.Uniform(0, 3));
        n.shift[i] = uint8_t(kind == 0   ? n_lo
                             : kind == 1 ? n_hi
                                         : rng.Uniform(n_lo, n_hi));
        n.mult[i] = int32_t(rng.Uniform(0, 1) ? 0x7fffffff
                                              : rng.Uniform(1, 0x7fffffff));
      }
      n.pixels = 4;
      n.input.resize(size_t(n.pixels) * c);
      for (int16_t& v : n.input) {
        const int kind = int(rng.Uniform(0, 3));
        v = int16_t(kind == 0 ? 32767 : kind == 1 ? -32767
                                      : rng.Uniform(-32767, 32767));
      }
      for (const KernelTable* path : paths) ExpectSameNorm(*path, n, first);
    }
  }
}

TEST_CASE("Gdn / Igdn / DepthToSpace write every element of a grown output",
          "[dispatch][gdn][d2s]") {
  // Outputs grown by Reshape are not zero-filled: every element must be
  // written by the kernel, on every path.
  const uint64_t seed = BaseSeed() + 13;
  SplitMix64 rng(seed);
  const std::string before = CurrentIsa();
  for (bool inverse : {false, true}) {
    const NormCase n = MakeNormCase(rng, inverse, 33, 203, false);
    Tensor16 in(1, int(n.pixels), n.c);
    in.data.assign(n.input.begin(), n.input.end());
    REQUIRE(SetIsa("scalar").ok());
    Tensor16 ref;
    REQUIRE((inverse ? Igdn(in, n.Params(), &ref)
                     : Gdn(in, n.Params(), &ref)).ok());
    for (const std::string& isa : AvailableIsas()) {
      INFO("isa=" << isa << " seed=" << seed);
      REQUIRE(SetIsa(isa).ok());
      Tensor16 out = StaleTensor(ref.data.size() + 64);
      REQUIRE((inverse ? Igdn(in, n.Params(), &out)
                       : Gdn(in, n.Params(), &out)).ok());
      CHECK(out.data == ref.data);
    }
  }
  REQUIRE(SetIsa(before).ok());
  Tensor16 in(5, 7, 12);
  for (int16_t& v : in.data) v = int16_t(rng.Uniform(-32767, 32767));
  Tensor16 ref;
  REQUIRE(DepthToSpace(in, &ref).ok());
  Tensor16 out = StaleTensor(ref.data.size() + 64);
  REQUIRE(DepthToSpace(in, &out).ok());
  CHECK(out.data == ref.data);
  for (int16_t v : ref.data) CHECK(v != kCanary);
}

TEST_CASE("SIMD GDN gives the same bytes for any thread count",
          "[dispatch][gdn]") {
  const std::vector<const KernelTable*> paths = SimdPaths();
  if (paths.empty()) return;
  const uint64_t seed = BaseSeed() + 11;
  SplitMix64 rng(seed);
  // Above the kernels' single-thread threshold.
  const NormCase n = MakeNormCase(rng, false, 128, 1000, false);
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    INFO("threads=" << threads);
    for (const KernelTable* path : paths) ExpectSameNorm(*path, n, seed);
  }
  omp_set_num_threads(saved);
#else
  for (const KernelTable* path : paths) ExpectSameNorm(*path, n, seed);
#endif
}

}  // namespace
}  // namespace fxic
