//===- DeadCodeElimination.cpp - Remove ops nothing uses ------------------===//
//
// An op is dead when its result is not an output and no op uses it; erasing
// it may make its operands' producers dead in turn, so a worklist follows
// the chain. Ops are never reordered. With prune-weights, weights and KV
// caches that no op of any program uses are removed too (a model whose
// lowering leaves a weight unused usually has a bug, so this is opt-in).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata::passes {
namespace {

class DeadCodeEliminationPass : public Pass {
public:
  explicit DeadCodeEliminationPass(bool PruneWeights)
      : PruneWeights(PruneWeights) {}

  llvm::StringRef getName() const override { return "dce"; }

  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto IsDead = [&](ir::OpId O) {
      const ir::Value &R = G.getValue(G.getOp(O).Result);
      return R.Users.empty() && R.Kind != ir::ValueKind::Output;
    };
    std::vector<ir::OpId> Worklist;
    for (const ir::Program &P : G.programs())
      for (ir::OpId O : P.Body)
        if (IsDead(O))
          Worklist.push_back(O);

    int64_t OpsRemoved = 0;
    while (!Worklist.empty()) {
      ir::OpId O = Worklist.back();
      Worklist.pop_back();
      if (G.getOp(O).Erased || !IsDead(O))
        continue;
      llvm::SmallVector<ir::ValueId, 4> Operands(G.getOp(O).Operands);
      G.eraseOp(O);
      ++OpsRemoved;
      for (ir::ValueId V : Operands) {
        ir::OpId Def = G.getValue(V).Def;
        if (Def != ir::InvalidId && !G.getOp(Def).Erased && IsDead(Def))
          Worklist.push_back(Def);
      }
    }
    Ctx.addStatistic(getName(), "ops-removed", OpsRemoved);

    if (PruneWeights) {
      std::vector<ir::ValueId> Unused;
      for (ir::ValueId V : G.sharedValues())
        if (G.getValue(V).Users.empty())
          Unused.push_back(V);
      for (ir::ValueId V : Unused)
        G.eraseSharedValue(V);
      Ctx.addStatistic(getName(), "shared-values-removed", Unused.size());
    }
    return llvm::Error::success();
  }

private:
  bool PruneWeights;
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createDeadCodeEliminationPass(PassOptions &Opts) {
  auto Prune = Opts.takeBool("prune-weights", false);
  if (!Prune)
    return Prune.takeError();
  return std::make_unique<DeadCodeEliminationPass>(*Prune);
}

} // namespace strata::passes
