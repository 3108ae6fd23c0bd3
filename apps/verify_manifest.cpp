// Reads and writes `fxic verify` manifests (docs/verify.md).
#include "apps/verify_manifest.h"

#include <cstdio>
#include <map>
#include <sstream>

namespace fxic::verify {
namespace {

bool IsHex(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool ParseU64(const std::string& s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

// "g_a.3:64x48x8:0123456789abcdef"
bool ParseLayerToken(const std::string& token, LayerHash* out) {
  const size_t c1 = token.find(':');
  const size_t c2 = c1 == std::string::npos ? c1 : token.find(':', c1 + 1);
  if (c2 == std::string::npos) return false;
  out->layer = token.substr(0, c1);
  out->hash = token.substr(c2 + 1);
  const std::string shape = token.substr(c1 + 1, c2 - c1 - 1);
  const size_t x1 = shape.find('x');
  const size_t x2 = x1 == std::string::npos ? x1 : shape.find('x', x1 + 1);
  if (x2 == std::string::npos || out->layer.empty() || !IsHex(out->hash, 16)) {
    return false;
  }
  uint64_t h = 0, w = 0, ch = 0;
  if (!ParseU64(shape.substr(0, x1), 1u << 30, &h) ||
      !ParseU64(shape.substr(x1 + 1, x2 - x1 - 1), 1u << 30, &w) ||
      !ParseU64(shape.substr(x2 + 1), 1u << 30, &ch)) {
    return false;
  }
  out->height = static_cast<int>(h);
  out->width = static_cast<int>(w);
  out->channels = static_cast<int>(ch);
  return true;
}

}  // namespace

std::string EscapeToken(const std::string& s) {
  if (s.empty()) return "%";  // never produced for real names; keeps a token
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '%') {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool UnescapeToken(const std::string& s, std::string* out) {
  out->clear();
  if (s == "%") return true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      *out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int v = 0;
    for (int k = 1; k <= 2; ++k) {
      const char c = s[i + k];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'A' && c <= 'F') {
        v |= c - 'A' + 10;
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else {
        return false;
      }
    }
    *out += static_cast<char>(v);
    i += 2;
  }
  return true;
}

StatusOr<Manifest> ParseManifest(const std::string& text) {
  Manifest m;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  bool have_magic = false, have_model = false;
  std::map<std::string, size_t> index;
  auto error = [&number](const std::string& what) {
    return Status::Error("manifest line " + std::to_string(number) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::vector<std::string> w = SplitWords(line);
    if (w.empty() || w[0][0] == '#') continue;
    if (!have_magic) {
      if (w.size() != 2 || w[0] != kManifestMagic) {
        return error("not an fxic verify manifest (expected '" +
                     std::string(kManifestMagic) + " " +
                     std::to_string(kManifestVersion) + "')");
      }
      if (w[1] != std::to_string(kManifestVersion)) {
        return error("manifest version " + w[1] + " is not supported (this fxic reads " +
                     std::to_string(kManifestVersion) + ")");
      }
      have_magic = true;
      continue;
    }
    if (w[0] == "model") {
      if (have_model) return error("second 'model' line");
      if (w.size() < 3 || !IsHex(w[1], 16)) {
        return error("expected 'model <16 hex digits> <embedded|path> [name]'");
      }
      m.model_id = w[1];
      if (!UnescapeToken(w[2], &m.model_spec)) return error("bad escape in model path");
      for (size_t i = 3; i < w.size(); ++i) m.model_name += (i > 3 ? " " : "") + w[i];
      have_model = true;
    } else if (w[0] == "vector") {
      if (w.size() != 9) return error("'vector' needs 8 fields");
      Vector v;
      uint64_t band_rows = 0;
      if (!UnescapeToken(w[1], &v.name) || !UnescapeToken(w[2], &v.image) ||
          !UnescapeToken(w[8], &v.bitstream)) {
        return error("bad %-escape");
      }
      if (w[8] == "-") v.bitstream.clear();
      v.quality = w[3];
      if (!ParseU64(w[4], 65535, &band_rows) || band_rows < 1) {
        return error("band_rows must be 1..65535");
      }
      v.band_rows = static_cast<int>(band_rows);
      if (!ParseU64(w[5], uint64_t{1} << 40, &v.bits_size)) {
        return error("bad bitstream size");
      }
      v.bits_sha256 = w[6];
      v.recon_sha256 = w[7];
      if (!IsHex(v.bits_sha256, 64) || !IsHex(v.recon_sha256, 64)) {
        return error("hashes must be 64 lower-case hex digits");
      }
      if (index.count(v.name)) return error("duplicate vector '" + v.name + "'");
      index[v.name] = m.vectors.size();
      m.vectors.push_back(std::move(v));
    } else if (w[0] == "enc" || w[0] == "dec") {
      if (w.size() < 2) return error("'" + w[0] + "' needs a vector name");
      std::string name;
      if (!UnescapeToken(w[1], &name)) return error("bad %-escape");
      auto it = index.find(name);
      if (it == index.end()) return error("layers for unknown vector '" + name + "'");
      std::vector<LayerHash>& layers = w[0] == "enc" ? m.vectors[it->second].enc_layers
                                                     : m.vectors[it->second].dec_layers;
      if (!layers.empty()) return error("second '" + w[0] + "' line for '" + name + "'");
      for (size_t i = 2; i < w.size(); ++i) {
        LayerHash l;
        if (!ParseLayerToken(w[i], &l)) return error("bad layer entry '" + w[i] + "'");
        layers.push_back(std::move(l));
      }
    } else {
      return error("unknown record '" + w[0] + "'");
    }
  }
  if (!have_magic) return Status::Error("manifest is empty");
  if (!have_model) return Status::Error("manifest has no 'model' line");
  return m;
}

std::string FormatManifest(const Manifest& m, const std::vector<std::string>& comment) {
  std::ostringstream out;
  out << kManifestMagic << " " << kManifestVersion << "\n";
  for (const std::string& c : comment) out << "# " << c << "\n";
  out << "model " << m.model_id << " " << EscapeToken(m.model_spec);
  if (!m.model_name.empty()) out << " " << m.model_name;
  out << "\n";
  out << "# vector NAME IMAGE QUALITY BAND_ROWS BITS_SIZE BITS_SHA256 RECON_SHA256 "
         "BITSTREAM\n";
  for (const Vector& v : m.vectors) {
    out << "vector " << EscapeToken(v.name) << " " << EscapeToken(v.image) << " "
        << v.quality << " " << v.band_rows << " " << v.bits_size << " "
        << v.bits_sha256 << " " << v.recon_sha256 << " "
        << (v.bitstream.empty() ? "-" : EscapeToken(v.bitstream)) << "\n";
  }
  bool any_layers = false;
  for (const Vector& v : m.vectors) {
    any_layers = any_layers || !v.enc_layers.empty() || !v.dec_layers.empty();
  }
  if (any_layers) {
    out << "# per-layer digests (for --explain): LAYER:HxWxC:SHA256[0:8]\n";
  }
  for (const Vector& v : m.vectors) {
    for (int side = 0; side < 2; ++side) {
      const std::vector<LayerHash>& layers = side == 0 ? v.enc_layers : v.dec_layers;
      if (layers.empty()) continue;
      out << (side == 0 ? "enc " : "dec ") << EscapeToken(v.name);
      for (const LayerHash& l : layers) {
        out << " " << l.layer << ":" << l.height << "x" << l.width << "x" << l.channels
            << ":" << l.hash;
      }
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace fxic::verify
