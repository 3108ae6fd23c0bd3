// Kernel dispatch: CPU detection, the FXIC_ISA override and SetIsa().
#include "fixedpoint/dispatch.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "fixedpoint/kernels.h"

namespace fxic {
namespace {

// Slowest first; the best available path is the last one the CPU runs.
const KernelTable kTables[] = {
    {"scalar", scalar::Conv2dImpl, scalar::NormalizeImpl, nullptr},
#if defined(FXIC_X86_KERNELS)
    {"avx2", avx2::Conv2dImpl, avx2::NormalizeImpl,
     avx2::Conv2dDepthToSpaceImpl},
    {"avx512", avx512::Conv2dImpl, avx512::NormalizeImpl,
     avx512::Conv2dDepthToSpaceImpl},
    {"avx512vnni", avx512vnni::Conv2dImpl, avx512vnni::NormalizeImpl,
     avx512vnni::Conv2dDepthToSpaceImpl},
#endif
};

bool CpuRuns(const std::string& isa) {
  if (isa == "scalar") return true;
#if defined(FXIC_X86_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports also checks that the OS saves the register state
  // (XCR0 via xgetbv) for AVX and AVX-512.
  __builtin_cpu_init();
  const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
  if (isa == "avx2") return avx2;
  if (isa == "avx512") return avx512;
  if (isa == "avx512vnni") {
    return avx512 && __builtin_cpu_supports("avx512vnni");
  }
#endif
  return false;
}

const KernelTable* Find(const std::string& isa) {
  for (const KernelTable& t : kTables) {
    if (isa == t.isa) return CpuRuns(isa) ? &t : nullptr;
  }
  return nullptr;
}

const KernelTable* Best() {
  const KernelTable* best = &kTables[0];
  for (const KernelTable& t : kTables) {
    if (CpuRuns(t.isa)) best = &t;
  }
  return best;
}

std::string AvailableList() {
  std::string list;
  for (const std::string& isa : AvailableIsas()) {
    list += (list.empty() ? "" : ", ") + isa;
  }
  return list;
}

// Parses a path name; "auto" is the best available path.
StatusOr<const KernelTable*> Lookup(const std::string& name) {
  if (name == "auto") return Best();
  const KernelTable* t = Find(name);
  if (t == nullptr) {
    return Status::Error("ISA '" + name + "' is not available (available: " +
                         AvailableList() + ", auto)");
  }
  return t;
}

struct State {
  std::atomic<const KernelTable*> active;
  Status env_status;

  State() : active(Best()) {
    const char* env = std::getenv("FXIC_ISA");
    if (env == nullptr || env[0] == '\0') return;
    StatusOr<const KernelTable*> t = Lookup(env);
    if (t.ok()) {
      active.store(t.value());
    } else {
      env_status = Status::Error("FXIC_ISA: " + t.status().message());
      std::fprintf(stderr, "fxic: warning: %s; using %s\n",
                   env_status.message().c_str(), Best()->isa);
    }
  }
};

State& GetState() {
  static State state;  // thread-safe initialisation; FXIC_ISA read once
  return state;
}

}  // namespace

const KernelTable& ActiveKernels() {
  return *GetState().active.load(std::memory_order_acquire);
}

const KernelTable* KernelsFor(const std::string& isa) { return Find(isa); }

std::vector<std::string> AvailableIsas() {
  std::vector<std::string> out;
  for (const KernelTable& t : kTables) {
    if (CpuRuns(t.isa)) out.push_back(t.isa);
  }
  return out;
}

Status SetIsa(const std::string& name) {
  StatusOr<const KernelTable*> t = Lookup(name);
  if (!t.ok()) return t.status();
  GetState().active.store(t.value(), std::memory_order_release);
  return Status::Ok();
}

std::string CurrentIsa() { return ActiveKernels().isa; }

Status IsaFromEnvironmentStatus() { return GetState().env_status; }

}  // namespace fxic
