// Bounds-checked little-endian readers and writers for the file formats.
#ifndef FXIC_CODEC_BYTE_IO_H_
#define FXIC_CODEC_BYTE_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fxic {

// Reads little-endian integers from a byte range. A read past the end sets a
// sticky failure flag and yields zeros, so parsers check ok() once per field
// group instead of after every byte.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t ReadLE(int nbytes) {
    if (nbytes < 0 || size_ - pos_ < static_cast<size_t>(nbytes) || failed_) {
      failed_ = true;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < nbytes; ++i) v |= uint64_t{data_[pos_ + i]} << (8 * i);
    pos_ += static_cast<size_t>(nbytes);
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(ReadLE(1)); }
  uint16_t U16() { return static_cast<uint16_t>(ReadLE(2)); }
  uint32_t U32() { return static_cast<uint32_t>(ReadLE(4)); }
  uint64_t U64() { return ReadLE(8); }
  int64_t I64() { return static_cast<int64_t>(ReadLE(8)); }
  // Returns a pointer to the next n bytes and skips them (nullptr on failure).
  const uint8_t* Bytes(size_t n) {
    if (failed_ || size_ - pos_ < n) {
      failed_ = true;
      return nullptr;
    }
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  bool ok() const { return !failed_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Appends little-endian integers to a byte vector.
class ByteWriter {
 public:
  void WriteLE(uint64_t v, int nbytes) {
    for (int i = 0; i < nbytes; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U8(uint8_t v) { WriteLE(v, 1); }
  void U16(uint16_t v) { WriteLE(v, 2); }
  void U32(uint32_t v) { WriteLE(v, 4); }
  void U64(uint64_t v) { WriteLE(v, 8); }
  void Bytes(const uint8_t* p, size_t n) { bytes_.insert(bytes_.end(), p, p + n); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace fxic

#endif  // FXIC_CODEC_BYTE_IO_H_
