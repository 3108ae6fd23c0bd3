// Tests for apps/image_io: PNG/PPM/PGM decoding and encoding, atomic writes.
#include "apps/image_io.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace fxic {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// ------------------------------------------------------------------ helpers

// A scratch directory, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "fxic_image_io_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const {
    return (fs::path(path_) / name).string();
  }
  const std::string& path() const { return path_; }
  std::set<std::string> Entries() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

 private:
  std::string path_;
};

Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
}

void WriteAllBytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  REQUIRE(out.good());
}

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

uint32_t NextRandom(uint32_t* state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

// A PNG described sample by sample, encoded with libpng's writer.
struct TestPng {
  uint32_t width = 0;
  uint32_t height = 0;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlaced = false;
  // width * height * channels samples (palette: one index per pixel), each
  // within the bit depth; alpha last.
  std::vector<uint16_t> samples;
  std::vector<png_color> palette;
  std::vector<uint8_t> palette_alpha;  // tRNS for palette images
  bool has_trns_color = false;         // tRNS for gray / RGB images
  png_color_16 trns_color{};
};

int Channels(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
      return 3;
    default:
      return 4;
  }
}

struct PngWriteContext {
  Bytes out;
  std::vector<Bytes> rows;
  std::vector<png_bytep> row_pointers;
  png_structp png = nullptr;
  png_infop info = nullptr;
};

void TestWriteFn(png_structp png, png_bytep data, png_size_t n) {
  auto* ctx = static_cast<PngWriteContext*>(png_get_io_ptr(png));
  ctx->out.insert(ctx->out.end(), data, data + n);
}
void TestFlushFn(png_structp) {}
void TestWarningFn(png_structp, png_const_charp) {}

// No non-trivial locals here: libpng may longjmp back to the setjmp.
bool RunTestPngWrite(PngWriteContext* ctx, const TestPng& spec) {
  if (setjmp(png_jmpbuf(ctx->png))) return false;
  png_set_write_fn(ctx->png, ctx, TestWriteFn, TestFlushFn);
  png_set_IHDR(ctx->png, ctx->info, spec.width, spec.height, spec.bit_depth,
               spec.color_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!spec.palette.empty()) {
    png_set_PLTE(ctx->png, ctx->info, spec.palette.data(),
                 static_cast<int>(spec.palette.size()));
  }
  if (!spec.palette_alpha.empty()) {
    png_set_tRNS(ctx->png, ctx->info, spec.palette_alpha.data(),
                 static_cast<int>(spec.palette_alpha.size()), nullptr);
  }
  if (spec.has_trns_color) {
    png_set_tRNS(ctx->png, ctx->info, nullptr, 0, &spec.trns_color);
  }
  png_write_info(ctx->png, ctx->info);
  png_write_image(ctx->png, ctx->row_pointers.data());
  png_write_end(ctx->png, nullptr);
  return true;
}

Bytes EncodeTestPng(const TestPng& spec) {
  const int channels = Channels(spec.color_type);
  REQUIRE(spec.samples.size() == size_t{spec.width} * spec.height * channels);
  PngWriteContext ctx;
  const size_t samples_per_row = size_t{spec.width} * channels;
  for (uint32_t y = 0; y < spec.height; ++y) {
    Bytes row((samples_per_row * spec.bit_depth + 7) / 8, 0);
    for (size_t i = 0; i < samples_per_row; ++i) {
      const uint16_t v = spec.samples[y * samples_per_row + i];
      if (spec.bit_depth == 16) {
        row[2 * i] = static_cast<uint8_t>(v >> 8);
        row[2 * i + 1] = static_cast<uint8_t>(v);
      } else if (spec.bit_depth == 8) {
        row[i] = static_cast<uint8_t>(v);
      } else {  // packed, most significant bits first
        const size_t bit = i * spec.bit_depth;
        row[bit / 8] |=
            static_cast<uint8_t>(v << (8 - spec.bit_depth - bit % 8));
      }
    }
    ctx.rows.push_back(std::move(row));
  }
  for (Bytes& row : ctx.rows) ctx.row_pointers.push_back(row.data());
  ctx.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr,
                                    TestWarningFn);
  REQUIRE(ctx.png != nullptr);
  ctx.info = png_create_info_struct(ctx.png);
  REQUIRE(ctx.info != nullptr);
  const bool ok = RunTestPngWrite(&ctx, spec);
  png_destroy_write_struct(&ctx.png, &ctx.info);
  REQUIRE(ok);
  return ctx.out;
}

// The RGB a correct reader must produce for spec, computed independently of
// the implementation (alpha ignored).
Bytes ExpectedRgb(const TestPng& spec) {
  const int channels = Channels(spec.color_type);
  const uint32_t maxval = (1u << spec.bit_depth) - 1;
  auto to8 = [&](uint32_t v) -> uint8_t {
    if (spec.bit_depth < 8) return static_cast<uint8_t>(v * (255 / maxval));
    if (spec.bit_depth == 8) return static_cast<uint8_t>(v);
    return static_cast<uint8_t>((v * 255 + 32767) / 65535);
  };
  Bytes rgb;
  for (size_t p = 0; p < size_t{spec.width} * spec.height; ++p) {
    const uint16_t* s = &spec.samples[p * channels];
    if (spec.color_type == PNG_COLOR_TYPE_PALETTE) {
      const png_color& c = spec.palette.at(s[0]);
      rgb.insert(rgb.end(), {c.red, c.green, c.blue});
    } else if (channels <= 2) {
      rgb.insert(rgb.end(), {to8(s[0]), to8(s[0]), to8(s[0])});
    } else {
      rgb.insert(rgb.end(), {to8(s[0]), to8(s[1]), to8(s[2])});
    }
  }
  return rgb;
}

