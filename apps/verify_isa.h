// Instruction-set paths for `fxic verify`: names, availability, selection.
#ifndef FXIC_APPS_VERIFY_ISA_H_
#define FXIC_APPS_VERIFY_ISA_H_

#include <string>
#include <vector>

#include "fixedpoint/status.h"

namespace fxic::verify {

// Every kernel path fxic knows by name: "scalar" (the specification, always
// present) and the SIMD paths (avx2, avx512, avx512vnni on x86-64; neon
// planned). Only paths in AvailableIsas() can be selected.
const std::vector<std::string>& KnownIsas();

// Paths built into this binary that the running CPU supports, slowest first
// (fixedpoint/dispatch.h); "scalar" is always first.
std::vector<std::string> AvailableIsas();

// The path the kernels use now.
std::string CurrentIsa();

// Parses a comma-separated list ("scalar", "scalar,avx2", "all", "auto").
// "all" means AvailableIsas(), "auto" the best of them. An unknown name, or a
// known path this binary or CPU lacks, is an error that names the available
// paths. Duplicates are dropped.
StatusOr<std::vector<std::string>> ParseIsaList(const std::string& text);

// The ISA list to use: `flag` (from --isa) if not empty, else the FXIC_ISA
// environment variable if set and not empty, else "all".
StatusOr<std::vector<std::string>> IsaListFromFlagOrEnv(const std::string& flag);

// Forces every kernel onto `isa` until the next call (fxic::SetIsa). Must be
// a name from AvailableIsas().
Status ActivateIsa(const std::string& isa);

}  // namespace fxic::verify

#endif  // FXIC_APPS_VERIFY_ISA_H_
