//===- BM_Import.cpp - Import and lowering time of every preset -----------===//
//
// Times opening each preset and lowering it to the graph with both
// programs (prefill and decode), and reading the bundled GGUF's header and
// tensor table. Bar: under 50 ms for every preset, DeepSeek-V3 (45,395
// weight tensors) included; the `bar_ms` counter states it beside the
// measured time.
//
//===----------------------------------------------------------------------===//

#include "ir/import/Lowering.h"
#include "ir/import/ModelSource.h"
#include "ir/import/Presets.h"

#include "benchmark/benchmark.h"

using namespace strata;

namespace {

constexpr double BarMilliseconds = 50;

void BM_ImportAndLowerPreset(benchmark::State &State,
                             const import::ModelPreset *P) {
  size_t Values = 0;
  for (auto _ : State) {
    auto Source = import::openModel("preset:" + P->Name.str());
    if (!Source) {
      State.SkipWithError(llvm::toString(Source.takeError()).c_str());
      return;
    }
    auto G = import::lowerModel(Source->Config, nullptr, {});
    if (!G) {
      State.SkipWithError(llvm::toString(G.takeError()).c_str());
      return;
    }
    Values = G->numValues();
    benchmark::DoNotOptimize(Values);
  }
  State.counters["values"] = static_cast<double>(Values);
  State.counters["bar_ms"] = BarMilliseconds;
}

void BM_ReadBundledGGUF(benchmark::State &State) {
  for (auto _ : State) {
    auto Source =
        import::openModel(STRATA_SHARED_DIR "/models/stories260K.gguf");
    if (!Source) {
      State.SkipWithError(llvm::toString(Source.takeError()).c_str());
      return;
    }
    auto G = import::lowerModel(Source->Config, &*Source->Tensors, {});
    benchmark::DoNotOptimize(G->numValues());
  }
  State.counters["bar_ms"] = BarMilliseconds;
}

} // namespace

int main(int argc, char **argv) {
  for (const import::ModelPreset &P : import::allModelPresets())
    benchmark::RegisterBenchmark(
        ("BM_ImportAndLowerPreset/" + P.Name.str()).c_str(),
        BM_ImportAndLowerPreset, &P)
        ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_ReadBundledGGUF", BM_ReadBundledGGUF)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("bar",
                              "every preset imported and lowered in < 50 ms");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
