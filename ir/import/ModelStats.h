//===- ModelStats.h - The memory picture of a lowered model -----*- C++ -*-===//
//
// What `strata inspect` reports: parameters and bytes by role and by layer,
// KV-cache bytes, and each program's activation peak (the liveness lower
// bound). Computed from the graph alone, so presets and files agree.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_MODELSTATS_H
#define STRATA_IR_IMPORT_MODELSTATS_H

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace strata::import {

struct WeightGroup {
  std::string Name; ///< A role, or a layer number as text.
  uint64_t Tensors = 0;
  uint64_t Parameters = 0;
  uint64_t Bytes = 0;
};

struct LayerStats {
  int64_t Layer = 0;
  uint64_t Tensors = 0;
  uint64_t Parameters = 0;
  uint64_t WeightBytes = 0;
  uint64_t KVCacheBytes = 0;
};

struct ProgramStats {
  std::string Name;
  int64_t Tokens = 0; ///< Tokens per sequence in one run.
  size_t Ops = 0;
  uint64_t ActivationPeakBytes = 0;
};

struct ModelStats {
  uint64_t Tensors = 0;    ///< Weight tensors, each once.
  uint64_t Parameters = 0; ///< Their elements, each tensor once.
  uint64_t WeightBytes = 0;
  uint64_t KVCacheBytes = 0;
  std::vector<WeightGroup> ByRole; ///< Sorted by role.
  std::vector<LayerStats> Layers;  ///< Sorted by layer.
  WeightGroup OutsideLayers;       ///< Weights with no layer.
  std::vector<ProgramStats> Programs;
};

llvm::Expected<ModelStats> computeModelStats(const ir::Graph &G);
/// The weight and KV-cache figures alone (Programs left empty), without
/// the liveness analysis the activation peaks need.
llvm::Expected<ModelStats> computeWeightStats(const ir::Graph &G);

} // namespace strata::import

#endif // STRATA_IR_IMPORT_MODELSTATS_H
