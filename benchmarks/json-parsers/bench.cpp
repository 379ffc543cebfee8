// JSON parsers on Strata plan files: Google Benchmark.
//
//   jsonbench [benchmark flags] PLAN.json...
//
// Each benchmark parses the file's text, already in memory (the read is
// not timed). simdjson gets a padded copy made once, outside the timing
// (BM_PadCopy times that copy on its own).
#include "odsketch.h"
#include "walkers.h"

#include "ir/plan/JSONDocument.h"
#include "ir/plan/JSONNesting.h"
#include "ir/plan/JSONParser.h"
#include "ir/plan/Plan.h"

#include "llvm/Support/JSON.h"

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string readFile(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary | std::ios::ate);
  std::string Text(size_t(In.tellg()), '\0');
  In.seekg(0);
  In.read(Text.data(), std::streamsize(Text.size()));
  return Text;
}

struct Input {
  std::string Name;
  std::string Text;
  simdjson::padded_string Padded;
};

[[noreturn]] void die(const std::string &M) {
  std::fprintf(stderr, "jsonbench: %s\n", M.c_str());
  std::exit(1);
}

// a. parseJSONDocument alone.
void BM_StrataDocument(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto Doc = strata::parseJSONDocument(In->Text);
    if (!Doc)
      die(llvm::toString(Doc.takeError()));
    benchmark::DoNotOptimize(Doc->get());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// b. parsePlan whole (nesting scan + document + validating reader).
void BM_StrataParsePlan(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto P = strata::plan::parsePlan(In->Text, "plan.json");
    if (!P)
      die(llvm::toString(P.takeError()));
    benchmark::DoNotOptimize(P->Buffers.data());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// e-ref. parseJSONDocument + the same sketch reader as the simdjson DOM one.
void BM_StrataDocumentSketch(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto Doc = strata::parseJSONDocument(In->Text);
    if (!Doc)
      die(llvm::toString(Doc.takeError()));
    strata::plan::Plan P;
    if (!jb::TreeSketch<jb::DocAdapter>::read(&(*Doc)->root(), P))
      die("sketch (document) failed");
    benchmark::DoNotOptimize(P.Buffers.data());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// c. simdjson DOM parse alone. Fresh: a new parser each time (what a
// program that reads one plan pays: the parser allocates its tape and
// string buffer for the document's size). Reused: one parser, warmed up.
void BM_SimdDomFresh(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    simdjson::dom::parser Parser;
    simdjson::dom::element Root;
    if (auto E = Parser.parse(In->Padded).get(Root))
      die(simdjson::error_message(E));
    benchmark::DoNotOptimize(Root);
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}
void BM_SimdDomReused(benchmark::State &S, const Input *In) {
  simdjson::dom::parser Parser;
  for (auto _ : S) {
    simdjson::dom::element Root;
    if (auto E = Parser.parse(In->Padded).get(Root))
      die(simdjson::error_message(E));
    benchmark::DoNotOptimize(Root);
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// d. simdjson On-Demand, every value touched (keys and strings unescaped,
// numbers decoded), end of document checked.
template <bool Fresh>
void BM_SimdOnDemand(benchmark::State &S, const Input *In) {
  simdjson::ondemand::parser Reused;
  for (auto _ : S) {
    simdjson::ondemand::parser FreshParser;
    simdjson::ondemand::parser &Parser = Fresh ? FreshParser : Reused;
    simdjson::ondemand::document Doc;
    if (auto E = Parser.iterate(In->Padded).get(Doc))
      die(simdjson::error_message(E));
    uint64_t Sum = 0;
    if (auto E = jb::touchODDocument(Doc, Sum))
      die(simdjson::error_message(E));
    benchmark::DoNotOptimize(Sum);
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// For reference: the DOM parse plus a walk over every value (what d does
// for On-Demand), and our document plus the same walk.
void BM_SimdDomFreshTouch(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    simdjson::dom::parser Parser;
    simdjson::dom::element Root;
    if (auto E = Parser.parse(In->Padded).get(Root))
      die(simdjson::error_message(E));
    uint64_t Sum = 0;
    jb::touchDom(Root, Sum);
    benchmark::DoNotOptimize(Sum);
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}
void BM_StrataDocumentTouch(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto Doc = strata::parseJSONDocument(In->Text);
    if (!Doc)
      die(llvm::toString(Doc.takeError()));
    uint64_t Sum = 0;
    jb::touchDoc((*Doc)->root(), Sum);
    benchmark::DoNotOptimize(Sum);
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// e. sketch plan readers on simdjson (fresh or reused parser, as for c/d).
template <bool Fresh>
void BM_SimdDomSketch(benchmark::State &S, const Input *In) {
  simdjson::dom::parser Reused;
  for (auto _ : S) {
    simdjson::dom::parser FreshParser;
    simdjson::dom::parser &Parser = Fresh ? FreshParser : Reused;
    simdjson::dom::element Root;
    if (auto E = Parser.parse(In->Padded).get(Root))
      die(simdjson::error_message(E));
    strata::plan::Plan P;
    if (!jb::TreeSketch<jb::DomAdapter>::read({Root, true}, P))
      die("sketch (dom) failed");
    benchmark::DoNotOptimize(P.Buffers.data());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}
template <bool Fresh>
void BM_SimdOnDemandSketch(benchmark::State &S, const Input *In) {
  simdjson::ondemand::parser Reused;
  for (auto _ : S) {
    simdjson::ondemand::parser FreshParser;
    simdjson::ondemand::parser &Parser = Fresh ? FreshParser : Reused;
    simdjson::ondemand::document Doc;
    if (auto E = Parser.iterate(In->Padded).get(Doc))
      die(simdjson::error_message(E));
    strata::plan::Plan P;
    if (auto E = jb::ODSketch::read(Doc, P))
      die(std::string("sketch (on-demand): ") + simdjson::error_message(E));
    benchmark::DoNotOptimize(P.Buffers.data());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// f. llvm::json::parse, and our parseJSON (the same llvm::json::Value).
void BM_LLVMJsonParse(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto V = llvm::json::parse(In->Text);
    if (!V)
      die(llvm::toString(V.takeError()));
    benchmark::DoNotOptimize(V->kind());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}
void BM_StrataParseJSON(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto V = strata::parseJSON(In->Text);
    if (!V)
      die(llvm::toString(V.takeError()));
    benchmark::DoNotOptimize(V->kind());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// parsePlan's first pass: the nesting bound (JSONNesting.h).
void BM_NestingScan(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    auto At = strata::findJSONNestingBeyond(In->Text, strata::MaxJSONNesting);
    if (At)
      die("too deep");
    benchmark::DoNotOptimize(At);
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

// The copy a simdjson reader makes of text that is not padded.
void BM_PadCopy(benchmark::State &S, const Input *In) {
  for (auto _ : S) {
    simdjson::padded_string P(In->Text);
    benchmark::DoNotOptimize(P.data());
  }
  S.SetBytesProcessed(int64_t(S.iterations()) * In->Text.size());
}

/// Every way of reading gives the same values: touch sums agree, and the
/// sketch readers' plans print as parsePlan's does.
void check(const Input &In) {
  auto Real = strata::plan::parsePlan(In.Text, "plan.json");
  if (!Real)
    die(llvm::toString(Real.takeError()));
  std::string Want = strata::plan::planToString(*Real);

  auto Doc = strata::parseJSONDocument(In.Text);
  if (!Doc)
    die(llvm::toString(Doc.takeError()));
  uint64_t SumDoc = 0, SumDom = 0, SumOD = 0;
  jb::touchDoc((*Doc)->root(), SumDoc);
  simdjson::dom::parser DP;
  simdjson::dom::element Root;
  if (auto E = DP.parse(In.Padded).get(Root))
    die(simdjson::error_message(E));
  jb::touchDom(Root, SumDom);
  simdjson::ondemand::parser OP;
  simdjson::ondemand::document OD;
  if (auto E = OP.iterate(In.Padded).get(OD))
    die(simdjson::error_message(E));
  if (auto E = jb::touchODDocument(OD, SumOD))
    die(simdjson::error_message(E));
  std::fprintf(
      stderr,
      "%s: %zu bytes, touch sums: document %llu, dom %llu, on-demand %llu\n",
      In.Name.c_str(), In.Text.size(), (unsigned long long)SumDoc,
      (unsigned long long)SumDom, (unsigned long long)SumOD);
  if (SumDoc != SumDom || SumDoc != SumOD)
    die("touch sums differ");

  auto Same = [&](strata::plan::Plan P, const char *Who) {
    P.ClusterJSON = Real->ClusterJSON; // not covered by the sketches
    P.Version = Real->Version;
    if (strata::plan::planToString(P) != Want)
      die(std::string("sketch differs: ") + Who);
  };
  strata::plan::Plan P1, P2, P3;
  if (!jb::TreeSketch<jb::DocAdapter>::read(&(*Doc)->root(), P1))
    die("sketch (document) failed");
  Same(P1, "document");
  if (!jb::TreeSketch<jb::DomAdapter>::read({Root, true}, P2))
    die("sketch (dom) failed");
  Same(P2, "dom");
  simdjson::ondemand::document OD2;
  if (auto E = OP.iterate(In.Padded).get(OD2))
    die(simdjson::error_message(E));
  if (auto E = jb::ODSketch::read(OD2, P3))
    die(simdjson::error_message(E));
  Same(P3, "on-demand");
  size_t Steps = 0;
  for (auto &Pr : Real->Programs)
    Steps += Pr.Steps.size();
  std::fprintf(
      stderr,
      "%s: %zu buffers, %zu steps, %zu devices; sketches print as parsePlan\n",
      In.Name.c_str(), Real->Buffers.size(), Steps, Real->Devices.size());
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<std::unique_ptr<Input>> Inputs;
  for (int I = 1; I < argc; ++I) {
    auto In = std::make_unique<Input>();
    In->Text = readFile(argv[I]);
    In->Padded = simdjson::padded_string(In->Text);
    std::string Base = argv[I];
    In->Name = Base.substr(Base.rfind('/') + 1);
    Inputs.push_back(std::move(In));
  }
  std::fprintf(stderr,
               "simdjson %s, active implementation: %s (%s); compiled in:",
               SIMDJSON_STRINGIFY(SIMDJSON_VERSION),
               simdjson::get_active_implementation()->name().c_str(),
               simdjson::get_active_implementation()->description().c_str());
  for (auto *Impl : simdjson::get_available_implementations())
    std::fprintf(stderr, " %s%s", Impl->name().c_str(),
                 Impl->supported_by_runtime_system() ? ""
                                                     : "(unsupported here)");
  std::fprintf(stderr, "\n");
  for (auto &In : Inputs)
    check(*In);

  auto Min = [](const std::vector<double> &V) {
    return *std::min_element(V.begin(), V.end());
  };
  auto Max = [](const std::vector<double> &V) {
    return *std::max_element(V.begin(), V.end());
  };
  struct Entry {
    const char *Name;
    void (*Fn)(benchmark::State &, const Input *);
  };
  const Entry Entries[] = {
      {"a_StrataDocument", BM_StrataDocument},
      {"b_StrataParsePlan", BM_StrataParsePlan},
      {"c_SimdDomFresh", BM_SimdDomFresh},
      {"c_SimdDomReused", BM_SimdDomReused},
      {"d_SimdOnDemandFresh", BM_SimdOnDemand<true>},
      {"d_SimdOnDemandReused", BM_SimdOnDemand<false>},
      {"e_SimdDomSketchFresh", BM_SimdDomSketch<true>},
      {"e_SimdDomSketchReused", BM_SimdDomSketch<false>},
      {"e_SimdOnDemandSketchFresh", BM_SimdOnDemandSketch<true>},
      {"e_SimdOnDemandSketchReused", BM_SimdOnDemandSketch<false>},
      {"e_StrataDocumentSketch", BM_StrataDocumentSketch},
      {"f_LLVMJsonParse", BM_LLVMJsonParse},
      {"f_StrataParseJSON", BM_StrataParseJSON},
      {"x_SimdDomFreshTouch", BM_SimdDomFreshTouch},
      {"x_StrataDocumentTouch", BM_StrataDocumentTouch},
      {"x_PadCopy", BM_PadCopy},
      {"x_NestingScan", BM_NestingScan},
  };
  for (auto &In : Inputs)
    for (const Entry &E : Entries)
      benchmark::RegisterBenchmark(
          (std::string(E.Name) + "/" + In->Name).c_str(), E.Fn, In.get())
          ->Unit(benchmark::kMillisecond)
          ->ComputeStatistics("min", Min)
          ->ComputeStatistics("max", Max);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
