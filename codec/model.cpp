// Model file v1 loader: parses, validates and proves overflow bounds.
#include "codec/model.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "codec/byte_io.h"
#include "codec/sha256.h"
#include "fixedpoint/bounds.h"

namespace fxic {
namespace {

constexpr uint32_t kMaxEntries = 4096;

enum DType : uint8_t { kI8 = 1, kU8 = 2, kI16 = 3, kI32 = 4, kU32 = 5 };

int DTypeSize(uint8_t t) {
  switch (t) {
    case kI8:
    case kU8:
      return 1;
    case kI16:
      return 2;
    case kI32:
    case kU32:
      return 4;
    default:
      return 0;
  }
}

struct KvValue {
  bool is_string = false;
  int64_t i = 0;
  std::string s;
};

struct TensorRef {
  uint8_t dtype = 0;
  std::vector<uint32_t> dims;
  const uint8_t* data = nullptr;
  uint64_t count = 0;
};

// RegisterPrehashedModel()'s entries.
struct PrehashedModel {
  const uint8_t* data;
  size_t size;
  ModelId id;
};

std::mutex& PrehashedMutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<PrehashedModel>& PrehashedModels() {
  static std::vector<PrehashedModel> models;
  return models;
}

bool IsPrehashed(const uint8_t* data, size_t size, const ModelId& id) {
  std::lock_guard<std::mutex> lock(PrehashedMutex());
  for (const PrehashedModel& m : PrehashedModels()) {
    if (m.data == data && m.size == size && m.id == id) return true;
  }
  return false;
}

Status Prefixed(const std::string& what, Status s) {
  if (s.ok()) return s;
  return Status::Error("model: " + what + ": " + s.message());
}

bool ValidName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

class Parsed {
 public:
  std::map<std::string, KvValue> kv;
  std::map<std::string, TensorRef> tensors;
  // The bytes are registered prehashed, so they stay valid for the whole run
  // (the program's read-only data): int8 weights are used in place.
  bool static_bytes = false;

  // Tensor `name` with this dtype and exact shape (any shape if empty).
  Status Find(const std::string& name, uint8_t dtype, const std::vector<uint32_t>& shape,
              const TensorRef** out) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) return Status::Error("model: missing tensor '" + name + "'");
    const TensorRef& t = it->second;
    if (t.dtype != dtype) return Status::Error("model: tensor '" + name + "' has the wrong type");
    if (!shape.empty() && t.dims != shape) {
      return Status::Error("model: tensor '" + name + "' has the wrong shape");
    }
    *out = &t;
    return Status::Ok();
  }

  // The int8 tensor `name` (exact shape) where it lies in the bytes.
  Status InPlaceI8(const std::string& name, const std::vector<uint32_t>& shape,
                   const int8_t** out) const {
    const TensorRef* t = nullptr;
    FXIC_RETURN_IF_ERROR(Find(name, kI8, shape, &t));
    *out = reinterpret_cast<const int8_t*>(t->data);
    return Status::Ok();
  }

  Status Int(const std::string& key, int64_t lo, int64_t hi, int* out) const {
    auto it = kv.find(key);
    if (it == kv.end()) return Status::Error("model: missing metadata '" + key + "'");
    if (it->second.is_string) {
      return Status::Error("model: metadata '" + key + "' must be an integer");
    }
    const int64_t v = it->second.i;
    if (v < lo || v > hi) {
      return Status::Error("model: metadata '" + key + "' = " + std::to_string(v) +
                           " is outside [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
    }
    *out = static_cast<int>(v);
    return Status::Ok();
  }

  Status Str(const std::string& key, std::string* out) const {
    auto it = kv.find(key);
    if (it == kv.end()) return Status::Error("model: missing metadata '" + key + "'");
    if (!it->second.is_string) {
      return Status::Error("model: metadata '" + key + "' must be a string");
    }
    *out = it->second.s;
    return Status::Ok();
  }

  // Copies tensor `name` (dtype and exact shape required) into out.
  template <typename T>
  Status Tensor(const std::string& name, uint8_t dtype,
                const std::vector<uint32_t>& shape, std::vector<T>* out) const {
    const TensorRef* found = nullptr;
    FXIC_RETURN_IF_ERROR(Find(name, dtype, shape, &found));
    const TensorRef& t = *found;
    out->resize(t.count);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    constexpr bool kLittleEndian = true;
#else
    constexpr bool kLittleEndian = false;
#endif
    if (static_cast<size_t>(DTypeSize(dtype)) == sizeof(T) &&
        (sizeof(T) == 1 || kLittleEndian)) {
      // The file's little-endian two's complement is the host's layout.
      if (t.count > 0) std::memcpy(out->data(), t.data, t.count * sizeof(T));
      return Status::Ok();
    }
    for (uint64_t i = 0; i < t.count; ++i) {
      uint32_t u = 0;
      for (size_t b = 0; b < sizeof(T); ++b) {
        u |= uint32_t{t.data[i * sizeof(T) + b]} << (8 * b);
      }
      if constexpr (sizeof(T) == 1) {
        (*out)[i] = static_cast<T>(static_cast<uint8_t>(u));
      } else if constexpr (sizeof(T) == 2) {
        (*out)[i] = static_cast<T>(static_cast<uint16_t>(u));
      } else {
        (*out)[i] = static_cast<T>(u);
      }
    }
    return Status::Ok();
  }

  // 1-D tensor of any length.
  template <typename T>
  Status Vector(const std::string& name, uint8_t dtype, std::vector<T>* out) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) return Status::Error("model: missing tensor '" + name + "'");
    if (it->second.dims.size() != 1) {
      return Status::Error("model: tensor '" + name + "' must be 1-D");
    }
    return Tensor(name, dtype, {}, out);
  }
};