// A pseudo-random image of the given type; alpha samples are all opaque.
TestPng MakeTestPng(int color_type, int bit_depth, uint32_t width,
                    uint32_t height, bool interlaced, uint32_t seed = 1) {
  TestPng spec;
  spec.width = width;
  spec.height = height;
  spec.color_type = color_type;
  spec.bit_depth = bit_depth;
  spec.interlaced = interlaced;
  const int channels = Channels(color_type);
  const bool has_alpha = channels == 2 || channels == 4;
  const uint32_t maxval = (1u << bit_depth) - 1;
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    const uint32_t entries = maxval + 1;
    for (uint32_t i = 0; i < entries; ++i) {
      spec.palette.push_back({static_cast<png_byte>(i * 37 + 5),
                              static_cast<png_byte>(255 - i * 11),
                              static_cast<png_byte>(i * i)});
    }
  }
  uint32_t state = seed;
  for (size_t p = 0; p < size_t{width} * height; ++p) {
    for (int c = 0; c < channels; ++c) {
      const bool alpha = has_alpha && c == channels - 1;
      spec.samples.push_back(static_cast<uint16_t>(
          alpha ? maxval : NextRandom(&state) % (maxval + 1)));
    }
  }
  return spec;
}

std::string Describe(const TestPng& spec) {
  return "color_type " + std::to_string(spec.color_type) + " depth " +
         std::to_string(spec.bit_depth) +
         (spec.interlaced ? " interlaced" : "") + " " +
         std::to_string(spec.width) + "x" + std::to_string(spec.height);
}

