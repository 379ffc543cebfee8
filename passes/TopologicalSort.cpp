//===- TopologicalSort.cpp - Producers before users -----------------------===//
//
// The text form lets an op use a value defined further down; this pass
// reorders each program so that every op comes after the producers of its
// operands, keeping the written order wherever it already allows that (so a
// sorted program is left as it is). A cycle is an error.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata::passes {
namespace {

class TopologicalSortPass : public Pass {
public:
  llvm::StringRef getName() const override { return "topo-sort"; }

  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    int64_t Moved = 0;
    for (ir::ProgramId P = 0; P < G.programs().size(); ++P) {
      auto Order = G.topologicalOrder(P);
      if (!Order)
        return Order.takeError();
      const std::vector<ir::OpId> &Body = G.getProgram(P).Body;
      for (size_t I = 0; I < Body.size(); ++I)
        Moved += Body[I] != (*Order)[I];
      G.setBody(P, std::move(*Order));
    }
    Ctx.addStatistic(getName(), "ops-moved", Moved);
    return llvm::Error::success();
  }
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>> createTopologicalSortPass(PassOptions &) {
  return std::make_unique<TopologicalSortPass>();
}

} // namespace strata::passes
