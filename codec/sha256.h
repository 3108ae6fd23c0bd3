// SHA-256 (FIPS 180-4), integer-only: model ids and reconstruction hashes.
#ifndef FXIC_CODEC_SHA256_H_
#define FXIC_CODEC_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fxic {

using Sha256Digest = std::array<uint8_t, 32>;

// Compresses `blocks` consecutive 64-byte blocks into the state h[8].
using Sha256BlocksFn = void (*)(uint32_t* h, const uint8_t* data, size_t blocks);

// Incremental hasher: Update() any number of times, then Final() once. Uses
// the fastest block function this CPU runs (see Sha256Implementations()).
class Sha256 {
 public:
  Sha256();
  explicit Sha256(Sha256BlocksFn blocks);
  void Update(const uint8_t* data, size_t size);
  Sha256Digest Final();

 private:
  Sha256BlocksFn blocks_;
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

Sha256Digest Sha256Of(const uint8_t* data, size_t size);
// Lower-case hex of `size` bytes.
std::string ToHex(const uint8_t* data, size_t size);

// The block functions, by name: "portable" (plain C++, every platform) and,
// in x86-64 builds on CPUs with the SHA extensions, "sha_ni". All give the
// same digests (tested); Sha256 and Sha256Of use the last one listed.
std::vector<std::string> Sha256Implementations();
// The block function named `name`, or nullptr if this build or CPU lacks it.
Sha256BlocksFn Sha256BlocksFor(const std::string& name);
// The name of the block function Sha256 uses by default.
std::string Sha256DefaultImplementation();

}  // namespace fxic

#endif  // FXIC_CODEC_SHA256_H_
