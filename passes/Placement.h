//===- Placement.h - Placement attributes and device loads ------*- C++ -*-===//
//
// The placement passes record their decisions as attributes, so that each
// pass reads what the previous ones decided and lit tests can check it:
//
//   device = 2              the value (or op) lives (runs) on device 2
//   device = "host"/"disk"  an offloaded weight (pinned host memory, mmap)
//   devices = [0, 1, 2, 3]  split over a tensor-parallel group: the value's
//                           shards (or the op's parts) live on these devices
//   placed_by = "..."       which strategy or fallback put it there, and why
//
// This file also computes what a device holds under those attributes:
// weights, KV caches and an activation estimate, against its capacity.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_PLACEMENT_H
#define STRATA_PASSES_PLACEMENT_H

#include "passes/Pass.h"

#include "ir/Graph.h"
#include "ir/Liveness.h"

#include "ir/cluster/Cluster.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <vector>

namespace strata::passes {

namespace PlacementKeys {
inline constexpr llvm::StringLiteral Devices = "devices";
inline constexpr llvm::StringLiteral PlacedBy = "placed_by";
} // namespace PlacementKeys

/// Where a value or op is, as its attributes say.
struct Placement {
  enum class Kind { None, Devices, Host, Disk };
  Kind Where = Kind::None;
  /// One, or a tensor-parallel group; inline, since placements are read
  /// for every buffer on hot paths.
  llvm::SmallVector<unsigned, 8> Devices;

  bool isSplit() const { return Devices.size() > 1; }
};

Placement getPlacement(const ir::AttrDict &A);
void setPlacement(ir::AttrDict &A, const Placement &P, llvm::StringRef By);
inline Placement onDevices(llvm::ArrayRef<unsigned> Ds) {
  return {Placement::Kind::Devices, {Ds.begin(), Ds.end()}};
}

/// Bytes planned on each device, by kind.
struct DeviceLoad {
  uint64_t Weights = 0;
  uint64_t KVCache = 0;
  uint64_t Activations = 0; ///< The device's activation peak, estimated.

  uint64_t total() const { return Weights + KVCache + Activations; }
};

/// What each device holds: a split value counts its share on each device of
/// its group (rounded up), a replicated one its whole size. Activations are
/// estimated from liveness: each program's peak of the buffers made by ops
/// on the device, the larger program's, or the device's floor if larger.
llvm::Expected<std::vector<DeviceLoad>>
computeDeviceLoads(const ir::Graph &G, size_t NumDevices,
                   llvm::ArrayRef<ir::ProgramLiveness> Liveness,
                   llvm::ArrayRef<uint64_t> Floors = {});

/// Each device's usable bytes (capacity less reserve) minus what
/// computeDeviceLoads says it holds, from the context's cached liveness;
/// negative when over-full.
llvm::Expected<std::vector<int64_t>> computeFreeBytes(const ir::Graph &G,
                                                      const cluster::Cluster &C,
                                                      PassContext &Ctx);

/// Member I's elements of a dimension of Dim split over N members: the
/// first Dim % N members get one more. Every split the planner makes
/// follows this one rule, and the plan states each shard's range, so that
/// nothing after the planner applies it again.
struct ShardRange {
  int64_t Begin = 0;
  int64_t Size = 0;
};
ShardRange shardRange(int64_t Dim, unsigned N, unsigned I);

/// Bytes of V that land on each device of a split over Count devices.
uint64_t shareOf(uint64_t Bytes, size_t Count);

/// Whether weight V is split with its tensor-parallel group or copied whole
/// to each member (norms, router biases), by its role (ir/WeightRole.h).
bool isReplicatedUnderTensorParallel(const ir::Graph &G, ir::ValueId V);

/// Whether weight V is split by its input features (columns) under tensor
/// parallelism, by its role: the projections back into the hidden state
/// (attention's output, the FFN's down), whose partial sums need an
/// all-reduce. Everything else split is split by rows.
bool isColumnSplitUnderTensorParallel(const ir::Value &V);

/// The KV caches one attention op reads together (keys and values, or an
/// MLA layer's latent and rope-key caches): they must share a placement,
/// since the op runs where its caches are and a cache is never copied.
/// One list per distinct set, in the order the ops come.
std::vector<std::vector<ir::ValueId>> findKVCacheGroups(const ir::Graph &G);

/// How the layers were spread, read from the placed graph: "tensor" when
/// the ops of a layer run on a group of devices, else "pipeline".
llvm::StringRef describeLayerStrategy(const ir::Graph &G);

/// The device index written as a plan or report names it: "cuda:2", "cpu:0".
std::string deviceName(const cluster::Cluster &C, unsigned D);

} // namespace strata::passes

#endif // STRATA_PASSES_PLACEMENT_H
