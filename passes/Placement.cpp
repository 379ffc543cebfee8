//===- Placement.cpp - Placement attributes and device loads --------------===//

#include "passes/Placement.h"

#include "ir/Liveness.h"
#include "ir/WeightRole.h"

#include <algorithm>
#include <map>
#include <set>

namespace strata::passes {

Placement getPlacement(const ir::AttrDict &A) {
  Placement P;
  if (const ir::Attribute *D = A.get(ir::AttrKeys::Device)) {
    if (D->isInt() && D->getInt() >= 0) {
      P.Where = Placement::Kind::Devices;
      P.Devices = {static_cast<unsigned>(D->getInt())};
    } else if (D->isString() && D->getString() == "host") {
      P.Where = Placement::Kind::Host;
    } else if (D->isString() && D->getString() == "disk") {
      P.Where = Placement::Kind::Disk;
    }
    return P;
  }
  if (const ir::Attribute *L = A.get(PlacementKeys::Devices);
      L && L->isIntList() && !L->getIntList().empty()) {
    P.Where = Placement::Kind::Devices;
    for (int64_t D : L->getIntList())
      P.Devices.push_back(static_cast<unsigned>(D));
  }
  return P;
}

void setPlacement(ir::AttrDict &A, const Placement &P, llvm::StringRef By) {
  A.erase(ir::AttrKeys::Device);
  A.erase(PlacementKeys::Devices);
  switch (P.Where) {
  case Placement::Kind::None:
    break;
  case Placement::Kind::Host:
    A.set(ir::AttrKeys::Device, "host");
    break;
  case Placement::Kind::Disk:
    A.set(ir::AttrKeys::Device, "disk");
    break;
  case Placement::Kind::Devices:
    if (P.Devices.size() == 1) {
      A.set(ir::AttrKeys::Device, static_cast<int64_t>(P.Devices[0]));
    } else {
      ir::Attribute::IntList L(P.Devices.begin(), P.Devices.end());
      A.set(PlacementKeys::Devices, std::move(L));
    }
    break;
  }
  if (!By.empty())
    A.set(PlacementKeys::PlacedBy, By.str());
}

llvm::Expected<std::vector<int64_t>> computeFreeBytes(const ir::Graph &G,
                                                      const cluster::Cluster &C,
                                                      PassContext &Ctx) {
  auto Live = Ctx.getLiveness(G);
  if (!Live)
    return Live.takeError();
  auto Loads = computeDeviceLoads(G, C.size(), **Live, Ctx.activationFloors());
  if (!Loads)
    return Loads.takeError();
  std::vector<int64_t> Free(C.size());
  for (size_t D = 0; D < C.size(); ++D)
    Free[D] = static_cast<int64_t>(C.Devices[D].usableBytes()) -
              static_cast<int64_t>((*Loads)[D].total());
  return Free;
}

ShardRange shardRange(int64_t Dim, unsigned N, unsigned I) {
  int64_t Each = Dim / N, Extra = Dim % N, Member = I;
  return {Member * Each + std::min(Member, Extra), Each + (Member < Extra)};
}

uint64_t shareOf(uint64_t Bytes, size_t Count) {
  return Count <= 1 ? Bytes : (Bytes + Count - 1) / Count;
}

/// How a tensor-parallel group holds V: as its role says, or for a weight
/// without one (a graph written by hand), whole copies of vectors and row
/// splits of the rest.
static ir::TensorParallelSplit tensorParallelSplit(const ir::Value &V) {
  if (std::optional<ir::WeightRole> R = ir::getWeightRole(V.Attrs))
    return ir::getTensorParallelSplit(*R);
  return V.Type.Dims.rank() == 1 ? ir::TensorParallelSplit::Copied
                                 : ir::TensorParallelSplit::Rows;
}

bool isReplicatedUnderTensorParallel(const ir::Graph &G, ir::ValueId V) {
  return tensorParallelSplit(G.getValue(V)) == ir::TensorParallelSplit::Copied;
}

bool isColumnSplitUnderTensorParallel(const ir::Value &V) {
  return tensorParallelSplit(V) == ir::TensorParallelSplit::Columns;
}

/// The declared value whose memory V is: through in-place updates
/// (kv_append's result is the cache it wrote).
static ir::ValueId declaredBase(const ir::Graph &G, ir::ValueId V) {
  while (!G.getValue(V).isDeclared()) {
    const ir::Op &Def = G.getOp(G.getValue(V).Def);
    int Aliased = ir::getOpInfo(Def.Kind).AliasedOperand;
    if (Aliased < 0)
      break;
    V = Def.Operands[Aliased];
  }
  return V;
}

std::vector<std::vector<ir::ValueId>> findKVCacheGroups(const ir::Graph &G) {
  std::vector<std::vector<ir::ValueId>> Groups;
  std::set<std::vector<ir::ValueId>> Seen;
  for (const ir::Program &P : G.programs())
    for (ir::OpId O : P.Body) {
      const ir::Op &Op = G.getOp(O);
      if (Op.Kind != ir::OpKind::Attention &&
          Op.Kind != ir::OpKind::MLAAttention)
        continue;
      std::vector<ir::ValueId> Caches;
      for (ir::ValueId In : Op.Operands) {
        ir::ValueId Base = declaredBase(G, In);
        if (G.getValue(Base).Kind == ir::ValueKind::KVCache &&
            !llvm::is_contained(Caches, Base))
          Caches.push_back(Base);
      }
      if (Caches.size() > 1 && Seen.insert(Caches).second)
        Groups.push_back(std::move(Caches));
    }
  return Groups;
}

llvm::StringRef describeLayerStrategy(const ir::Graph &G) {
  // Ops, not weights: a fallback may split one weight of a pipeline over a
  // group, but the ops of its layer stay where place-layers put them.
  for (const ir::Program &P : G.programs())
    for (ir::OpId O : P.Body) {
      const ir::AttrDict &A = G.getOp(O).Attrs;
      if (A.get(ir::AttrKeys::Layer) && getPlacement(A).isSplit())
        return "tensor";
    }
  return "pipeline";
}

std::string deviceName(const cluster::Cluster &C, unsigned D) {
  const char *Prefix =
      C.Devices[D].Kind == cluster::DeviceKind::GPU ? "cuda:" : "cpu:";
  return Prefix + std::to_string(D);
}

llvm::Expected<std::vector<DeviceLoad>>
computeDeviceLoads(const ir::Graph &G, size_t NumDevices,
                   llvm::ArrayRef<ir::ProgramLiveness> Liveness,
                   llvm::ArrayRef<uint64_t> Floors) {
  std::vector<DeviceLoad> Loads(NumDevices);
  for (ir::ValueId V : G.sharedValues()) {
    const ir::Value &Val = G.getValue(V);
    Placement P = getPlacement(Val.Attrs);
    if (P.Where != Placement::Kind::Devices)
      continue;
    auto Bytes = Val.Type.getByteSize();
    if (!Bytes)
      return Bytes.takeError();
    uint64_t Each = Val.Kind == ir::ValueKind::Weight &&
                            isReplicatedUnderTensorParallel(G, V)
                        ? *Bytes
                        : shareOf(*Bytes, P.Devices.size());
    for (unsigned D : P.Devices) {
      if (D >= NumDevices)
        continue; // verify-placement reports it.
      (Val.Kind == ir::ValueKind::KVCache ? Loads[D].KVCache
                                          : Loads[D].Weights) += Each;
    }
  }
  // Activations: per program, sweep the live buffers made on each device.
  for (const ir::ProgramLiveness &Live : Liveness) {
    std::vector<std::vector<std::pair<uint32_t, int64_t>>> Events(NumDevices);
    for (const ir::LiveBuffer &B : Live.Buffers) {
      const ir::Value &Val = G.getValue(B.Value);
      // An input lives with its first user.
      const ir::AttrDict *A = nullptr;
      if (!Val.isDeclared())
        A = &G.getOp(Val.Def).Attrs;
      else if (!Val.Users.empty())
        A = &G.getOp(Val.Users.front()).Attrs;
      if (!A)
        continue;
      Placement P = getPlacement(*A);
      for (unsigned D : P.Devices) {
        if (D >= NumDevices)
          continue;
        int64_t Each = static_cast<int64_t>(shareOf(B.Bytes, P.Devices.size()));
        Events[D].push_back({B.First, Each});
        Events[D].push_back({B.Last + 1, -Each});
      }
    }
    for (size_t D = 0; D < NumDevices; ++D) {
      llvm::sort(Events[D]);
      int64_t Live = 0, Peak = 0;
      for (const auto &E : Events[D]) {
        Live += E.second;
        Peak = std::max(Peak, Live);
      }
      Loads[D].Activations =
          std::max<uint64_t>(Loads[D].Activations, static_cast<uint64_t>(Peak));
    }
  }
  // Offloaded weights are staged into the arena of the device that uses
  // them, a layer ahead of their use: about the two largest layers' worth
  // of offloaded weights are there at once.
  // them, a layer ahead of their use: about the two largest layers' worth
  // of them are there at once, per program. A tensor-parallel group stages
  // each member's share of a matrix, whole copies of the rest.
  std::vector<std::map<std::pair<ir::ProgramId, int64_t>, uint64_t>> Staged(
      NumDevices);
  for (ir::ValueId V : G.sharedValues()) {
    const ir::Value &Val = G.getValue(V);
    Placement P = getPlacement(Val.Attrs);
    if (P.Where != Placement::Kind::Host && P.Where != Placement::Kind::Disk)
      continue;
    uint64_t Bytes = llvm::cantFail(Val.Type.getByteSize());
    for (ir::OpId U : Val.Users) {
      const ir::Op &Op = G.getOp(U);
      Placement Where = getPlacement(Op.Attrs);
      int64_t Layer = Op.Attrs.getInt(ir::AttrKeys::Layer).value_or(-1);
      uint64_t Each = Val.Type.Dims.rank() == 2
                          ? shareOf(Bytes, Where.Devices.size())
                          : Bytes;
      for (unsigned D : Where.Devices)
        if (D < NumDevices)
          Staged[D][{Op.Program, Layer}] += Each;
    }
  }
  for (size_t D = 0; D < NumDevices; ++D) {
    std::map<ir::ProgramId, std::pair<uint64_t, uint64_t>> Top; // two largest
    for (const auto &[Key, Bytes] : Staged[D]) {
      auto &[First, Second] = Top[Key.first];
      if (Bytes > First) {
        Second = First;
        First = Bytes;
      } else if (Bytes > Second) {
        Second = Bytes;
      }
    }
    uint64_t Most = 0;
    for (const auto &[Prog, Pair] : Top)
      Most = std::max(Most, Pair.first + Pair.second);
    Loads[D].Activations += Most;
  }
  for (size_t D = 0; D < NumDevices && D < Floors.size(); ++D)
    Loads[D].Activations = std::max(Loads[D].Activations, Floors[D]);
  return Loads;
}

} // namespace strata::passes
