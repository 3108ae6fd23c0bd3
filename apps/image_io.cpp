// Image and file I/O: PNG via libpng, PPM/PGM by hand, atomic file writes.
#include "apps/image_io.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <utility>
#include <vector>

namespace fxic {
namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P',  'N',  'G',
                                      '\r', '\n', 0x1a, '\n'};

// Deflate cannot expand its input by more than 1032:1. A PNG whose raw pixel
// data would need more bytes than this many per byte of file is truncated or
// lying about its size; refusing it before allocating keeps a tiny file from
// making us allocate gigabytes (the decoder is fuzzed).
constexpr uint64_t kMaxInflateRatio = 2048;

// libpng's own ceiling for png_set_user_limits (PNG_UINT_31_MAX).
constexpr uint32_t kPngMaxDimension = 0x7fffffff;

// Largest single allocation libpng may make for one chunk's data.
constexpr png_alloc_size_t kPngMaxChunkBytes = 8 << 20;

std::string ErrnoText(int err) { return std::strerror(err); }

// 8-bit value for a sample v in [0, maxval], rounding to nearest:
// (v * 255 + maxval / 2) / maxval. No gamma, no colour conversion.
inline uint8_t ScaleTo8(uint32_t v, uint32_t maxval) {
  return static_cast<uint8_t>((v * 255 + maxval / 2) / maxval);
}

// Checks a header's dimensions against the limits; "" when acceptable.
std::string DimensionError(uint64_t width, uint64_t height,
                           const ReadOptions& options) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width == 0 || height == 0) {
    return "image has zero width or height (" + size + ")";
  }
  if (width > options.max_dimension || height > options.max_dimension) {
    return "image size " + size + " exceeds the limit of " +
           std::to_string(options.max_dimension) + " pixels per side";
  }
  if (width * height > options.max_pixels) {
    return "image size " + size + " exceeds the limit of " +
           std::to_string(options.max_pixels) + " pixels";
  }
  return "";
}

const char kTransparencyError[] =
    "image has transparency (non-opaque alpha); re-run with --drop-alpha to "
    "encode the colour channels and discard alpha";

// ---------------------------------------------------------------- PNG read

// libpng reports errors through this buffer, then longjmps.
struct PngErrorText {
  char text[200] = {0};
};

void PngErrorFn(png_structp png, png_const_charp message) {
  auto* error = static_cast<PngErrorText*>(png_get_error_ptr(png));
  if (error != nullptr) {
    std::snprintf(error->text, sizeof(error->text), "%s",
                  message != nullptr ? message : "unknown libpng error");
  }
  png_longjmp(png, 1);
}

// Warnings (bad ancillary chunks and the like) are not worth a line on stderr.
void PngWarningFn(png_structp, png_const_charp) {}

// Everything that must outlive a longjmp lives here, in the caller's frame:
// the function calling setjmp keeps only trivially destructible locals, so a
// longjmp out of libpng never skips a destructor.
struct PngReadState {
  PngReadState() = default;
  PngReadState(const PngReadState&) = delete;
  PngReadState& operator=(const PngReadState&) = delete;
  ~PngReadState() {
    if (png != nullptr) {
      png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
    }
  }

  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  PngErrorText error;
  std::string failure;  // our own (non-libpng) error, if any
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::vector<uint8_t> rows;  // one row, or the whole image if interlaced
  std::vector<png_bytep> row_pointers;
  Image image;
};

void PngReadFn(png_structp png, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (length > state->size - state->pos) png_error(png, "file is truncated");
  std::memcpy(out, state->data + state->pos, length);
  state->pos += length;
}

// Converts one decoded row (1..4 channels of 8 or 16 bits, big-endian, alpha
// last when present) to 8-bit RGB. Returns false if some alpha is not opaque.
bool ConvertPngRow(const uint8_t* src, uint32_t width, int channels,
                   int bit_depth, uint8_t* dst) {
  const bool has_alpha = channels == 2 || channels == 4;
  const int colour_channels = has_alpha ? channels - 1 : channels;
  bool opaque = true;
  if (bit_depth == 8) {
    for (uint32_t x = 0; x < width; ++x, src += channels, dst += 3) {
      if (colour_channels == 1) {
        dst[0] = dst[1] = dst[2] = src[0];
      } else {
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
      }
      if (has_alpha && src[channels - 1] != 255) opaque = false;
    }
  } else {
    for (uint32_t x = 0; x < width; ++x, src += 2 * channels, dst += 3) {
      uint32_t v[4];
      for (int c = 0; c < channels; ++c) {
        v[c] = (uint32_t{src[2 * c]} << 8) | src[2 * c + 1];
      }
      if (colour_channels == 1) {
        dst[0] = dst[1] = dst[2] = ScaleTo8(v[0], 65535);
      } else {
        for (int c = 0; c < 3; ++c) dst[c] = ScaleTo8(v[c], 65535);
      }
      // Judged on the 16-bit value: 65534 rounds to 255 but is not opaque.
      if (has_alpha && v[channels - 1] != 65535) opaque = false;
    }
  }
  return opaque;
}

