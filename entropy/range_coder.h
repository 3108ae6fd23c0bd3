// Integer range coder (carry-propagating, LZMA-style) with 16-bit CDFs.
//
// The exact arithmetic, byte order and termination are specified in
// docs/entropy-coding.md; this file is the reference implementation. In short:
// 33-bit low, 32-bit range, renormalisation by whole bytes while
// range < 2^24, bytes most significant first, and a flush of 0 or 1 byte.
#ifndef FXIC_ENTROPY_RANGE_CODER_H_
#define FXIC_ENTROPY_RANGE_CODER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "entropy/cdf.h"

namespace fxic::entropy {

// Encodes symbols into bytes. Deterministic: the same calls give the same
// bytes on every platform.
class RangeEncoder {
 public:
  RangeEncoder() = default;

  // Codes the interval [cum_freq, cum_freq + freq) out of kCdfTotal (65536).
  // Requires freq >= 1 and cum_freq + freq <= 65536 (caller's contract; the
  // arguments come from validated tables, never from untrusted bytes).
  void Encode(uint32_t cum_freq, uint32_t freq);

  // Codes symbol (0 <= symbol < n) of a table cdf of n + 1 values that
  // passes ValidateCdf. Same as Encode(cdf[symbol], cdf[symbol+1]-cdf[symbol]).
  void EncodeSymbol(const uint32_t* cdf, int symbol);

  // Codes the low nbits bits of value (1 <= nbits <= 16) as one equiprobable
  // symbol: Encode(value << (16 - nbits), 1 << (16 - nbits)). Costs about
  // nbits bits. Bits of value above nbits are ignored.
  void EncodeBits(uint32_t value, int nbits);

  // Terminates the stream and returns all of its bytes. The final flush adds
  // at most 1 byte (see docs/entropy-coding.md, "Termination"); a stream with
  // no symbols is empty. Afterwards the encoder is empty again and reusable.
  std::vector<uint8_t> Finish();

 private:
  void ShiftLow();

  uint64_t low_ = 0;              // < 2^33; bit 32 is a pending carry.
  uint32_t range_ = 0xFFFFFFFFu;  // >= 2^24 between calls.
  uint8_t cache_ = 0;             // Last byte not yet final (may get a carry).
  bool has_cache_ = false;        // False until the first byte is shifted out.
  uint64_t pending_ff_ = 0;       // 0xFF bytes after cache_, also not final.
  std::vector<uint8_t> out_;
};

// Decodes a stream written by RangeEncoder. Robust to any byte content: every
// call returns a value in its documented range and never reads outside
// [data, data + size); bytes past the end read as 0x00.
class RangeDecoder {
 public:
  // data may be null when size == 0. The bytes must outlive the decoder.
  RangeDecoder(const uint8_t* data, size_t size);

  // Decodes one symbol with a table of n_symbols + 1 values that passes
  // ValidateCdf (the same table the encoder used). Returns a symbol in
  // [0, n_symbols) whatever the bytes; on corrupt data the symbol is
  // meaningless and corrupt() may become true. n_symbols < 1 returns 0
  // without consuming anything. Lookup is a binary search over the table.
  int DecodeSymbol(const uint32_t* cdf, int n_symbols);

  // Inverse of EncodeBits: returns a value in [0, 2^nbits) for
  // 1 <= nbits <= 16; any other nbits returns 0 and consumes nothing.
  uint32_t DecodeBits(int nbits);

  // Bytes read beyond the end of the data (each read as 0x00), saturating.
  // After decoding every symbol of an intact stream this is 3 or 4 (4 minus
  // the flush length); more than 4 means the stream is truncated or corrupt.
  size_t bytes_read_past_end() const { return bytes_past_end_; }

  // True once the decoder has met a state no RangeEncoder output can produce
  // (the target fell outside the CDF). Sticky. False does not prove the
  // stream is intact; a container checksum does that.
  bool corrupt() const { return corrupt_; }

 private:
  uint32_t NextByte();
  // Splits the range for a target in [0, 65536); sets corrupt_ on overflow.
  uint32_t Target(uint32_t r);
  void Update(uint32_t r, uint32_t cum_freq, uint32_t freq);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t bytes_past_end_ = 0;
  uint32_t code_ = 0;  // Stream value minus low, within the 32-bit window.
  uint32_t range_ = 0xFFFFFFFFu;
  bool corrupt_ = false;
};

}  // namespace fxic::entropy

#endif  // FXIC_ENTROPY_RANGE_CODER_H_
