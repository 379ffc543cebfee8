//===- CostModel.h - Predicted time of ops and transfers --------*- C++ -*-===//
//
// A roofline model: an op takes the larger of its FLOPs over the device's
// peak and its bytes moved over the device's memory bandwidth, plus a launch
// overhead; a transfer takes the link's latency plus bytes over bandwidth.
// Costs are computed for the worst case a plan must hold: attention reads
// the whole KV cache (the context the plan was made for).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_COSTMODEL_H
#define STRATA_PASSES_COSTMODEL_H

#include "ir/Graph.h"
#include "ir/cluster/Cluster.h"

namespace strata::passes {

struct OpCost {
  double Flops = 0; ///< Floating-point operations.
  double Bytes = 0; ///< Bytes read and written in device memory.
  /// Bytes of the weights it reads (a subset of Bytes): what sharding the
  /// op over devices divides.
  double WeightBytes = 0;
};

/// Per-op launch overheads (seconds): a kernel launch on a GPU (HARDWARE.md
/// section 4: 2.9-3.8 us eagerly, ~1.3 us inside a CUDA graph; the eager
/// figure, as a plan must hold without graphs), and a task hand-off on a
/// CPU worker.
inline constexpr double GPULaunchSeconds = 4e-6;
inline constexpr double CPULaunchSeconds = 1e-6;

OpCost computeOpCost(const ir::Graph &G, const ir::Op &O);

/// Seconds op cost C takes on device D when its inputs are of type T.
double predictSeconds(const OpCost &C, const cluster::Device &D, ir::DType T);

/// Seconds to move Bytes over link L.
inline double transferSeconds(double Bytes, const cluster::Link &L) {
  if (L.Kind == cluster::LinkKind::Local || Bytes == 0)
    return 0;
  return L.Latency + Bytes / L.Bandwidth;
}

} // namespace strata::passes

#endif // STRATA_PASSES_COSTMODEL_H