// Decodes state->data into state->image. Returns false on error, with
// state->failure set (our checks) or state->error (libpng). See PngReadState
// for why this function holds no non-trivial locals.
bool RunPngDecode(PngReadState* state, const ReadOptions& options) {
  png_structp png = state->png;
  png_infop info = state->info;
  if (setjmp(png_jmpbuf(png))) return false;

  // libpng's limits only say "Invalid IHDR data"; ours give a clear message.
  png_set_user_limits(png, kPngMaxDimension, kPngMaxDimension);
  // Skip every ancillary chunk except tRNS (num_chunks < 0 means exactly
  // that): we apply no gamma or colour profile anyway, and libpng would
  // otherwise allocate a text chunk's declared length (up to 2 GB) before
  // finding out the file is shorter. Skipped chunks are read in small pieces.
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
  png_set_chunk_malloc_max(png, kPngMaxChunkBytes);
  png_read_info(png, info);

  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  state->failure = DimensionError(width, height, options);
  if (!state->failure.empty()) return false;

  // Raw pixel bytes (before filtering bytes) the IDAT stream must inflate to.
  const uint64_t file_bits_per_pixel =
      uint64_t{png_get_bit_depth(png, info)} * png_get_channels(png, info);
  const uint64_t raw_bytes =
      uint64_t{height} * ((uint64_t{width} * file_bits_per_pixel + 7) / 8);
  if (raw_bytes / kMaxInflateRatio > state->size) {
    state->failure = "PNG is truncated (too little data for a " +
                     std::to_string(width) + "x" + std::to_string(height) +
                     " image)";
    return false;
  }

  // Palette -> RGB, 1/2/4-bit gray -> 8-bit, tRNS -> alpha channel. 16-bit
  // samples stay 16-bit (big-endian); ConvertPngRow rounds them.
  png_set_expand(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const int channels = png_get_channels(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) ||
      rowbytes != size_t{width} * channels * (bit_depth / 8)) {
    state->failure = "unsupported PNG pixel layout";
    return false;
  }

  state->image.width = width;
  state->image.height = height;
  state->image.rgb.resize(size_t{width} * height * 3);
  uint8_t* out = state->image.rgb.data();
  const size_t out_stride = size_t{width} * 3;
  bool opaque = true;
  if (passes == 1) {
    state->rows.resize(rowbytes);
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, state->rows.data(), nullptr);
      if (!ConvertPngRow(state->rows.data(), width, channels, bit_depth,
                         out + y * out_stride)) {
        opaque = false;
        if (!options.drop_alpha) break;
      }
    }
  } else {
    state->rows.resize(rowbytes * height);
    state->row_pointers.resize(height);
    for (png_uint_32 y = 0; y < height; ++y) {
      state->row_pointers[y] = state->rows.data() + y * rowbytes;
    }
    png_read_image(png, state->row_pointers.data());
    for (png_uint_32 y = 0; y < height; ++y) {
      if (!ConvertPngRow(state->row_pointers[y], width, channels, bit_depth,
                         out + y * out_stride)) {
        opaque = false;
        if (!options.drop_alpha) break;
      }
    }
  }
  if (!opaque && !options.drop_alpha) {
    state->failure = kTransparencyError;
    return false;
  }
  // Read through IEND so that a file cut after its pixel data still fails.
  png_read_end(png, nullptr);
  return true;
}

StatusOr<Image> DecodePng(const std::vector<uint8_t>& bytes,
                          const ReadOptions& options) {
  PngReadState state;
  state.data = bytes.data();
  state.size = bytes.size();
  state.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state.error,
                                     PngErrorFn, PngWarningFn);
  if (state.png == nullptr) return Status::Error("cannot initialize libpng");
  state.info = png_create_info_struct(state.png);
  if (state.info == nullptr) return Status::Error("cannot initialize libpng");
  png_set_read_fn(state.png, &state, PngReadFn);
  if (!RunPngDecode(&state, options)) {
    if (!state.failure.empty()) return Status::Error(state.failure);
    return Status::Error(std::string("invalid PNG: ") + state.error.text);
  }
  return std::move(state.image);
}

// ---------------------------------------------------------------- PNM read

