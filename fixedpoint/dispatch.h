// Kernel dispatch: one table of function pointers per instruction set.
//
// Every hot kernel has a scalar reference (the specification) and may have
// SIMD versions, each compiled in its own translation unit with its own ISA
// flags (conv2d_avx2.cpp, conv2d_avx512.cpp, ...). The active table starts as
// the best path this CPU supports (or the one the FXIC_ISA environment
// variable names, read once on first use); SetIsa() forces any available path.
// Every path produces the same bytes: tests/fixedpoint/dispatch_test.cpp
// compares each one with the scalar reference exactly.
#ifndef FXIC_FIXEDPOINT_DISPATCH_H_
#define FXIC_FIXEDPOINT_DISPATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fixedpoint/conv2d.h"
#include "fixedpoint/normalization.h"
#include "fixedpoint/status.h"

namespace fxic {

// Convolution + linear scaling on raw HWC buffers, after Conv2d validated the
// shapes: `in` is height x width x p.cin, `out` is Ho x Wo x p.cout
// (ConvOutputSize). Writes exactly the Ho * Wo * cout outputs, nothing
// around them. Same arithmetic preconditions as Conv2d; may use OpenMP over
// output rows.
using Conv2dKernel = void (*)(const int16_t* in, int height, int width,
                              const ConvParams& p, int16_t* out);

// GDN (inverse = false) or IGDN over `pixels` pixels of p.channels channels.
// `out` may equal `in` (in-place), otherwise they must not overlap. Same
// arithmetic preconditions as Gdn / Igdn.
using NormalizeKernel = void (*)(const int16_t* in, int64_t pixels,
                                 const NormParams& p, bool inverse,
                                 int16_t* out);

// Convolution followed by depth-to-space (block 2) in one pass: `out` is
// 2Ho x 2Wo x (p.cout / 4), exactly the bytes of conv2d then DepthToSpace.
// Returns false, writing nothing, for shapes the path does not fuse (the
// caller then runs the two steps).
using Conv2dDepthToSpaceKernel = bool (*)(const int16_t* in, int height,
                                          int width, const ConvParams& p,
                                          int16_t* out);

// One instruction set's kernels. Entries a path does not accelerate point to
// the scalar reference.
struct KernelTable {
  const char* isa;  // "scalar", "avx2", "avx512", "avx512vnni"
  Conv2dKernel conv2d;
  NormalizeKernel normalize;
  Conv2dDepthToSpaceKernel conv2d_d2s;  // null: not fused on this path
};

// The table in use (never null). Thread-safe; SetIsa() switches it
// atomically, so kernels already running finish on the old path.
const KernelTable& ActiveKernels();

// The table of `isa` if this binary has it and this CPU runs it, else null.
// Lets tests and benchmarks call several paths side by side.
const KernelTable* KernelsFor(const std::string& isa);

// Paths this binary has and this CPU supports, slowest first: always
// "scalar", then e.g. "avx2", "avx512", "avx512vnni" on x86-64.
std::vector<std::string> AvailableIsas();

// Forces every kernel onto `name` (one of AvailableIsas(), or "auto" for the
// best one). An unknown or unavailable name is an error listing the available
// paths, and leaves the active path unchanged.
Status SetIsa(const std::string& name);

// Name of the active path.
std::string CurrentIsa();

// Result of reading FXIC_ISA at start-up: Ok if it was unset, empty or valid;
// otherwise the error (the best path is used instead, and a one-line warning
// went to stderr). Lets a command line turn a bad FXIC_ISA into an error.
Status IsaFromEnvironmentStatus();

// The SIMD paths keep each layer's repacked weights in a cache keyed by the
// layer's contents, and reuse scratch buffers (fixedpoint/packed_cache.h);
// this frees everything not in use. Never needed for correctness.
void ClearPackedWeightsCache();

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_DISPATCH_H_
