//===- PlaceExperts.cpp - Spread a MoE layer's experts over its group -----===//
//
// Under tensor parallelism a mixture-of-experts layer would split every
// expert over its group; expert parallelism is cheaper: each routed expert
// lives whole on one member, and the moe_experts op runs on the group, each
// member computing the experts it holds. Experts go to members largest
// first, each to the member with the fewest expert bytes so far (ties to
// the lower index), which balances bytes within one expert's size. A layer
// on a single device is left alone, as are single-expert ops (a shared
// expert).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/Placement.h"

#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace strata::passes {
namespace {

class PlaceExpertsPass : public Pass {
public:
  llvm::StringRef getName() const override { return "place-experts"; }
  bool preservesStructure() const override { return true; }

  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto Cl = Ctx.getCluster(getName());
    if (!Cl)
      return Cl.takeError();
    const cluster::Cluster &C = **Cl;
    int64_t Spread = 0;
    // Each layer's weights are shared by both programs: place them once.
    std::vector<bool> Done(G.numValues(), false);
    for (const ir::Program &P : G.programs())
      for (ir::OpId O : P.Body) {
        const ir::Op &Op = G.getOp(O);
        if (Op.Kind != ir::OpKind::MoEExperts || Op.Operands.size() < 8)
          continue;
        Placement Group = getPlacement(Op.Attrs);
        if (Group.Devices.size() < 2 || Done[Op.Operands[2]])
          continue;
        Spread += spread(G, C, Op, Group.Devices);
        for (ir::ValueId V : Op.Operands)
          Done[V] = true;
      }
    Ctx.addStatistic(getName(), "experts-spread", Spread);
    return llvm::Error::success();
  }

private:
  static int64_t spread(ir::Graph &G, const cluster::Cluster &C,
                        const ir::Op &Op, llvm::ArrayRef<unsigned> Group) {
    struct Expert {
      unsigned Index;
      uint64_t Bytes;
    };
    std::vector<Expert> Experts;
    int64_t First = Op.Attrs.getInt("first_expert").value_or(0);
    for (unsigned I = 2; I + 2 < Op.Operands.size(); I += 3) {
      uint64_t Bytes = 0;
      for (unsigned J = I; J < I + 3; ++J)
        Bytes += llvm::cantFail(G.getValue(Op.Operands[J]).Type.getByteSize());
      Experts.push_back({(I - 2) / 3, Bytes});
    }
    llvm::stable_sort(Experts, [](const Expert &A, const Expert &B) {
      return A.Bytes > B.Bytes;
    });
    std::vector<uint64_t> Load(Group.size(), 0);
    std::string Range =
        deviceName(C, Group.front()) + ".." + deviceName(C, Group.back());
    std::optional<int64_t> Layer = Op.Attrs.getInt(ir::AttrKeys::Layer);
    for (const Expert &E : Experts) {
      size_t M = std::min_element(Load.begin(), Load.end()) - Load.begin();
      Load[M] += E.Bytes;
      std::string By =
          llvm::formatv("expert-parallel: expert {0} of layer {1} on {2} "
                        "(experts balanced by bytes over {3})",
                        First + E.Index, Layer.value_or(-1),
                        deviceName(C, Group[M]), Range)
              .str();
      for (unsigned J = 0; J < 3; ++J)
        setPlacement(G.getValue(Op.Operands[2 + 3 * E.Index + J]).Attrs,
                     onDevices({Group[M]}), By);
    }
    return static_cast<int64_t>(Experts.size());
  }
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>> createPlaceExpertsPass(PassOptions &) {
  return std::make_unique<PlaceExpertsPass>();
}

} // namespace strata::passes
