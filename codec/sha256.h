// SHA-256 (FIPS 180-4), integer-only: model ids and reconstruction hashes.
#ifndef FXIC_CODEC_SHA256_H_
#define FXIC_CODEC_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace fxic {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hasher: Update() any number of times, then Final() once.
class Sha256 {
 public:
  Sha256();
  void Update(const uint8_t* data, size_t size);
  Sha256Digest Final();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

Sha256Digest Sha256Of(const uint8_t* data, size_t size);
// Lower-case hex of `size` bytes.
std::string ToHex(const uint8_t* data, size_t size);

}  // namespace fxic

#endif  // FXIC_CODEC_SHA256_H_
