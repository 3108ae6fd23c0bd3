// Deterministic PRNG, random CDF tables and FNV-1a hashing for entropy tests.
#ifndef FXIC_TESTS_ENTROPY_ENTROPY_TEST_UTIL_H_
#define FXIC_TESTS_ENTROPY_ENTROPY_TEST_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "entropy/cdf.h"

namespace fxic::entropy::testing {

// splitmix64: small, fast, identical on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n >= 1 (modulo bias is irrelevant for tests).
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

inline uint64_t Fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001B3ull;
  }
  return h;
}

// A CDF of n symbols (1 <= n <= 65536) from frequencies: every symbol gets 1,
// the rest is split by random weights whose spread is itself random (from
// near-uniform to extremely peaked).
inline std::vector<uint32_t> RandomCdf(SplitMix64& rng, uint32_t n) {
  std::vector<uint64_t> weight(n);
  const int spread = static_cast<int>(rng.Below(40));
  uint64_t total = 0;
  for (auto& w : weight) {
    w = (rng.Next() >> (24 + rng.Below(spread + 1))) + 1;
    total += w;
  }
  const uint64_t rest = kCdfTotal - n;
  std::vector<uint32_t> freq(n);
  uint64_t used = 0;
  for (uint32_t i = 0; i < n; ++i) {
    // total < 2^40 * 65536 < 2^57 and rest <= 65535: no overflow in 64 bits.
    freq[i] = 1 + static_cast<uint32_t>(rest * weight[i] / total);
    used += freq[i];
  }
  freq[rng.Below(n)] += static_cast<uint32_t>(kCdfTotal - used);
  std::vector<uint32_t> cdf(n + 1, 0);
  for (uint32_t i = 0; i < n; ++i) cdf[i + 1] = cdf[i] + freq[i];
  return cdf;
}

// One symbol takes 65536 - (n - 1), every other symbol has frequency 1.
inline std::vector<uint32_t> PeakedCdf(uint32_t n, uint32_t peak) {
  std::vector<uint32_t> cdf(n + 1, 0);
  for (uint32_t i = 0; i < n; ++i) {
    cdf[i + 1] = cdf[i] + (i == peak ? kCdfTotal - (n - 1) : 1);
  }
  return cdf;
}

// Symbol drawn with the table's own probabilities.
inline int SampleSymbol(SplitMix64& rng, const std::vector<uint32_t>& cdf) {
  const uint32_t target = static_cast<uint32_t>(rng.Below(kCdfTotal));
  return static_cast<int>(std::upper_bound(cdf.begin(), cdf.end(), target) -
                          cdf.begin()) -
         1;
}

}  // namespace fxic::entropy::testing

#endif  // FXIC_TESTS_ENTROPY_ENTROPY_TEST_UTIL_H_
