// Internal: the per-instruction-set kernel entry points the dispatch table
// points to. Only dispatch.cpp, the kernels themselves and tests include this.
//
// Each SIMD namespace lives in its own translation unit compiled with that
// ISA's flags; nothing else may call into it except through the dispatch
// table after the CPU check. Those translation units use no inline function
// or template shared with generic code (no std:: containers, no rounding.h
// helpers outside constant expressions): the linker keeps one copy of such a
// function, and it could be the AVX-512 one.
#ifndef FXIC_FIXEDPOINT_KERNELS_H_
#define FXIC_FIXEDPOINT_KERNELS_H_

#include <cstdint>

#include "fixedpoint/conv2d.h"
#include "fixedpoint/normalization.h"

// FXIC_X86_KERNELS is defined (by fixedpoint/CMakeLists.txt) when the x86-64
// SIMD translation units are part of the build.
#if defined(FXIC_X86_KERNELS) && !(defined(__x86_64__) || defined(_M_X64))
#error "FXIC_X86_KERNELS needs an x86-64 target"
#endif

namespace fxic {

namespace scalar {
void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out);
void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out);
}  // namespace scalar

#if defined(FXIC_X86_KERNELS)
namespace avx2 {
void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out);
bool Conv2dDepthToSpaceImpl(const int16_t* in, int height, int width,
                            const ConvParams& p, int16_t* out);
void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out);
}  // namespace avx2
namespace avx512 {
void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out);
bool Conv2dDepthToSpaceImpl(const int16_t* in, int height, int width,
                            const ConvParams& p, int16_t* out);
void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out);
}  // namespace avx512
namespace avx512vnni {
void Conv2dImpl(const int16_t* in, int height, int width, const ConvParams& p,
                int16_t* out);
bool Conv2dDepthToSpaceImpl(const int16_t* in, int height, int width,
                            const ConvParams& p, int16_t* out);
void NormalizeImpl(const int16_t* in, int64_t pixels, const NormParams& p,
                   bool inverse, int16_t* out);
}  // namespace avx512vnni
#endif

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_KERNELS_H_
