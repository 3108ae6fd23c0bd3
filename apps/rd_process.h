// Running external programs (the classical codecs) without a shell.
#ifndef FXIC_APPS_RD_PROCESS_H_
#define FXIC_APPS_RD_PROCESS_H_

#include <string>
#include <vector>

#include "fixedpoint/status.h"

namespace fxic::rd {

struct ProcessResult {
  int exit_code = -1;  // the program's status; -1 if killed by a signal
  double seconds = 0;  // wall time from spawn to exit
  std::string output;  // stdout and stderr interleaved (at most 64 KiB)
};

// Runs argv[0] (searched in PATH) with stdin from /dev/null and stdout +
// stderr captured. Safe to call from several threads at once. An error only
// if the program could not be started.
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv);

// True if `program` is an executable file in PATH.
bool ProgramInPath(const std::string& program);

}  // namespace fxic::rd

#endif  // FXIC_APPS_RD_PROCESS_H_
