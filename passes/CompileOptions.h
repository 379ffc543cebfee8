//===- CompileOptions.h - What a user chooses about a compile ---*- C++ -*-===//
//
// The choices that shape a plan (strata compile's --strategy, --balance,
// --kv-strategy, --override and --no-offload) and the one place that turns
// them into the placement pipeline, so that the tool, the benchmarks, the
// fuzzers' seeds and the tests compile exactly alike. The sizes a model is
// lowered for (batch, context, prefill chunk, KV type) are the lowered
// graph's, and the plan reads them from it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_COMPILEOPTIONS_H
#define STRATA_PASSES_COMPILEOPTIONS_H

#include "ir/Graph.h"
#include "ir/plan/Plan.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace strata::passes {

struct CompileOptions {
  std::string Strategy = "auto";         ///< auto, pipeline, tensor
  std::string Balance = "time";          ///< time, memory
  std::string KVStrategy = "with-layer"; ///< with-layer, by-head
  /// REGEX=DEVICE rules (DEVICE: an index, host or disk), in order.
  std::vector<std::string> Overrides;
  bool NoOffload = false;
};

/// Fails, naming the option and its allowed values, on a choice no pass
/// takes; checked before anything is lowered or placed.
llvm::Error checkCompileOptions(const CompileOptions &O);

/// The placement pipeline strata compile runs for O, as --passes takes it.
std::string defaultPipeline(const CompileOptions &O);

/// What the plan records of a compile: the choices, and the sizes the graph
/// was lowered for (batch and prefill chunk from its token inputs, context
/// and KV type from its KV caches).
plan::Options describeCompile(const ir::Graph &G, const CompileOptions &O);

} // namespace strata::passes

#endif // STRATA_PASSES_COMPILEOPTIONS_H
