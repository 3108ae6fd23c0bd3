// A cache of SIMD-packed convolution weights, keyed by layer contents, and a
// pool of reusable scratch buffers.
#include "fixedpoint/packed_cache.h"

#include <cstdint>
#include <cstring>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "fixedpoint/dispatch.h"

namespace fxic::internal {
namespace {

// Unused entries are evicted (least recently used first) above this many
// bytes of packed data. The N = 128, M = 192 model packs to about 20 MiB.
constexpr size_t kCapacityBytes = size_t{96} << 20;

struct AlignedDelete {
  void operator()(void* ptr) const {
    ::operator delete(ptr, std::align_val_t(64));
  }
};

struct Entry {
  std::string tag;
  int kernel, stride, cin, cout;
  std::vector<int8_t> w;             // a copy of the weights, or
  const int8_t* w_static = nullptr;  // the weights themselves (ConvParams::w_static)
  std::vector<int32_t> bias, mult;
  std::vector<uint8_t> shift;
  std::unique_ptr<void, AlignedDelete> packed;
  size_t bytes = 0;
  int users = 0;

  // Static weights at the same address are the same weights; otherwise
  // the contents are compared.
  bool SameWeights(const ConvParams& p, size_t n_w) const {
    if (w_static != nullptr && p.w_static && p.w == w_static) return true;
    const int8_t* mine = w_static != nullptr ? w_static : w.data();
    return std::memcmp(mine, p.w, n_w) == 0;
  }

  bool Matches(const char* t, const ConvParams& p, size_t n_bytes) const {
    const size_t n_w = static_cast<size_t>(p.cout) * p.kernel * p.kernel * p.cin;
    const size_t c = static_cast<size_t>(p.cout);
    return tag == t && kernel == p.kernel && stride == p.stride &&
           cin == p.cin && cout == p.cout && bytes == n_bytes &&
           SameWeights(p, n_w) &&
           std::memcmp(bias.data(), p.bias, c * sizeof(int32_t)) == 0 &&
           std::memcmp(mult.data(), p.mult, c * sizeof(int32_t)) == 0 &&
           std::memcmp(shift.data(), p.shift, c) == 0;
  }
};

struct Cache {
  std::mutex mu;
  std::list<Entry> entries;  // most recently used first; stable addresses
  size_t bytes = 0;

  void EvictLocked(size_t limit) {
    for (auto it = entries.end(); it != entries.begin() && bytes > limit;) {
      --it;
      if (it->users == 0) {
        bytes -= it->bytes;
        it = entries.erase(it);
      }
    }
  }
};

Cache& GetCache() {
  static Cache* cache = new Cache;  // never destroyed: no exit-order issues
  return *cache;
}

}  // namespace

const void* AcquirePackedConv(const char* tag, const ConvParams& p,
                              size_t bytes, PackFn pack, void** token) {
  Cache& cache = GetCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  for (auto it = cache.entries.begin(); it != cache.entries.end(); ++it) {
    if (it->Matches(tag, p, bytes)) {
      cache.entries.splice(cache.entries.begin(), cache.entries, it);
      Entry& e = cache.entries.front();
      ++e.users;
      *token = &e;
      return e.packed.get();
    }
  }
  Entry e;
  e.tag = tag;
  e.kernel = p.kernel;
  e.stride = p.stride;
  e.cin = p.cin;
  e.cout = p.cout;
  const size_t n_w = static_cast<size_t>(p.cout) * p.kernel * p.kernel * p.cin;
  if (p.w_static) {
    e.w_static = p.w;
  } else {
    e.w.assign(p.w, p.w + n_w);
  }
  e.bias.assign(p.bias, p.bias + p.cout);
  e.mult.assign(p.mult, p.mult + p.cout);
  e.shift.assign(p.shift, p.shift + p.cout);
  e.bytes = bytes;
  e.packed.reset(::operator new(bytes == 0 ? 64 : bytes, std::align_val_t(64)));
  // Packing under the lock: two threads never pack the same layer twice, and
  // layers run one after another anyway.
  pack(p, e.packed.get());
  e.users = 1;
  cache.entries.push_front(std::move(e));
  cache.bytes += bytes;
  cache.EvictLocked(kCapacityBytes);
  *token = &cache.entries.front();
  return cache.entries.front().packed.get();
}

void ReleasePackedConv(void* token) {
  Cache& cache = GetCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  --static_cast<Entry*>(token)->users;
}

namespace {

// Free buffers are kept for reuse; at most kMaxFreeScratch of them (the
// largest ones), so memory held is bounded by a few of the largest layers'
// inputs.
constexpr size_t kMaxFreeScratch = 4;

struct Scratch {
  std::unique_ptr<void, AlignedDelete> data;
  size_t bytes = 0;
  bool in_use = false;
};

struct ScratchPool {
  std::mutex mu;
  std::list<Scratch> buffers;  // stable addresses: tokens point into it
};

ScratchPool& GetScratchPool() {
  static ScratchPool* pool = new ScratchPool;  // never destroyed
  return *pool;
}

}  // namespace

void* AcquireScratch(size_t bytes, void** token) {
  ScratchPool& pool = GetScratchPool();
  std::lock_guard<std::mutex> lock(pool.mu);
  Scratch* best = nullptr;
  for (Scratch& s : pool.buffers) {
    if (!s.in_use && s.bytes >= bytes && (best == nullptr || s.bytes < best->bytes)) {
      best = &s;
    }
  }
  if (best == nullptr) {
    // Replace the largest free buffer that is too small, if any.
    for (auto it = pool.buffers.begin(); it != pool.buffers.end(); ++it) {
      if (!it->in_use) {
        pool.buffers.erase(it);
        break;
      }
    }
    pool.buffers.emplace_back();
    best = &pool.buffers.back();
    best->bytes = bytes < 64 ? 64 : bytes;
    best->data.reset(::operator new(best->bytes, std::align_val_t(64)));
  }
  best->in_use = true;
  *token = best;
  return best->data.get();
}

void ReleaseScratch(void* token) {
  ScratchPool& pool = GetScratchPool();
  std::lock_guard<std::mutex> lock(pool.mu);
  static_cast<Scratch*>(token)->in_use = false;
  size_t free_count = 0;
  for (const Scratch& s : pool.buffers) free_count += s.in_use ? 0 : 1;
  while (free_count > kMaxFreeScratch) {
    // Drop the smallest free buffer.
    auto smallest = pool.buffers.end();
    for (auto it = pool.buffers.begin(); it != pool.buffers.end(); ++it) {
      if (!it->in_use && (smallest == pool.buffers.end() ||
                          it->bytes < smallest->bytes)) {
        smallest = it;
      }
    }
    pool.buffers.erase(smallest);
    --free_count;
  }
}

}  // namespace fxic::internal

namespace fxic {

void ClearPackedWeightsCache() {
  {
    internal::Cache& cache = internal::GetCache();
    std::lock_guard<std::mutex> lock(cache.mu);
    cache.EvictLocked(0);
  }
  internal::ScratchPool& pool = internal::GetScratchPool();
  std::lock_guard<std::mutex> lock(pool.mu);
  for (auto it = pool.buffers.begin(); it != pool.buffers.end();) {
    it = it->in_use ? std::next(it) : pool.buffers.erase(it);
  }
}

}  // namespace fxic