// A cursor over a PPM/PGM file.
class PnmParser {
 public:
  PnmParser(const std::vector<uint8_t>& bytes, size_t pos)
      : data_(bytes.data()), size_(bytes.size()), pos_(pos) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }
  void Advance(size_t n) { pos_ += n; }

  static bool IsSpace(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
  }

  // Skips whitespace and '#' comments (to the end of the line). Returns false
  // if nothing was skipped.
  bool SkipSeparators() {
    const size_t start = pos_;
    while (pos_ < size_) {
      if (IsSpace(data_[pos_])) {
        ++pos_;
      } else if (data_[pos_] == '#') {
        while (pos_ < size_ && data_[pos_] != '\n' && data_[pos_] != '\r') {
          ++pos_;
        }
      } else {
        break;
      }
    }
    return pos_ != start;
  }

  // Skips the separators before a decimal number (at least one is required)
  // and reads it. Values above limit are an error.
  Status ReadNumber(const char* what, uint32_t limit, uint32_t* value) {
    if (!SkipSeparators() && pos_ < size_) {
      return Status::Error(std::string("invalid character before ") + what);
    }
    if (pos_ >= size_) {
      return Status::Error(std::string("file is truncated (missing ") + what +
                           ")");
    }
    if (data_[pos_] < '0' || data_[pos_] > '9') {
      return Status::Error(std::string("invalid ") + what + " (not a number)");
    }
    uint64_t v = 0;
    while (pos_ < size_ && data_[pos_] >= '0' && data_[pos_] <= '9') {
      v = v * 10 + (data_[pos_] - '0');
      if (v > limit) {
        return Status::Error(std::string(what) + " is too large (limit " +
                             std::to_string(limit) + ")");
      }
      ++pos_;
    }
    *value = static_cast<uint32_t>(v);
    return Status::Ok();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_;
};

// P2/P3/P5/P6. The magic has been checked by the caller.
StatusOr<Image> DecodePnm(const std::vector<uint8_t>& bytes,
                          const ReadOptions& options) {
  const char kind = static_cast<char>(bytes[1]);
  const bool gray = kind == '2' || kind == '5';
  const bool plain = kind == '2' || kind == '3';
  const std::string name = gray ? "PGM" : "PPM";
  const int channels = gray ? 1 : 3;

  PnmParser parser(bytes, 2);
  uint32_t width = 0, height = 0, maxval = 0;
  FXIC_RETURN_IF_ERROR(parser.ReadNumber("width", 0xffffffffu, &width));
  FXIC_RETURN_IF_ERROR(parser.ReadNumber("height", 0xffffffffu, &height));
  FXIC_RETURN_IF_ERROR(parser.ReadNumber("maxval", 65535, &maxval));
  if (maxval == 0) {
    return Status::Error(name + " maxval is 0 (must be 1..65535)");
  }
  const std::string dimension_error = DimensionError(width, height, options);
  if (!dimension_error.empty()) return Status::Error(dimension_error);

  const uint64_t samples = uint64_t{width} * height * channels;
  Image image;
  if (!plain) {
    // Exactly one whitespace character separates maxval from the raster.
    if (parser.remaining() == 0) {
      return Status::Error(name + " is truncated (no pixel data)");
    }
    if (!PnmParser::IsSpace(*parser.here())) {
      return Status::Error(name +
                           " header: maxval must be followed by one "
                           "whitespace character");
    }
    parser.Advance(1);
    const int bytes_per_sample = maxval < 256 ? 1 : 2;
    const uint64_t needed = samples * bytes_per_sample;
    if (parser.remaining() < needed) {
      return Status::Error(name + " is truncated (" +
                           std::to_string(parser.remaining()) + " of " +
                           std::to_string(needed) + " bytes of pixel data)");
    }
    image.width = width;
    image.height = height;
    image.rgb.resize(size_t{width} * height * 3);
    const uint8_t* src = parser.here();
    uint8_t* dst = image.rgb.data();
    for (uint64_t i = 0; i < samples; ++i) {
      uint32_t v = src[0];
      if (bytes_per_sample == 2) v = (v << 8) | src[1];
      src += bytes_per_sample;
      if (v > maxval) {
        return Status::Error(name + " sample " + std::to_string(v) +
                             " exceeds maxval " + std::to_string(maxval));
      }
      const uint8_t v8 =
          maxval == 255 ? static_cast<uint8_t>(v) : ScaleTo8(v, maxval);
      if (gray) {
        dst[0] = dst[1] = dst[2] = v8;
        dst += 3;
      } else {
        *dst++ = v8;
      }
    }
    return image;
  }

  // Plain: every sample takes at least one digit and one separator, so the
  // file size bounds the image before we allocate.
  if ((parser.remaining() + 1) / 2 < samples) {
    return Status::Error(name + " is truncated (too little pixel data)");
  }
  image.width = width;
  image.height = height;
  image.rgb.resize(size_t{width} * height * 3);
  uint8_t* dst = image.rgb.data();
  for (uint64_t i = 0; i < samples; ++i) {
    uint32_t v = 0;
    FXIC_RETURN_IF_ERROR(parser.ReadNumber("sample", 65535, &v));
    if (v > maxval) {
      return Status::Error(name + " sample " + std::to_string(v) +
                           " exceeds maxval " + std::to_string(maxval));
    }
    const uint8_t v8 = ScaleTo8(v, maxval);
    if (gray) {
      dst[0] = dst[1] = dst[2] = v8;
      dst += 3;
    } else {
      *dst++ = v8;
    }
  }
  return image;
}

// ---------------------------------------------------------------- PNG write

struct PngWriteState {
  PngWriteState() = default;
  PngWriteState(const PngWriteState&) = delete;
  PngWriteState& operator=(const PngWriteState&) = delete;
  ~PngWriteState() {
    if (png != nullptr) {
      png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
    }
  }

  PngErrorText error;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::vector<uint8_t> out;
};

