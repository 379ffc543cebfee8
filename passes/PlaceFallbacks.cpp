//===- PlaceFallbacks.cpp - Move what does not fit ------------------------===//
//
// After the strategies, a device may hold more than it can: its weights,
// KV caches, activation estimate and runtime reserve over its capacity.
// Tensors are moved off it, most movable first (weights outside the layers,
// then the last layers' weights, largest first, then KV caches), each by
// the first fallback that works:
//
//   next-device  another device with room, the fastest link away first
//   shard        split over several devices of the node with room
//   host         pinned host memory (weights only; not with no-offload)
//   disk         read through mmap (weights only; not with no-offload)
//
// Each fallback taken is recorded with its reason. A device still over
// capacity afterwards is reported by verify-placement.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/Placement.h"

#include "ir/Units.h"
#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace strata::passes {
namespace {

class PlaceFallbacksPass : public Pass {
public:
  explicit PlaceFallbacksPass(bool Offload) : Offload(Offload) {}
  llvm::StringRef getName() const override { return "place-fallbacks"; }

  bool preservesStructure() const override { return true; }
  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto Cl = Ctx.getCluster(getName());
    if (!Cl)
      return Cl.takeError();
    const cluster::Cluster &C = **Cl;
    std::vector<int64_t> HostFree(C.numNodes(),
                                  static_cast<int64_t>(C.HostBytesPerNode));
    int64_t Moves = 0;
    // Offloading a weight makes its device stage it while it is used, so
    // the free space is measured again after each round of moves, until
    // every device fits or nothing more moves.
    for (int Round = 0; Round < 8; ++Round) {
      auto FreeOrErr = computeFreeBytes(G, C, Ctx);
      if (!FreeOrErr)
        return FreeOrErr.takeError();
      std::vector<int64_t> Free = std::move(*FreeOrErr);
      int64_t Before = Moves;
      moveUntilFits(G, Ctx, C, Free, HostFree, Moves);
      if (Moves == Before)
        break;
    }
    Ctx.addStatistic(getName(), "fallbacks", Moves);
    return llvm::Error::success();
  }

private:
  /// What moves with V: the KV caches read by the same attention and
  /// placed as V is (the attention runs where they are), or V alone.
  static std::vector<ir::ValueId>
  movedTogether(const ir::Graph &G,
                const std::vector<std::vector<ir::ValueId>> &Groups,
                ir::ValueId V) {
    Placement Home = getPlacement(G.getValue(V).Attrs);
    for (const std::vector<ir::ValueId> &Group : Groups) {
      if (!llvm::is_contained(Group, V))
        continue;
      std::vector<ir::ValueId> Unit = {V};
      for (ir::ValueId M : Group) {
        Placement P = getPlacement(G.getValue(M).Attrs);
        if (M != V && P.Where == Home.Where && P.Devices == Home.Devices)
          Unit.push_back(M);
      }
      return Unit;
    }
    return {V};
  }

  void moveUntilFits(ir::Graph &G, PassContext &Ctx, const cluster::Cluster &C,
                     std::vector<int64_t> &Free, std::vector<int64_t> &HostFree,
                     int64_t &Moves) {
    const std::vector<std::vector<ir::ValueId>> Groups = findKVCacheGroups(G);
    for (unsigned D = 0; D < C.size(); ++D) {
      if (Free[D] >= 0)
        continue;
      for (ir::ValueId V : candidates(G, D)) {
        if (Free[D] >= 0)
          break;
        Placement From = getPlacement(G.getValue(V).Attrs);
        if (!llvm::is_contained(From.Devices, D))
          continue; // moved already, with a cache of its group
        std::vector<ir::ValueId> Unit = movedTogether(G, Groups, V);
        Moves += moveUnit(G, Ctx, C, D, Unit, Free, HostFree);
      }
    }
  }

