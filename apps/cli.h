// Shared pieces of the fxic command line: argument parsing, model choice,
// exit codes, and the subcommand entry points.
#ifndef FXIC_APPS_CLI_H_
#define FXIC_APPS_CLI_H_

#include <map>
#include <string>
#include <vector>

#include "codec/model.h"
#include "fixedpoint/status.h"

namespace fxic::cli {

// Exit codes (documented in `fxic --help` and README.md).
constexpr int kExitOk = 0;
constexpr int kExitError = 1;   // bad input, I/O failure, mismatch
constexpr int kExitUsage = 2;   // bad command line

// A minimal parser: flags with values (-o OUT), boolean switches (-f), and
// positional arguments. "-" is a positional (stdin / stdout).
class Args {
 public:
  // value_flags: flags taking a value (both spellings, e.g. {"-o","--output"}
  // map to the first). switch_flags: flags without a value.
  Args(std::vector<std::vector<std::string>> value_flags,
       std::vector<std::vector<std::string>> switch_flags);
  Status Parse(int argc, char** argv);  // argv[0] is the subcommand
  bool Has(const std::string& flag) const { return values_.count(flag) > 0; }
  std::string Get(const std::string& flag, const std::string& dflt = "") const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> canonical_;
  std::map<std::string, bool> takes_value_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Loads the model named by -m (a file path), or the embedded default.
StatusOr<Model> LoadModelArg(const std::string& path);

// Parses a quality like "3" or "2.5" into q·256 (rounded to 1/256).
StatusOr<int64_t> ParseQuality(const std::string& text);
StatusOr<int> ParseInt(const std::string& text, int lo, int hi, const char* what);

// Sets the OpenMP thread count (0: all cores). Results never depend on it.
void SetThreads(int threads);

// Prints "fxic: <message>" to stderr and returns kExitError.
int Fail(const std::string& message);
int UsageError(const std::string& message, const char* subcommand);

// One subcommand of a `fxic` binary: its name, its entry point (argv[0] is
// the subcommand's name) and whether it runs the kernels (then the binary's
// runtime tuning, if any, applies before it starts).
struct Subcommand {
  const char* name;
  int (*run)(int argc, char** argv);
  bool runs_kernels;
};

// The top level of a `fxic` binary: `--help`/`-h`/`help` print `help` to
// stdout, `--version`/`-V` print `version_line`, a known subcommand runs
// (after `tune(argv)` when it runs the kernels and `tune` is given), and no
// or an unknown command is a usage error (exit 2). Both the full and the
// minimal (cross, wasm) builds' main() call it with their own tables.
int RunSubcommand(int argc, char** argv, const char* help, const char* version_line,
                  const std::vector<Subcommand>& commands, void (*tune)(char** argv));

int EncodeMain(int argc, char** argv);
int DecodeMain(int argc, char** argv);
int InfoMain(int argc, char** argv);
int CompareMain(int argc, char** argv);
int VerifyMain(int argc, char** argv);
int EvalMain(int argc, char** argv);
int PlotMain(int argc, char** argv);
int BdrateMain(int argc, char** argv);

}  // namespace fxic::cli

#endif  // FXIC_APPS_CLI_H_
