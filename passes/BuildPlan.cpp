//===- BuildPlan.cpp - The placed graph as a plan -------------------------===//

#include "passes/BuildPlan.h"

#include "ir/WeightRole.h"
#include "passes/CostModel.h"
#include "passes/Placement.h"
#include "passes/memory/MemoryPlan.h"
#include "passes/schedule/Schedule.h"
#include "passes/schedule/SyncPoints.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

namespace strata::passes {
namespace {

llvm::Error planError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// The axis a tensor-parallel split cuts: columns (the input features) of
/// projections back into the hidden state, heads of KV caches, rows (the
/// output features) of everything else.
int64_t splitAxis(const ir::Value &V) {
  if (V.Kind == ir::ValueKind::KVCache)
    return 2;
  return isColumnSplitUnderTensorParallel(V) ? 1 : 0;
}

/// The plan's name for a cluster device's kind.
plan::DeviceKind planDeviceKind(cluster::DeviceKind K) {
  switch (K) {
  case cluster::DeviceKind::GPU:
    return plan::DeviceKind::GPU;
  case cluster::DeviceKind::CPU:
    return plan::DeviceKind::CPU;
  }
  llvm_unreachable("unknown device kind");
}

/// Seconds the ops of one program take in sequence, each on its devices,
/// with transfers where an operand was made elsewhere and offloaded weights
/// streamed in; and each device's share.
double predictProgram(const ir::Graph &G, const cluster::Cluster &C,
                      ir::ProgramId P, std::vector<double> &PerDevice) {
  double Total = 0;
  for (ir::OpId O : G.getProgram(P).Body) {
    const ir::Op &Op = G.getOp(O);
    Placement Where = getPlacement(Op.Attrs);
    if (Where.Devices.empty())
      Where.Devices = {0};
    double N = static_cast<double>(Where.Devices.size());
    OpCost Cost = computeOpCost(G, Op);
    Cost.Flops /= N;
    Cost.Bytes /= N;
    const cluster::Device &D = C.Devices[Where.Devices[0]];
    double Seconds = predictSeconds(Cost, D, G.getValue(Op.Result).Type.Elem);
    if (Op.Kind == ir::OpKind::AllReduce && Where.Devices.size() > 1) {
      // A ring: 2 (n - 1) steps, each moving 1/n of the tensor.
      const cluster::Link &L = C.link(Where.Devices[0], Where.Devices[1]);
      double Bytes = static_cast<double>(
          llvm::cantFail(G.getValue(Op.Result).Type.getByteSize()));
      double Steps = 2 * (N - 1);
      Seconds = Steps * L.Latency + Steps / N * Bytes / L.Bandwidth;
    }
    for (ir::ValueId In : Op.Operands) {
      const ir::Value &Val = G.getValue(In);
      double Bytes =
          static_cast<double>(llvm::cantFail(Val.Type.getByteSize()));
      if (Val.isShared()) {
        Placement W = getPlacement(Val.Attrs);
        if (W.Where == Placement::Kind::Host)
          Seconds += transferSeconds(Bytes, C.HostLinks[Where.Devices[0]]);
        else if (W.Where == Placement::Kind::Disk)
          Seconds += C.DiskBandwidth > 0 ? Bytes / C.DiskBandwidth : 0;
        continue;
      }
      if (Val.isDeclared())
        continue;
      // Placements list their devices in order, so equal lists mean the
      // data is already where the op runs.
      Placement From = getPlacement(G.getOp(Val.Def).Attrs);
      if (From.Devices.empty() || From.Devices == Where.Devices)
        continue;
      Seconds +=
          transferSeconds(Bytes, C.link(From.Devices[0], Where.Devices[0]));
    }
    Total += Seconds;
    for (unsigned Dv : Where.Devices)
      PerDevice[Dv] += Seconds;
  }
  return Total;
}

} // namespace

std::string fingerprintGraph(const ir::Graph &G) {
  std::vector<plan::WeightSignature> Sigs;
  for (ir::ValueId V : G.sharedValues()) {
    const ir::Value &Val = G.getValue(V);
    if (Val.Kind != ir::ValueKind::Weight)
      continue;
    Sigs.push_back({Val.Name, ir::getDTypeName(Val.Type.Elem).str(),
                    std::vector<int64_t>(Val.Type.Dims.dims().begin(),
                                         Val.Type.Dims.dims().end())});
  }
  return plan::planFingerprint(Sigs);
}

/// Runs Stage and records its wall time as the pass manager records a
/// pass's, so that --time-passes lists it too.
template <typename StageT>
static llvm::Error timeStage(PassContext &Ctx, llvm::StringRef Name,
                             StageT Stage) {
  StageTimer Timer;
  llvm::Error E = Stage();
  Ctx.addStatistic(Name, TimeStatistic, Timer.elapsedMicroseconds());
  return E;
}

/// The cluster as the plan records it: its spec, its whole description,
/// and each device with its capacity and reserve.
static void describeCluster(const cluster::Cluster &C, plan::Plan &P) {
  P.ClusterSpec = C.Spec;
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << cluster::clusterToJSON(C);
  P.ClusterJSON = OS.str();
  for (const cluster::Device &D : C.Devices) {
    plan::Device PD;
    PD.Index = D.Index;
    PD.Kind = planDeviceKind(D.Kind);
    PD.Name = D.Name;
    PD.Node = D.Node;
    PD.CapacityBytes = D.CapacityBytes;
    PD.ReserveBytes = D.ReserveBytes;
    P.Devices.push_back(std::move(PD));
  }
}

/// Weight or KV cache V as plan buffers: one off-device, one per device of
/// a copy, one per shard of a split (each with its exact range and bytes).
/// Adds each one's bytes to its device and the device to Used.
static llvm::Error addSharedBuffers(const ir::Graph &G, ir::ValueId V,
                                    size_t NumDevices, plan::Plan &P,
                                    std::set<unsigned> &Used) {
  const ir::Value &Val = G.getValue(V);
  Placement Where = getPlacement(Val.Attrs);
  plan::Buffer B;
  B.Name = Val.Name;
  B.Kind = Val.Kind == ir::ValueKind::KVCache ? plan::BufferKind::KVCache
                                              : plan::BufferKind::Weight;
  B.DType = ir::getDTypeName(Val.Type.Elem).str();
  B.Layer = Val.Attrs.getInt(ir::AttrKeys::Layer);
  if (std::optional<ir::WeightRole> R = ir::getWeightRole(Val.Attrs))
    B.Role = ir::getWeightRoleFamily(*R).str();
  B.PlacedBy =
      std::string(Val.Attrs.getString(PlacementKeys::PlacedBy).value_or(""));
  B.Shape.assign(Val.Type.Dims.dims().begin(), Val.Type.Dims.dims().end());
  uint64_t Whole = llvm::cantFail(Val.Type.getByteSize());
  switch (Where.Where) {
  case Placement::Kind::None:
    return planError("tensor '" + Val.Name + "' was not placed");
  case Placement::Kind::Host:
  case Placement::Kind::Disk:
    B.Where = Where.Where == Placement::Kind::Host ? plan::Location::host()
                                                   : plan::Location::disk();
    B.Bytes = Whole;
    P.Buffers.push_back(std::move(B));
    return llvm::Error::success();
  case Placement::Kind::Devices:
    break;
  }
  unsigned Count = Where.Devices.size();
  bool Copies = Count > 1 && Val.Kind == ir::ValueKind::Weight &&
                isReplicatedUnderTensorParallel(G, V);
  int64_t Axis = Copies ? -1 : splitAxis(Val);
  for (unsigned I = 0; I < Count; ++I) {
    plan::Buffer S = B;
    unsigned D = Where.Devices[I];
    if (D >= NumDevices)
      return planError("tensor '" + Val.Name + "' is on device " +
                       llvm::Twine(D) + ", which does not exist");
    S.Where = plan::Location::device(D);
    Used.insert(D);
    S.Bytes = Whole;
    if (Count > 1 && Copies) {
      S.ShardInfo = plan::Shard{I, Count, -1, 0, 0};
    } else if (Count > 1) {
      ShardRange R = shardRange(S.Shape[Axis], Count, I);
      S.Shape[Axis] = R.Size;
      S.ShardInfo = plan::Shard{I, Count, Axis, R.Begin, R.Size};
      auto Shape = ir::Shape::get(S.Shape);
      if (!Shape)
        return Shape.takeError();
      auto Bytes = ir::getByteSize(Val.Type.Elem, Shape->numElements());
      if (!Bytes)
        return planError("tensor '" + Val.Name + "' cannot be split " +
                         llvm::Twine(Count) +
                         " ways: " + toString(Bytes.takeError()));
      S.Bytes = *Bytes;
    }
    (Val.Kind == ir::ValueKind::KVCache ? P.Devices[D].KVCacheBytes
                                        : P.Devices[D].WeightBytes) += S.Bytes;
    P.Buffers.push_back(std::move(S));
  }
  return llvm::Error::success();
}

/// The cost model's figures: each device's activation estimate (until the
/// memory plan makes it exact) and predicted prefill and decode times.
static llvm::Error predict(const ir::Graph &G, const cluster::Cluster &C,
                           PassContext &Ctx, plan::Plan &P) {
  auto Live = Ctx.getLiveness(G);
  if (!Live)
    return Live.takeError();
  auto Loads = computeDeviceLoads(G, C.size(), **Live);
  if (!Loads)
    return Loads.takeError();
  for (size_t D = 0; D < C.size(); ++D)
    P.Devices[D].ActivationBytes = (*Loads)[D].Activations;

  std::vector<double> Prefill(C.size(), 0), Decode(C.size(), 0);
  if (std::optional<ir::ProgramId> Pre = G.lookupProgram("prefill"))
    P.Predicted.PrefillSeconds = predictProgram(G, C, *Pre, Prefill);
  if (std::optional<ir::ProgramId> Dec = G.lookupProgram("decode"))
    P.Predicted.DecodeSecondsPerStep = predictProgram(G, C, *Dec, Decode);
  if (P.Predicted.DecodeSecondsPerStep > 0)
    P.Predicted.DecodeTokensPerSecond =
        static_cast<double>(P.Opts.Batch) / P.Predicted.DecodeSecondsPerStep;
  for (size_t D = 0; D < C.size(); ++D) {
    P.Devices[D].PrefillSeconds = Prefill[D];
    P.Devices[D].DecodeSeconds = Decode[D];
  }
  return llvm::Error::success();
}

llvm::Expected<plan::Plan> buildPlan(const ir::Graph &G,
                                     const cluster::Cluster &C,
                                     PassContext &Ctx, plan::ModelInfo Model,
                                     plan::Options Opts) {
  plan::Plan P;
  P.Model = std::move(Model);
  P.Opts = std::move(Opts);
  describeCluster(C, P);
  std::set<unsigned> Used;
  for (ir::ValueId V : G.sharedValues())
    if (llvm::Error E = addSharedBuffers(G, V, C.size(), P, Used))
      return E;
  if (llvm::Error E = predict(G, C, Ctx, P))
    return E;
  P.MultiDevice = Used.size() > 1;
  P.Strategy = P.MultiDevice ? describeLayerStrategy(G).str() : "single-device";
  for (const FallbackRecord &F : Ctx.fallbacks())
    P.Fallbacks.push_back({F.Tensor, F.Kind, F.Reason});

  // The steps, then where their buffers go, then who waits for whom (the
  // waits depend on which buffers share bytes).
  if (llvm::Error E = timeStage(Ctx, "build-schedules",
                                [&] { return buildSchedules(G, P); }))
    return E;
  if (llvm::Error E =
          timeStage(Ctx, "plan-memory", [&] { return planMemory(P); }))
    return E;
  if (llvm::Error E = timeStage(Ctx, "insert-sync-points",
                                [&] { return insertSyncPoints(P); }))
    return E;
  return P;
}

} // namespace strata::passes