Status ParseContainer(const uint8_t* data, size_t size, Parsed* p, ModelId* id) {
  if (size < kModelHeaderSize + 4) return Status::Error("model: file too short");
  if (std::memcmp(data, "FXICMODL", 8) != 0) {
    return Status::Error("model: bad magic (not an fxic model file)");
  }
  ByteReader r(data, size - 4);
  r.Bytes(8);
  const uint32_t version = r.U32();
  if (version > kModelFormatVersion) {
    return Status::Error("model: format version " + std::to_string(version) +
                         " is newer than this fxic supports (" +
                         std::to_string(kModelFormatVersion) + ")");
  }
  if (version != kModelFormatVersion) {
    return Status::Error("model: unknown format version " + std::to_string(version));
  }
  const uint32_t header_size = r.U32();
  if (header_size != kModelHeaderSize) return Status::Error("model: bad header size");
  const uint8_t* idp = r.Bytes(8);
  const uint32_t stored_crc =
      uint32_t{data[size - 4]} | (uint32_t{data[size - 3]} << 8) |
      (uint32_t{data[size - 2]} << 16) | (uint32_t{data[size - 1]} << 24);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), data, static_cast<uInt>(size - 4)));
  if (crc != stored_crc) return Status::Error("model: crc32 mismatch (file is corrupt)");
  std::memcpy(id->data(), idp, 8);
  p->static_bytes = IsPrehashed(data, size, *id);
  if (!p->static_bytes) {
    const Sha256Digest digest =
        Sha256Of(data + kModelHeaderSize, size - 4 - kModelHeaderSize);
    if (std::memcmp(digest.data(), id->data(), 8) != 0) {
      return Status::Error("model: model id does not match the contents");
    }
  }
  const uint32_t n_kv = r.U32();
  const uint32_t n_tensors = r.U32();
  if (n_kv > kMaxEntries || n_tensors > kMaxEntries) {
    return Status::Error("model: too many metadata entries or tensors");
  }
  for (uint32_t i = 0; i < n_kv; ++i) {
    const uint16_t klen = r.U16();
    const uint8_t* k = r.Bytes(klen);
    const uint8_t type = r.U8();
    if (!r.ok()) return Status::Error("model: truncated metadata");
    std::string key(reinterpret_cast<const char*>(k), klen);
    if (!ValidName(key) || klen > 255) return Status::Error("model: bad metadata key");
    KvValue v;
    if (type == 1) {
      v.i = r.I64();
    } else if (type == 2) {
      const uint32_t len = r.U32();
      if (len > 65536) return Status::Error("model: metadata string too long: " + key);
      const uint8_t* s = r.Bytes(len);
      if (!r.ok()) return Status::Error("model: truncated metadata");
      v.is_string = true;
      v.s.assign(reinterpret_cast<const char*>(s), len);
    } else {
      return Status::Error("model: metadata '" + key + "' has unknown type");
    }
    if (!r.ok()) return Status::Error("model: truncated metadata");
    if (!p->kv.emplace(key, std::move(v)).second) {
      return Status::Error("model: duplicate metadata key '" + key + "'");
    }
  }
  struct Dir {
    std::string name;
    uint8_t dtype;
    std::vector<uint32_t> dims;
    uint64_t offset;
  };
  std::vector<Dir> dirs;
  for (uint32_t i = 0; i < n_tensors; ++i) {
    Dir d;
    const uint16_t nlen = r.U16();
    const uint8_t* n = r.Bytes(nlen);
    d.dtype = r.U8();
    const uint8_t rank = r.U8();
    if (!r.ok()) return Status::Error("model: truncated tensor directory");
    d.name.assign(reinterpret_cast<const char*>(n), nlen);
    if (!ValidName(d.name) || nlen > 255) return Status::Error("model: bad tensor name");
    if (DTypeSize(d.dtype) == 0) return Status::Error("model: tensor '" + d.name + "' has unknown type");
    if (rank < 1 || rank > 4) return Status::Error("model: tensor '" + d.name + "' has bad rank");
    for (int j = 0; j < rank; ++j) d.dims.push_back(r.U32());
    d.offset = r.U64();
    if (!r.ok()) return Status::Error("model: truncated tensor directory");
    dirs.push_back(std::move(d));
  }
  const size_t data_start = (r.pos() + 15) / 16 * 16;
  const size_t data_end = size - 4;
  if (data_start > data_end) return Status::Error("model: truncated before tensor data");
  for (size_t i = r.pos(); i < data_start; ++i) {
    if (data[i] != 0) return Status::Error("model: nonzero padding before tensor data");
  }
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const Dir& d : dirs) {
    uint64_t count = 1;
    for (uint32_t dim : d.dims) {
      if (dim == 0) return Status::Error("model: tensor '" + d.name + "' has a zero dimension");
      count *= dim;
      if (count > (uint64_t{1} << 32)) return Status::Error("model: tensor '" + d.name + "' too large");
    }
    const uint64_t nbytes = count * static_cast<uint64_t>(DTypeSize(d.dtype));
    if (d.offset % 16 != 0 || d.offset > data_end - data_start ||
        nbytes > data_end - data_start - d.offset) {
      return Status::Error("model: tensor '" + d.name + "' lies outside the file");
    }
    spans.emplace_back(d.offset, d.offset + nbytes);
    TensorRef t;
    t.dtype = d.dtype;
    t.dims = d.dims;
    t.data = data + data_start + d.offset;
    t.count = count;
    if (!p->tensors.emplace(d.name, std::move(t)).second) {
      return Status::Error("model: duplicate tensor '" + d.name + "'");
    }
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second) return Status::Error("model: tensors overlap");
  }
  return Status::Ok();
}