// Hand-made PNG pieces, for headers libpng's writer would refuse.
void AppendBE32(Bytes* out, uint32_t v) {
  out->insert(out->end(),
              {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
               static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
}

void AppendChunk(Bytes* out, const char* type, const Bytes& data) {
  AppendBE32(out, static_cast<uint32_t>(data.size()));
  Bytes body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out->insert(out->end(), body.begin(), body.end());
  AppendBE32(out, static_cast<uint32_t>(
                      crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

Bytes HandMadePng(uint32_t width, uint32_t height, uint8_t bit_depth,
                  uint8_t color_type, const Bytes& raw_scanlines) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  AppendBE32(&ihdr, width);
  AppendBE32(&ihdr, height);
  ihdr.insert(ihdr.end(), {bit_depth, color_type, 0, 0, 0});
  AppendChunk(&png, "IHDR", ihdr);
  uLongf size = compressBound(raw_scanlines.size());
  Bytes idat(size);
  REQUIRE(compress(idat.data(), &size, raw_scanlines.data(),
                   raw_scanlines.size()) == Z_OK);
  idat.resize(size);
  AppendChunk(&png, "IDAT", idat);
  AppendChunk(&png, "IEND", {});
  return png;
}

// Chunk types of a well-formed PNG, in order.
std::vector<std::string> ChunkTypes(const Bytes& png) {
  std::vector<std::string> types;
  size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const uint32_t length = (uint32_t{png[pos]} << 24) |
                            (uint32_t{png[pos + 1]} << 16) |
                            (uint32_t{png[pos + 2]} << 8) | png[pos + 3];
    types.emplace_back(reinterpret_cast<const char*>(&png[pos + 4]), 4);
    pos += 12 + size_t{length};
  }
  return types;
}

Image RandomImage(uint32_t width, uint32_t height, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(size_t{width} * height * 3);
  uint32_t state = seed;
  for (uint8_t& v : image.rgb) v = static_cast<uint8_t>(NextRandom(&state));
  return image;
}

// Runs fn with file descriptor `target` (0 or 1) redirected to path.
template <typename Fn>
void WithRedirectedFd(int target, const std::string& path, int flags, Fn fn) {
  std::fflush(stdout);
  const int saved = dup(target);
  REQUIRE(saved >= 0);
  const int fd = open(path.c_str(), flags, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(dup2(fd, target) == target);
  close(fd);
  fn();
  std::fflush(stdout);
  dup2(saved, target);
  close(saved);
}

const ReadOptions kDefaultRead;
ReadOptions DropAlpha() {
  ReadOptions options;
  options.drop_alpha = true;
  return options;
}

// ------------------------------------------------------------------ PNG read

TEST_CASE("PNG of every colour type and bit depth decodes to RGB",
          "[image_io]") {
  struct Combo {
    int color_type;
    int bit_depth;
  };
  const Combo combos[] = {
      {PNG_COLOR_TYPE_GRAY, 1},        {PNG_COLOR_TYPE_GRAY, 2},
      {PNG_COLOR_TYPE_GRAY, 4},        {PNG_COLOR_TYPE_GRAY, 8},
      {PNG_COLOR_TYPE_GRAY, 16},       {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
      {PNG_COLOR_TYPE_GRAY_ALPHA, 16}, {PNG_COLOR_TYPE_RGB, 8},
      {PNG_COLOR_TYPE_RGB, 16},        {PNG_COLOR_TYPE_RGB_ALPHA, 8},
      {PNG_COLOR_TYPE_RGB_ALPHA, 16},  {PNG_COLOR_TYPE_PALETTE, 1},
      {PNG_COLOR_TYPE_PALETTE, 2},     {PNG_COLOR_TYPE_PALETTE, 4},
      {PNG_COLOR_TYPE_PALETTE, 8},
  };
  // Odd sizes exercise partial bytes of packed rows and empty Adam7 passes.
  const uint32_t sizes[][2] = {{13, 7}, {1, 1}, {1, 9}, {9, 1}, {3, 2}};
  int checked = 0;
  for (const Combo& combo : combos) {
    for (const auto& size : sizes) {
      for (bool interlaced : {false, true}) {
        const TestPng spec =
            MakeTestPng(combo.color_type, combo.bit_depth, size[0], size[1],
                        interlaced, 7 + checked);
        INFO(Describe(spec));
        const StatusOr<Image> image =
            DecodeImageBytes(EncodeTestPng(spec), kDefaultRead);
        REQUIRE(image.ok());
        CHECK(image.value().width == spec.width);
        CHECK(image.value().height == spec.height);
        CHECK(image.value().rgb == ExpectedRgb(spec));
        ++checked;
      }
    }
  }
  CHECK(checked == 150);
}

TEST_CASE("PNG 16-bit samples round to 8 bits as (v*255+32767)/65535",
          "[image_io]") {
  // Expected values worked out by hand from the formula, not by the code.
  const uint16_t in[] = {0,     128,   129,   257,   385,   386,  32767,
                         32768, 65406, 65407, 65534, 65535, 1000, 30000};
  const uint8_t out[] = {0,   0,   1,   1,   1,   2, 127,
                         128, 254, 255, 255, 255, 4, 117};
  const size_t n = sizeof(in) / sizeof(in[0]);
  for (bool gray : {true, false}) {
    TestPng spec;
    spec.width = static_cast<uint32_t>(n);
    spec.height = 1;
    spec.bit_depth = 16;
    spec.color_type = gray ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
    Bytes expected;
    for (size_t i = 0; i < n; ++i) {
      if (gray) {
        spec.samples.push_back(in[i]);
        expected.insert(expected.end(), {out[i], out[i], out[i]});
      } else {
        const size_t j = (i + 5) % n, k = (i + 9) % n;
        spec.samples.insert(spec.samples.end(), {in[i], in[j], in[k]});
        expected.insert(expected.end(), {out[i], out[j], out[k]});
      }
    }
    const StatusOr<Image> image =
        DecodeImageBytes(EncodeTestPng(spec), kDefaultRead);
    REQUIRE(image.ok());
    CHECK(image.value().rgb == expected);
  }
}

TEST_CASE("PNG gAMA, sBIT and tEXt chunks do not change the pixels",
          "[image_io]") {
  TestPng spec = MakeTestPng(PNG_COLOR_TYPE_RGB, 8, 5, 4, false);
  const Bytes plain = EncodeTestPng(spec);
  // Insert a gAMA chunk of 1.0 (strongly non-sRGB) right after IHDR.
  Bytes with_gama(plain.begin(), plain.begin() + 8 + 25);
  Bytes gama;
  AppendBE32(&gama, 100000);
  AppendChunk(&with_gama, "gAMA", gama);
  AppendChunk(&with_gama, "sBIT", {5, 5, 5});
  AppendChunk(&with_gama, "tEXt", ToBytes(std::string("Comment\0hi", 10)));
  with_gama.insert(with_gama.end(), plain.begin() + 8 + 25, plain.end());
  const StatusOr<Image> image = DecodeImageBytes(with_gama, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == ExpectedRgb(spec));
}

TEST_CASE("PNG with fully opaque alpha is accepted silently", "[image_io]") {
  for (int color_type : {PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB_ALPHA}) {
    for (int depth : {8, 16}) {
      for (bool interlaced : {false, true}) {
        const TestPng spec = MakeTestPng(color_type, depth, 6, 5, interlaced);
        INFO(Describe(spec));
        const StatusOr<Image> image =
            DecodeImageBytes(EncodeTestPng(spec), kDefaultRead);
        REQUIRE(image.ok());
        CHECK(image.value().rgb == ExpectedRgb(spec));
      }
    }
  }
  // Palette with a tRNS whose entries are all opaque, or that only covers
  // entries no pixel uses.
  TestPng spec = MakeTestPng(PNG_COLOR_TYPE_PALETTE, 8, 8, 8, false);
  spec.palette_alpha.assign(spec.palette.size(), 255);
  StatusOr<Image> image = DecodeImageBytes(EncodeTestPng(spec), kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == ExpectedRgb(spec));
  spec = MakeTestPng(PNG_COLOR_TYPE_PALETTE, 2, 8, 8, false);
  for (uint16_t& s : spec.samples) s = s == 0 ? 1 : s;
  spec.palette_alpha = {0};  // entry 0 transparent, never used
  image = DecodeImageBytes(EncodeTestPng(spec), kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == ExpectedRgb(spec));
}

TEST_CASE("PNG with non-opaque alpha is refused unless drop_alpha",
          "[image_io]") {
  std::vector<TestPng> specs;
  for (int color_type : {PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB_ALPHA}) {
    for (int depth : {8, 16}) {
      for (bool interlaced : {false, true}) {
        TestPng spec = MakeTestPng(color_type, depth, 7, 6, interlaced);
        // One pixel, in the last row, one step below opaque: 254 or 65534
        // (which would round to 255 but is still not opaque).
        const int channels = Channels(color_type);
        spec.samples[(spec.samples.size() / channels - 2) * channels +
                     channels - 1] -= 1;
        specs.push_back(spec);
      }
    }
  }
  TestPng palette = MakeTestPng(PNG_COLOR_TYPE_PALETTE, 4, 5, 5, false);
  palette.palette_alpha = {255, 255, 128};
  palette.samples[3] = 2;
  specs.push_back(palette);
  palette.interlaced = true;
  specs.push_back(palette);
  TestPng gray_key = MakeTestPng(PNG_COLOR_TYPE_GRAY, 8, 4, 4, false);
  gray_key.has_trns_color = true;
  gray_key.trns_color.gray = gray_key.samples[5];
  specs.push_back(gray_key);
  TestPng rgb_key = MakeTestPng(PNG_COLOR_TYPE_RGB, 16, 4, 4, false);
  rgb_key.has_trns_color = true;
  rgb_key.trns_color.red = rgb_key.samples[9];
  rgb_key.trns_color.green = rgb_key.samples[10];
  rgb_key.trns_color.blue = rgb_key.samples[11];
  specs.push_back(rgb_key);

  for (const TestPng& spec : specs) {
    INFO(Describe(spec));
    const Bytes png = EncodeTestPng(spec);
    const StatusOr<Image> refused = DecodeImageBytes(png, kDefaultRead);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message() ==
          "image has transparency (non-opaque alpha); re-run with "
          "--drop-alpha to encode the colour channels and discard alpha");
    const StatusOr<Image> dropped = DecodeImageBytes(png, DropAlpha());
    REQUIRE(dropped.ok());
    CHECK(dropped.value().rgb == ExpectedRgb(spec));
  }

  // A colour key that no pixel matches is opaque.
  TestPng unused_key = MakeTestPng(PNG_COLOR_TYPE_GRAY, 8, 4, 4, false);
  for (uint16_t& s : unused_key.samples) s = s == 77 ? 78 : s;
  unused_key.has_trns_color = true;
  unused_key.trns_color.gray = 77;
  CHECK(DecodeImageBytes(EncodeTestPng(unused_key), kDefaultRead).ok());
}

TEST_CASE("ReadImage reads a PNG file and prefixes errors with the path",
          "[image_io]") {
  TempDir dir;
  const TestPng spec = MakeTestPng(PNG_COLOR_TYPE_RGB_ALPHA, 8, 4, 3, false);
  const std::string path = dir.File("in.png");
  WriteAllBytes(path, EncodeTestPng(spec));
  const StatusOr<Image> image = ReadImage(path, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == ExpectedRgb(spec));

  const std::string missing = dir.File("missing.png");
  StatusOr<Image> error = ReadImage(missing, kDefaultRead);
  REQUIRE_FALSE(error.ok());
  CHECK(error.status().message().rfind(missing + ": ", 0) == 0);

  const std::string garbage = dir.File("garbage.png");
  WriteAllBytes(garbage, ToBytes("hello, world"));
  error = ReadImage(garbage, kDefaultRead);
  REQUIRE_FALSE(error.ok());
  CHECK(error.status().message() == garbage + ": not a PNG, PPM or PGM file");

  const std::string empty = dir.File("empty.png");
  WriteAllBytes(empty, {});
  error = ReadImage(empty, kDefaultRead);
  REQUIRE_FALSE(error.ok());
  CHECK(error.status().message() == empty + ": empty input");

  error = ReadImage(dir.path(), kDefaultRead);  // a directory
  REQUIRE_FALSE(error.ok());
  CHECK(error.status().message().rfind(dir.path() + ": ", 0) == 0);
}

TEST_CASE("ReadImage and ReadFileBytes read stdin for -", "[image_io]") {
  TempDir dir;
  const TestPng spec = MakeTestPng(PNG_COLOR_TYPE_GRAY, 16, 3, 3, true);
  const std::string path = dir.File("stdin.png");
  WriteAllBytes(path, EncodeTestPng(spec));
  StatusOr<Image> image = Status::Error("not run");
  WithRedirectedFd(0, path, O_RDONLY,
                   [&] { image = ReadImage("-", kDefaultRead); });
  REQUIRE(image.ok());
  CHECK(image.value().rgb == ExpectedRgb(spec));

  const std::string empty = dir.File("empty");
  WriteAllBytes(empty, {});
  WithRedirectedFd(0, empty, O_RDONLY,
                   [&] { image = ReadImage("-", kDefaultRead); });
  REQUIRE_FALSE(image.ok());
  CHECK(image.status().message() == "<stdin>: empty input");
}

// ------------------------------------------------------------ malformed PNG

TEST_CASE("Truncated PNG is an error at every cut point", "[image_io]") {
  for (bool interlaced : {false, true}) {
    const Bytes png = EncodeTestPng(
        MakeTestPng(PNG_COLOR_TYPE_RGB_ALPHA, 16, 9, 7, interlaced));
    REQUIRE(DecodeImageBytes(png, kDefaultRead).ok());
    for (size_t cut = 0; cut < png.size(); ++cut) {
      INFO("cut at " << cut << " of " << png.size());
      const StatusOr<Image> image =
          DecodeImageBytes(Bytes(png.begin(), png.begin() + cut), kDefaultRead);
      CHECK_FALSE(image.ok());
      CHECK_FALSE(image.status().message().empty());
      CHECK(image.status().message().find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("Garbage and corrupted PNG bytes are errors, never crashes",
          "[image_io]") {
  const StatusOr<Image> empty = DecodeImageBytes({}, kDefaultRead);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message() == "empty input");

  uint32_t state = 12345;
  for (int trial = 0; trial < 200; ++trial) {
    Bytes garbage(1 + NextRandom(&state) % 300);
    for (uint8_t& b : garbage) b = static_cast<uint8_t>(NextRandom(&state));
    if (garbage[0] == 0x89 || garbage[0] == 'P') garbage[0] = 'x';
    const StatusOr<Image> image = DecodeImageBytes(garbage, kDefaultRead);
    REQUIRE_FALSE(image.ok());
    CHECK(image.status().message() == "not a PNG, PPM or PGM file");
    // The same garbage behind a PNG signature or a PNM magic.
    for (const char* magic : {"\x89PNG\r\n\x1a\n", "P6", "P5", "P3", "P2"}) {
      Bytes prefixed(magic, magic + std::strlen(magic));
      prefixed.insert(prefixed.end(), garbage.begin(), garbage.end());
      (void)DecodeImageBytes(prefixed, kDefaultRead);  // must not crash
    }
  }

  // Every single-bit flip of a small PNG (CRCs make most of them errors; a
  // few land in places libpng tolerates). Only "no crash" is required.
  const Bytes png =
      EncodeTestPng(MakeTestPng(PNG_COLOR_TYPE_PALETTE, 4, 6, 5, true));
  int errors = 0;
  for (size_t i = 0; i < png.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes corrupt = png;
      corrupt[i] ^= static_cast<uint8_t>(1 << bit);
      const StatusOr<Image> image = DecodeImageBytes(corrupt, DropAlpha());
      if (!image.ok()) {
        ++errors;
      } else {
        CHECK(image.value().rgb.size() ==
              size_t{image.value().width} * image.value().height * 3);
      }
    }
  }
  CHECK(errors > static_cast<int>(png.size()) * 4);

  // Valid CRCs around invalid content: bad colour type / bit depth pairs.
  for (const auto& bad :
       {std::pair<uint8_t, uint8_t>{3, 2}, std::pair<uint8_t, uint8_t>{16, 3},
        std::pair<uint8_t, uint8_t>{8, 1}, std::pair<uint8_t, uint8_t>{8, 7}}) {
    const StatusOr<Image> image = DecodeImageBytes(
        HandMadePng(2, 2, bad.first, bad.second, Bytes(2 * 13, 0)),
        kDefaultRead);
    CHECK_FALSE(image.ok());
  }
  // An ancillary chunk declaring ~2 GB in a tiny file (found by fuzzing:
  // libpng used to allocate the declared length first).
  {
    Bytes huge_text =
        EncodeTestPng(MakeTestPng(PNG_COLOR_TYPE_RGB, 8, 2, 2, false));
    huge_text.resize(8 + 25);
    AppendBE32(&huge_text, 0x7e000000);
    huge_text.insert(huge_text.end(), {'t', 'E', 'X', 't', 'a', 'b', 0, 'c'});
    const StatusOr<Image> image = DecodeImageBytes(huge_text, kDefaultRead);
    REQUIRE_FALSE(image.ok());
    CHECK(Contains(image.status().message(), "truncated"));
  }
  // Palette image without a PLTE chunk.
  CHECK_FALSE(
      DecodeImageBytes(HandMadePng(2, 2, 8, 3, Bytes(2 * 3, 0)), kDefaultRead)
          .ok());
  // Too little pixel data in a complete, valid-CRC file.
  const StatusOr<Image> short_data =
      DecodeImageBytes(HandMadePng(4, 4, 8, 2, Bytes(2 * 13, 0)), kDefaultRead);
  REQUIRE_FALSE(short_data.ok());
  CHECK(Contains(short_data.status().message(), "invalid PNG"));
}

TEST_CASE("PNG sizes beyond the limits are refused before allocating",
          "[image_io]") {
  // Zero width (libpng's own check).
  CHECK_FALSE(
      DecodeImageBytes(HandMadePng(0, 1, 8, 2, Bytes(1, 0)), kDefaultRead)
          .ok());
  // A side above 2^20.
  StatusOr<Image> image = DecodeImageBytes(
      HandMadePng((1u << 20) + 1, 1, 8, 0, Bytes(16, 0)), kDefaultRead);
  REQUIRE_FALSE(image.ok());
  CHECK(Contains(image.status().message(), "limit"));
  // Each side fine, area above 2^30.
  image = DecodeImageBytes(HandMadePng(1u << 20, 1u << 11, 1, 0, Bytes(16, 0)),
                           kDefaultRead);
  REQUIRE_FALSE(image.ok());
  CHECK(Contains(image.status().message(), "limit of 1073741824 pixels"));
  // Within the limits but claiming ~1 GB of pixels from a tiny file.
  image = DecodeImageBytes(HandMadePng(30000, 30000, 8, 2, Bytes(16, 0)),
                           kDefaultRead);
  REQUIRE_FALSE(image.ok());
  CHECK(Contains(image.status().message(), "truncated"));
  // Configurable limits.
  ReadOptions small;
  small.max_dimension = 10;
  const Bytes png =
      EncodeTestPng(MakeTestPng(PNG_COLOR_TYPE_RGB, 8, 11, 2, false));
  CHECK_FALSE(DecodeImageBytes(png, small).ok());
  small.max_dimension = 11;
  CHECK(DecodeImageBytes(png, small).ok());
  small.max_pixels = 21;
  CHECK_FALSE(DecodeImageBytes(png, small).ok());
  small.max_pixels = 22;
  CHECK(DecodeImageBytes(png, small).ok());
}

// ------------------------------------------------------------------ PPM/PGM

TEST_CASE("PPM and PGM with maxval 255, comments and odd whitespace",
          "[image_io]") {
  Bytes ppm = ToBytes("P6\n# made by hand\n3 # width\n\t2\r\n255\n");
  const Bytes pixels = {1,  2,  3,  4,  5,  6,  7,  8,  9,
                        10, 11, 12, 13, 14, 15, 16, 17, 18};
  ppm.insert(ppm.end(), pixels.begin(), pixels.end());
  StatusOr<Image> image = DecodeImageBytes(ppm, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().width == 3);
  CHECK(image.value().height == 2);
  CHECK(image.value().rgb == pixels);

  // The single whitespace after maxval may be a byte that looks like data:
  // the raster starts right after it, even if it begins with '#' or ' '.
  Bytes pgm = ToBytes("P5 2 2 255 ");
  pgm.insert(pgm.end(), {'#', ' ', 0, 255});
  image = DecodeImageBytes(pgm, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb ==
        Bytes({'#', '#', '#', ' ', ' ', ' ', 0, 0, 0, 255, 255, 255}));
}

TEST_CASE("PPM and PGM with 16-bit and other maxvals scale to 8 bits",
          "[image_io]") {
  Bytes ppm = ToBytes("P6 2 1 65535\n");
  ppm.insert(ppm.end(),
             {0x00, 0x80, 0x00, 0x81, 0x7f, 0xff,    // 128 129 32767
              0x80, 0x00, 0xff, 0x7e, 0xff, 0xff});  // 32768 65406 max
  StatusOr<Image> image = DecodeImageBytes(ppm, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == Bytes({0, 1, 127, 128, 254, 255}));

  Bytes pgm = ToBytes("P5 3 1 1000\n");
  pgm.insert(pgm.end(), {0x03, 0xe8, 0x00, 0x02, 0x00, 0x01});  // 1000 2 1
  image = DecodeImageBytes(pgm, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == Bytes({255, 255, 255, 1, 1, 1, 0, 0, 0}));

  Bytes binary = ToBytes("P5 3 1 1\n");
  binary.insert(binary.end(), {1, 0, 1});
  image = DecodeImageBytes(binary, kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == Bytes({255, 255, 255, 0, 0, 0, 255, 255, 255}));
}

TEST_CASE("Plain P3 and P2 files are read", "[image_io]") {
  StatusOr<Image> image = DecodeImageBytes(
      ToBytes("P3\n# plain\n2 1\n255\n1 2 3 # first\n 250 251 255\n"),
      kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == Bytes({1, 2, 3, 250, 251, 255}));
  image = DecodeImageBytes(ToBytes("P2 3 1 65535 0 32768 65535"), kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().rgb == Bytes({0, 0, 0, 128, 128, 128, 255, 255, 255}));
}

TEST_CASE("Malformed PPM and PGM are errors", "[image_io]") {
  const char* const bad[] = {
      "P6",                             // no header
      "P6 3",                           // truncated header
      "P6 3 2",                         //
      "P6 3 2 255",                     // no whitespace, no raster
      "P6 3 2 255\n",                   // no raster
      "P6 3 2 255\nabc",                // short raster
      "P6 3 2 255X123456789012345678",  // maxval without whitespace after
      "P6 0 2 255\n",                   // zero width
      "P6 3 0 255\n",                   // zero height
      "P6 1 1 0\nabc",                  // maxval 0
      "P6 1 1 65536\nabcdef",           // maxval too large
      "P6 x 1 255\nabc",                // not a number
      "P63 1 255\nabc",                 // no separator after the magic
      "P6 99999999999 1 255\n",         // number too large
      "P6 1048577 1 255\n",             // side above the limit
      "P6 1048576 1048576 255\n",       // area above the limit
      "P6 30000 30000 255\nabc",        // fine header, almost no data
      "P5 1 1 200\n\xc9",               // sample 201 above maxval 200
      "P5 1 1 1000\n\x03\xe9",          // sample 1001 above maxval 1000
      "P3 1 1 255 1 2",                 // plain: missing sample
      "P3 1 1 255 1 2 256",             // plain: sample above maxval
      "P3 1 1 255 1 2x3",               // plain: junk between samples
      "P2 100000 10000 255 1 2 3",      // plain: far too little data
      "P1 1 1 1",                       // PBM is not supported
      "P4 1 1 \x80",                    //
      "P7 1 1 255",                     // PAM is not supported
  };
  for (const char* text : bad) {
    INFO(text);
    const StatusOr<Image> image = DecodeImageBytes(ToBytes(text), kDefaultRead);
    CHECK_FALSE(image.ok());
    CHECK(image.status().message().find('\n') == std::string::npos);
  }
  // Every prefix of a valid file is truncated.
  Bytes ppm = ToBytes("P6\n# c\n2 2\n65535\n");
  ppm.resize(ppm.size() + 24, 0x11);
  REQUIRE(DecodeImageBytes(ppm, kDefaultRead).ok());
  for (size_t cut = 0; cut < ppm.size(); ++cut) {
    CHECK_FALSE(
        DecodeImageBytes(Bytes(ppm.begin(), ppm.begin() + cut), kDefaultRead)
            .ok());
  }
}

// ------------------------------------------------------------------ writing

TEST_CASE("PNG write then read gives identical pixels", "[image_io]") {
  const uint32_t sizes[][2] = {{1, 1}, {1, 17}, {17, 1}, {37, 23}, {64, 64}};
  for (const auto& size : sizes) {
    const Image image = RandomImage(size[0], size[1], size[0] * 100 + size[1]);
    const StatusOr<Bytes> png = EncodeImageBytes(image, ImageFormat::kPng);
    REQUIRE(png.ok());
    // Deterministic bytes with only the critical chunks.
    const StatusOr<Bytes> again = EncodeImageBytes(image, ImageFormat::kAuto);
    REQUIRE(again.ok());
    CHECK(png.value() == again.value());
    std::vector<std::string> types = ChunkTypes(png.value());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    CHECK(types == std::vector<std::string>({"IHDR", "IDAT", "IEND"}));
    const StatusOr<Image> decoded = DecodeImageBytes(png.value(), kDefaultRead);
    REQUIRE(decoded.ok());
    CHECK(decoded.value().width == image.width);
    CHECK(decoded.value().height == image.height);
    CHECK(decoded.value().rgb == image.rgb);
  }
}

// The concatenated IDAT data of a PNG, inflated.
Bytes InflatedIdat(const Bytes& png, size_t raw_size) {
  Bytes z;
  size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const uint32_t length = (uint32_t{png[pos]} << 24) |
                            (uint32_t{png[pos + 1]} << 16) |
                            (uint32_t{png[pos + 2]} << 8) | png[pos + 3];
    if (std::memcmp(&png[pos + 4], "IDAT", 4) == 0) {
      z.insert(z.end(), png.begin() + static_cast<long>(pos + 8),
               png.begin() + static_cast<long>(pos + 8 + length));
    }
    pos += 12 + size_t{length};
  }
  Bytes raw(raw_size + 1);
  uLongf n = static_cast<uLongf>(raw.size());
  if (uncompress(raw.data(), &n, z.data(), static_cast<uLong>(z.size())) != Z_OK) {
    return Bytes();
  }
  raw.resize(n);
  return raw;
}

TEST_CASE("PNG is written with the Paeth filter and run-length deflate",
          "[image_io]") {
  // The fast settings measured in docs/speed.md ("Writing PNG"): every row
  // Paeth-filtered (filter type 4), and runs still compress (Z_RLE, unlike
  // Huffman-only coding, which cannot go below 1 bit per byte).
  const Image image = RandomImage(37, 23, 99);
  const StatusOr<Bytes> png = EncodeImageBytes(image, ImageFormat::kPng);
  REQUIRE(png.ok());
  const size_t stride = 1 + size_t{image.width} * 3;
  const Bytes raw = InflatedIdat(png.value(), stride * image.height);
  REQUIRE(raw.size() == stride * image.height);
  for (uint32_t y = 0; y < image.height; ++y) {
    INFO("row " << y);
    CHECK(raw[y * stride] == 4);
  }

  Image flat;
  flat.width = 256;
  flat.height = 256;
  flat.rgb.assign(size_t{256} * 256 * 3, 128);
  const StatusOr<Bytes> flat_png = EncodeImageBytes(flat, ImageFormat::kPng);
  REQUIRE(flat_png.ok());
  CHECK(flat_png.value().size() < 4096);  // 196 KB of pixels
  const StatusOr<Image> back = DecodeImageBytes(flat_png.value(), kDefaultRead);
  REQUIRE(back.ok());
  CHECK(back.value().rgb == flat.rgb);
}

TEST_CASE("PPM and PGM write then read round trip", "[image_io]") {
  const Image color = RandomImage(5, 3, 99);
  StatusOr<Bytes> ppm = EncodeImageBytes(color, ImageFormat::kPpm);
  REQUIRE(ppm.ok());
  Bytes expected = ToBytes("P6\n5 3\n255\n");
  expected.insert(expected.end(), color.rgb.begin(), color.rgb.end());
  CHECK(ppm.value() == expected);
  StatusOr<Image> decoded = DecodeImageBytes(ppm.value(), kDefaultRead);
  REQUIRE(decoded.ok());
  CHECK(decoded.value().rgb == color.rgb);

  CHECK_FALSE(EncodeImageBytes(color, ImageFormat::kPgm).ok());

  Image gray = color;
  for (size_t i = 0; i < gray.rgb.size(); i += 3) {
    gray.rgb[i + 1] = gray.rgb[i + 2] = gray.rgb[i];
  }
  const StatusOr<Bytes> pgm = EncodeImageBytes(gray, ImageFormat::kPgm);
  REQUIRE(pgm.ok());
  CHECK(pgm.value().size() == std::strlen("P5\n5 3\n255\n") + 15);
  decoded = DecodeImageBytes(pgm.value(), kDefaultRead);
  REQUIRE(decoded.ok());
  CHECK(decoded.value().rgb == gray.rgb);
}

TEST_CASE("Encoding an inconsistent Image is an error", "[image_io]") {
  Image image = RandomImage(4, 4, 1);
  image.rgb.pop_back();
  CHECK_FALSE(EncodeImageBytes(image, ImageFormat::kPng).ok());
  CHECK_FALSE(EncodeImageBytes(image, ImageFormat::kPpm).ok());
  Image empty;
  CHECK_FALSE(EncodeImageBytes(empty, ImageFormat::kPng).ok());
  empty.width = 3;
  CHECK_FALSE(EncodeImageBytes(empty, ImageFormat::kPpm).ok());
}

TEST_CASE("WriteImage picks the format from the extension or the option",
          "[image_io]") {
  TempDir dir;
  const Image image = RandomImage(6, 4, 5);
  CHECK(ImageFormatFromPath("a.PNG").value() == ImageFormat::kPng);
  CHECK(ImageFormatFromPath("a.pnm").value() == ImageFormat::kPpm);
  CHECK(ImageFormatFromPath("x.y/a.Ppm").value() == ImageFormat::kPpm);
  CHECK(ImageFormatFromPath("a.pgm").value() == ImageFormat::kPgm);
  CHECK(ImageFormatFromPath("-").value() == ImageFormat::kPng);
  CHECK_FALSE(ImageFormatFromPath("a.jpg").ok());
  CHECK_FALSE(ImageFormatFromPath("dir.png/a").ok());

  REQUIRE(WriteImage(image, dir.File("a.png")).ok());
  CHECK(ReadAll(dir.File("a.png"))[0] == 0x89);
  REQUIRE(WriteImage(image, dir.File("b.PPM")).ok());
  CHECK(ReadAll(dir.File("b.PPM"))[1] == '6');
  REQUIRE(WriteImage(image, dir.File("c.pnm")).ok());
  CHECK(ReadAll(dir.File("c.pnm"))[1] == '6');
  WriteOptions ppm;
  ppm.format = ImageFormat::kPpm;
  REQUIRE(WriteImage(image, dir.File("d.png"), ppm).ok());
  CHECK(ReadAll(dir.File("d.png"))[1] == '6');
  for (const char* name : {"a.png", "b.PPM", "c.pnm", "d.png"}) {
    const StatusOr<Image> back = ReadImage(dir.File(name), kDefaultRead);
    REQUIRE(back.ok());
    CHECK(back.value().rgb == image.rgb);
  }

  Status status = WriteImage(image, dir.File("e.jpg"));
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind(dir.File("e.jpg") + ": ", 0) == 0);
  status = WriteImage(image, dir.File("f.pgm"));  // colour image
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind(dir.File("f.pgm") + ": ", 0) == 0);

  status = WriteImage(image, dir.File("a.png"));
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == dir.File("a.png") + " exists; use -f to overwrite");
  WriteOptions overwrite;
  overwrite.overwrite = true;
  const Image other = RandomImage(2, 2, 6);
  REQUIRE(WriteImage(other, dir.File("a.png"), overwrite).ok());
  CHECK(ReadImage(dir.File("a.png"), kDefaultRead).value().rgb == other.rgb);
  CHECK(dir.Entries() ==
        std::set<std::string>({"a.png", "b.PPM", "c.pnm", "d.png"}));
}

TEST_CASE("WriteImage to - writes PNG (or the given format) to stdout",
          "[image_io]") {
  TempDir dir;
  const Image image = RandomImage(3, 5, 8);
  Status status = Status::Error("not run");
  const std::string out = dir.File("stdout.bin");
  WithRedirectedFd(1, out, O_WRONLY | O_CREAT | O_TRUNC,
                   [&] { status = WriteImage(image, "-"); });
  REQUIRE(status.ok());
  CHECK(ReadAll(out) == EncodeImageBytes(image, ImageFormat::kPng).value());
  WriteOptions ppm;
  ppm.format = ImageFormat::kPpm;
  WithRedirectedFd(1, out, O_WRONLY | O_CREAT | O_TRUNC,
                   [&] { status = WriteImage(image, "-", ppm); });
  REQUIRE(status.ok());
  CHECK(ReadAll(out) == EncodeImageBytes(image, ImageFormat::kPpm).value());
}

// ------------------------------------------------------------ file helpers

TEST_CASE("WriteFileAtomic writes, refuses to overwrite, leaves no temporary",
          "[image_io]") {
  TempDir dir;
  const std::string path = dir.File("out.bin");
  const Bytes first = {1, 2, 3};
  const Bytes second = {4, 5};

  REQUIRE(WriteFileAtomic(path, first, false).ok());
  CHECK(ReadAll(path) == first);
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  const mode_t mask = umask(0);
  umask(mask);
  CHECK((st.st_mode & 0777) == (0666 & ~mask));

  Status status = WriteFileAtomic(path, second, false);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == path + " exists; use -f to overwrite");
  CHECK(ReadAll(path) == first);

  REQUIRE(WriteFileAtomic(path, second, true).ok());
  CHECK(ReadAll(path) == second);
  REQUIRE(WriteFileAtomic(path, {}, true).ok());
  CHECK(ReadAll(path).empty());

  // A dangling symlink counts as existing.
  const std::string link = dir.File("link");
  REQUIRE(symlink("nowhere", link.c_str()) == 0);
  CHECK_FALSE(WriteFileAtomic(link, first, false).ok());

  // Failures: a directory that does not exist; a target that is a directory.
  status = WriteFileAtomic(dir.File("no/such/dir/out.bin"), first, true);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind(dir.File("no/such/dir/out.bin") + ": ", 0) == 0);
  REQUIRE(fs::create_directory(dir.File("subdir")));
  REQUIRE(WriteFileAtomic(dir.File("subdir/inner"), first, false).ok());
  status = WriteFileAtomic(dir.File("subdir"), first, true);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind(dir.File("subdir") + ": ", 0) == 0);
  CHECK_FALSE(WriteFileAtomic("", first, true).ok());

  CHECK(dir.Entries() == std::set<std::string>({"out.bin", "link", "subdir"}));
  std::set<std::string> inner;
  for (const auto& e : fs::directory_iterator(dir.File("subdir"))) {
    inner.insert(e.path().filename().string());
  }
  CHECK(inner == std::set<std::string>({"inner"}));
}

