//===- Passes.h - Factories of every pass -----------------------*- C++ -*-===//

#ifndef STRATA_PASSES_PASSES_H
#define STRATA_PASSES_PASSES_H

#include "passes/Pass.h"

#include <memory>

namespace strata::passes {

#define STRATA_PASS(Name, Factory, Summary, Options)                           \
  llvm::Expected<std::unique_ptr<Pass>> Factory(PassOptions &Opts);
#include "passes/Passes.def"

} // namespace strata::passes

#endif // STRATA_PASSES_PASSES_H