  /// Moves Unit (one tensor, or the caches of one attention) off device D
  /// by the first fallback that works; returns how many tensors moved.
  int64_t moveUnit(ir::Graph &G, PassContext &Ctx, const cluster::Cluster &C,
                   unsigned D, llvm::ArrayRef<ir::ValueId> Unit,
                   std::vector<int64_t> &Free, std::vector<int64_t> &HostFree) {
    const ir::Value &Val = G.getValue(Unit.front());
    // A tensor split with a tensor-parallel group leaves every member
    // when it goes: only host and disk can take it whole.
    Placement From = getPlacement(Val.Attrs);
    bool Split = From.isSplit();
    int64_t Bytes = 0, Each = 0;
    for (ir::ValueId U : Unit) {
      int64_t B = static_cast<int64_t>(
          llvm::cantFail(G.getValue(U).Type.getByteSize()));
      Bytes += B;
      Each += Split && G.getValue(U).Kind == ir::ValueKind::Weight &&
                      isReplicatedUnderTensorParallel(G, U)
                  ? B
                  : static_cast<int64_t>(shareOf(B, From.Devices.size()));
    }
    std::string Over =
        llvm::formatv("{0} is over capacity by {1}", deviceName(C, D),
                      ir::formatBytes(-Free[D]))
            .str();
    if (Unit.size() > 1) {
      std::string Names;
      for (ir::ValueId U : Unit)
        Names += (Names.empty() ? "" : ", ") + G.getValue(U).Name;
      Over += " (" + Names + " move together: one attention reads them)";
    }
    std::optional<unsigned> To;
    std::vector<unsigned> Group;
    if (!Split) {
      To = nextDevice(C, Free, D, Bytes);
      if (!To)
        Group = shardGroup(C, Free, D, Bytes, splitUnits(Val));
    }
    auto MoveAll = [&](const Placement &Dest, plan::FallbackKind K,
                       const std::string &Reason) {
      for (ir::ValueId U : Unit)
        move(G, Ctx, U, Dest, K, Reason);
    };
    if (To) {
      MoveAll(onDevices({*To}), plan::FallbackKind::NextDevice,
              Over + "; moved to " + deviceName(C, *To) + ", which has " +
                  ir::formatBytes(Free[*To]) + " free");
      Free[*To] -= Bytes;
    } else if (!Group.empty()) {
      std::string Names;
      for (unsigned M : Group)
        Names += (Names.empty() ? "" : ", ") + deviceName(C, M);
      MoveAll(onDevices(Group), plan::FallbackKind::Shard,
              Over + "; no device has room for all " + ir::formatBytes(Bytes) +
                  ", so it is split over " + Names);
      for (unsigned M : Group)
        Free[M] -= static_cast<int64_t>(shareOf(Bytes, Group.size()));
    } else if (Offload && Val.Kind == ir::ValueKind::Weight &&
               HostFree[C.Devices[D].Node] >= Bytes) {
      MoveAll({Placement::Kind::Host, {}}, plan::FallbackKind::Host,
              Over + "; no device has room, so it stays in pinned host "
                     "memory and is streamed in for its ops");
      HostFree[C.Devices[D].Node] -= Bytes;
    } else if (Offload && Val.Kind == ir::ValueKind::Weight) {
      MoveAll({Placement::Kind::Disk, {}}, plan::FallbackKind::Disk,
              Over + "; neither devices nor pinned host memory have room, "
                     "so it is read from disk through mmap");
    } else {
      return 0; // Nothing can take it; verify-placement will say so.
    }
    for (unsigned M : From.Devices)
      Free[M] += Each;
    return static_cast<int64_t>(Unit.size());
  }

