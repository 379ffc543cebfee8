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

/// How a subcommand reports an error: "strata NAME: error: MSG" on stderr,
/// coloured on a terminal, and the exit code to return, so that a command
/// ends with `return Errors.fail(...)`.
class CommandErrors {
public:
  explicit constexpr CommandErrors(const char *Prefix) : Prefix(Prefix) {}

  /// The input is wrong or the work failed.
  int fail(const llvm::Twine &Msg) const { return report(Msg, ExitFailure); }
  /// The command line is wrong.
  int usage(const llvm::Twine &Msg) const { return report(Msg, ExitUsage); }
  /// Any other exit, e.g. InterruptedExitCode.
  int report(const llvm::Twine &Msg, int Code) const;

private:
  const char *Prefix; ///< "strata compile"
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
