// Runs, explains and records `fxic verify` vectors: encode must reproduce the
// reference bitstream byte for byte, decoding must reproduce the recorded
// reconstruction hash, on every (ISA path, thread count).
#ifndef FXIC_APPS_VERIFY_RUNNER_H_
#define FXIC_APPS_VERIFY_RUNNER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/verify_images.h"
#include "apps/verify_manifest.h"
#include "codec/image.h"
#include "codec/model.h"
#include "fixedpoint/status.h"
#include "fixedpoint/tensor.h"

namespace fxic::verify {

// One execution path: a kernel ISA and an OpenMP thread count.
struct Path {
  std::string isa = "scalar";
  int threads = 1;
  std::string Label() const { return isa + "/t" + std::to_string(threads); }
};

struct RunOptions {
  std::vector<Path> paths;
  // After the table, explain each failing vector: first differing byte of
  // the bitstream (with its field or section) and first differing layer.
  bool explain = false;
  // Also check that every single-bit flip and every truncation of each
  // reference bitstream is rejected by the decoder.
  bool corrupt = false;
  // Model to use instead of the one the manifest names (its id must still
  // match the manifest).
  const Model* model = nullptr;
  std::FILE* out = stdout;
};

// Counts over everything checked in one `fxic verify` run.
struct Tally {
  int manifests = 0, vectors = 0, runs = 0, failed_runs = 0, failed_vectors = 0;
  int setup_errors = 0;  // manifests or vectors that could not be run at all
  uint64_t flips = 0, flips_rejected = 0, truncations = 0, truncations_rejected = 0;
  // "<vector> <own bitstream sha256> <reference decode sha256>" per vector on
  // the first path: its SHA-256 (ResultsDigest) is the same on every
  // platform that passes.
  std::string results;
  std::vector<std::string> failures;  // one line each
  bool ok() const {
    return failed_runs == 0 && setup_errors == 0 && flips_rejected == flips &&
           truncations_rejected == truncations;
  }
};
std::string ResultsDigest(const Tally& tally);

// First 8 bytes (16 hex digits) of the SHA-256 of a tensor: its height,
// width and channels as u32 little-endian, then its values as int16
// little-endian, so every platform hashes the same bytes.
std::string LayerDigest(const Tensor16& t);

// Runs every vector of `manifest` on every path and prints one table row per
// vector. Relative image paths resolve against image_dir, relative
// bitstream and model paths against manifest_dir. Mismatches are counted in
// `tally`; an error is returned only when nothing could be run (model missing
// or not the recorded one), and is counted too.
Status CheckManifest(const Manifest& manifest, const std::string& manifest_dir,
                     const std::string& image_dir, const RunOptions& options,
                     Tally* tally);

// Encodes and decodes `image` as `plan` says and returns the vector with its
// hashes and per-layer digests; the bitstream goes to *bits.
StatusOr<Vector> RecordVector(const PlannedVector& plan, const Image& image,
                              const Model& model, std::vector<uint8_t>* bits);

// Single-bit flips and truncations of `bits` that Decode rejects.
struct CorruptionCounts {
  uint64_t flips = 0, flips_rejected = 0, truncations = 0, truncations_rejected = 0;
};
CorruptionCounts CheckCorruption(const std::vector<uint8_t>& bits, const Model& model);

// "x86-64, GCC 12.2.0, little-endian, 64-bit, optimized, OpenMP": what this
// binary was built as, for the summary line and the README table.
std::string PlatformDescription();

// Whether thread counts take effect (built with OpenMP).
bool HaveThreads();

// The model a manifest names: "embedded" or a file relative to manifest_dir.
StatusOr<Model> LoadManifestModel(const Manifest& manifest,
                                  const std::string& manifest_dir);

// dir + "/" + path unless path is absolute (or dir is empty).
std::string JoinPath(const std::string& dir, const std::string& path);

}  // namespace fxic::verify

#endif  // FXIC_APPS_VERIFY_RUNNER_H_
