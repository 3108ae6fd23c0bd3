// Internal: a cache of convolution weights repacked for a SIMD path, and a
// pool of scratch buffers.
//
// Repacking a layer costs one pass over its weights, which is up to a few
// percent of the layer's time when its output is small (the hyper-synthesis
// runs 2.6 M weights over a few hundred pixels). The cache keeps each packed
// layer keyed by the path's tag and by the layer's CONTENTS: shape, weights,
// bias, multipliers and shifts are compared byte for byte on every lookup
// (memcmp, ~20x cheaper than repacking), so a model freed and another loaded
// at the same address can never hit a stale entry. Weights marked static
// (ConvParams::w_static: the embedded model, never freed or changed) are
// keyed by their address instead of a copy. Used only by the SIMD
// translation units; plain C-style interface so they instantiate no shared
// template (see kernels.h).
#ifndef FXIC_FIXEDPOINT_PACKED_CACHE_H_
#define FXIC_FIXEDPOINT_PACKED_CACHE_H_

#include <cstddef>

#include "fixedpoint/conv2d.h"

namespace fxic::internal {

// Writes the packed form of `p` into `dst` (`bytes` long, 64-byte aligned).
using PackFn = void (*)(const ConvParams& p, void* dst);

// The packed form of `p` for path `tag`, built with pack(p, dst) on a miss.
// The returned pointer (64-byte aligned) stays valid until
// ReleasePackedConv(*token); the entry may be evicted after that. Thread-safe.
const void* AcquirePackedConv(const char* tag, const ConvParams& p,
                              size_t bytes, PackFn pack, void** token);
void ReleasePackedConv(void* token);

// A 64-byte aligned scratch buffer of at least `bytes`, reused across calls
// (a fresh large allocation per layer costs page faults on every call: ~10%
// of an encode). Valid until ReleaseScratch(token). Thread-safe; contents
// unspecified.
void* AcquireScratch(size_t bytes, void** token);
void ReleaseScratch(void* token);

}  // namespace fxic::internal

#endif  // FXIC_FIXEDPOINT_PACKED_CACHE_H_
