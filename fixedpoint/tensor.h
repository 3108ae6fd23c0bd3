// Tensor16: an int16 activation tensor of one image, height x width x channels.
#ifndef FXIC_FIXEDPOINT_TENSOR_H_
#define FXIC_FIXEDPOINT_TENSOR_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace fxic {

// std::allocator whose no-argument construct() default-initializes: growing
// a vector of int16 then leaves the new elements unwritten instead of
// zero-filling them serially (and faulting their pages in on the calling
// thread). Construction with a value (resize(n, v), push_back, copies) is
// unchanged.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// Element-wise comparison with a plain vector (found by argument-dependent
// lookup through the allocator type).
inline bool operator==(
    const std::vector<int16_t, DefaultInitAllocator<int16_t>>& a,
    const std::vector<int16_t>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// HWC layout, channels innermost: element (y, x, c) is
// data[(y * width + x) * channels + c]. Every kernel reads and writes this
// layout; a whole pixel's channels are contiguous.
struct Tensor16 {
  int height = 0;
  int width = 0;
  int channels = 0;
  // Elements added by Reshape are uninitialized (see Reshape).
  std::vector<int16_t, DefaultInitAllocator<int16_t>> data;

  Tensor16() = default;
  // Zero-filled. Precondition: all sizes >= 0.
  Tensor16(int h, int w, int c)
      : height(h), width(w), channels(c), data(Size(h, w, c), int16_t{0}) {}

  static size_t Size(int h, int w, int c) {
    return static_cast<size_t>(h) * static_cast<size_t>(w) *
           static_cast<size_t>(c);
  }
  size_t Index(int y, int x, int c) const {
    return (static_cast<size_t>(y) * static_cast<size_t>(width) +
            static_cast<size_t>(x)) *
               static_cast<size_t>(channels) +
           static_cast<size_t>(c);
  }
  int16_t& at(int y, int x, int c) { return data[Index(y, x, c)]; }
  int16_t at(int y, int x, int c) const { return data[Index(y, x, c)]; }
  // The channels of pixel (y, x), contiguous.
  int16_t* pixel(int y, int x) { return data.data() + Index(y, x, 0); }
  const int16_t* pixel(int y, int x) const {
    return data.data() + Index(y, x, 0);
  }
  // Resizes to h x w x c. Contents unspecified afterwards, and elements
  // beyond the old size are uninitialized: every caller writes every
  // element before reading it (the kernels write all of their output, in
  // parallel, so the new pages are first touched by the threads that use
  // them). Growing past the capacity drops the old contents first, so
  // they are not copied into the new buffer.
  void Reshape(int h, int w, int c) {
    height = h;
    width = w;
    channels = c;
    const size_t n = Size(h, w, c);
    if (n > data.capacity()) {
      data.clear();
      data.shrink_to_fit();  // the old buffer is freed before the new one is taken
    }
    data.resize(n);
  }
};

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_TENSOR_H_
