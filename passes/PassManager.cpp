//===- PassManager.cpp - Run passes in a pipeline -------------------------===//

#include "passes/PassManager.h"

#include "ir/Verifier.h"

#include <chrono>

namespace strata::passes {

PassManager::PassManager() {
#ifndef NDEBUG
  VerifyEach = true;
#else
  VerifyEach = false;
#endif
}

PassManager::~PassManager() = default;

void PassManager::addPasses(std::vector<std::unique_ptr<Pass>> Ps) {
  for (auto &P : Ps)
    addPass(std::move(P));
}

llvm::Error PassManager::run(ir::Graph &G, PassContext &Ctx) {
  for (const std::unique_ptr<Pass> &P : Passes) {
    if (BeforePass)
      BeforePass(*P, G);
    auto Start = std::chrono::steady_clock::now();
    if (llvm::Error E = P->run(G, Ctx))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "pass '" + P->getName() + "' failed:\n" +
                                         llvm::toString(std::move(E)));
    if (TimePasses)
      Ctx.addStatistic(P->getName(), "time-us",
                       std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - Start)
                           .count());
    if (VerifyEach)
      if (llvm::Error E = ir::verify(G))
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "the graph is invalid after pass '" +
                                           P->getName() + "':\n" +
                                           llvm::toString(std::move(E)));
    if (!P->preservesStructure())
      Ctx.invalidateAnalyses();
    if (AfterPass)
      AfterPass(*P, G);
  }
  return llvm::Error::success();
}

} // namespace strata::passes
