//===- InsertTensorParallelAllReduces.cpp - Sums after split projections --===//
//
// A tensor-parallel layer splits its output projections (attention's o and
// the MLP's down) by columns, so each member of the group holds a partial
// sum of the result; an all_reduce over the group adds them before the
// residual. This pass inserts one right after each such matmul that runs on
// a group, and points its users at the sum. Projections on one device get
// nothing, so a single-device plan has no collective at all.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/Placement.h"

namespace strata::passes {
namespace {

class InsertTensorParallelAllReducesPass : public Pass {
public:
  llvm::StringRef getName() const override { return "insert-tp-allreduce"; }

  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    int64_t Inserted = 0;
    for (ir::ProgramId P = 0; P < G.programs().size(); ++P) {
      std::vector<ir::OpId> Body = G.getProgram(P).Body;
      std::vector<ir::OpId> NewBody;
      NewBody.reserve(Body.size());
      for (ir::OpId O : Body) {
        NewBody.push_back(O);
        const ir::Op &Op = G.getOp(O);
        if (Op.Kind != ir::OpKind::MatMul ||
            !isColumnSplitUnderTensorParallel(G.getValue(Op.Operands[1])))
          continue;
        Placement Group = getPlacement(Op.Attrs);
        if (!Group.isSplit())
          continue;
        ir::ValueId Partial = Op.Result;
        std::vector<ir::OpId> Users(G.getValue(Partial).Users.begin(),
                                    G.getValue(Partial).Users.end());
        ir::AttrDict A;
        setPlacement(A, Group, "");
        A.set("devices_reduced", ir::Attribute::IntList(Group.Devices.begin(),
                                                        Group.Devices.end()));
        if (std::optional<int64_t> L = Op.Attrs.getInt(ir::AttrKeys::Layer))
          A.set(ir::AttrKeys::Layer, *L);
        std::string Name = G.getValue(Partial).Name + ".sum";
        auto Sum = G.addOp(P, ir::OpKind::AllReduce, {Partial}, Name,
                           G.getValue(Partial).Type, std::move(A));
        if (!Sum)
          return Sum.takeError();
        ir::ValueId SumValue = G.getOp(*Sum).Result;
        // Every earlier user now reads the sum.
        for (ir::OpId U : Users) {
          llvm::SmallVector<ir::ValueId, 4> Ops(G.getOp(U).Operands);
          for (ir::ValueId &V : Ops)
            if (V == Partial)
              V = SumValue;
          G.setOperands(U, Ops);
        }
        NewBody.push_back(*Sum);
        ++Inserted;
      }
      // addOp appended the sums at the end; put each right after its
      // matmul instead.
      G.setBody(P, std::move(NewBody));
    }
    Ctx.addStatistic(getName(), "all-reduces", Inserted);
    return llvm::Error::success();
  }
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createInsertTensorParallelAllReducesPass(PassOptions &) {
  return std::make_unique<InsertTensorParallelAllReducesPass>();
}

} // namespace strata::passes
