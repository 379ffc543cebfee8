//===- Lowering.h - A decoder model as a tensor graph -----------*- C++ -*-===//
//
// Lowers a decoder-only transformer to an ir::Graph with two programs that
// share its weights and KV caches: `prefill` (a chunk of tokens per
// sequence) and `decode` (one token per sequence). Weights carry the names
// of their source file, their layer and a role; KV caches are sized for the
// batch and context asked for.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_LOWERING_H
#define STRATA_IR_IMPORT_LOWERING_H

#include "ir/Graph.h"
#include "ir/WeightRole.h"
#include "ir/import/ModelConfig.h"
#include "ir/modelfile/TensorTable.h"

#include <optional>

namespace strata::import {

struct LoweringOptions {
  int64_t Batch = 1;   ///< Sequences decoded together.
  int64_t Context = 0; ///< KV-cache tokens per sequence; 0: the model's.
  int64_t PrefillTokens =
      0; ///< Tokens per prefill chunk; 0: min(context, 512).
  std::optional<ir::DType> KVType; ///< Default: the compute type.
  std::optional<ir::DType>
      ComputeType; ///< Default: bf16/f16 weights' type, else f32.
};

/// Lowers C. With a Table (from a GGUF or safetensors file) every weight
/// must be in it with the shape C implies, and every tensor of it must
/// become a weight: anything missing, misshapen or left over is an error
/// naming the tensor (not the file: callers say which model they lowered).
/// Without one (a preset), weights get C.WeightType.
llvm::Expected<ir::Graph> lowerModel(const ModelConfig &C,
                                     const TensorTable *Table,
                                     const LoweringOptions &Options);

} // namespace strata::import

#endif // STRATA_IR_IMPORT_LOWERING_H
