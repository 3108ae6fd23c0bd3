// Runs, explains and records conformance vectors for `fxic verify`.
#include "apps/verify_runner.h"

#include <algorithm>
#include <cstdlib>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/verify_isa.h"
#include "codec/bitstream.h"
#include "codec/codec.h"
#include "codec/networks.h"
#include "codec/sha256.h"

namespace fxic::verify {
namespace {

std::string Sha256Hex(const uint8_t* data, size_t size) {
  const Sha256Digest d = Sha256Of(data, size);
  return ToHex(d.data(), d.size());
}

// A LayerTrace that appends each layer's digest to *out.
LayerTrace Collect(std::vector<LayerHash>* out) {
  return [out](const std::string& net, int index, const Tensor16& t) {
    LayerHash l;
    l.layer = net + "." + std::to_string(index);
    l.height = t.height;
    l.width = t.width;
    l.channels = t.channels;
    l.hash = LayerDigest(t);
    out->push_back(std::move(l));
  };
}

// "conv5/2", "gdn", ... for a layer name like "g_a.3".
std::string LayerKind(const Model& m, const std::string& layer) {
  const size_t dot = layer.find('.');
  const std::string net = layer.substr(0, dot);
  if (net == "gain" || net == "inv_gain") return "gain";
  const Network* n = net == "g_a"   ? &m.g_a
                     : net == "h_a" ? &m.h_a
                     : net == "h_s" ? &m.h_s
                     : net == "g_s" ? &m.g_s
                                    : nullptr;
  if (n == nullptr || dot == std::string::npos) return "?";
  const size_t i = static_cast<size_t>(std::atoi(layer.c_str() + dot + 1));
  if (i >= n->layers.size()) return "?";
  const Layer& l = n->layers[i];
  switch (l.op) {
    case LayerOp::kConv:
      return "conv" + std::to_string(l.kernel) + "/" + std::to_string(l.stride);
    case LayerOp::kGdn:
      return "gdn";
    case LayerOp::kIgdn:
      return "igdn";
    case LayerOp::kDepthToSpace:
      return "depth-to-space";
  }
  return "?";
}

// Which header field or section byte `offset` of a bitstream belongs to.
std::string DescribeOffset(const std::vector<uint8_t>& bits, size_t offset) {
  struct Field {
    size_t end;
    const char* name;
  };
  static const Field kFields[] = {{4, "magic"},     {5, "version"},   {6, "flags"},
                                  {8, "quality"},   {16, "model id"}, {20, "width"},
                                  {24, "height"},   {28, "z length"}, {30, "band_rows"},
                                  {32, "n_bands"}};
  for (const Field& f : kFields) {
    if (offset < f.end) return std::string("header field ") + f.name;
  }
  if (bits.size() >= 4 && offset >= bits.size() - 4) return "crc32 trailer";
  auto h = PeekBitstreamHeader(bits.data(), bits.size());
  if (!h.ok()) return "?";
  size_t pos = 32 + 4 * h.value().band_bytes.size();
  if (offset < pos) return "band length table, band " + std::to_string((offset - 32) / 4);
  if (offset < pos + h.value().z_bytes) {
    return "z section, byte " + std::to_string(offset - pos);
  }
  pos += h.value().z_bytes;
  for (size_t b = 0; b < h.value().band_bytes.size(); ++b) {
    if (offset < pos + h.value().band_bytes[b]) {
      return "y band " + std::to_string(b) + ", byte " + std::to_string(offset - pos);
    }
    pos += h.value().band_bytes[b];
  }
  return "past the end";
}

std::string Hex2(uint8_t v) {
  static const char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[v >> 4] + kDigits[v & 15];
}

// Names the first layer whose digest differs from the record.
std::string CompareLayers(const Model& model, const std::vector<LayerHash>& recorded,
                          const std::vector<LayerHash>& got) {
  if (recorded.empty()) return "no layer digests were recorded for this vector";
  for (size_t i = 0; i < std::max(recorded.size(), got.size()); ++i) {
    if (i >= recorded.size() || i >= got.size()) {
      return "the layer sequence differs in length (" + std::to_string(recorded.size()) +
             " recorded, " + std::to_string(got.size()) + " now)";
    }
    const LayerHash& r = recorded[i];
    const LayerHash& g = got[i];
    if (r.layer != g.layer || r.height != g.height || r.width != g.width ||
        r.channels != g.channels || r.hash != g.hash) {
      auto shape = [](const LayerHash& l) {
        return std::to_string(l.height) + "x" + std::to_string(l.width) + "x" +
               std::to_string(l.channels);
      };
      return "first differing layer: " + g.layer + " (" + LayerKind(model, g.layer) +
             ", " + shape(g) + "): recorded " + r.layer + " " + shape(r) + " " + r.hash +
             ", got " + g.hash;
    }
  }
  return "all " + std::to_string(got.size()) +
         " layers match the record: the difference is after the networks "
         "(quantization or entropy coding)";
}

struct Outcome {
  bool error = false, enc_bad = false, dec_ref_bad = false, dec_own_bad = false;
  std::string message;  // for errors
  std::vector<uint8_t> own;
  std::string own_sha, ref_recon_sha;
  bool failed() const { return error || enc_bad || dec_ref_bad || dec_own_bad; }
  std::string Cell() const {
    if (error) return "ERROR";
    std::string s;
    if (enc_bad) s += "ENC";
    if (dec_ref_bad) s += std::string(s.empty() ? "" : "+") + "DEC";
    if (dec_own_bad) s += std::string(s.empty() ? "" : "+") + "SELF";
    return s.empty() ? "ok" : s;
  }
};

Outcome RunOne(const Vector& v, const Image& image, int q8, const std::vector<uint8_t>* ref,
               const Model& model, const Path& path) {
  Outcome o;
  Status st = ActivateIsa(path.isa);
  if (!st.ok()) {
    o.error = true;
    o.message = st.message();
    return o;
  }
  cli::SetThreads(path.threads);
  EncodeOptions eo;
  eo.quality_q8 = q8;
  eo.band_rows = v.band_rows;
  auto bits = Encode(image, model, eo);
  if (!bits.ok()) {
    o.error = true;
    o.message = "encode failed: " + bits.status().message();
    return o;
  }
  o.own = std::move(bits).value();
  o.own_sha = Sha256Hex(o.own.data(), o.own.size());
  o.enc_bad = ref ? o.own != *ref
                  : (o.own_sha != v.bits_sha256 || o.own.size() != v.bits_size);
  if (ref) {
    auto out = Decode(ref->data(), ref->size(), model);
    if (!out.ok()) {
      o.error = true;
      o.message = "decoding the reference failed: " + out.status().message();
      return o;
    }
    o.ref_recon_sha = Sha256Hex(out.value().rgb.data(), out.value().rgb.size());
    o.dec_ref_bad = o.ref_recon_sha != v.recon_sha256;
  }
  auto mine = Decode(o.own.data(), o.own.size(), model);
  if (!mine.ok()) {
    o.error = true;
    o.message = "decoding our own bitstream failed: " + mine.status().message();
    return o;
  }
  o.dec_own_bad =
      Sha256Hex(mine.value().rgb.data(), mine.value().rgb.size()) != v.recon_sha256;
  if (!ref) o.ref_recon_sha = Sha256Hex(mine.value().rgb.data(), mine.value().rgb.size());
  return o;
}

void Explain(const Vector& v, const Image& image, int q8, const std::vector<uint8_t>* ref,
             const Model& model, const Path& path, const Outcome& o, std::FILE* out) {
  std::fprintf(out, "  explain %s on %s:\n", v.name.c_str(), path.Label().c_str());
  if (o.error) {
    std::fprintf(out, "    %s\n", o.message.c_str());
    return;
  }
  if (ActivateIsa(path.isa).ok()) cli::SetThreads(path.threads);
  if (o.enc_bad) {
    if (ref) {
      const size_t n = std::min(ref->size(), o.own.size());
      size_t i = 0;
      while (i < n && (*ref)[i] == o.own[i]) ++i;
      if (i < n) {
        std::fprintf(out, "    encode: first differing byte %zu (%s): reference %s, got %s",
                     i, DescribeOffset(*ref, i).c_str(), Hex2((*ref)[i]).c_str(),
                     Hex2(o.own[i]).c_str());
      } else {
        std::fprintf(out, "    encode: one bitstream is a prefix of the other");
      }
      std::fprintf(out, "; sizes %zu (reference) vs %zu\n", ref->size(), o.own.size());
    } else {
      std::fprintf(out, "    encode: bitstream sha256 %s (%zu bytes), recorded %s (%llu bytes)\n",
                   o.own_sha.c_str(), o.own.size(), v.bits_sha256.c_str(),
                   static_cast<unsigned long long>(v.bits_size));
    }
    std::vector<LayerHash> layers;
    const LayerTrace trace = Collect(&layers);
    EncodeOptions eo;
    eo.quality_q8 = q8;
    eo.band_rows = v.band_rows;
    eo.trace = &trace;
    auto again = Encode(image, model, eo);
    std::fprintf(out, "    encode: %s\n",
                 again.ok() ? CompareLayers(model, v.enc_layers, layers).c_str()
                            : again.status().message().c_str());
  }
  auto explain_decode = [&](const std::vector<uint8_t>& bits, const char* what) {
    std::vector<LayerHash> layers;
    const LayerTrace trace = Collect(&layers);
    DecodeOptions d;
    d.trace = &trace;
    auto img = Decode(bits.data(), bits.size(), model, d);
    std::fprintf(out, "    %s: reconstruction sha256 differs from the record %s; %s\n", what,
                 v.recon_sha256.substr(0, 16).c_str(),
                 img.ok() ? CompareLayers(model, v.dec_layers, layers).c_str()
                          : img.status().message().c_str());
  };
  if (o.dec_ref_bad && ref) explain_decode(*ref, "decoding the reference");
  if (o.dec_own_bad) explain_decode(o.own, "decoding our own bitstream");
}

}  // namespace

std::string JoinPath(const std::string& dir, const std::string& path) {
  if (dir.empty() || path.empty() || path[0] == '/') return path;
  return dir.back() == '/' ? dir + path : dir + "/" + path;
}

std::string ResultsDigest(const Tally& tally) {
  return Sha256Hex(reinterpret_cast<const uint8_t*>(tally.results.data()),
                   tally.results.size())
      .substr(0, 16);
}

std::string LayerDigest(const Tensor16& t) {
  Sha256 s;
  uint8_t b[12];
  const uint32_t dims[3] = {static_cast<uint32_t>(t.height), static_cast<uint32_t>(t.width),
                            static_cast<uint32_t>(t.channels)};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 4; ++k) b[4 * i + k] = static_cast<uint8_t>(dims[i] >> (8 * k));
  }
  s.Update(b, sizeof(b));
  uint8_t buf[512];
  size_t n = 0;
  for (int16_t v : t.data) {
    const uint16_t u = static_cast<uint16_t>(v);
    buf[n++] = static_cast<uint8_t>(u & 0xff);
    buf[n++] = static_cast<uint8_t>(u >> 8);
    if (n == sizeof(buf)) {
      s.Update(buf, n);
      n = 0;
    }
  }
  s.Update(buf, n);
  const Sha256Digest d = s.Final();
  return ToHex(d.data(), 8);
}