void PngWriteFn(png_structp png, png_bytep data, png_size_t length) {
  auto* state = static_cast<PngWriteState*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    state->out.insert(state->out.end(), data, data + length);
  } catch (const std::bad_alloc&) {
    ok = false;
  }
  // Outside the handler: a longjmp must not leave a live exception behind.
  if (!ok) png_error(png, "out of memory");
}

void PngFlushFn(png_structp) {}

bool RunPngEncode(PngWriteState* state, const Image& image) {
  png_structp png = state->png;
  png_infop info = state->info;
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_user_limits(png, kPngMaxDimension, kPngMaxDimension);
  png_set_write_fn(png, state, PngWriteFn, PngFlushFn);
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  // Paeth row filter + zlib's run-length strategy: 6-7x faster than libpng's
  // defaults (zlib level 6, adaptive filters) on decoded Kodak images, and
  // 0.8% smaller; flat graphics (plots) come out ~17% larger. Measured with
  // bench/bench_png.cpp (docs/speed.md, "Writing PNG"). Level 1: the level
  // has no effect under Z_RLE, whose matches are runs found without hashing.
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
  png_set_compression_level(png, 1);
  png_set_compression_strategy(png, Z_RLE);
  png_write_info(png, info);
  const size_t stride = size_t{image.width} * 3;
  for (uint32_t y = 0; y < image.height; ++y) {
    png_write_row(png, image.rgb.data() + y * stride);
  }
  png_write_end(png, nullptr);
  return true;
}

// ------------------------------------------- PNG write without libpng
//
// Images of at most one segment (SegmentRows: ~128 KiB of filtered rows,
// 56 rows of a 768-wide image) get the same bytes as RunPngEncode above
// (checked on many sizes and contents by tests/apps/png_direct_test.cpp);
// larger ones are deflated in segments over threads (EncodePngSegmented),
// with the same filters and zlib settings. ~25% less time than libpng: libpng filters a row one
// byte at a time with branches, here the Paeth residuals are computed
// branch-free over whole rows (vectorized by the compiler). What libpng 1.6
// does and this reproduces: every row Paeth-filtered (filter byte 4; the
// row above the first is zero), except in one-row and one-column images
// (no filter, byte 0); deflate level 1, Z_RLE, memLevel 8, window
// 2^15 reduced for streams of at most 16384 bytes (png_deflate_claim), the
// zlib header's window field then lowered further (optimize_cmf); IDAT
// chunks of 8192 bytes (libpng's zbuffer size) and one with the rest; no
// chunks besides IHDR, IDAT and IEND. Deflate's output does not depend on
// how its input is split between calls (no flush before the end).

void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

void AppendChunk(std::vector<uint8_t>* out, const char type[4], const uint8_t* data,
                 uint32_t size) {
  uint8_t head[8];
  PutBe32(head, size);
  std::memcpy(head + 4, type, 4);
  out->insert(out->end(), head, head + 8);
  if (size > 0) out->insert(out->end(), data, data + size);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, head + 4, 4);
  if (size > 0) crc = crc32(crc, data, size);
  uint8_t tail[4];
  PutBe32(tail, static_cast<uint32_t>(crc));
  out->insert(out->end(), tail, tail + 4);
}

// libpng's optimize_cmf: a smaller window size in the zlib header of a
// stream of at most 16384 bytes (FCHECK recomputed).
void OptimizeCmf(uint8_t* data, uint64_t data_size) {
  if (data_size > 16384) return;
  unsigned z_cmf = data[0];
  if ((z_cmf & 0x0f) != 8 || (z_cmf & 0xf0) > 0x70) return;
  unsigned z_cinfo = z_cmf >> 4;
  unsigned half_window = 1u << (z_cinfo + 7);
  if (data_size > half_window) return;
  do {
    half_window >>= 1;
    --z_cinfo;
  } while (z_cinfo > 0 && data_size <= half_window);
  z_cmf = (z_cmf & 0x0f) | (z_cinfo << 4);
  data[0] = static_cast<uint8_t>(z_cmf);
  unsigned tmp = data[1] & 0xe0;
  tmp += 0x1f - ((z_cmf << 8) + tmp) % 0x1f;
  data[1] = static_cast<uint8_t>(tmp);
}

// Filter byte 4 and the Paeth residuals of one RGB row (prev: the row above,
// all zero for the first row).
void PaethRow(const uint8_t* row, const uint8_t* prev, size_t n, uint8_t* out) {
  out[0] = 4;
  ++out;
  for (size_t i = 0; i < n; ++i) {
    const int b = prev[i];
    const int a = i >= 3 ? row[i - 3] : 0;
    const int c = i >= 3 ? prev[i - 3] : 0;
    const int pa = b - c < 0 ? c - b : b - c;            // |p - a|
    const int pb = a - c < 0 ? c - a : a - c;            // |p - b|
    const int pc = a + b - 2 * c < 0 ? 2 * c - a - b : a + b - 2 * c;  // |p - c|
    const int pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
    out[i] = static_cast<uint8_t>(row[i] - pred);
  }
}

