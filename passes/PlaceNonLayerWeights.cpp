//===- PlaceNonLayerWeights.cpp - Round-robin with a cost model -----------===//
//
// Weights outside the layers (embeddings, the final norm, lm_head, ...) are
// placed one by one, in declaration order, by a cost-modelled round-robin:
// the devices are visited in turn, starting after the device the previous
// weight went to, and the weight goes to the visited device where the cost
// model predicts its ops finish soonest: their own time on that device plus
// moving their activations to and from the devices of the ops around them.
// A device without room for the weight (after its layers, KV caches and
// activation estimate) is skipped. Ties go to the first device visited, so
// equal devices take turns. Each weight's ops move with it. The tensor-
// parallel groups the layers use are candidates too: a weight split over a
// group (vocab-parallel embeddings and heads) costs a share on each member.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/CostModel.h"
#include "passes/Placement.h"

#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"

#include <limits>
#include <set>

namespace strata::passes {
namespace {

double bytesOf(const ir::Value &V) {
  return static_cast<double>(llvm::cantFail(V.Type.getByteSize()));
}

class PlaceNonLayerWeightsPass : public Pass {
public:
  explicit PlaceNonLayerWeightsPass(bool ByMemory) : ByMemory(ByMemory) {}
  llvm::StringRef getName() const override { return "place-nonlayer"; }

  bool preservesStructure() const override { return true; }
  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto Cl = Ctx.getCluster(getName());
    if (!Cl)
      return Cl.takeError();
    const cluster::Cluster &C = **Cl;
    auto FreeOrErr = computeFreeBytes(G, C, Ctx);
    if (!FreeOrErr)
      return FreeOrErr.takeError();
    std::vector<int64_t> Free = std::move(*FreeOrErr);

    // Candidates: every device, and every tensor-parallel group the layers
    // use (a weight split over a group, vocab-parallel, costs 1/n there).
    std::vector<std::vector<unsigned>> Candidates;
    for (unsigned D = 0; D < C.size(); ++D)
      Candidates.push_back({D});
    std::set<std::vector<unsigned>> Groups;
    for (ir::ValueId V : G.sharedValues()) {
      Placement P = getPlacement(G.getValue(V).Attrs);
      if (P.isSplit())
        Groups.insert(
            std::vector<unsigned>(P.Devices.begin(), P.Devices.end()));
    }
    Candidates.insert(Candidates.end(), Groups.begin(), Groups.end());

    // Balancing memory, the weight goes where the fullest device it touches
    // ends up least full; time breaks ties.
    auto FillAfter = [&](const std::vector<unsigned> &Cand, int64_t Each) {
      double Worst = 0;
      for (unsigned D : Cand) {
        double Usable = static_cast<double>(C.Devices[D].usableBytes());
        Worst = std::max(Worst, 1 - static_cast<double>(Free[D] - Each) /
                                        std::max(1.0, Usable));
      }
      return Worst;
    };

    unsigned Next = 0;
    int64_t Placed = 0;
    for (ir::ValueId V : G.sharedValues()) {
      ir::Value &W = G.getValue(V);
      if (W.Kind != ir::ValueKind::Weight || W.Attrs.get(ir::AttrKeys::Layer))
        continue;
      int64_t Bytes = static_cast<int64_t>(bytesOf(W));
      double BestCost = std::numeric_limits<double>::infinity();
      unsigned Best = Next;
      bool Any = false;
      for (unsigned K = 0; K < Candidates.size(); ++K) {
        unsigned I = (Next + K) % Candidates.size();
        const std::vector<unsigned> &Cand = Candidates[I];
        int64_t Each = Cand.size() > 1 && isReplicatedUnderTensorParallel(G, V)
                           ? Bytes
                           : static_cast<int64_t>(shareOf(Bytes, Cand.size()));
        if (llvm::any_of(Cand, [&](unsigned D) { return Free[D] < Each; }))
          continue;
        double Cost = costOn(G, C, W, Cand);
        if (ByMemory)
          Cost +=
              1e3 * FillAfter(Cand, Each); // Fill dominates, in kiloseconds.
        if (Cost < BestCost) {
          BestCost = Cost;
          Best = I;
          Any = true;
        }
      }
      std::string By;
      if (!Any) {
        // Nowhere has room: the least-full device, for place-fallbacks.
        Best = static_cast<unsigned>(
            std::max_element(Free.begin(), Free.end()) - Free.begin());
        By = "round-robin: no device has room; left on the device with the "
             "most free memory for the fallbacks";
      } else {
        By = ByMemory ? llvm::formatv("round-robin: the {0} left least full "
                                      "(balancing memory)",
                                      Candidates[Best].size() > 1 ? "group"
                                                                  : "device")
                            .str()
                      : llvm::formatv("round-robin: cheapest {0} by the cost "
                                      "model ({1:f1} us for its ops and "
                                      "transfers)",
                                      Candidates[Best].size() > 1 ? "group"
                                                                  : "device",
                                      BestCost * 1e6)
                            .str();
      }
      const std::vector<unsigned> &To = Candidates[Best];
      setPlacement(W.Attrs, onDevices(To), By);
      for (ir::OpId U : W.Users)
        setPlacement(G.getOp(U).Attrs, onDevices(To), "");
      int64_t Each = To.size() > 1 && isReplicatedUnderTensorParallel(G, V)
                         ? Bytes
                         : static_cast<int64_t>(shareOf(Bytes, To.size()));
      for (unsigned D : To)
        Free[D] -= Each;
      Next = (Best + 1) % Candidates.size();
      ++Placed;
    }
    Ctx.addStatistic(getName(), "weights-placed", Placed);
    return llvm::Error::success();
  }

private:
  /// Predicted seconds of W's ops if they ran on the devices To (split
  /// over them when several), including moving their activation operands
  /// from where they are made and their results to where they are used.
  static double costOn(const ir::Graph &G, const cluster::Cluster &C,
                       const ir::Value &W, const std::vector<unsigned> &To) {
    double Seconds = 0;
    double N = static_cast<double>(To.size());
    for (ir::OpId U : W.Users) {
      const ir::Op &Op = G.getOp(U);
      OpCost Cost = computeOpCost(G, Op);
      Cost.Flops /= N;
      Cost.Bytes /= N;
      Seconds += predictSeconds(Cost, C.Devices[To.front()],
                                G.getValue(Op.Result).Type.Elem);
      auto Move = [&](const ir::Op &Other, const ir::Value &Data) {
        Placement P = getPlacement(Other.Attrs);
        if (P.Where != Placement::Kind::Devices ||
            llvm::ArrayRef<unsigned>(P.Devices) == llvm::ArrayRef<unsigned>(To))
          return;
        Seconds +=
            transferSeconds(bytesOf(Data), C.link(P.Devices[0], To.front()));
      };
      for (ir::ValueId In : Op.Operands) {
        const ir::Value &Val = G.getValue(In);
        if (!Val.isDeclared())
          Move(G.getOp(Val.Def), Val);
      }
      const ir::Value &Out = G.getValue(Op.Result);
      for (ir::OpId Next : Out.Users)
        Move(G.getOp(Next), Out);
    }
    return Seconds;
  }

  /// Balance memory fill rather than predicted time, as place-layers did.
  bool ByMemory;
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createPlaceNonLayerWeightsPass(PassOptions &Opts) {
  auto B = Opts.takeChoice("balance", {"time", "memory"}, "time");
  if (!B)
    return B.takeError();
  return std::make_unique<PlaceNonLayerWeightsPass>(*B == "memory");
}

} // namespace strata::passes
