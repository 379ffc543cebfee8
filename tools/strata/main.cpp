//===- main.cpp - The strata command --------------------------------------===//
//
// `strata <subcommand> ...`: parses the command line, sets up logging and
// runs the chosen subcommand, whose return value is the exit code.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Logging.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;
using namespace strata::tool;

namespace strata::tool {

cl::OptionCategory &getStrataCategory() {
  static cl::OptionCategory Category("Strata options");
  return Category;
}

int CommandErrors::report(const llvm::Twine &Msg, int Code) const {
  llvm::WithColor::error(llvm::errs(), Prefix) << Msg << '\n';
  return Code;
}

} // namespace strata::tool

static cl::opt<std::string>
    LogLevel("log-level",
             cl::desc("Log level: trace, debug, info, warn, error, critical "
                      "or off (default: from DEBUG=1|2, else warn)"),
             cl::value_desc("level"), cl::sub(*cl::AllSubCommands),
             cl::cat(getStrataCategory()));

int main(int argc, char **argv) {
  llvm::InitLLVM X(argc, argv);
  const Command Commands[] = {getCompileCommand(), getDevicesCommand(),
                              getInspectCommand(), getOptCommand(),
                              getRunCommand(),     getVerifyCommand(),
                              getVizCommand()};

  // Show only Strata's options in --help, not those LLVM's libraries add.
  cl::HideUnrelatedOptions(getStrataCategory(), *cl::TopLevelSubCommand);
  for (const Command &C : Commands)
    cl::HideUnrelatedOptions(getStrataCategory(), *C.Sub);
  cl::SetVersionPrinter(
      [](llvm::raw_ostream &OS) { OS << "strata " STRATA_VERSION "\n"; });

  std::string Errors;
  llvm::raw_string_ostream ErrorStream(Errors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "Strata: plan and run large language models over several "
          "devices\n\n  Run 'strata <subcommand> --help' for a "
          "subcommand's options.\n",
          &ErrorStream)) {
    llvm::errs() << ErrorStream.str();
    return ExitUsage;
  }
  constexpr CommandErrors Report("strata");
  if (llvm::Error E = setUpLogging(LogLevel))
    return Report.usage(llvm::toString(std::move(E)));
  for (const Command &C : Commands)
    if (*C.Sub)
      return C.Run();
  return Report.usage("no subcommand given; run 'strata --help' to list them");
}
