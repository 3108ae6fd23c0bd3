// Shared command-line helpers: argument parsing, model loading, errors.
#include "apps/cli.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "apps/default_model.h"
#include "apps/image_io.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fxic::cli {

Args::Args(std::vector<std::vector<std::string>> value_flags,
           std::vector<std::vector<std::string>> switch_flags) {
  for (const auto& names : value_flags) {
    for (const auto& n : names) {
      canonical_[n] = names[0];
      takes_value_[n] = true;
    }
  }
  for (const auto& names : switch_flags) {
    for (const auto& n : names) {
      canonical_[n] = names[0];
      takes_value_[n] = false;
    }
  }
}

Status Args::Parse(int argc, char** argv) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (only_positional || a == "-" || a.empty() || a[0] != '-') {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string value;
    bool has_inline = false;
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_inline = true;
    }
    auto it = canonical_.find(a);
    if (it == canonical_.end()) return Status::Error("unknown option " + a);
    if (takes_value_[a]) {
      if (!has_inline) {
        if (i + 1 >= argc) return Status::Error("option " + a + " needs a value");
        value = argv[++i];
      }
      values_[it->second] = value;
    } else {
      if (has_inline) return Status::Error("option " + a + " takes no value");
      values_[it->second] = "1";
    }
  }
  return Status::Ok();
}

std::string Args::Get(const std::string& flag, const std::string& dflt) const {
  auto it = values_.find(flag);
  return it == values_.end() ? dflt : it->second;
}

StatusOr<Model> LoadModelArg(const std::string& path) {
  if (path.empty()) {
    auto m = LoadModel(kDefaultModelBytes, kDefaultModelSize);
    if (!m.ok()) return Status::Error("embedded model: " + m.status().message());
    return m;
  }
  FXIC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
  auto m = LoadModel(bytes.data(), bytes.size());
  if (!m.ok()) return Status::Error(path + ": " + m.status().message());
  return m;
}

StatusOr<int64_t> ParseQuality(const std::string& text) {
  // Integer part and up to 8 decimals, computed exactly in integers.
  const std::string bad = "quality '" + text + "' is not a number like 3 or 2.5";
  if (text.empty() || text.size() > 16) return Status::Error(bad);
  int64_t whole = 0, frac_num = 0, frac_den = 1;
  bool dot = false, digits = false;
  for (char c : text) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digits = true;
      if (!dot) {
        whole = whole * 10 + (c - '0');
      } else if (frac_den < 100000000) {
        frac_num = frac_num * 10 + (c - '0');
        frac_den *= 10;
      }
    } else {
      return Status::Error(bad);
    }
  }
  if (!digits || whole > 1000) return Status::Error(bad);
  return whole * 256 + (frac_num * 256 + frac_den / 2) / frac_den;
}

StatusOr<int> ParseInt(const std::string& text, int lo, int hi, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) {
    return Status::Error(std::string(what) + " must be an integer in [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(v);
}

void SetThreads(int threads) {
#ifdef _OPENMP
  if (threads > 0) omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "fxic: %s\n", message.c_str());
  return kExitError;
}

int UsageError(const std::string& message, const char* subcommand) {
  std::fprintf(stderr, "fxic %s: %s\nTry 'fxic %s --help'.\n", subcommand,
               message.c_str(), subcommand);
  return kExitUsage;
}

int RunSubcommand(int argc, char** argv, const char* help, const char* version_line,
                  const std::vector<Subcommand>& commands, void (*tune)(char** argv)) {
  if (argc < 2) {
    std::fputs(help, stderr);
    return kExitUsage;
  }
  const char* cmd = argv[1];
  if (!std::strcmp(cmd, "-h") || !std::strcmp(cmd, "--help") || !std::strcmp(cmd, "help")) {
    std::fputs(help, stdout);
    return kExitOk;
  }
  if (!std::strcmp(cmd, "--version") || !std::strcmp(cmd, "-V")) {
    std::printf("%s\n", version_line);
    return kExitOk;
  }
  for (const Subcommand& c : commands) {
    if (std::strcmp(cmd, c.name) != 0) continue;
    if (c.runs_kernels && tune != nullptr) tune(argv);
    return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "fxic: unknown command '%s'\nTry 'fxic --help'.\n", cmd);
  return kExitUsage;
}

}  // namespace fxic::cli