Status ParseLayer(const Parsed& p, const std::string& prefix, Layer* l) {
  std::string op;
  FXIC_RETURN_IF_ERROR(p.Str(prefix + ".op", &op));
  const int64_t kMax = kMaxActivation;
  if (op == "conv") {
    l->op = LayerOp::kConv;
    FXIC_RETURN_IF_ERROR(p.Int(prefix + ".kernel", 1, 5, &l->kernel));
    if (l->kernel % 2 == 0) return Status::Error("model: " + prefix + ".kernel must be 1, 3 or 5");
    FXIC_RETURN_IF_ERROR(p.Int(prefix + ".stride", 1, 2, &l->stride));
    FXIC_RETURN_IF_ERROR(p.Int(prefix + ".cin", 1, 4096, &l->cin));
    FXIC_RETURN_IF_ERROR(p.Int(prefix + ".cout", 1, 4096, &l->cout));
    const uint32_t co = l->cout, k = l->kernel, ci = l->cin;
    if (p.static_bytes) {
      FXIC_RETURN_IF_ERROR(p.InPlaceI8(prefix + ".weight", {co, k, k, ci}, &l->weight_in_place));
    } else {
      FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".weight", kI8, {co, k, k, ci}, &l->weight));
    }
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".bias", kI32, {co}, &l->bias));
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".mult", kI32, {co}, &l->mult));
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".shift", kU8, {co}, &l->shift));
  } else if (op == "gdn" || op == "igdn") {
    l->op = op == "gdn" ? LayerOp::kGdn : LayerOp::kIgdn;
    FXIC_RETURN_IF_ERROR(p.Int(prefix + ".channels", 1, 4096, &l->channels));
    FXIC_RETURN_IF_ERROR(p.Int(prefix + ".sq_shift", 0, 30, &l->sq_shift));
    const uint32_t c = l->channels;
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".gamma", kI16, {c, c}, &l->gamma));
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".beta", kI32, {c}, &l->beta));
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".mult", kI32, {c}, &l->mult));
    FXIC_RETURN_IF_ERROR(p.Tensor(prefix + ".shift", kU8, {c}, &l->shift));
  } else if (op == "d2s") {
    l->op = LayerOp::kDepthToSpace;
    return Status::Ok();
  } else {
    return Status::Error("model: " + prefix + ".op '" + op + "' is unknown");
  }
  FXIC_RETURN_IF_ERROR(p.Int(prefix + ".out_lo", -kMax, kMax, &l->out_lo));
  FXIC_RETURN_IF_ERROR(p.Int(prefix + ".out_hi", -kMax, kMax, &l->out_hi));
  if (l->out_lo > l->out_hi) return Status::Error("model: " + prefix + " has out_lo > out_hi");
  return Status::Ok();
}

