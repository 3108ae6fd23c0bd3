// Integer range coder: encoder, decoder and the minimal-length stream flush.
#include "entropy/range_coder.h"

#include <cassert>
#include <cstdint>
#include <utility>

namespace fxic::entropy {
namespace {

// Renormalise (shift out one byte) while range < kTop: range stays in
// [2^24, 2^32), so range >> 16 >= 2^8 and every freq >= 1 keeps range > 0.
constexpr uint32_t kTop = uint32_t{1} << 24;
constexpr uint64_t kCarryBit = uint64_t{1} << 32;

}  // namespace

void RangeEncoder::Encode(uint32_t cum_freq, uint32_t freq) {
  assert(freq >= 1 && uint64_t{cum_freq} + freq <= kCdfTotal);
  const uint32_t r = range_ >> kCdfPrecisionBits;
  low_ += uint64_t{r} * cum_freq;
  range_ = r * freq;  // The remainder range - r * 65536 is left unused.
  while (range_ < kTop) {
    range_ <<= 8;
    ShiftLow();
  }
}

void RangeEncoder::EncodeSymbol(const uint32_t* cdf, int symbol) {
  Encode(cdf[symbol], cdf[symbol + 1] - cdf[symbol]);
}

void RangeEncoder::EncodeBits(uint32_t value, int nbits) {
  assert(nbits >= 1 && nbits <= kCdfPrecisionBits);
  const int shift = kCdfPrecisionBits - nbits;
  const uint32_t mask = (uint32_t{1} << nbits) - 1;
  Encode((value & mask) << shift, uint32_t{1} << shift);
}

// Moves the top byte of the 32-bit window of low_ into the pipeline of bytes
// that a later carry may still change: cache_ followed by pending_ff_ 0xFF
// bytes. A byte below 0xFF (or a carry) makes everything before it final.
void RangeEncoder::ShiftLow() {
  if (low_ < 0xFF000000u || low_ >= kCarryBit) {
    const uint8_t carry = static_cast<uint8_t>(low_ >> 32);
    // Before the first byte there is no cache; a carry cannot occur then
    // because low + range <= 2^32 - 1 until the first shift.
    if (has_cache_) out_.push_back(static_cast<uint8_t>(cache_ + carry));
    for (; pending_ff_ > 0; --pending_ff_) {
      out_.push_back(static_cast<uint8_t>(0xFF + carry));
    }
    cache_ = static_cast<uint8_t>(low_ >> 24);
    has_cache_ = true;
  } else {
    ++pending_ff_;
  }
  low_ = (low_ & 0x00FFFFFFu) << 8;
}

std::vector<uint8_t> RangeEncoder::Finish() {
  // Pick the value in [low, low + range) whose 32-bit window has the fewest
  // nonzero leading bytes: the smallest multiple of 2^(32 - 8k) >= low, for
  // the smallest k. Since range >= 2^24, k <= 1; the decoder reads the
  // omitted bytes as 0x00.
  const uint64_t end = low_ + range_;
  uint64_t value = low_;
  int flush_bytes = 4;
  for (int k = 0; k <= 4; ++k) {
    const uint64_t mask = (uint64_t{1} << (32 - 8 * k)) - 1;
    const uint64_t candidate = (low_ + mask) & ~mask;
    if (candidate < end) {
      value = candidate;
      flush_bytes = k;
      break;
    }
  }
  const uint8_t carry = static_cast<uint8_t>(value >> 32);
  if (has_cache_) out_.push_back(static_cast<uint8_t>(cache_ + carry));
  for (; pending_ff_ > 0; --pending_ff_) {
    out_.push_back(static_cast<uint8_t>(0xFF + carry));
  }
  for (int i = 0; i < flush_bytes; ++i) {
    out_.push_back(static_cast<uint8_t>(value >> (24 - 8 * i)));
  }
  std::vector<uint8_t> bytes = std::move(out_);
  *this = RangeEncoder();
  return bytes;
}

RangeDecoder::RangeDecoder(const uint8_t* data, size_t size)
    : data_(data), size_(data == nullptr ? 0 : size) {
  for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | NextByte();
}

uint32_t RangeDecoder::NextByte() {
  if (pos_ < size_) return data_[pos_++];
  if (bytes_past_end_ != SIZE_MAX) ++bytes_past_end_;
  return 0;
}

uint32_t RangeDecoder::Target(uint32_t r) {
  // r >= 2^8 because range_ >= 2^24. In an intact stream code_ < r * 65536.
  uint32_t target = code_ / r;
  if (target >= kCdfTotal) {
    corrupt_ = true;
    target = kCdfTotal - 1;
  }
  return target;
}

void RangeDecoder::Update(uint32_t r, uint32_t cum_freq, uint32_t freq) {
  code_ -= r * cum_freq;  // Never wraps for a table passing ValidateCdf.
  range_ = r * freq;
  if (range_ == 0) {  // Only reachable with a table failing ValidateCdf.
    corrupt_ = true;
    range_ = 1;
  }
  while (range_ < kTop) {
    code_ = (code_ << 8) | NextByte();
    range_ <<= 8;
  }
}

int RangeDecoder::DecodeSymbol(const uint32_t* cdf, int n_symbols) {
  if (n_symbols < 1) return 0;
  const uint32_t r = range_ >> kCdfPrecisionBits;
  const uint32_t target = Target(r);
  // Largest s with cdf[s] <= target; cdf[0] == 0 <= target < cdf[n] == 65536.
  int lo = 0;
  int hi = n_symbols;
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    if (cdf[mid] <= target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  Update(r, cdf[lo], cdf[lo + 1] - cdf[lo]);
  return lo;
}

uint32_t RangeDecoder::DecodeBits(int nbits) {
  if (nbits < 1 || nbits > kCdfPrecisionBits) return 0;
  const uint32_t r = range_ >> kCdfPrecisionBits;
  const int shift = kCdfPrecisionBits - nbits;
  const uint32_t value = Target(r) >> shift;
  Update(r, value << shift, uint32_t{1} << shift);
  return value;
}

}  // namespace fxic::entropy