struct ZStream {
  z_stream zs{};
  bool live = false;
  ~ZStream() {
    if (live) deflateEnd(&zs);
  }
};

// Filtered rows per deflate segment (see EncodePngSegmented): about 128 KiB.
uint32_t SegmentRows(size_t row_bytes) {
  return static_cast<uint32_t>(std::max<size_t>(1, (size_t{1} << 17) / (row_bytes + 1)));
}

// One segment of a segmented PNG stream: rows [y0, y0 + rows) filtered and
// raw-deflated (level 1, Z_RLE), ended by a sync flush (byte-aligned, stream
// not final) or, for the last segment, by the final block. *adler is the
// Adler-32 of the segment's filtered bytes. False if zlib fails.
bool DeflateSegment(const Image& image, uint32_t y0, uint32_t rows, bool last,
                    std::vector<uint8_t>* out, uLong* adler) {
  const size_t n = size_t{image.width} * 3;
  std::vector<uint8_t> filtered(size_t{rows} * (n + 1));
  const std::vector<uint8_t> zero_row(y0 == 0 ? n : 0, 0);
  for (uint32_t r = 0; r < rows; ++r) {
    const uint32_t y = y0 + r;
    const uint8_t* row = image.rgb.data() + size_t{y} * n;
    PaethRow(row, y == 0 ? zero_row.data() : row - n, n, filtered.data() + size_t{r} * (n + 1));
  }
  *adler = adler32(adler32(0L, Z_NULL, 0), filtered.data(), static_cast<uInt>(filtered.size()));
  ZStream z;
  if (deflateInit2(&z.zs, 1, Z_DEFLATED, -15, 8, Z_RLE) != Z_OK) return false;
  z.live = true;
  out->resize(deflateBound(&z.zs, static_cast<uLong>(filtered.size())) + 64);
  z.zs.next_in = filtered.data();
  z.zs.avail_in = static_cast<uInt>(filtered.size());
  z.zs.next_out = out->data();
  z.zs.avail_out = static_cast<uInt>(out->size());
  for (;;) {
    const int ret = deflate(&z.zs, last ? Z_FINISH : Z_SYNC_FLUSH);
    if (ret == Z_STREAM_ERROR) return false;
    if (last ? ret == Z_STREAM_END : (z.zs.avail_in == 0 && z.zs.avail_out > 0)) break;
    if (z.zs.avail_out == 0) {  // the bound was too small: grow and go on
      const size_t used = out->size();
      out->resize(used * 2);
      z.zs.next_out = out->data() + used;
      z.zs.avail_out = static_cast<uInt>(out->size() - used);
    } else if (ret == Z_BUF_ERROR) {
      return false;
    }
  }
  out->resize(out->size() - z.zs.avail_out);
  return true;
}

// PNG writing for images of more than one segment (SegmentRows): the rows
// are cut into segments of a fixed number of rows, which depends on the
// image width only, deflated independently over threads and concatenated
// into one zlib stream (header 78 01 as for level 1, the segments, then the
// Adler-32 of all filtered rows combined from the segments'). No segment
// refers back into another, so each is a plain deflate of its rows; the
// bytes depend on the image alone, never on the thread count. Filters, zlib
// settings and IDAT chunk size are those of the single-stream writer below.
StatusOr<std::vector<uint8_t>> EncodePngSegmented(const Image& image, std::vector<uint8_t> out) {
  const size_t n = size_t{image.width} * 3;
  const uint32_t seg_rows = SegmentRows(n);
  const uint32_t n_seg = (image.height + seg_rows - 1) / seg_rows;
  constexpr size_t kIdatSize = 8192;
  std::vector<uint8_t> stream = {0x78, 0x01};  // pending IDAT bytes
  uLong adler = adler32(0L, Z_NULL, 0);
  constexpr uint32_t kGroup = 16;  // segments held in memory at once
  std::vector<std::vector<uint8_t>> seg(kGroup);
  std::vector<uLong> seg_adler(kGroup);
  std::vector<int> seg_error(kGroup);
  for (uint32_t g0 = 0; g0 < n_seg; g0 += kGroup) {
    const int count = static_cast<int>(std::min(kGroup, n_seg - g0));
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (int i = 0; i < count; ++i) {
      const uint32_t s = g0 + static_cast<uint32_t>(i);
      const uint32_t y0 = s * seg_rows;
      const uint32_t rows = std::min(seg_rows, image.height - y0);
      try {
        seg_error[i] = DeflateSegment(image, y0, rows, s + 1 == n_seg, &seg[i], &seg_adler[i])
                           ? 0 : 1;
      } catch (const std::bad_alloc&) {  // must not leave the parallel region
        seg_error[i] = 2;
      }
    }
    for (int i = 0; i < count; ++i) {
      if (seg_error[i] == 2) throw std::bad_alloc();
      if (seg_error[i] != 0) return Status::Error("PNG encoding failed: deflate error");
      const uint32_t s = g0 + static_cast<uint32_t>(i);
      const uint32_t rows = std::min(seg_rows, image.height - s * seg_rows);
      adler = adler32_combine(adler, seg_adler[i], static_cast<z_off_t>(size_t{rows} * (n + 1)));
      stream.insert(stream.end(), seg[i].begin(), seg[i].end());
      std::vector<uint8_t>().swap(seg[i]);
    }
    if (g0 + kGroup >= n_seg) {
      uint8_t tail[4];
      PutBe32(tail, static_cast<uint32_t>(adler));
      stream.insert(stream.end(), tail, tail + 4);
    }
    size_t used = 0;
    for (; stream.size() - used >= kIdatSize; used += kIdatSize) {
      AppendChunk(&out, "IDAT", stream.data() + used, kIdatSize);
    }
    stream.erase(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(used));
  }
  if (!stream.empty()) AppendChunk(&out, "IDAT", stream.data(), static_cast<uint32_t>(stream.size()));
  AppendChunk(&out, "IEND", nullptr, 0);
  return out;
}

