//===- Command.h - The subcommands of the strata tool -----------*- C++ -*-===//
//
// Each subcommand lives in its own file: its llvm::cl::SubCommand and
// options, and a run function returning the exit code. main() picks the one
// the command line selected.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_COMMAND_H
#define STRATA_TOOLS_COMMAND_H

#include "llvm/Support/CommandLine.h"

namespace strata::tool {

/// Exit codes of every subcommand (docs/cli.md).
enum ExitCode : int {
  ExitSuccess = 0,
  ExitFailure = 1, ///< The input is wrong or the work failed.
  ExitUsage = 2,   ///< The command line is wrong.
};

struct Command {
  llvm::cl::SubCommand *Sub;
  int (*Run)();
};

/// Options every subcommand takes.
llvm::cl::OptionCategory &getStrataCategory();

Command getCompileCommand();
Command getDevicesCommand();
Command getInspectCommand();
Command getOptCommand();
Command getRunCommand();
Command getVerifyCommand();
Command getVizCommand();

} // namespace strata::tool

#endif // STRATA_TOOLS_COMMAND_H
