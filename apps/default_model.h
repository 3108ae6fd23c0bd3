// The model compiled into the fxic binary (generated from a .fxm at build time).
#ifndef FXIC_APPS_DEFAULT_MODEL_H_
#define FXIC_APPS_DEFAULT_MODEL_H_

#include <cstddef>
#include <cstdint>

namespace fxic {

extern const uint8_t kDefaultModelBytes[];
extern const size_t kDefaultModelSize;

// The model id (first 8 bytes of the SHA-256 of the contents) computed by
// apps/embed_file.cmake when the program was built, and whether that build
// could compute it (CMake >= 3.24). When known, the bytes are registered with
// RegisterPrehashedModel() before main(), so loading them skips the hash.
extern const bool kDefaultModelIdKnown;
extern const uint8_t kDefaultModelId[8];

}  // namespace fxic

#endif  // FXIC_APPS_DEFAULT_MODEL_H_