StatusOr<Model> LoadManifestModel(const Manifest& manifest, const std::string& manifest_dir) {
  if (manifest.model_spec == "embedded") return cli::LoadModelArg("");
  return cli::LoadModelArg(JoinPath(manifest_dir, manifest.model_spec));
}

Status CheckManifest(const Manifest& manifest, const std::string& manifest_dir,
                     const std::string& image_dir, const RunOptions& options,
                     Tally* tally) {
  std::FILE* out = options.out;
  ++tally->manifests;
  auto setup_error = [&](const std::string& message) {
    ++tally->setup_errors;
    tally->failures.push_back(message);
    std::fprintf(out, "  ERROR: %s\n", message.c_str());
    return Status::Error(message);
  };
  Model loaded;
  if (options.model == nullptr) {
    auto m = LoadManifestModel(manifest, manifest_dir);
    if (!m.ok()) return setup_error(m.status().message());
    loaded = std::move(m).value();
  }
  const Model& model = options.model ? *options.model : loaded;
  const std::string id = ModelIdHex(model.id);
  std::fprintf(out, "model %s (%s), %zu vectors\n", id.c_str(), model.name.c_str(),
               manifest.vectors.size());
  if (id != manifest.model_id) {
    return setup_error(
        "the model (id " + id + ", " + model.name +
        ") is not the one this manifest was recorded with (id " + manifest.model_id +
        (manifest.model_name.empty() ? "" : ", " + manifest.model_name) +
        "); if the model changed on purpose, re-record: fxic verify --update-suite "
        "(suite) or fxic verify --record (own images)");
  }

  // The kernels go back to this path when done (tests share the process).
  struct RestoreIsa {
    std::string isa = CurrentIsa();
    ~RestoreIsa() { (void)ActivateIsa(isa); }
  } restore_isa;

  size_t name_width = 6;
  for (const Vector& v : manifest.vectors) name_width = std::max(name_width, v.name.size());
  std::fprintf(out, "  %-*s %7s", static_cast<int>(name_width), "vector", "bytes");
  for (const Path& p : options.paths) std::fprintf(out, " %-13s", p.Label().c_str());
  if (options.corrupt) std::fprintf(out, " %s", "corruption");
  std::fprintf(out, "\n");

  for (const Vector& v : manifest.vectors) {
    ++tally->vectors;
    std::fprintf(out, "  %-*s %7llu", static_cast<int>(name_width), v.name.c_str(),
                 static_cast<unsigned long long>(v.bits_size));
    std::fflush(out);
    auto vector_error = [&](const std::string& message) {
      ++tally->setup_errors;
      ++tally->failed_vectors;
      tally->failures.push_back(v.name + ": " + message);
      std::fprintf(out, " ERROR: %s\n", message.c_str());
    };
    auto image = ReadImage(JoinPath(image_dir, v.image), ReadOptions());
    if (!image.ok()) {
      vector_error(image.status().message());
      continue;
    }
    auto q = cli::ParseQuality(v.quality);
    auto q8 = q.ok() ? QualityToQ8(model, q.value()) : StatusOr<int>(q.status());
    if (!q8.ok()) {
      vector_error(q8.status().message());
      continue;
    }
    std::vector<uint8_t> ref;
    const bool have_ref = !v.bitstream.empty();
    if (have_ref) {
      auto bytes = ReadFileBytes(JoinPath(manifest_dir, v.bitstream));
      if (!bytes.ok()) {
        vector_error(bytes.status().message());
        continue;
      }
      ref = std::move(bytes).value();
      if (ref.size() != v.bits_size || Sha256Hex(ref.data(), ref.size()) != v.bits_sha256) {
        vector_error("reference bitstream " + v.bitstream +
                     " does not match its recorded size and sha256 (damaged, or the "
                     "manifest is stale)");
        continue;
      }
    }
    std::vector<Outcome> outcomes;
    for (const Path& p : options.paths) {
      outcomes.push_back(RunOne(v, image.value(), q8.value(), have_ref ? &ref : nullptr,
                                model, p));
      const Outcome& o = outcomes.back();
      ++tally->runs;
      if (o.failed()) ++tally->failed_runs;
      std::fprintf(out, " %-13s", o.Cell().c_str());
      std::fflush(out);
    }
    const Outcome* first_failed = nullptr;
    size_t failed_path = 0;
    for (size_t i = 0; i < outcomes.size() && !first_failed; ++i) {
      if (outcomes[i].failed()) {
        first_failed = &outcomes[i];
        failed_path = i;
      }
    }
    if (!outcomes.empty()) {
      tally->results += v.name + " " + outcomes[0].own_sha + " " + outcomes[0].ref_recon_sha +
                        "\n";
    }
    if (options.corrupt && have_ref) {
      const CorruptionCounts c = CheckCorruption(ref, model);
      tally->flips += c.flips;
      tally->flips_rejected += c.flips_rejected;
      tally->truncations += c.truncations;
      tally->truncations_rejected += c.truncations_rejected;
      const uint64_t accepted =
          (c.flips - c.flips_rejected) + (c.truncations - c.truncations_rejected);
      if (accepted == 0) {
        std::fprintf(out, " ok (%llu+%llu)", static_cast<unsigned long long>(c.flips),
                     static_cast<unsigned long long>(c.truncations));
      } else {
        std::fprintf(out, " %llu ACCEPTED", static_cast<unsigned long long>(accepted));
        tally->failures.push_back(v.name + ": " + std::to_string(accepted) +
                                  " corrupted bitstreams were accepted");
      }
    } else if (options.corrupt) {
      std::fprintf(out, " -");
    }
    std::fprintf(out, "\n");
    if (first_failed) {
      ++tally->failed_vectors;
      const Path& p = options.paths[failed_path];
      std::string what = first_failed->error ? first_failed->message : "";
      if (first_failed->enc_bad) what += "encoding differs from the reference bitstream";
      if (first_failed->dec_ref_bad) {
        what += std::string(what.empty() ? "" : "; ") +
                "decoding the reference gives another image";
      }
      if (first_failed->dec_own_bad) {
        what += std::string(what.empty() ? "" : "; ") +
                "decoding our own bitstream gives another image";
      }
      tally->failures.push_back(v.name + " on " + p.Label() + ": " + what);
      if (options.explain) {
        Explain(v, image.value(), q8.value(), have_ref ? &ref : nullptr, model, p,
                *first_failed, out);
      }
    }
  }
  return Status::Ok();
}