StatusOr<std::vector<uint8_t>> EncodePngDirect(const Image& image) {
  const size_t n = size_t{image.width} * 3;
  const uint64_t data_size = uint64_t{n + 1} * image.height;
  std::vector<uint8_t> out(kPngSignature, kPngSignature + 8);
  uint8_t ihdr[13];
  PutBe32(ihdr, image.width);
  PutBe32(ihdr + 4, image.height);
  ihdr[8] = 8;   // bit depth
  ihdr[9] = 2;   // RGB
  ihdr[10] = 0;  // deflate
  ihdr[11] = 0;  // adaptive filtering
  ihdr[12] = 0;  // no interlace
  AppendChunk(&out, "IHDR", ihdr, 13);
  // Paeth on every row needs a row above and a pixel to the left (below).
  if (image.width > 1 && image.height > 1 && image.height > SegmentRows(n)) {
    return EncodePngSegmented(image, std::move(out));
  }

  int window_bits = 15;
  if (data_size <= 16384) {
    unsigned half_window = 1u << (window_bits - 1);
    while (data_size + 262 <= half_window) {
      half_window >>= 1;
      --window_bits;
    }
  }
  if (window_bits == 8) window_bits = 9;
  ZStream z;
  if (deflateInit2(&z.zs, 1, Z_DEFLATED, window_bits, 8, Z_RLE) != Z_OK) {
    return Status::Error("PNG encoding failed: cannot initialize zlib");
  }
  z.live = true;

  constexpr uInt kIdatSize = 8192;  // libpng's PNG_ZBUF_SIZE
  uint8_t zbuf[kIdatSize];
  bool first_idat = true;
  auto emit = [&](uInt size) {
    if (first_idat) OptimizeCmf(zbuf, data_size);
    if (size > 0) AppendChunk(&out, "IDAT", zbuf, size);
    first_idat = false;
  };
  z.zs.next_out = zbuf;
  z.zs.avail_out = kIdatSize;

  // Rows are filtered in strips (bounded memory for large images).
  const uint32_t strip_rows = static_cast<uint32_t>(
      std::max<size_t>(1, std::min<size_t>(image.height, (size_t{1} << 20) / (n + 1))));
  std::vector<uint8_t> filtered(static_cast<size_t>(strip_rows) * (n + 1));
  const std::vector<uint8_t> zero_row(n, 0);
  // libpng (png_write_start_row) drops the filters that need a row above for
  // a one-row image and those that need a pixel to the left for a
  // one-column image: Paeth alone then becomes filter None (byte 0).
  const bool paeth = image.width > 1 && image.height > 1;
  for (uint32_t y0 = 0; y0 < image.height; y0 += strip_rows) {
    const uint32_t rows = std::min(strip_rows, image.height - y0);
    for (uint32_t r = 0; r < rows; ++r) {
      const uint32_t y = y0 + r;
      const uint8_t* row = image.rgb.data() + size_t{y} * n;
      const uint8_t* prev = y == 0 ? zero_row.data() : row - n;
      uint8_t* dst = filtered.data() + size_t{r} * (n + 1);
      if (paeth) {
        PaethRow(row, prev, n, dst);
      } else {
        dst[0] = 0;
        std::memcpy(dst + 1, row, n);
      }
    }
    const bool last = y0 + rows == image.height;
    z.zs.next_in = filtered.data();
    z.zs.avail_in = static_cast<uInt>(size_t{rows} * (n + 1));
    for (;;) {
      const int ret = deflate(&z.zs, last ? Z_FINISH : Z_NO_FLUSH);
      if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
        return Status::Error("PNG encoding failed: deflate error");
      }
      if (z.zs.avail_out == 0) {
        emit(kIdatSize);
        z.zs.next_out = zbuf;
        z.zs.avail_out = kIdatSize;
        if (ret != Z_STREAM_END) continue;
      }
      if (ret == Z_STREAM_END) {
        if (z.zs.avail_out < kIdatSize || first_idat) emit(kIdatSize - z.zs.avail_out);
        break;
      }
      if (!last && z.zs.avail_in == 0) break;
      if (ret == Z_BUF_ERROR) {
        return Status::Error("PNG encoding failed: deflate made no progress");
      }
    }
  }
  AppendChunk(&out, "IEND", nullptr, 0);
  return out;
}

