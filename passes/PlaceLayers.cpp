//===- PlaceLayers.cpp - Give each decoder layer its devices --------------===//
//
// Splits the cluster into stages (a device, or a tensor-parallel group of
// devices in one node) and gives each stage a contiguous range of layers,
// balanced by the cost model's predicted decode time under each stage's
// memory, not by layer count: a faster or larger device gets more layers.
//
//   pipeline  one device per stage
//   tensor    the largest group that divides the attention heads, the KV
//             heads and each node's device count; layers split their heads
//             and MLP columns over it (all-reduces after attention and MLP)
//   auto      whichever of the two predicts the faster decode step
//
// With balance=memory the ranges balance memory fill (bytes over capacity)
// instead, for users who would rather fill every device alike.
//
// The balance is a binary search on the slowest stage's time T: stages take
// layers in order while they stay under T and within memory; the smallest
// T with which every layer finds a stage wins. Then the layers are spread
// again under T, each stage stopping at its fair share of what is left, so
// that the slack is spread rather than left to the last stage. Layers that
// fit nowhere go to the last stage, for place-fallbacks to offload.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/WeightRole.h"
#include "passes/CostModel.h"
#include "passes/Placement.h"

#include "ir/Liveness.h"
#include "ir/cluster/Cluster.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace strata::passes {
namespace {

struct LayerInfo {
  std::vector<ir::ValueId> Shared; ///< Weights and KV caches.
  std::vector<ir::OpId> Ops;       ///< In every program.
  uint64_t Bytes = 0;              ///< Weights + KV caches.
  uint64_t KVBytes = 0;            ///< KV caches alone.
};

struct StageCosts;

/// A candidate division of the cluster into stages, with its layers.
struct StagePlan {
  unsigned TP = 1;
  std::vector<std::vector<unsigned>> Stages; ///< Devices of each stage.
  std::vector<unsigned> StageOfLayer;
  double PredictedDecode = 0; ///< Seconds per decode step.
  bool Fits = true;
};

class PlaceLayersPass : public Pass {
public:
  PlaceLayersPass(std::string Strategy, bool ByMemory)
      : Strategy(std::move(Strategy)), ByMemory(ByMemory) {}
  llvm::StringRef getName() const override { return "place-layers"; }
  llvm::Error run(ir::Graph &G, PassContext &Ctx) override;
  bool preservesStructure() const override { return true; }

private:
  llvm::Error collect(const ir::Graph &G,
                      llvm::ArrayRef<ir::ProgramLiveness> Live);
  /// Seconds of the decode ops outside the layers that run on the first
  /// (embedding) or the last stage (final norm, head), on a stage like S.
  double edgeSeconds(const ir::Graph &G, bool First,
                     const std::vector<unsigned> &Stage) const;
  /// Seconds layer L's decode ops take on a stage of TP devices like D.
  double layerSeconds(const ir::Graph &G, unsigned L,
                      const std::vector<unsigned> &Stage) const;
  std::vector<std::vector<unsigned>> makeStages(unsigned TP) const;
  StageCosts stageCosts(const ir::Graph &G, const StagePlan &SP) const;
  double predictDecode(const ir::Graph &G, const StagePlan &SP,
                       const StageCosts &Costs) const;
  /// The stages of TP devices each and their layers, balanced.
  StagePlan partition(const ir::Graph &G, unsigned TP) const;
  unsigned maxTensorParallel(const ir::Graph &G) const;

