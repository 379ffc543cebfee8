//===- MakePlanSeeds.cpp - Plan files for FuzzPlan's seed corpus ----------===//
//
// Usage: MakePlanSeeds OUT_DIR STORIES_GGUF HF_CHECKPOINT_DIR
//
// Writes real plans, made the way `strata compile` makes them (the same
// lowering, placement pipeline and compilePlan, which verifies each plan),
// for a few models, clusters and strategies, so that FuzzPlan starts from
// files that reach every part of the reader and the verifier. A tool of its
// own rather than `strata compile`, since the tool brings the runtime, the
// kernels and spdlog into the fuzz build, and those do not build with
// clang-14 (GCC-only target pragmas, fmt's C++20 constexpr).
//
//===----------------------------------------------------------------------===//

#include "ir/cluster/Cluster.h"
#include "ir/import/Lowering.h"
#include "ir/import/ModelSource.h"
#include "ir/import/ModelStats.h"
#include "ir/plan/Plan.h"
#include "passes/BuildPlan.h"
#include "passes/CompilePlan.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace strata;

namespace {

struct Seed {
  const char *Name;
  bool Stories; ///< stories260K, else the tiny Hugging Face checkpoint
  const char *Cluster;
  const char *Strategy;
  const char *KVStrategy;
  int64_t Context;
  /// Layers to keep (0: all). A plan of one or two layers reaches the same
  /// code as a plan of many in a fraction of the bytes, which keeps the
  /// fuzzer's executions fast; planned from the configuration alone, since
  /// the checkpoint's tensors name the layers cut off.
  int64_t Layers = 0;
};

llvm::Error writeSeed(const Seed &S, llvm::StringRef Model,
                      llvm::StringRef OutDir) {
  llvm::Expected<import::ModelSource> Source = import::openModel(Model);
  if (!Source)
    return Source.takeError();
  if (S.Layers) {
    Source->Config.Layers = S.Layers;
    Source->Tensors.reset();
  }
  import::LoweringOptions LOpts;
  LOpts.Context = S.Context;
  llvm::Expected<ir::Graph> G = import::lowerModel(
      Source->Config, Source->Tensors ? &*Source->Tensors : nullptr, LOpts);
  if (!G)
    return G.takeError();
  llvm::Expected<import::ModelStats> Stats = import::computeWeightStats(*G);
  if (!Stats)
    return Stats.takeError();
  llvm::Expected<cluster::Cluster> C = cluster::parseClusterSpec(S.Cluster);
  if (!C)
    return C.takeError();

  passes::CompileRequest R;
  R.Model.Name = Source->Config.Name;
  R.Model.Source = Model.str();
  R.Model.Format = import::getFormatName(Source->Kind).str();
  R.Model.Fingerprint = passes::fingerprintGraph(*G);
  R.Model.Parameters = Stats->Parameters;
  R.Model.WeightBytes = Stats->WeightBytes;
  R.Model.Layers = Source->Config.Layers;
  R.Options.Strategy = S.Strategy;
  R.Options.KVStrategy = S.KVStrategy;
  llvm::Expected<passes::CompileResult> Compiled =
      passes::compilePlan(*G, *C, R);
  if (!Compiled)
    return Compiled.takeError();

  llvm::SmallString<256> Path(OutDir);
  llvm::sys::path::append(Path, std::string(S.Name) + ".json");
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC);
  if (EC)
    return llvm::createFileError(Path, EC);
  plan::writePlan(OS, Compiled->Plan);
  return llvm::Error::success();
}

} // namespace

int main(int Argc, char **Argv) {
  if (Argc != 4) {
    llvm::errs() << "usage: MakePlanSeeds OUT_DIR STORIES_GGUF HF_DIR\n";
    return 2;
  }
  llvm::StringRef OutDir = Argv[1], Stories = Argv[2], HF = Argv[3];
  if (std::error_code EC = llvm::sys::fs::create_directories(OutDir)) {
    llvm::errs() << OutDir << ": " << EC.message() << '\n';
    return 1;
  }
  // Small models only: libFuzzer's executions slow down with the size of
  // its inputs (a plan of all five stories260K layers takes 74 KB and runs
  // at less than half the rate of a one-layer plan), and one or two layers
  // reach every kind of step, buffer and placement the reader checks.
  const Seed Seeds[] = {
      {"stories-1layer", true, "cpu:1x8MiB", "auto", "with-layer", 16, 1},
      {"stories-1layer-gpu", true, "1xH100-80GB", "auto", "with-layer", 16, 1},
      {"stories-2layer-pp2", true, "cpu:2x8MiB", "pipeline", "with-layer", 16,
       2},
      {"stories-1layer-tp2", true, "cpu:2x8MiB", "tensor", "by-head", 16, 1},
      {"tiny-1layer-tp2", false, "cpu:2x1MiB", "tensor", "with-layer", 16, 1},
      // The checkpoint's own two layers and tensors: the one seed whose
      // weights name their place in a file.
      {"tiny-pp4", false, "cpu:4x1MiB", "pipeline", "with-layer", 32},
  };
  for (const Seed &S : Seeds)
    if (llvm::Error E = writeSeed(S, S.Stories ? Stories : HF, OutDir)) {
      llvm::errs() << "MakePlanSeeds: " << S.Name << ": "
                   << llvm::toString(std::move(E)) << '\n';
      return 1;
    }
  return 0;
}
