//===- Logging.h - spdlog set-up for the strata tool ------------*- C++ -*-===//
//
// Logs go to stderr. The level comes from --log-level when given, else from
// the DEBUG environment variable (DEBUG=1: info, DEBUG=2: debug), else
// warnings and errors only.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_LOGGING_H
#define STRATA_TOOLS_LOGGING_H

#include "llvm/Support/Error.h"

namespace strata::tool {

/// LevelFlag is --log-level's value, empty when not given.
llvm::Error setUpLogging(llvm::StringRef LevelFlag);

} // namespace strata::tool

#endif // STRATA_TOOLS_LOGGING_H
