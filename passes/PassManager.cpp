//===- PassManager.cpp - Run passes in a pipeline -------------------------===//

#include "passes/PassManager.h"

#include "ir/Verifier.h"

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
    StageTimer Timer;
    if (llvm::Error E = P->run(G, Ctx))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "pass '" + P->getName() + "' failed:\n" +
                                         llvm::toString(std::move(E)));
    if (TimePasses)
      Ctx.addStatistic(P->getName(), TimeStatistic,
                       Timer.elapsedMicroseconds());
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
