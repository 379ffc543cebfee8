//===- CompilePlan.cpp - From a lowered graph to a verified plan ----------===//

#include "passes/CompilePlan.h"

#include "passes/BuildPlan.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"

#include "ir/Units.h"
#include "ir/plan/PlanVerifier.h"

#include "llvm/Support/FormatVariadic.h"

namespace strata::passes {

llvm::Expected<CompileResult> compilePlan(const ir::Graph &G,
                                          const cluster::Cluster &C,
                                          const CompileRequest &Request) {
  if (llvm::Error E = checkCompileOptions(Request.Options))
    return E;
  const std::string Pipeline = Request.Pipeline.empty()
                                   ? defaultPipeline(Request.Options)
                                   : Request.Pipeline;
  const plan::Options Described = describeCompile(G, Request.Options);
  std::vector<uint64_t> Floors(C.size(), 0);
  CompileResult Result;
  for (unsigned Round = 1;; ++Round) {
    auto Passes = parsePassPipeline(Pipeline);
    if (!Passes)
      return Passes.takeError();
    PassManager PM;
    PM.addPasses(std::move(*Passes));
    PM.setTimePasses(Request.TimePasses);
    PassContext Ctx(&C);
    Ctx.setActivationFloors(Floors);
    ir::Graph Placed = G;
    if (llvm::Error E = PM.run(Placed, Ctx))
      return E;
    plan::ModelInfo Model = Request.Model;
    if (Model.Fingerprint.empty())
      Model.Fingerprint = fingerprintGraph(Placed);
    auto P = buildPlan(Placed, C, Ctx, std::move(Model), Described);
    if (!P)
      return P.takeError();

    // What placement did not know: the arena, staging buffers and region
    // padding, against what it assumed for activations.
    bool Again = false;
    for (const plan::Device &D : P->Devices) {
      uint64_t Exact = D.ArenaRegionBytes +
                       (D.WeightRegionBytes - D.WeightBytes) +
                       (D.KVCacheRegionBytes - D.KVCacheBytes);
      // Every device learns its exact figure; only one that no longer fits
      // makes placement run again.
      Again |= D.neededBytes() > D.CapacityBytes && Exact > Floors[D.Index];
      Floors[D.Index] = std::max(Floors[D.Index], Exact);
    }
    if (!Again || Round >= Request.MaxRounds) {
      Result.Plan = std::move(*P);
      Result.Rounds = Round;
      Result.Stats.assign(Ctx.statistics().begin(), Ctx.statistics().end());
      break;
    }
  }
  std::string Over;
  for (const plan::Device &D : Result.Plan.Devices) {
    uint64_t Need = D.neededBytes();
    if (Need > D.CapacityBytes)
      Over += llvm::formatv("  device {0}: needs {1} (weights {2}, KV cache "
                            "{3}, arena {4}, reserve {5}) of {6}\n",
                            D.Index, ir::formatBytes(Need),
                            ir::formatBytes(D.WeightRegionBytes),
                            ir::formatBytes(D.KVCacheRegionBytes),
                            ir::formatBytes(D.ArenaRegionBytes),
                            ir::formatBytes(D.ReserveBytes),
                            ir::formatBytes(D.CapacityBytes))
                  .str();
  }
  if (!Over.empty())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the model does not fit the cluster once its memory is planned "
        "exactly (after " +
            llvm::Twine(Result.Rounds) + " placement rounds):\n" + Over +
            "to make it fit: add devices or larger ones, or lower --context, "
            "--batch or --prefill");
  StageTimer Timer;
  if (llvm::Error E = plan::verifyPlan(Result.Plan))
    return E;
  Result.Stats.push_back(
      {"verify-plan", TimeStatistic.str(), Timer.elapsedMicroseconds()});
  return Result;
}

} // namespace strata::passes
