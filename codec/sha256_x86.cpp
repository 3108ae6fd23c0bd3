// SHA-256 block function with the x86 SHA extensions (SHA-NI), compiled with
// -msse4.1 -msha (this file only; codec/CMakeLists.txt). sha256.cpp calls it
// only on CPUs that report SHA, SSSE3 and SSE4.1, and tests compare it with
// the portable function. As in fixedpoint/'s SIMD files, nothing here is an
// inline function or template shared with generic code (no weak symbol the
// linker could pick for a CPU without these instructions).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace fxic {
namespace {

alignas(16) const uint32_t kRoundK[64] = {
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

}  // namespace

// State layout: sha256rnds2 works on (A, B, E, F) and (C, D, G, H) halves.
// Message schedule for words 4g..4g+3, g >= 4 (FIPS 180-4 §6.2.2 step 1):
//   w_g = msg2(msg1(w_{g-4}, w_{g-3}) + (words 4g-7..4g-4), w_{g-1}).
void Sha256BlocksShaNi(uint32_t* h, const uint8_t* data, size_t blocks) {
  const __m128i kByteSwap =
      _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));       // DCBA
  __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));  // HGFE
  tmp = _mm_shuffle_epi32(tmp, 0xB1);                // CDAB
  state1 = _mm_shuffle_epi32(state1, 0x1B);          // EFGH
  __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);  // ABEF
  state1 = _mm_blend_epi16(state1, tmp, 0xF0);       // CDGH

  for (; blocks > 0; --blocks, data += 64) {
    const __m128i abef = state0, cdgh = state1;
    __m128i w0 = _mm_shuffle_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(data)), kByteSwap);
    __m128i w1 = _mm_shuffle_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16)), kByteSwap);
    __m128i w2 = _mm_shuffle_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 32)), kByteSwap);
    __m128i w3 = _mm_shuffle_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 48)), kByteSwap);
    for (int g = 0; g < 16; ++g) {
      if (g >= 4) {
        // w0..w3 hold w_{g-4}..w_{g-1}; the new w_g replaces w_{g-4}.
        __m128i next = _mm_sha256msg1_epu32(w0, w1);
        next = _mm_add_epi32(next, _mm_alignr_epi8(w3, w2, 4));
        next = _mm_sha256msg2_epu32(next, w3);
        w0 = w1;
        w1 = w2;
        w2 = w3;
        w3 = next;
      }
      const __m128i cur = g < 4 ? (g == 0 ? w0 : g == 1 ? w1 : g == 2 ? w2 : w3) : w3;
      __m128i msg = _mm_add_epi32(
          cur, _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundK + 4 * g)));
      state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
      msg = _mm_shuffle_epi32(msg, 0x0E);
      state0 = _mm_sha256rnds2_epu32(state0, state1, msg);
    }
    state0 = _mm_add_epi32(state0, abef);
    state1 = _mm_add_epi32(state1, cdgh);
  }

  // Back from (ABEF, CDGH) to h[0..3] = A..D and h[4..7] = E..H.
  tmp = _mm_shuffle_epi32(state0, 0x1B);        // FEBA
  state1 = _mm_shuffle_epi32(state1, 0xB1);     // DCHG
  state0 = _mm_blend_epi16(tmp, state1, 0xF0);  // DCBA
  state1 = _mm_alignr_epi8(state1, tmp, 8);     // HGFE
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), state0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), state1);
}

}  // namespace fxic
