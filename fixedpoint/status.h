// Status / StatusOr: error values for everything that touches untrusted bytes.
#ifndef FXIC_FIXEDPOINT_STATUS_H_
#define FXIC_FIXEDPOINT_STATUS_H_

#include <string>
#include <utility>

namespace fxic {

// A success or an error with a one-line human-readable message. Functions that
// parse files or bitstreams return Status instead of asserting.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) {
    Status s;
    s.ok_ = false;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return ok_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

// A value or an error Status. value() may only be called when ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }

 private:
  Status status_;
  T value_{};
};

}  // namespace fxic

#define FXIC_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::fxic::Status fxic_status_ = (expr);       \
    if (!fxic_status_.ok()) return fxic_status_; \
  } while (0)

#define FXIC_CONCAT_INNER_(a, b) a##b
#define FXIC_CONCAT_(a, b) FXIC_CONCAT_INNER_(a, b)
#define FXIC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
#define FXIC_ASSIGN_OR_RETURN(lhs, expr) \
  FXIC_ASSIGN_OR_RETURN_IMPL_(FXIC_CONCAT_(fxic_or_, __LINE__), lhs, expr)

#endif  // FXIC_FIXEDPOINT_STATUS_H_