StatusOr<Vector> RecordVector(const PlannedVector& plan, const Image& image,
                              const Model& model, std::vector<uint8_t>* bits) {
  FXIC_ASSIGN_OR_RETURN(int64_t q, cli::ParseQuality(plan.quality));
  FXIC_ASSIGN_OR_RETURN(int q8, QualityToQ8(model, q));
  Vector v;
  v.name = plan.name;
  v.image = plan.image;
  v.quality = plan.quality;
  v.band_rows = plan.band_rows;
  const LayerTrace enc_trace = Collect(&v.enc_layers);
  EncodeOptions eo;
  eo.quality_q8 = q8;
  eo.band_rows = plan.band_rows;
  eo.trace = &enc_trace;
  FXIC_ASSIGN_OR_RETURN(*bits, Encode(image, model, eo));
  const LayerTrace dec_trace = Collect(&v.dec_layers);
  DecodeOptions d;
  d.trace = &dec_trace;
  FXIC_ASSIGN_OR_RETURN(Image recon, Decode(bits->data(), bits->size(), model, d));
  v.bits_size = bits->size();
  v.bits_sha256 = Sha256Hex(bits->data(), bits->size());
  v.recon_sha256 = Sha256Hex(recon.rgb.data(), recon.rgb.size());
  return v;
}

