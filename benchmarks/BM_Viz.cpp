//===- BM_Viz.cpp - Rendering plans: each format, and reading the file ----===//
//
// Compiles a preset as strata compile does (default pipeline, the model's
// whole context), writes the plan file's text and reads it back, then times
// what `strata viz` does with it: reading the plan (parsePlan, the same for
// every format), and writing each format into memory. Counters: the
// output's bytes, the plan's buffers and steps.
//
// Bar (from the visualiser issue): the HTML report of llama3.1-405b on
// 8x8xH100-80GB written in under 2 s and under 20 MB.
//
//===----------------------------------------------------------------------===//

#include "ir/cluster/Cluster.h"
#include "ir/import/Lowering.h"
#include "ir/import/Presets.h"
#include "ir/plan/Plan.h"
#include "passes/CompilePlan.h"
#include "tools/strata/viz/ChromeTrace.h"
#include "tools/strata/viz/DotGraph.h"
#include "tools/strata/viz/HtmlReport.h"
#include "tools/strata/viz/PredictedTimeline.h"
#include "tools/strata/viz/TextReport.h"

#include "llvm/Support/raw_ostream.h"

#include "benchmark/benchmark.h"

#include <map>
#include <memory>

using namespace strata;

namespace {

struct Case {
  const char *Model;
  const char *Cluster;
};

const Case Cases[] = {
    {"llama3-8b", "8xH100-80GB"},
    {"llama3.1-405b", "8x8xH100-80GB"},
};

/// The plan file's text and the plan read from it, made once per case.
struct Compiled {
  std::string Text;
  plan::Plan Plan;
};

const Compiled *getCase(benchmark::State &State) {
  static std::map<int64_t, std::unique_ptr<Compiled>> Cache;
  const Case &K = Cases[State.range(0)];
  State.SetLabel(std::string(K.Model) + " on " + K.Cluster);
  auto &Slot = Cache[State.range(0)];
  if (Slot)
    return Slot.get();
  auto Preset = import::findModelPreset(K.Model);
  auto C = cluster::parseClusterSpec(K.Cluster);
  if (!Preset || !C) {
    State.SkipWithError("unknown preset or cluster");
    llvm::consumeError(Preset.takeError());
    llvm::consumeError(C.takeError());
    return nullptr;
  }
  auto G = import::lowerModel((*Preset)->Config, nullptr, {});
  if (!G) {
    State.SkipWithError(llvm::toString(G.takeError()).c_str());
    return nullptr;
  }
  passes::CompileRequest R;
  R.Model.Name = K.Model;
  R.Model.Source = std::string("preset:") + K.Model;
  auto P = passes::compilePlan(*G, *C, R);
  if (!P) {
    State.SkipWithError(llvm::toString(P.takeError()).c_str());
    return nullptr;
  }
  auto Out = std::make_unique<Compiled>();
  Out->Text = plan::planToString(P->Plan);
  auto Read = plan::parsePlan(Out->Text, "plan.json");
  if (!Read) {
    State.SkipWithError(llvm::toString(Read.takeError()).c_str());
    return nullptr;
  }
  Out->Plan = std::move(*Read);
  Slot = std::move(Out);
  return Slot.get();
}

void counters(benchmark::State &State, const plan::Plan &P, size_t Bytes) {
  size_t Steps = 0;
  for (const plan::ProgramSchedule &G : P.Programs)
    Steps += G.Steps.size();
  State.counters["output_bytes"] = double(Bytes);
  State.counters["buffers"] = double(P.Buffers.size());
  State.counters["steps"] = double(Steps);
}

void BM_ReadPlan(benchmark::State &State) {
  const Compiled *C = getCase(State);
  if (!C)
    return;
  for (auto _ : State) {
    auto P = plan::parsePlan(C->Text, "plan.json");
    if (!P) {
      State.SkipWithError(llvm::toString(P.takeError()).c_str());
      return;
    }
    benchmark::DoNotOptimize(P->Buffers.data());
  }
  counters(State, C->Plan, C->Text.size());
}

template <typename F> void render(benchmark::State &State, F Write) {
  const Compiled *C = getCase(State);
  if (!C)
    return;
  size_t Bytes = 0;
  for (auto _ : State) {
    std::string Out;
    llvm::raw_string_ostream OS(Out);
    Write(OS, C->Plan);
    OS.flush();
    Bytes = Out.size();
    benchmark::DoNotOptimize(Out.data());
  }
  counters(State, C->Plan, Bytes);
}

void BM_WriteText(benchmark::State &State) {
  render(State, [](llvm::raw_ostream &OS, const plan::Plan &P) {
    viz::printTextReport(OS, P, "plan.json");
  });
}

void BM_WriteDot(benchmark::State &State) {
  render(State, [](llvm::raw_ostream &OS, const plan::Plan &P) {
    llvm::consumeError(viz::writeDotGraph(OS, P, viz::DotOptions()));
  });
}

void BM_WriteHtml(benchmark::State &State) {
  render(State, [](llvm::raw_ostream &OS, const plan::Plan &P) {
    viz::writeHtmlReport(OS, P);
  });
  State.counters["bar_bytes"] = 20e6;
}

void BM_WriteTrace(benchmark::State &State) {
  render(State, [](llvm::raw_ostream &OS, const plan::Plan &P) {
    std::vector<uint32_t> All;
    for (uint32_t G = 0; G < P.Programs.size(); ++G)
      All.push_back(G);
    viz::writeChromeTrace(OS, P, viz::predictTimeline(P, All), "predicted");
  });
}

} // namespace

BENCHMARK(BM_ReadPlan)
    ->DenseRange(0, std::size(Cases) - 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteText)
    ->DenseRange(0, std::size(Cases) - 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteDot)
    ->DenseRange(0, std::size(Cases) - 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteHtml)
    ->DenseRange(0, std::size(Cases) - 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteTrace)
    ->DenseRange(0, std::size(Cases) - 1)
    ->Unit(benchmark::kMillisecond);

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("bar", "llama3.1-405b on 8x8xH100-80GB: the "
                                     "HTML report in < 2 s, < 20 MB");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
