// The model compiled into the fxic binary (generated from a .fxm at build time).
#ifndef FXIC_APPS_DEFAULT_MODEL_H_
#define FXIC_APPS_DEFAULT_MODEL_H_

#include <cstddef>
#include <cstdint>

namespace fxic {

extern const uint8_t kDefaultModelBytes[];
extern const size_t kDefaultModelSize;

}  // namespace fxic

#endif  // FXIC_APPS_DEFAULT_MODEL_H_
