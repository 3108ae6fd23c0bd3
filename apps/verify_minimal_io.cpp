// image_io.h without libpng (FXIC_MINIMAL_IO): binary PPM/PGM and plain file
// writes, for the cross-compiled and WebAssembly builds of `fxic verify`,
// whose toolchains have no libpng. PNG input or output is a clear error.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "apps/image_io.h"

namespace fxic {
namespace {

bool IsSpace(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Reads one header number, skipping whitespace and '#' comments.
bool ReadNumber(const std::vector<uint8_t>& b, size_t* pos, uint32_t max, uint32_t* out) {
  size_t p = *pos;
  for (;;) {
    while (p < b.size() && IsSpace(b[p])) ++p;
    if (p < b.size() && b[p] == '#') {
      while (p < b.size() && b[p] != '\n') ++p;
      continue;
    }
    break;
  }
  uint64_t v = 0;
  const size_t start = p;
  while (p < b.size() && b[p] >= '0' && b[p] <= '9') {
    v = v * 10 + (b[p] - '0');
    if (v > max) return false;
    ++p;
  }
  if (p == start) return false;
  *pos = p;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

StatusOr<Image> DecodeImageBytes(const std::vector<uint8_t>& bytes,
                                 const ReadOptions& options) {
  if (bytes.empty()) return Status::Error("empty input");
  if (bytes.size() >= 4 && bytes[0] == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' &&
      bytes[3] == 'G') {
    return Status::Error("PNG is not supported by this build (FXIC_MINIMAL_IO); use PPM");
  }
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) {
    return Status::Error("not a binary PPM or PGM file (this build reads only those)");
  }
  const bool gray = bytes[1] == '5';
  const std::string name = gray ? "PGM" : "PPM";
  size_t pos = 2;
  uint32_t width = 0, height = 0, maxval = 0;
  if (!ReadNumber(bytes, &pos, 0xffffffffu, &width) ||
      !ReadNumber(bytes, &pos, 0xffffffffu, &height) ||
      !ReadNumber(bytes, &pos, 65535, &maxval) || maxval == 0) {
    return Status::Error(name + " header is malformed");
  }
  if (width == 0 || height == 0 || width > options.max_dimension ||
      height > options.max_dimension || uint64_t{width} * height > options.max_pixels) {
    return Status::Error(name + " size " + std::to_string(width) + "x" +
                         std::to_string(height) + " is out of range");
  }
  if (pos >= bytes.size() || !IsSpace(bytes[pos])) {
    return Status::Error(name + " is truncated (no pixel data)");
  }
  ++pos;
  const int channels = gray ? 1 : 3;
  const int bytes_per_sample = maxval < 256 ? 1 : 2;
  const uint64_t samples = uint64_t{width} * height * channels;
  if (bytes.size() - pos < samples * bytes_per_sample) {
    return Status::Error(name + " is truncated");
  }
  try {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(size_t{width} * height * 3);
    const uint8_t* src = bytes.data() + pos;
    uint8_t* dst = image.rgb.data();
    for (uint64_t i = 0; i < samples; ++i) {
      uint32_t v = *src++;
      if (bytes_per_sample == 2) v = (v << 8) | *src++;
      if (v > maxval) return Status::Error(name + " sample exceeds maxval");
      const uint8_t v8 = static_cast<uint8_t>((v * 255 + maxval / 2) / maxval);
      if (gray) {
        dst[0] = dst[1] = dst[2] = v8;
        dst += 3;
      } else {
        *dst++ = v8;
      }
    }
    return image;
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory while decoding the image");
  }
}

StatusOr<Image> ReadImage(const std::string& path_or_dash, const ReadOptions& options) {
  FXIC_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadFileBytes(path_or_dash));
  StatusOr<Image> image = DecodeImageBytes(bytes, options);
  if (!image.ok()) {
    const std::string name = path_or_dash == "-" ? "<stdin>" : path_or_dash;
    return Status::Error(name + ": " + image.status().message());
  }
  return image;
}

StatusOr<std::vector<uint8_t>> EncodeImageBytes(const Image& image, ImageFormat format) {
  if (image.width == 0 || image.height == 0 ||
      image.rgb.size() != size_t{image.width} * image.height * 3) {
    return Status::Error("image has a zero dimension or a wrong buffer size");
  }
  if (format == ImageFormat::kAuto || format == ImageFormat::kPng) {
    return Status::Error("PNG is not supported by this build (FXIC_MINIMAL_IO); use .ppm");
  }
  const bool gray = format == ImageFormat::kPgm;
  const std::string header = std::string(gray ? "P5\n" : "P6\n") +
                             std::to_string(image.width) + " " +
                             std::to_string(image.height) + "\n255\n";
  std::vector<uint8_t> out(header.begin(), header.end());
  if (!gray) {
    out.insert(out.end(), image.rgb.begin(), image.rgb.end());
    return out;
  }
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    if (image.rgb[i] != image.rgb[i + 1] || image.rgb[i] != image.rgb[i + 2]) {
      return Status::Error("image is not gray (R, G and B differ); PGM holds gray only");
    }
    out.push_back(image.rgb[i]);
  }
  return out;
}

StatusOr<ImageFormat> ImageFormatFromPath(const std::string& path_or_dash) {
  if (path_or_dash == "-") return ImageFormat::kPng;
  const size_t slash = path_or_dash.find_last_of('/');
  const size_t dot = path_or_dash.find_last_of('.');
  std::string ext;
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    ext = path_or_dash.substr(dot + 1);
    for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (ext == "png") return ImageFormat::kPng;
  if (ext == "ppm" || ext == "pnm") return ImageFormat::kPpm;
  if (ext == "pgm") return ImageFormat::kPgm;
  return Status::Error(path_or_dash + ": cannot tell the image format from the extension");
}

Status WriteImage(const Image& image, const std::string& path_or_dash,
                  const WriteOptions& options) {
  ImageFormat format = options.format;
  if (format == ImageFormat::kAuto) {
    FXIC_ASSIGN_OR_RETURN(format, ImageFormatFromPath(path_or_dash));
  }
  auto bytes = EncodeImageBytes(image, format);
  if (!bytes.ok()) return Status::Error(path_or_dash + ": " + bytes.status().message());
  return WriteFileAtomic(path_or_dash, bytes.value(), options.overwrite);
}

StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path_or_dash) {
  const bool is_stdin = path_or_dash == "-";
  const std::string name = is_stdin ? "<stdin>" : path_or_dash;
  if (path_or_dash.empty()) return Status::Error("empty input file name");
  std::FILE* f = is_stdin ? stdin : std::fopen(path_or_dash.c_str(), "rb");
  if (f == nullptr) return Status::Error(name + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  const bool failed = std::ferror(f) != 0;
  if (!is_stdin) std::fclose(f);
  if (failed) return Status::Error(name + ": read error");
  return bytes;
}

Status CheckOutputFree(const std::string& path, bool overwrite) {
  if (overwrite || path == "-" || path.empty()) return Status::Ok();
  if (std::FILE* existing = std::fopen(path.c_str(), "rb")) {
    std::fclose(existing);
    return Status::Error(path + " exists; use -f to overwrite");
  }
  return Status::Ok();
}

// Writes "<path>.tmp" and renames it over path: a failure leaves no partial
// output (no hard-link race protection, unlike image_io.cpp).
Status WriteFileAtomic(const std::string& path, const std::vector<uint8_t>& bytes,
                       bool overwrite) {
  if (path == "-") {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0) {
      return Status::Error("<stdout>: write error");
    }
    return Status::Ok();
  }
  if (path.empty()) return Status::Error("empty output file name");
  FXIC_RETURN_IF_ERROR(CheckOutputFree(path, overwrite));
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::Error(path + ": cannot create: " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::Error(path + ": write error");
  }
  return Status::Ok();
}

}  // namespace fxic