// Parses network `name`, chains channel counts and ranges from the given
// input, and proves every layer's bounds.
Status ParseNetwork(const Parsed& p, const std::string& name, int in_channels,
                    int in_lo, int in_hi, int weight_bits, Network* net) {
  int n_layers = 0;
  FXIC_RETURN_IF_ERROR(p.Int(name + ".layers", 1, 64, &n_layers));
  net->in_channels = in_channels;
  net->in_lo = in_lo;
  net->in_hi = in_hi;
  int ch = in_channels, lo = in_lo, hi = in_hi;
  const int wmax = (1 << (weight_bits - 1)) - 1;
  for (int i = 0; i < n_layers; ++i) {
    const std::string prefix = name + "." + std::to_string(i);
    Layer l;
    FXIC_RETURN_IF_ERROR(ParseLayer(p, prefix, &l));
    l.in_lo = lo;
    l.in_hi = hi;
    switch (l.op) {
      case LayerOp::kConv: {
        if (l.cin != ch) return Status::Error("model: " + prefix + ".cin does not match its input");
        // Min and max first, as unsigned bytes (w + 128): a loop without an
        // early exit on uint8 vectorizes to pminub / pmaxub even with SSE2.
        uint8_t u_lo = 128, u_hi = 128;
        const int8_t* weights = l.weights();
        const size_t count = l.weight_count();
        for (size_t j = 0; j < count; ++j) {
          const uint8_t u = static_cast<uint8_t>(static_cast<uint8_t>(weights[j]) ^ 0x80);
          u_lo = std::min(u_lo, u);
          u_hi = std::max(u_hi, u);
        }
        if (int{u_lo} - 128 < -wmax || int{u_hi} - 128 > wmax) {
          return Status::Error("model: " + prefix + ".weight exceeds weight_bits");
        }
        FXIC_RETURN_IF_ERROR(Prefixed(prefix, CheckConvBounds(ToConvParams(l), lo, hi)));
        ch = l.cout;
        net->down *= l.stride;
        lo = l.out_lo;
        hi = l.out_hi;
        break;
      }
      case LayerOp::kGdn:
      case LayerOp::kIgdn:
        if (l.channels != ch) return Status::Error("model: " + prefix + ".channels does not match its input");
        FXIC_RETURN_IF_ERROR(Prefixed(
            prefix, CheckNormalizationBounds(ToNormParams(l), l.op == LayerOp::kIgdn, lo, hi)));
        lo = l.out_lo;
        hi = l.out_hi;
        break;
      case LayerOp::kDepthToSpace:
        if (ch % 4 != 0) return Status::Error("model: " + prefix + " needs channels divisible by 4");
        ch /= 4;
        net->up *= 2;
        break;
    }
    net->layers.push_back(std::move(l));
  }
  net->out_channels = ch;
  net->out_lo = lo;
  net->out_hi = hi;
  return Status::Ok();
}

Status ParseTables(const Parsed& p, const std::string& name, uint32_t expect_tables,
                   entropy::IndexedTables* out) {
  std::vector<uint32_t> lengths, data;
  std::vector<int32_t> offsets;
  FXIC_RETURN_IF_ERROR(p.Vector(name + ".lengths", kU32, &lengths));
  FXIC_RETURN_IF_ERROR(p.Vector(name + ".offsets", kI32, &offsets));
  FXIC_RETURN_IF_ERROR(p.Vector(name + ".data", kU32, &data));
  if (expect_tables != 0 && lengths.size() != expect_tables) {
    return Status::Error("model: " + name + " has the wrong number of tables");
  }
  auto tables = entropy::IndexedTables::Create(std::move(data), std::move(lengths),
                                               std::move(offsets));
  if (!tables.ok()) return Status::Error("model: " + name + ": " + tables.status().message());
  *out = std::move(tables).value();
  return Status::Ok();
}

}  // namespace

