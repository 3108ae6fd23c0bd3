// Image and file I/O for the fxic tools: PNG/PPM/PGM codecs, atomic writes.
#ifndef FXIC_APPS_IMAGE_IO_H_
#define FXIC_APPS_IMAGE_IO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "codec/image.h"
#include "fixedpoint/status.h"

namespace fxic {

// Image (8-bit interleaved RGB) is defined in codec/image.h.

// File formats for writing. kAuto picks from the path's extension (PNG for
// "-"); in EncodeImageBytes it means PNG.
enum class ImageFormat { kAuto, kPng, kPpm, kPgm };

struct ReadOptions {
  // Discard an alpha channel (or PNG tRNS transparency) even when some pixels
  // are not fully opaque. Without it such images are refused; fully opaque
  // alpha is always dropped silently.
  bool drop_alpha = false;
  // Size limits, checked from the header before any pixel buffer is
  // allocated: each dimension <= max_dimension, width * height <= max_pixels.
  uint32_t max_dimension = uint32_t{1} << 20;
  uint64_t max_pixels = uint64_t{1} << 30;
};

struct WriteOptions {
  ImageFormat format = ImageFormat::kAuto;
  bool overwrite = false;  // replace an existing file (the CLI's -f)
};

// Decodes a PNG, PPM (P6, plain P3) or PGM (P5, plain P2) file held in memory;
// the format is detected from the magic bytes, never from a name.
// Conversions, all without any gamma or colour management:
//   - gray becomes R = G = B; palette entries are looked up;
//   - samples with more than 8 bits become 8 bits by rounding:
//     v8 = (v * 255 + maxval / 2) / maxval, maxval = 65535 for 16-bit PNG, the
//     header maxval for PPM/PGM (so 65535 -> 255, 32767 -> 127, 32768 -> 128);
//     1/2/4-bit gray is scaled to the full 0..255 range;
//   - alpha (an alpha channel or PNG tRNS) is checked and discarded: any
//     pixel with alpha below the maximum (255 or 65535) makes it an error,
//     unless options.drop_alpha.
// Any malformed, truncated or oversized input is an error with a one-line
// message (without a path prefix); the function never asserts on the bytes.
StatusOr<Image> DecodeImageBytes(const std::vector<uint8_t>& bytes,
                                 const ReadOptions& options);

// Reads path ("-" reads stdin) and decodes it as DecodeImageBytes does.
// Error messages start with the path ("<stdin>" for "-").
StatusOr<Image> ReadImage(const std::string& path_or_dash,
                          const ReadOptions& options);

// Encodes an image. kPng: 8-bit RGB, non-interlaced, Paeth filter on every
// row, zlib level 1 with Z_RLE, no gAMA/sRGB/tIME chunks, so the bytes depend
// only on the pixels (and on the zlib version); the bytes libpng 1.6 writes
// with these settings, without calling libpng (docs/speed.md). kPpm: binary P6, maxval 255. kPgm: binary P5, only if
// R == G == B for every pixel, else an error. kAuto means kPng. An image whose
// rgb size is not width * height * 3, or with a zero dimension, is an error.
StatusOr<std::vector<uint8_t>> EncodeImageBytes(const Image& image,
                                                ImageFormat format);

// The format for a file name: ".png" -> kPng, ".ppm"/".pnm" -> kPpm, ".pgm" ->
// kPgm (case-insensitive); "-" -> kPng; anything else is an error.
StatusOr<ImageFormat> ImageFormatFromPath(const std::string& path_or_dash);

// Encodes the image (format from options, else from the extension) and writes
// it with WriteFileAtomic; "-" writes to stdout. Errors start with the path.
Status WriteImage(const Image& image, const std::string& path_or_dash,
                  const WriteOptions& options = WriteOptions());

// Reads a whole file ("-": stdin, in binary). Errors start with the path.
StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path_or_dash);

// Writes bytes to path atomically: the data go to "<path>.tmp.XXXXXX" in the
// same directory, which is flushed to disk, closed and only then renamed over
// path. On any failure the temporary is removed and path is untouched. Without
// overwrite an existing path (even a dangling symlink) is refused with
// "<path> exists; use -f to overwrite" (race-free where the file system
// supports hard links). "-" writes to stdout (not atomic, overwrite ignored).
// The new file gets mode 0666 & ~umask, as a plain fopen would give it.
Status WriteFileAtomic(const std::string& path,
                       const std::vector<uint8_t>& bytes, bool overwrite);

// WriteFileAtomic's refusal, checked up front: without overwrite, an existing
// path (even a dangling symlink) gives "<path> exists; use -f to overwrite",
// so a command can fail before its work instead of after it. "-" is always
// fine. WriteFileAtomic checks again (the file may appear meanwhile).
Status CheckOutputFree(const std::string& path, bool overwrite);

namespace internal {
// The PNG encoder of EncodeImageBytes(kPng), and the libpng one whose bytes
// it reproduces (kept for tests/apps/png_direct_test.cpp). Preconditions as
// EncodeImageBytes (non-empty image, rgb of width * height * 3 bytes).
StatusOr<std::vector<uint8_t>> EncodePngWithoutLibpng(const Image& image);
StatusOr<std::vector<uint8_t>> EncodePngWithLibpng(const Image& image);
}  // namespace internal

}  // namespace fxic

#endif  // FXIC_APPS_IMAGE_IO_H_