StatusOr<std::vector<uint8_t>> EncodePngLibpng(const Image& image) {
  PngWriteState state;
  state.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state.error,
                                      PngErrorFn, PngWarningFn);
  if (state.png == nullptr) return Status::Error("cannot initialize libpng");
  state.info = png_create_info_struct(state.png);
  if (state.info == nullptr) return Status::Error("cannot initialize libpng");
  if (!RunPngEncode(&state, image)) {
    return Status::Error(std::string("PNG encoding failed: ") +
                         state.error.text);
  }
  return std::move(state.out);
}

// ---------------------------------------------------------------- file I/O

Status WriteToStdout(const std::vector<uint8_t>& bytes) {
  if (!bytes.empty() &&
      std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
    return Status::Error("<stdout>: write failed: " + ErrnoText(errno));
  }
  if (std::fflush(stdout) != 0) {
    return Status::Error("<stdout>: write failed: " + ErrnoText(errno));
  }
  return Status::Ok();
}

// Six characters of [0-9A-Za-z], different on every call and in every process.
std::string TemporarySuffix() {
  static std::atomic<uint64_t> counter{0};
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t x = (static_cast<uint64_t>(getpid()) << 32) ^
               static_cast<uint64_t>(now.tv_nsec) ^
               (static_cast<uint64_t>(now.tv_sec) << 20) ^
               (counter.fetch_add(1) * 0x9e3779b97f4a7c15ull);
  x ^= x >> 30;  // splitmix64 finalizer
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  static const char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string suffix(6, '0');
  for (char& c : suffix) {
    c = kAlphabet[x % 62];
    x /= 62;
  }
  return suffix;
}

Status WriteAll(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error("write failed: " + ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Writes, flushes and closes the temporary; closes fd in every case.
Status FillTemporary(int fd, const std::vector<uint8_t>& bytes) {
  Status status = WriteAll(fd, bytes);
  // Without fsync a crash after the rename can leave an empty file on some
  // file systems. EINVAL/ENOTSUP: the file system cannot sync; not an error.
  if (status.ok() && fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    status = Status::Error("fsync failed: " + ErrnoText(errno));
  }
  if (close(fd) != 0 && status.ok()) {
    status = Status::Error("close failed: " + ErrnoText(errno));
  }
  return status;
}

}  // namespace

namespace internal {
StatusOr<std::vector<uint8_t>> EncodePngWithoutLibpng(const Image& image) {
  return EncodePngDirect(image);
}
StatusOr<std::vector<uint8_t>> EncodePngWithLibpng(const Image& image) {
  return EncodePngLibpng(image);
}
}  // namespace internal

StatusOr<Image> DecodeImageBytes(const std::vector<uint8_t>& bytes,
                                 const ReadOptions& options) {
  if (bytes.empty()) return Status::Error("empty input");
  try {
    if (bytes.size() >= sizeof(kPngSignature) &&
        std::memcmp(bytes.data(), kPngSignature, sizeof(kPngSignature)) == 0) {
      return DecodePng(bytes, options);
    }
    if (bytes.size() >= 2 && bytes[0] == 'P' &&
        (bytes[1] == '2' || bytes[1] == '3' || bytes[1] == '5' ||
         bytes[1] == '6')) {
      return DecodePnm(bytes, options);
    }
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory while decoding the image");
  }
  return Status::Error("not a PNG, PPM or PGM file");
}

StatusOr<Image> ReadImage(const std::string& path_or_dash,
                          const ReadOptions& options) {
  FXIC_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                        ReadFileBytes(path_or_dash));
  StatusOr<Image> image = DecodeImageBytes(bytes, options);
  if (!image.ok()) {
    const std::string name = path_or_dash == "-" ? "<stdin>" : path_or_dash;
    return Status::Error(name + ": " + image.status().message());
  }
  return image;
}

StatusOr<std::vector<uint8_t>> EncodeImageBytes(const Image& image,
                                                ImageFormat format) {
  const uint64_t pixels = uint64_t{image.width} * image.height;
  if (pixels == 0) {
    return Status::Error("cannot write an image with zero width or height");
  }
  if (image.rgb.size() % 3 != 0 || image.rgb.size() / 3 != pixels) {
    return Status::Error("image buffer holds " +
                         std::to_string(image.rgb.size()) + " bytes, not " +
                         std::to_string(image.width) + "x" +
                         std::to_string(image.height) + "x3");
  }
  try {
    if (format == ImageFormat::kAuto || format == ImageFormat::kPng) {
      return EncodePngDirect(image);
    }
    const bool gray = format == ImageFormat::kPgm;
    if (gray) {
      for (size_t i = 0; i < image.rgb.size(); i += 3) {
        if (image.rgb[i] != image.rgb[i + 1] ||
            image.rgb[i] != image.rgb[i + 2]) {
          return Status::Error(
              "image is not gray (R, G and B differ); PGM holds gray only");
        }
      }
    }
    const std::string header = std::string(gray ? "P5\n" : "P6\n") +
                               std::to_string(image.width) + " " +
                               std::to_string(image.height) + "\n255\n";
    std::vector<uint8_t> out(header.begin(), header.end());
    if (gray) {
      out.reserve(out.size() + pixels);
      for (size_t i = 0; i < image.rgb.size(); i += 3) {
        out.push_back(image.rgb[i]);
      }
    } else {
      out.insert(out.end(), image.rgb.begin(), image.rgb.end());
    }
    return out;
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory while encoding the image");
  }
}