ConvParams ToConvParams(const Layer& l) {
  ConvParams p;
  p.kernel = l.kernel;
  p.stride = l.stride;
  p.cin = l.cin;
  p.cout = l.cout;
  p.w = l.weights();
  p.w_static = l.weight_in_place != nullptr;
  p.bias = l.bias.data();
  p.mult = l.mult.data();
  p.shift = l.shift.data();
  p.out_lo = static_cast<int16_t>(l.out_lo);
  p.out_hi = static_cast<int16_t>(l.out_hi);
  return p;
}

NormParams ToNormParams(const Layer& l) {
  NormParams p;
  p.channels = l.channels;
  p.sq_shift = l.sq_shift;
  p.gamma = l.gamma.data();
  p.beta = l.beta.data();
  p.mult = l.mult.data();
  p.shift = l.shift.data();
  p.out_lo = static_cast<int16_t>(l.out_lo);
  p.out_hi = static_cast<int16_t>(l.out_hi);
  return p;
}

StatusOr<std::pair<size_t, size_t>> FindTensorBytes(const uint8_t* data, size_t size,
                                                    const std::string& name) {
  Parsed p;
  ModelId id;
  FXIC_RETURN_IF_ERROR(ParseContainer(data, size, &p, &id));
  auto it = p.tensors.find(name);
  if (it == p.tensors.end()) return Status::Error("model: no tensor '" + name + "'");
  return std::make_pair(static_cast<size_t>(it->second.data - data),
                        static_cast<size_t>(it->second.count * DTypeSize(it->second.dtype)));
}

