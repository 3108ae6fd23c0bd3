// SHA-256 (FIPS 180-4), integer-only.
#include "codec/sha256.h"

#include <cstring>

#if defined(FXIC_SHA_NI)
#include <cpuid.h>
#endif

namespace fxic {

#if defined(FXIC_SHA_NI)
// codec/sha256_x86.cpp, compiled with -msse4.1 -msha: call only when
// CpuHasShaNi().
void Sha256BlocksShaNi(uint32_t* h, const uint8_t* data, size_t blocks);
#endif

namespace {

constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// The specification's compression function, one block at a time.
void BlocksPortable(uint32_t* state, const uint8_t* p, size_t blocks) {
  for (; blocks > 0; --blocks, p += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{p[4 * i]} << 24) | (uint32_t{p[4 * i + 1]} << 16) |
             (uint32_t{p[4 * i + 2]} << 8) | uint32_t{p[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 =
          Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 =
          Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5],
             g = state[6], h = state[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = h + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) +
                          ((e & f) ^ (~e & g)) + kK[i] + w[i];
      const uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) +
                          ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#if defined(FXIC_SHA_NI)
// CPUID: SHA (leaf 7 EBX bit 29), SSSE3 and SSE4.1 (leaf 1 ECX bits 9, 19).
// They use only XMM registers, which every x86-64 OS saves.
bool CpuHasShaNi() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  const bool sse = ((c >> 9) & 1) != 0 && ((c >> 19) & 1) != 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return sse && ((b >> 29) & 1) != 0;
}
#endif

Sha256BlocksFn DefaultBlocks() {
  static const Sha256BlocksFn fn = [] {
#if defined(FXIC_SHA_NI)
    if (CpuHasShaNi()) return &Sha256BlocksShaNi;
#endif
    return &BlocksPortable;
  }();
  return fn;
}

}  // namespace

Sha256::Sha256() : Sha256(DefaultBlocks()) {}

Sha256::Sha256(Sha256BlocksFn blocks)
    : blocks_(blocks),
      h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
         0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::Update(const uint8_t* data, size_t size) {
  total_ += size;
  if (buf_len_ > 0) {
    const size_t take = (64 - buf_len_ < size) ? 64 - buf_len_ : size;
    std::memcpy(buf_ + buf_len_, data, take);
    buf_len_ += take;
    data += take;
    size -= take;
    if (buf_len_ < 64) return;
    blocks_(h_, buf_, 1);
    buf_len_ = 0;
  }
  // Whole blocks straight from the input, the tail into the buffer.
  const size_t blocks = size / 64;
  if (blocks > 0) blocks_(h_, data, blocks);
  data += blocks * 64;
  size -= blocks * 64;
  if (size > 0) std::memcpy(buf_, data, size);
  buf_len_ = size;
}

Sha256Digest Sha256::Final() {
  const uint64_t bits = total_ * 8;
  const uint8_t pad = 0x80;
  Update(&pad, 1);
  const uint8_t zero = 0;
  while (buf_len_ != 56) Update(&zero, 1);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  Update(len, 8);
  Sha256Digest out;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) {
      out[4 * i + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
    }
  }
  return out;
}

Sha256Digest Sha256Of(const uint8_t* data, size_t size) {
  Sha256 s;
  s.Update(data, size);
  return s.Final();
}

std::string ToHex(const uint8_t* data, size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    s.push_back(kHex[data[i] >> 4]);
    s.push_back(kHex[data[i] & 15]);
  }
  return s;
}

std::vector<std::string> Sha256Implementations() {
  std::vector<std::string> names = {"portable"};
#if defined(FXIC_SHA_NI)
  if (CpuHasShaNi()) names.push_back("sha_ni");
#endif
  return names;
}

Sha256BlocksFn Sha256BlocksFor(const std::string& name) {
  if (name == "portable") return &BlocksPortable;
#if defined(FXIC_SHA_NI)
  if (name == "sha_ni" && CpuHasShaNi()) return &Sha256BlocksShaNi;
#endif
  return nullptr;
}

std::string Sha256DefaultImplementation() {
  return DefaultBlocks() == &BlocksPortable ? "portable" : "sha_ni";
}

}  // namespace fxic