CorruptionCounts CheckCorruption(const std::vector<uint8_t>& bits, const Model& model) {
  CorruptionCounts c;
  std::vector<uint8_t> work = bits;
  for (size_t i = 0; i < work.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      work[i] ^= static_cast<uint8_t>(1u << b);
      ++c.flips;
      if (!Decode(work.data(), work.size(), model).ok()) ++c.flips_rejected;
      work[i] ^= static_cast<uint8_t>(1u << b);
    }
  }
  for (size_t n = 0; n < bits.size(); ++n) {
    ++c.truncations;
    if (!Decode(bits.data(), n, model).ok()) ++c.truncations_rejected;
  }
  return c;
}

bool HaveThreads() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

std::string PlatformDescription() {
#if defined(__x86_64__)
  std::string s = "x86-64";
#elif defined(__aarch64__)
  std::string s = "aarch64";
#elif defined(__s390x__)
  std::string s = "s390x";
#elif defined(__i386__)
  std::string s = "i686";
#elif defined(__wasm32__)
  std::string s = "wasm32";
#elif defined(__powerpc64__)
  std::string s = "ppc64";
#else
  std::string s = "unknown-arch";
#endif
#define FXIC_STR2_(x) #x
#define FXIC_STR_(x) FXIC_STR2_(x)
#if defined(__EMSCRIPTEN__)
  s += ", Emscripten " FXIC_STR_(__EMSCRIPTEN_major__) "." FXIC_STR_(
      __EMSCRIPTEN_minor__) "." FXIC_STR_(__EMSCRIPTEN_tiny__);
#elif defined(__clang__)
  s += ", Clang " FXIC_STR_(__clang_major__) "." FXIC_STR_(__clang_minor__) "." FXIC_STR_(
      __clang_patchlevel__);
#elif defined(__GNUC__)
  s += ", GCC " FXIC_STR_(__GNUC__) "." FXIC_STR_(__GNUC_MINOR__) "." FXIC_STR_(
      __GNUC_PATCHLEVEL__);
#else
  s += ", unknown compiler";
#endif
#undef FXIC_STR_
#undef FXIC_STR2_
  const uint16_t probe = 1;
  const bool little = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  s += little ? ", little-endian" : ", big-endian";
  s += ", " + std::to_string(sizeof(void*) * 8) + "-bit";
#ifdef __OPTIMIZE__
  s += ", optimized";
#else
  s += ", -O0";
#endif
  s += HaveThreads() ? ", OpenMP" : ", no OpenMP";
  return s;
}

}  // namespace fxic::verify