  std::string Strategy;
  /// Balance memory fill (bytes over capacity) instead of decode time.
  bool ByMemory;
  const cluster::Cluster *C = nullptr;
  std::map<int64_t, LayerInfo> Layers;
  std::vector<unsigned> LayerIds;
  uint64_t ActivationAllowance = 0;   ///< Per device.
  uint64_t FirstStageExtra = 0;       ///< Embeddings, provisionally.
  uint64_t LastStageExtra = 0;        ///< Final norm and head, provisionally.
  double ActivationBytesPerToken = 0; ///< Hidden state crossing stages.
  ir::DType Compute = ir::DType::F32;
  ir::ProgramId Decode = 0;
  unsigned Heads = 0, KVHeads = 0;
};

llvm::Error PlaceLayersPass::collect(const ir::Graph &G,
                                     llvm::ArrayRef<ir::ProgramLiveness> Live) {
  for (ir::ValueId V : G.sharedValues()) {
    const ir::Value &Val = G.getValue(V);
    auto Bytes = Val.Type.getByteSize();
    if (!Bytes)
      return Bytes.takeError();
    if (std::optional<int64_t> L = Val.Attrs.getInt(ir::AttrKeys::Layer)) {
      Layers[*L].Shared.push_back(V);
      Layers[*L].Bytes += *Bytes;
      if (Val.Kind == ir::ValueKind::KVCache)
        Layers[*L].KVBytes += *Bytes;
    } else if (Val.Kind == ir::ValueKind::Weight) {
      // Provisionally: embeddings with the first stage, the rest (final
      // norm, lm_head) with the last; place-nonlayer decides for real.
      bool Embedding =
          ir::getWeightRole(Val.Attrs) == ir::WeightRole::Embedding;
      (Embedding ? FirstStageExtra : LastStageExtra) += *Bytes;
    }
  }
  for (const ir::Program &P : G.programs())
    for (ir::OpId O : P.Body)
      if (std::optional<int64_t> L =
              G.getOp(O).Attrs.getInt(ir::AttrKeys::Layer))
        Layers[*L].Ops.push_back(O);
  for (auto &[L, Info] : Layers)
    LayerIds.push_back(static_cast<unsigned>(L));

  // The decode program, the compute type and the head counts, from the
  // graph itself.
  Decode = G.lookupProgram("decode").value_or(G.programs().size() - 1);
  for (ir::OpId O : G.getProgram(Decode).Body) {
    const ir::Op &Op = G.getOp(O);
    if (Op.Kind == ir::OpKind::Embedding)
      Compute = G.getValue(Op.Result).Type.Elem;
    if ((Op.Kind == ir::OpKind::Attention ||
         Op.Kind == ir::OpKind::MLAAttention) &&
        Heads == 0) {
      Heads = G.getValue(Op.Operands[0]).Type.Dims[2];
      KVHeads = G.getValue(Op.Operands[1]).Type.Dims[2];
    }
    if (Op.Kind == ir::OpKind::Add && ActivationBytesPerToken == 0) {
      const ir::TensorType &T = G.getValue(Op.Result).Type;
      ActivationBytesPerToken = static_cast<double>(
          llvm::cantFail(T.getByteSize()) /
          std::max<uint64_t>(1, T.Dims.numElements() / T.Dims.back()));
    }
  }
  // Each device keeps room for the largest program's activations.
  for (const ir::ProgramLiveness &L : Live)
    ActivationAllowance = std::max(ActivationAllowance, L.PeakBytes);
  return llvm::Error::success();
}

double PlaceLayersPass::layerSeconds(const ir::Graph &G, unsigned L,
                                     const std::vector<unsigned> &Stage) const {
  const cluster::Device &D = C->Devices[Stage.front()];
  double TP = static_cast<double>(Stage.size());
  double Seconds = 0;
  double Tokens = 0;
  for (ir::OpId O : Layers.at(L).Ops) {
    const ir::Op &Op = G.getOp(O);
    if (Op.Program != Decode)
      continue;
    OpCost Cost = computeOpCost(G, Op);
    // Split work divides over the group; each member still launches.
    Cost.Flops /= TP;
    Cost.Bytes /= TP;
    Seconds += predictSeconds(Cost, D, Compute);
    if (Op.Kind == ir::OpKind::RMSNorm && Tokens == 0) {
      const ir::TensorType &T = G.getValue(Op.Result).Type;
      Tokens = static_cast<double>(T.Dims.numElements() / T.Dims.back());
    }
  }
  if (Stage.size() > 1) {
    // Two ring all-reduces of the hidden state per layer: 2 (n-1) steps,
    // each moving 1/n of it.
    const cluster::Link &Link = C->link(Stage[0], Stage[1]);
    double Bytes = Tokens * ActivationBytesPerToken;
    double Steps = 2 * (TP - 1);
    Seconds += 2 * (Steps * Link.Latency + Steps / TP * Bytes / Link.Bandwidth);
  }
  return Seconds;
}

double PlaceLayersPass::edgeSeconds(const ir::Graph &G, bool First,
                                    const std::vector<unsigned> &Stage) const {
  double Seconds = 0;
  for (ir::OpId O : G.getProgram(Decode).Body) {
    const ir::Op &Op = G.getOp(O);
    if (Op.Attrs.get(ir::AttrKeys::Layer) ||
        (Op.Kind == ir::OpKind::Embedding) != First)
      continue;
    OpCost Cost = computeOpCost(G, Op);
    Cost.Flops /= Stage.size();
    Cost.Bytes /= Stage.size();
    Seconds += predictSeconds(Cost, C->Devices[Stage.front()], Compute);
  }
  return Seconds;
}

unsigned PlaceLayersPass::maxTensorParallel(const ir::Graph &) const {
  // Groups live inside a node and must divide each node's devices and the
  // heads, so that every member holds whole heads.
  std::map<unsigned, unsigned> NodeSizes;
  for (const cluster::Device &D : C->Devices)
    ++NodeSizes[D.Node];
  unsigned Best = 1;
  for (unsigned TP = 2; TP <= NodeSizes.begin()->second; ++TP) {
    bool Ok = Heads % TP == 0 && KVHeads % TP == 0;
    for (const auto &[Node, Size] : NodeSizes)
      Ok &= Size % TP == 0;
    // Groups of one kind of device, so that splits are even.
    for (size_t I = 0; Ok && I < C->size(); I += TP)
      for (size_t J = I; J < I + TP; ++J)
        Ok &= C->Devices[J].Name == C->Devices[I].Name;
    if (Ok)
      Best = TP;
  }
  return Best;
}

/// What a partition weighs, per stage: the bytes of layers it can hold,
/// the time each layer takes on it, and the time it spends outside the
/// layers (the embedding on the first, the head on the last).
struct StageCosts {
  std::vector<double> Capacity;
  std::vector<std::vector<double>> Time; ///< [stage][layer]
  std::vector<double> Start;
};

/// Gives layers to stages in order under a time limit: each stage takes
/// layers while it stays under Limit and within its capacity (Bytes per
/// layer). Fair also stops each stage at its fair share of the time left
/// (taking a layer when at least half of it fits under the share), so that
/// the slack is spread rather than left to the last stages. Returns how
/// many layers found no stage.
size_t fillStages(const StageCosts &C, llvm::ArrayRef<uint64_t> Bytes,
                  double Limit, bool Fair, std::vector<unsigned> &Assign) {
  const size_t NS = C.Capacity.size(), NL = Bytes.size();
  Assign.assign(NL, 0);
  size_t L = 0;
  for (size_t S = 0; S < NS && L < NL; ++S) {
    double Share = INFINITY;
    if (Fair && S + 1 < NS) {
      double Left = 0;
      for (size_t K = L; K < NL; ++K)
        Left += C.Time[S][K];
      for (size_t K = S; K < NS; ++K)
        Left += C.Start[K];
      Share = Left / static_cast<double>(NS - S);
    }
    double T = C.Start[S], Mem = 0;
    for (; L < NL; ++L) {
      double LayerMem = static_cast<double>(Bytes[L]);
      if (T + C.Time[S][L] > Limit || Mem + LayerMem > C.Capacity[S] ||
          T + C.Time[S][L] / 2 > Share)
        break;
      T += C.Time[S][L];
      Mem += LayerMem;
      Assign[L] = static_cast<unsigned>(S);
    }
  }
  return NL - L;
}

/// The contiguous layer ranges that minimise the slowest stage's time: a
/// binary search on the limit, then a fair fill under the smallest limit
/// every layer fits under. When the devices cannot hold every layer's
/// weights, the KV caches alone must fit (place-fallbacks offloads
/// weights); if even they do not, stages fill by memory and the rest goes
/// to the last stage (verify-placement reports it). Sets Fits.
std::vector<unsigned> balanceStages(const StageCosts &C,
                                    llvm::ArrayRef<uint64_t> LayerBytes,
                                    llvm::ArrayRef<uint64_t> KVBytes,
                                    bool &Fits) {
  const size_t NS = C.Capacity.size(), NL = LayerBytes.size();
  std::vector<unsigned> Assign;
  llvm::ArrayRef<uint64_t> Bytes = LayerBytes;
  Fits = fillStages(C, Bytes, INFINITY, false, Assign) == 0;
  if (!Fits) {
    Bytes = KVBytes;
    if (fillStages(C, Bytes, INFINITY, false, Assign) != 0) {
      size_t Left = fillStages(C, LayerBytes, INFINITY, false, Assign);
      for (size_t L = NL - Left; L < NL; ++L)
        Assign[L] = static_cast<unsigned>(NS - 1);
      return Assign; // No balancing.
    }
  }
  double Hi = *std::max_element(C.Start.begin(), C.Start.end());
  for (size_t L = 0; L < NL; ++L) {
    double Worst = 0;
    for (size_t S = 0; S < NS; ++S)
      Worst = std::max(Worst, C.Time[S][L]);
    Hi += Worst;
  }
  double Lo = 0;
  std::vector<unsigned> Trial;
  for (int Iter = 0; Iter < 60; ++Iter) {
    double Mid = (Lo + Hi) / 2;
    (fillStages(C, Bytes, Mid, false, Trial) == 0 ? Hi : Lo) = Mid;
  }
  if (fillStages(C, Bytes, Hi, true, Assign) != 0)
    fillStages(C, Bytes, Hi, false, Assign);
  return Assign;
}

std::vector<std::vector<unsigned>>
PlaceLayersPass::makeStages(unsigned TP) const {
  std::vector<std::vector<unsigned>> Stages;
  for (size_t I = 0; I < C->size(); I += TP) {
    std::vector<unsigned> Stage(TP);
    std::iota(Stage.begin(), Stage.end(), static_cast<unsigned>(I));
    Stages.push_back(std::move(Stage));
  }
  return Stages;
}

StageCosts PlaceLayersPass::stageCosts(const ir::Graph &G,
                                       const StagePlan &SP) const {
  size_t NS = SP.Stages.size(), NL = LayerIds.size();
  double TP = static_cast<double>(SP.TP);
  StageCosts Costs;
  Costs.Capacity.resize(NS);
  Costs.Time.resize(NS);
  Costs.Start.assign(NS, 0);
  // Stages of the same device kind and size take the same time per layer.
  std::map<std::string, std::vector<double>> TimesByDevice;
  for (size_t S = 0; S < NS; ++S) {
    uint64_t Usable = UINT64_MAX;
    for (unsigned D : SP.Stages[S])
      Usable = std::min(Usable, C->Devices[D].usableBytes());
    double Cap = static_cast<double>(Usable) * TP -
                 static_cast<double>(ActivationAllowance) * TP;
    if (S == 0)
      Cap -= static_cast<double>(FirstStageExtra);
    if (S == NS - 1)
      Cap -= static_cast<double>(LastStageExtra);
    Costs.Capacity[S] = std::max(0.0, Cap);
    std::string Key =
        C->Devices[SP.Stages[S][0]].Name + "/" + std::to_string(SP.TP);
    auto It = TimesByDevice.find(Key);
    if (It == TimesByDevice.end()) {
      std::vector<double> Ts(NL);
      for (size_t L = 0; L < NL; ++L)
        Ts[L] = layerSeconds(G, LayerIds[L], SP.Stages[S]);
      It = TimesByDevice.emplace(Key, std::move(Ts)).first;
    }
    Costs.Time[S] = It->second;
    if (ByMemory)
      // "Time" becomes the share of the stage's memory a layer fills.
      for (size_t L = 0; L < NL; ++L)
        Costs.Time[S][L] = static_cast<double>(Layers.at(LayerIds[L]).Bytes) /
                           std::max(1.0, Costs.Capacity[S]);
  }
  // The first and last stages also run the ops outside the layers.
  if (!ByMemory) {
    Costs.Start[0] += edgeSeconds(G, /*First=*/true, SP.Stages[0]);
    Costs.Start[NS - 1] += edgeSeconds(G, /*First=*/false, SP.Stages[NS - 1]);
  }
  return Costs;
}

double PlaceLayersPass::predictDecode(const ir::Graph &G, const StagePlan &SP,
                                      const StageCosts &Costs) const {
  // A decode step runs the stages one after another, passing the hidden
  // state across each boundary.
  std::vector<double> StageTime = Costs.Start;
  for (size_t L = 0; L < LayerIds.size(); ++L) {
    unsigned S = SP.StageOfLayer[L];
    StageTime[S] += ByMemory ? layerSeconds(G, LayerIds[L], SP.Stages[S])
                             : Costs.Time[S][L];
  }
  double Seconds = std::accumulate(StageTime.begin(), StageTime.end(), 0.0);
  for (size_t L = 1; L < LayerIds.size(); ++L)
    if (SP.StageOfLayer[L] != SP.StageOfLayer[L - 1])
      Seconds += transferSeconds(ActivationBytesPerToken,
                                 C->link(SP.Stages[SP.StageOfLayer[L - 1]][0],
                                         SP.Stages[SP.StageOfLayer[L]][0]));
  return Seconds;
}

StagePlan PlaceLayersPass::partition(const ir::Graph &G, unsigned TP) const {
  StagePlan SP;
  SP.TP = TP;
  SP.Stages = makeStages(TP);
  StageCosts Costs = stageCosts(G, SP);
  std::vector<uint64_t> LayerBytes, KVBytes;
  for (unsigned L : LayerIds) {
    LayerBytes.push_back(Layers.at(L).Bytes);
    KVBytes.push_back(Layers.at(L).KVBytes);
  }
  SP.StageOfLayer = balanceStages(Costs, LayerBytes, KVBytes, SP.Fits);
  SP.PredictedDecode = predictDecode(G, SP, Costs);
  return SP;
}

std::string describeDevices(const cluster::Cluster &C,
                            const std::vector<unsigned> &Ds) {
  if (Ds.size() == 1)
    return deviceName(C, Ds[0]);
  return deviceName(C, Ds.front()) + ".." + deviceName(C, Ds.back());
}

llvm::Error PlaceLayersPass::run(ir::Graph &G, PassContext &Ctx) {
  auto Cl = Ctx.getCluster(getName());
  if (!Cl)
    return Cl.takeError();
  C = *Cl;
  if (C->size() == 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the cluster has no devices");
  auto Live = Ctx.getLiveness(G);
  if (!Live)
    return Live.takeError();
  if (llvm::Error E = collect(G, **Live))
    return E;

  StagePlan Chosen;
  unsigned TP = Heads == 0 ? 1 : maxTensorParallel(G);
  if (Strategy == "pipeline" || TP == 1) {
    // Without a tensor-parallel degree that fits, every strategy is a
    // pipeline.
    Chosen = partition(G, 1);
  } else {
    StagePlan Tensor = partition(G, TP);
    if (Strategy == "tensor") {
      Chosen = std::move(Tensor);
    } else {
      // auto: the faster predicted decode step; a plan that fits first.
      StagePlan Pipeline = partition(G, 1);
      bool TensorBetter =
          TP > 1 && (Tensor.Fits > Pipeline.Fits ||
                     (Tensor.Fits == Pipeline.Fits &&
                      Tensor.PredictedDecode < Pipeline.PredictedDecode));
      Chosen = TensorBetter ? std::move(Tensor) : std::move(Pipeline);
    }
  }
  const char *Balance = ByMemory ? "memory fill" : "predicted decode time";

  // Record the decision on every layer's values and ops.
  for (size_t I = 0; I < LayerIds.size(); ++I) {
    unsigned S = Chosen.StageOfLayer[I];
    const std::vector<unsigned> &Devs = Chosen.Stages[S];
    size_t First = I, Last = I;
    while (First > 0 && Chosen.StageOfLayer[First - 1] == S)
      --First;
    while (Last + 1 < LayerIds.size() && Chosen.StageOfLayer[Last + 1] == S)
      ++Last;
    std::string By =
        Chosen.TP > 1
            ? llvm::formatv("tensor: layers {0}-{1} split over {2} "
                            "(balanced by {3})",
                            LayerIds[First], LayerIds[Last],
                            describeDevices(*C, Devs), Balance)
                  .str()
            : llvm::formatv("pipeline: layers {0}-{1} on {2} (balanced by "
                            "{3})",
                            LayerIds[First], LayerIds[Last],
                            describeDevices(*C, Devs), Balance)
                  .str();
    const LayerInfo &Info = Layers.at(LayerIds[I]);
    for (ir::ValueId V : Info.Shared)
      setPlacement(G.getValue(V).Attrs, onDevices(Devs), By);
    for (ir::OpId O : Info.Ops)
      setPlacement(G.getOp(O).Attrs, onDevices(Devs), "");
  }
  // Ops outside the layers run next to their neighbours: the embedding
  // with the first stage, the rest with the last (place-nonlayer refines).
  for (const ir::Program &P : G.programs())
    for (ir::OpId O : P.Body) {
      ir::Op &Op = G.getOp(O);
      if (Op.Attrs.get(ir::AttrKeys::Layer))
        continue;
      bool Head = Op.Kind != ir::OpKind::Embedding;
      const std::vector<unsigned> &Devs =
          Chosen.Stages[Head && !LayerIds.empty()
                            ? Chosen.StageOfLayer.back()
                            : (LayerIds.empty() ? 0
                                                : Chosen.StageOfLayer.front())];
      setPlacement(Op.Attrs, onDevices(Devs), "");
    }

  Ctx.addStatistic(getName(), "stages", Chosen.Stages.size());
  Ctx.addStatistic(getName(), "tensor-parallel", Chosen.TP);
  Ctx.addStatistic(getName(), "layers", LayerIds.size());
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::unique_ptr<Pass>> createPlaceLayersPass(PassOptions &Opts) {
  auto S = Opts.takeChoice("strategy", {"auto", "pipeline", "tensor"}, "auto");
  if (!S)
    return S.takeError();
  auto B = Opts.takeChoice("balance", {"time", "memory"}, "time");
  if (!B)
    return B.takeError();
  return std::make_unique<PlaceLayersPass>(*S, *B == "memory");
}

} // namespace strata::passes