TEST_CASE("ReadFileBytes reads files and reports errors with the path",
          "[image_io]") {
  TempDir dir;
  Bytes big(300000);
  uint32_t state = 3;
  for (uint8_t& b : big) b = static_cast<uint8_t>(NextRandom(&state));
  REQUIRE(WriteFileAtomic(dir.File("big"), big, false).ok());
  StatusOr<Bytes> bytes = ReadFileBytes(dir.File("big"));
  REQUIRE(bytes.ok());
  CHECK(bytes.value() == big);

  bytes = ReadFileBytes(dir.File("missing"));
  REQUIRE_FALSE(bytes.ok());
  CHECK(bytes.status().message().rfind(dir.File("missing") + ": ", 0) == 0);

  WithRedirectedFd(0, dir.File("big"), O_RDONLY,
                   [&] { bytes = ReadFileBytes("-"); });
  REQUIRE(bytes.ok());
  CHECK(bytes.value() == big);
}

TEST_CASE("The README sample image is a 256x256 PNG", "[image_io]") {
  const StatusOr<Image> image =
      ReadImage(std::string(FXIC_SOURCE_DIR) + "/tests/data/kodim23_crop.png",
                kDefaultRead);
  REQUIRE(image.ok());
  CHECK(image.value().width == 256);
  CHECK(image.value().height == 256);
}

}  // namespace
}  // namespace fxic
