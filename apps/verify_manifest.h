// The `fxic verify` manifest: recorded bitstream and reconstruction hashes of
// a set of images (docs/verify.md, "Manifest format"). One routine reads and
// one writes it; both keep the line order, so a re-recorded manifest diffs
// cleanly.
#ifndef FXIC_APPS_VERIFY_MANIFEST_H_
#define FXIC_APPS_VERIFY_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fixedpoint/status.h"

namespace fxic::verify {

constexpr int kManifestVersion = 1;
constexpr char kManifestMagic[] = "fxic-verify-manifest";

// One traced layer output: "g_a.3" (network.layer index; "gain.0" and
// "inv_gain.0" for the gain steps), its shape, and the first 8 bytes of the
// SHA-256 of its shape and int16 values (LayerDigest in verify_runner.h).
struct LayerHash {
  std::string layer;
  int height = 0, width = 0, channels = 0;
  std::string hash;  // 16 lower-case hex digits
};

// One conformance vector: an image coded at one quality.
struct Vector {
  std::string name;       // unique in the manifest
  std::string image;      // path relative to the image directory
  std::string quality;    // as on the command line: "1", "2.5", ...
  int band_rows = 4;      // encoder band height (latent rows)
  uint64_t bits_size = 0;
  std::string bits_sha256;   // 64 hex digits, of the whole bitstream
  std::string recon_sha256;  // 64 hex digits, of the decoded RGB bytes
  // Reference bitstream, relative to the manifest's directory; empty when
  // only the hashes were recorded.
  std::string bitstream;
  // Per-layer digests on the encoder (g_a, gain, h_a, h_s) and decoder
  // (h_s, inv_gain, g_s) paths; may be empty (then --explain cannot name a
  // layer).
  std::vector<LayerHash> enc_layers, dec_layers;
};

struct Manifest {
  std::string model_id;    // 16 hex digits
  // "embedded" (the model compiled into fxic) or a model file path, relative
  // to the manifest's directory unless absolute.
  std::string model_spec;
  std::string model_name;  // informational
  std::vector<Vector> vectors;
};

// Parses manifest text; any malformed line is an error naming its number.
StatusOr<Manifest> ParseManifest(const std::string& text);

// Serialises a manifest (the inverse of ParseManifest). `comment` lines are
// written after the magic line, each prefixed with "# ".
std::string FormatManifest(const Manifest& manifest,
                           const std::vector<std::string>& comment = {});

// %-escapes whitespace, '%' and control characters so any file name is one
// whitespace-free token; Unescape reverses it (false on a bad escape).
std::string EscapeToken(const std::string& s);
bool UnescapeToken(const std::string& s, std::string* out);

}  // namespace fxic::verify

#endif  // FXIC_APPS_VERIFY_MANIFEST_H_