void RefreshModelChecksums(std::vector<uint8_t>* f) {
  if (f->size() < kModelHeaderSize + 4) return;
  const Sha256Digest d = Sha256Of(f->data() + kModelHeaderSize, f->size() - 4 - kModelHeaderSize);
  std::memcpy(f->data() + 16, d.data(), 8);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), f->data(), static_cast<uInt>(f->size() - 4)));
  for (int i = 0; i < 4; ++i) (*f)[f->size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

void RegisterPrehashedModel(const uint8_t* data, size_t size, const ModelId& id) {
  std::lock_guard<std::mutex> lock(PrehashedMutex());
  PrehashedModels().push_back({data, size, id});
}

std::string ModelIdHex(const ModelId& id) { return ToHex(id.data(), id.size()); }

StatusOr<Model> LoadModel(const uint8_t* data, size_t size) {
  Parsed p;
  Model m;
  FXIC_RETURN_IF_ERROR(ParseContainer(data, size, &p, &m.id));
  m.file_size = size;
  std::string arch;
  FXIC_RETURN_IF_ERROR(p.Str("arch", &arch));
  if (arch != "mean_scale_hyperprior") {
    return Status::Error("model: architecture '" + arch + "' is not supported");
  }
  FXIC_RETURN_IF_ERROR(p.Str("name", &m.name));
  FXIC_RETURN_IF_ERROR(p.Str("description", &m.description));
  const int kMax = kMaxActivation;
  FXIC_RETURN_IF_ERROR(p.Int("N", 1, 4096, &m.N));
  FXIC_RETURN_IF_ERROR(p.Int("M", 1, 4096, &m.M));
  FXIC_RETURN_IF_ERROR(p.Int("levels", 1, 64, &m.levels));
  FXIC_RETURN_IF_ERROR(p.Int("weight_bits", 2, 8, &m.weight_bits));
  FXIC_RETURN_IF_ERROR(p.Int("latent_frac_bits", 0, 12, &m.latent_frac_bits));
  FXIC_RETURN_IF_ERROR(p.Int("hyper_frac_bits", 0, 12, &m.hyper_frac_bits));
  FXIC_RETURN_IF_ERROR(p.Int("z_max", 1, kMax, &m.z_max));
  FXIC_RETURN_IF_ERROR(p.Int("gain_shift", 0, 62, &m.gain_shift));
  FXIC_RETURN_IF_ERROR(p.Int("inv_gain_shift", 0, 62, &m.inv_gain_shift));
  FXIC_RETURN_IF_ERROR(p.Int("yg_lo", -kMax, kMax, &m.yg_lo));
  FXIC_RETURN_IF_ERROR(p.Int("yg_hi", -kMax, kMax, &m.yg_hi));
  FXIC_RETURN_IF_ERROR(p.Int("gs_in_lo", -kMax, kMax, &m.gs_in_lo));
  FXIC_RETURN_IF_ERROR(p.Int("gs_in_hi", -kMax, kMax, &m.gs_in_hi));
  FXIC_RETURN_IF_ERROR(p.Int("pixel_frac_bits", 0, 14, &m.pixel_frac_bits));
  FXIC_RETURN_IF_ERROR(p.Int("pad_multiple", 1, 1024, &m.pad_multiple));
  if (m.yg_lo > m.yg_hi || m.gs_in_lo > m.gs_in_hi) {
    return Status::Error("model: an activation range has lo > hi");
  }

  FXIC_RETURN_IF_ERROR(ParseNetwork(p, "g_a", 3, 0, 255, m.weight_bits, &m.g_a));
  if (m.g_a.out_channels != m.M) return Status::Error("model: g_a must output M channels");
  FXIC_RETURN_IF_ERROR(ParseNetwork(p, "h_a", m.M, m.yg_lo, m.yg_hi, m.weight_bits, &m.h_a));
  if (m.h_a.out_channels != m.N) return Status::Error("model: h_a must output N channels");
  FXIC_RETURN_IF_ERROR(ParseNetwork(p, "h_s", m.N, -m.z_max, m.z_max, m.weight_bits, &m.h_s));
  if (m.h_s.out_channels != 2 * m.M) return Status::Error("model: h_s must output 2M channels");
  FXIC_RETURN_IF_ERROR(ParseNetwork(p, "g_s", m.M, m.gs_in_lo, m.gs_in_hi, m.weight_bits, &m.g_s));
  if (m.g_s.out_channels != 3) return Status::Error("model: g_s must output 3 channels");
  if (m.g_a.up != 1 || m.h_a.up != 1 || m.h_s.down != 1 || m.g_s.down != 1) {
    return Status::Error("model: analysis networks must only down-sample and "
                         "synthesis networks only up-sample");
  }
  if (m.g_a.down != m.g_s.up || m.h_a.down != m.h_s.up) {
    return Status::Error("model: synthesis up-sampling does not match analysis down-sampling");
  }
  if (m.g_a.down * m.h_a.down != m.pad_multiple) {
    return Status::Error("model: pad_multiple does not match the networks' down-sampling");
  }

  const uint32_t L = m.levels, M = m.M;
  FXIC_RETURN_IF_ERROR(p.Tensor("gain.mult", kI32, {L, M}, &m.gain));
  FXIC_RETURN_IF_ERROR(p.Tensor("inv_gain.mult", kI32, {L, M}, &m.inv_gain));
  for (size_t i = 0; i < m.gain.size(); ++i) {
    if (m.gain[i] < 1 || m.inv_gain[i] < 1) {
      return Status::Error("model: gain multipliers must be >= 1");
    }
  }
  FXIC_RETURN_IF_ERROR(Prefixed("gain", CheckGainBounds(m.gain.data(), m.levels, m.M,
                                                         m.gain_shift, m.g_a.out_lo,
                                                         m.g_a.out_hi, m.yg_lo, m.yg_hi)));
  FXIC_RETURN_IF_ERROR(Prefixed("inv_gain",
                                CheckGainBounds(m.inv_gain.data(), m.levels, m.M,
                                                m.inv_gain_shift, m.yg_lo, m.yg_hi,
                                                m.gs_in_lo, m.gs_in_hi)));

  FXIC_RETURN_IF_ERROR(ParseTables(p, "y_cdf", 0, &m.y_tables));
  FXIC_RETURN_IF_ERROR(ParseTables(p, "z_cdf", static_cast<uint32_t>(m.N), &m.z_tables));
  if (m.y_tables.num_tables() >= 2) {
    FXIC_RETURN_IF_ERROR(p.Tensor("y_scale.thresholds", kI32,
                                  {m.y_tables.num_tables() - 1}, &m.scale_thresholds));
  } else if (p.tensors.count("y_scale.thresholds")) {
    return Status::Error("model: y_scale.thresholds given for a single table");
  }
  for (size_t i = 1; i < m.scale_thresholds.size(); ++i) {
    if (m.scale_thresholds[i] <= m.scale_thresholds[i - 1]) {
      return Status::Error("model: y_scale.thresholds must strictly increase");
    }
  }
  return m;
}

}  // namespace fxic