  /// Values on device D (alone or as part of a split), most movable first.
  static std::vector<ir::ValueId> candidates(const ir::Graph &G, unsigned D) {
    struct Candidate {
      int Rank;
      int64_t Layer;
      uint64_t Bytes;
      ir::ValueId V;
    };
    std::vector<Candidate> Cs;
    for (ir::ValueId V : G.sharedValues()) {
      const ir::Value &Val = G.getValue(V);
      Placement P = getPlacement(Val.Attrs);
      if (P.Where != Placement::Kind::Devices ||
          !llvm::is_contained(P.Devices, D))
        continue;
      std::optional<int64_t> L = Val.Attrs.getInt(ir::AttrKeys::Layer);
      int Rank = Val.Kind == ir::ValueKind::KVCache ? 2 : (L ? 1 : 0);
      Cs.push_back(
          {Rank, L.value_or(0), llvm::cantFail(Val.Type.getByteSize()), V});
    }
    // Non-layer weights, then layer weights from the last layer back, then
    // caches; largest first within each; ties by id (reproducible).
    llvm::sort(Cs, [](const Candidate &A, const Candidate &B) {
      return std::make_tuple(A.Rank, -A.Layer, -static_cast<int64_t>(A.Bytes),
                             A.V) <
             std::make_tuple(B.Rank, -B.Layer, -static_cast<int64_t>(B.Bytes),
                             B.V);
    });
    std::vector<ir::ValueId> Out;
    for (const Candidate &C : Cs)
      Out.push_back(C.V);
    return Out;
  }

  /// Another device with room, the fastest link away first, then by index.
  static std::optional<unsigned> nextDevice(const cluster::Cluster &C,
                                            const std::vector<int64_t> &Free,
                                            unsigned From, int64_t Bytes) {
    std::optional<unsigned> Best;
    for (unsigned D = 0; D < C.size(); ++D) {
      if (D == From || Free[D] < Bytes)
        continue;
      if (!Best || C.link(From, D).Bandwidth > C.link(From, *Best).Bandwidth)
        Best = D;
    }
    return Best;
  }

  /// The fewest devices of From's node (most free first, From itself
  /// included once the tensor leaves it) whose free memory holds Bytes
  /// split evenly; empty if none.
  /// How many whole pieces V splits into: a KV cache's heads, a weight's
  /// rows.
  static int64_t splitUnits(const ir::Value &V) {
    const ir::Shape &S = V.Type.Dims;
    if (V.Kind == ir::ValueKind::KVCache)
      return S.rank() == 4 ? S[2] : 1;
    return S.rank() ? S[0] : 1;
  }

  static std::vector<unsigned> shardGroup(const cluster::Cluster &C,
                                          const std::vector<int64_t> &Free,
                                          unsigned From, int64_t Bytes,
                                          int64_t Units) {
    // The tensor's own device may keep a share of it too.
    std::vector<int64_t> Room = Free;
    Room[From] += Bytes;
    std::vector<unsigned> Others;
    for (unsigned D = 0; D < C.size(); ++D)
      if (C.Devices[D].Node == C.Devices[From].Node && Room[D] > 0)
        Others.push_back(D);
    llvm::stable_sort(
        Others, [&](unsigned A, unsigned B) { return Room[A] > Room[B]; });
    for (size_t N = 2; N <= Others.size(); ++N) {
      if (Units % static_cast<int64_t>(N) != 0)
        continue; // Whole heads (or rows) per device.
      int64_t Share = static_cast<int64_t>(shareOf(Bytes, N));
      if (Room[Others[N - 1]] >= Share) {
        std::vector<unsigned> Group(Others.begin(), Others.begin() + N);
        llvm::sort(Group);
        return Group;
      }
    }
    return {};
  }

  static void move(ir::Graph &G, PassContext &Ctx, ir::ValueId V,
                   const Placement &To, plan::FallbackKind Kind,
                   const std::string &Reason) {
    ir::Value &Val = G.getValue(V);
    setPlacement(Val.Attrs, To,
                 ("fallback " + plan::getKindName(Kind) + ": " + Reason).str());
    Ctx.addFallback({Val.Name, Kind, Reason});
  }

  bool Offload;
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createPlaceFallbacksPass(PassOptions &Opts) {
  auto Offload = Opts.takeBool("offload", true);
  if (!Offload)
    return Offload.takeError();
  return std::make_unique<PlaceFallbacksPass>(*Offload);
}

} // namespace strata::passes
