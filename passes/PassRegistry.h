//===- PassRegistry.h - Find passes by name, parse pipelines ----*- C++ -*-===//
//
// Pipelines are written `a,b{key=value,key=value},c`, as --passes= takes
// them.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_PASSREGISTRY_H
#define STRATA_PASSES_PASSREGISTRY_H

#include "passes/Pass.h"

#include <memory>

namespace strata::passes {

using PassFactory = llvm::Expected<std::unique_ptr<Pass>> (*)(PassOptions &);

struct PassInfo {
  llvm::StringLiteral Name;
  llvm::StringLiteral Summary;
  llvm::StringLiteral Options; ///< What the pass takes, for --help.
  PassFactory Create;
};

/// Every registered pass, in Passes.def order.
llvm::ArrayRef<PassInfo> allPasses();

/// Makes the pass called Name with options Text (`key=value,...`).
llvm::Expected<std::unique_ptr<Pass>> createPass(llvm::StringRef Name,
                                                 llvm::StringRef OptionText);

/// Makes every pass of a pipeline, in order.
llvm::Expected<std::vector<std::unique_ptr<Pass>>>
parsePassPipeline(llvm::StringRef Pipeline);

} // namespace strata::passes

#endif // STRATA_PASSES_PASSREGISTRY_H
