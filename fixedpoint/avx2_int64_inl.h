// int64-lane helpers for the AVX2 kernels (conv2d_avx2.cpp,
// normalization_avx2.cpp). AVX2 has no 64-bit arithmetic shift, min or max;
// these build them exactly from logical shifts, compares and blends.
// Include inside a file's anonymous namespace, after <immintrin.h>, in a
// translation unit compiled with -mavx2.

// floor(x / 2^n) per int64 lane with per-lane counts n in [0, 63]:
// ~(~x >> n) for negative x, x >> n otherwise.
inline __m256i SraVar64(__m256i x, __m256i n) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), n),
                          sign);
}

// min(max(x, lo), hi) per int64 lane.
inline __m256i Clamp64(__m256i x, __m256i lo, __m256i hi) {
  x = _mm256_blendv_epi8(x, lo, _mm256_cmpgt_epi64(lo, x));
  return _mm256_blendv_epi8(x, hi, _mm256_cmpgt_epi64(x, hi));
}