StatusOr<ImageFormat> ImageFormatFromPath(const std::string& path_or_dash) {
  if (path_or_dash == "-") return ImageFormat::kPng;
  const size_t slash = path_or_dash.find_last_of('/');
  const size_t dot = path_or_dash.find_last_of('.');
  std::string extension;
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    extension = path_or_dash.substr(dot + 1);
    for (char& c : extension) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (extension == "png") return ImageFormat::kPng;
  if (extension == "ppm" || extension == "pnm") return ImageFormat::kPpm;
  if (extension == "pgm") return ImageFormat::kPgm;
  return Status::Error(path_or_dash +
                       ": cannot tell the image format from the extension "
                       "(use .png, .ppm, .pnm or .pgm)");
}

Status WriteImage(const Image& image, const std::string& path_or_dash,
                  const WriteOptions& options) {
  ImageFormat format = options.format;
  if (format == ImageFormat::kAuto) {
    FXIC_ASSIGN_OR_RETURN(format, ImageFormatFromPath(path_or_dash));
  }
  StatusOr<std::vector<uint8_t>> bytes = EncodeImageBytes(image, format);
  if (!bytes.ok()) {
    const std::string name = path_or_dash == "-" ? "<stdout>" : path_or_dash;
    return Status::Error(name + ": " + bytes.status().message());
  }
  return WriteFileAtomic(path_or_dash, bytes.value(), options.overwrite);
}

StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path_or_dash) {
  const bool is_stdin = path_or_dash == "-";
  const std::string name = is_stdin ? "<stdin>" : path_or_dash;
  if (path_or_dash.empty()) return Status::Error("empty input file name");
  std::FILE* file = is_stdin ? stdin : std::fopen(path_or_dash.c_str(), "rb");
  if (file == nullptr) {
    return Status::Error(name + ": cannot open: " + ErrnoText(errno));
  }
  std::vector<uint8_t> bytes;
  bool out_of_memory = false;
  int read_errno = 0;
  try {
    constexpr size_t kChunk = size_t{1} << 16;
    for (;;) {
      const size_t old_size = bytes.size();
      bytes.resize(old_size + kChunk);
      const size_t n = std::fread(bytes.data() + old_size, 1, kChunk, file);
      bytes.resize(old_size + n);
      if (n < kChunk) break;
    }
  } catch (const std::bad_alloc&) {
    out_of_memory = true;
  }
  const bool failed = std::ferror(file) != 0;
  if (failed) read_errno = errno;
  if (is_stdin) {
    std::clearerr(stdin);
  } else {
    std::fclose(file);
  }
  if (out_of_memory) return Status::Error(name + ": too large to read");
  if (failed) {
    return Status::Error(name + ": read error: " + ErrnoText(read_errno));
  }
  return bytes;
}

Status CheckOutputFree(const std::string& path, bool overwrite) {
  struct stat st;
  if (!overwrite && path != "-" && !path.empty() && lstat(path.c_str(), &st) == 0) {
    return Status::Error(path + " exists; use -f to overwrite");
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path,
                       const std::vector<uint8_t>& bytes, bool overwrite) {
  if (path == "-") return WriteToStdout(bytes);
  if (path.empty()) return Status::Error("empty output file name");
  FXIC_RETURN_IF_ERROR(CheckOutputFree(path, overwrite));
  const Status exists = Status::Error(path + " exists; use -f to overwrite");
  struct stat st;

  // Created with O_EXCL (not mkstemp) so that the final file gets the usual
  // 0666 & ~umask instead of mkstemp's 0600.
  std::string temporary;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temporary = path + ".tmp." + TemporarySuffix();
    fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    return Status::Error(path +
                         ": cannot create temporary file: " + ErrnoText(errno));
  }
  const Status filled = FillTemporary(fd, bytes);
  if (!filled.ok()) {
    unlink(temporary.c_str());
    return Status::Error(path + ": " + filled.message());
  }

  if (!overwrite) {
    // link() fails if path exists, so no file that appeared meanwhile is
    // replaced. File systems without hard links fall back to rename below.
    if (link(temporary.c_str(), path.c_str()) == 0) {
      unlink(temporary.c_str());
      return Status::Ok();
    }
    const int link_errno = errno;
    if (link_errno == EEXIST || lstat(path.c_str(), &st) == 0) {
      unlink(temporary.c_str());
      return exists;
    }
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    unlink(temporary.c_str());
    return Status::Error(path + ": cannot rename the temporary file: " +
                         ErrnoText(rename_errno));
  }
  return Status::Ok();
}

}  // namespace fxic
