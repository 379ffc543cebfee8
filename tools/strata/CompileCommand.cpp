//===- CompileCommand.cpp - strata compile: place a model, write a plan ---===//
//
// Opens the model, lowers it, makes the cluster (with the user's memory
// limits, reserve and overrides), runs the placement pipeline and writes
// the plan; prints the report the seed's debug output asked for: weights
// per device, the layer-to-device table, the KV-cache distribution, memory
// per device, fallbacks and predicted times.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "DetectCluster.h"
#include "Format.h"
#include "OutputFile.h"

#include "ir/Verifier.h"
#include "ir/cluster/Cluster.h"
#include "ir/import/Lowering.h"
#include "ir/import/ModelSource.h"
#include "ir/import/ModelStats.h"
#include "ir/modelfile/ContentDigest.h"
#include "ir/plan/Plan.h"
#include "ir/text/Parser.h"
#include "passes/BuildPlan.h"
#include "passes/CompilePlan.h"
#include "tools/strata/viz/PlanSummary.h"
#include "tools/strata/viz/ScheduleReport.h"
#include "tools/strata/viz/TextReport.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "spdlog/spdlog.h"

#include <map>
#include <set>

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand CompileCmd("compile", "Place a model on a cluster and write "
                                     "the plan");

cl::opt<std::string> ModelSpec(cl::Positional, cl::Required,
                               cl::desc("<model.gguf | checkpoint folder | "
                                        "config.json | preset:NAME>"),
                               cl::sub(CompileCmd),
                               cl::cat(getStrataCategory()));
cl::opt<std::string> ClusterSpec(
    "cluster", cl::Required,
    cl::desc("Devices: 8xH100-80GB, 2x8xH100-80GB, 2xH100-80GB,2xA100-40GB, "
             "cpu:4x64MiB, a JSON file, or detect"),
    cl::value_desc("spec"), cl::sub(CompileCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> OutputPath("o", cl::desc("Write the plan to this file"),
                                cl::value_desc("plan.json"),
                                cl::sub(CompileCmd),
                                cl::cat(getStrataCategory()));
cl::opt<std::string> ReportJSON("report-json",
                                cl::desc("Also write the report as JSON"),
                                cl::value_desc("file"), cl::sub(CompileCmd),
                                cl::cat(getStrataCategory()));
cl::opt<std::string> Strategy("strategy", cl::desc("auto, pipeline or tensor"),
                              cl::init("auto"), cl::sub(CompileCmd),
                              cl::cat(getStrataCategory()));
cl::opt<std::string> Balance("balance",
                             cl::desc("Balance layers by predicted decode "
                                      "time (time) or by memory fill (memory)"),
                             cl::init("time"), cl::sub(CompileCmd),
                             cl::cat(getStrataCategory()));
cl::opt<std::string> KVStrategy("kv-strategy",
                                cl::desc("with-layer or by-head"),
                                cl::init("with-layer"), cl::sub(CompileCmd),
                                cl::cat(getStrataCategory()));
cl::opt<int64_t> Batch("batch", cl::desc("Sequences decoded together"),
                       cl::init(1), cl::sub(CompileCmd),
                       cl::cat(getStrataCategory()));
cl::opt<int64_t> Context("context",
                         cl::desc("KV-cache tokens per sequence (default: the "
                                  "model's maximum context)"),
                         cl::init(0), cl::sub(CompileCmd),
                         cl::cat(getStrataCategory()));
cl::opt<int64_t> Prefill("prefill",
                         cl::desc("Tokens per prefill chunk (default: "
                                  "min(context, 512))"),
                         cl::init(0), cl::sub(CompileCmd),
                         cl::cat(getStrataCategory()));
cl::opt<std::string> KVDType("kv-dtype",
                             cl::desc("KV-cache element type (default: the "
                                      "compute type)"),
                             cl::sub(CompileCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> MaxMemory(
    "max-memory",
    cl::desc("Memory each device may use: 0=70GiB,1=40GiB (others unchanged)"),
    cl::value_desc("list"), cl::sub(CompileCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> Reserve("reserve",
                             cl::desc("Runtime reserve per device, replacing "
                                      "the cluster's figure (e.g. 2GiB)"),
                             cl::value_desc("size"), cl::sub(CompileCmd),
                             cl::cat(getStrataCategory()));
cl::list<std::string> Overrides(
    "override",
    cl::desc("Place tensors whose name matches REGEX on DEVICE (an index, "
             "host or disk); repeatable"),
    cl::value_desc("REGEX=DEVICE"), cl::sub(CompileCmd),
    cl::cat(getStrataCategory()));
cl::opt<bool> TimePasses("time-passes",
                         cl::desc("Print each stage's wall time to stderr"),
                         cl::sub(CompileCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> PassPipeline(
    "passes",
    cl::desc("Placement passes to run instead of the default pipeline (for "
             "graphs placed by hand: verify-placement)"),
    cl::value_desc("pipeline"), cl::sub(CompileCmd),
    cl::cat(getStrataCategory()));
cl::opt<bool> NoOffload("no-offload",
                        cl::desc("Never offload weights to host memory or "
                                 "disk"),
                        cl::sub(CompileCmd), cl::cat(getStrataCategory()));

constexpr CommandErrors Errors("strata compile");

/// Applies --max-memory and --reserve to the cluster.
llvm::Error applyMemoryLimits(cluster::Cluster &C) {
  if (!Reserve.empty()) {
    auto R = parseSize(Reserve);
    if (!R)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--reserve: " + toString(R.takeError()));
    for (cluster::Device &D : C.Devices)
      D.ReserveBytes = *R;
  }
  if (MaxMemory.empty())
    return llvm::Error::success();
  llvm::SmallVector<llvm::StringRef, 8> Items;
  llvm::StringRef(MaxMemory).split(Items, ',', -1, false);
  for (llvm::StringRef Item : Items) {
    auto [Index, Size] = Item.split('=');
    unsigned D = 0;
    if (Index.trim().getAsInteger(10, D) || Size.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--max-memory: expected DEVICE=SIZE "
                                     "items such as 0=70GiB, got '" +
                                         Item + "'");
    if (D >= C.size())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--max-memory: device " + llvm::Twine(D) +
                                         " does not exist (the cluster has " +
                                         llvm::Twine(C.size()) + ")");
    auto Bytes = parseSize(Size);
    if (!Bytes)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--max-memory: " +
                                         toString(Bytes.takeError()));
    if (*Bytes > C.Devices[D].CapacityBytes)
      spdlog::warn("--max-memory {}={} is more than the device has ({}); "
                   "keeping its capacity",
                   D, Size.str(), formatBytes(C.Devices[D].CapacityBytes));
    else
      C.Devices[D].CapacityBytes = *Bytes;
  }
  return llvm::Error::success();
}

/// The report as JSON (docs/cli.md): the same tables, keyed by location.
llvm::json::Value reportToJSON(const plan::Plan &P) {
  viz::Summary Sum = viz::summarise(P);
  llvm::json::Array Devices;
  for (const plan::Device &D : P.Devices) {
    std::string W = viz::deviceName(P, D.Index);
    const viz::LocationSummary &S = Sum[W];
    Devices.push_back(llvm::json::Object{
        {"device", W},
        {"index", int64_t(D.Index)},
        {"name", D.Name},
        {"weights", llvm::json::Object{{"tensors", int64_t(S.Tensors)},
                                       {"bytes", int64_t(S.WeightBytes)}}},
        {"layers", viz::formatRanges(S.Layers)},
        {"kv_cache",
         llvm::json::Object{{"buffers", int64_t(S.KVBuffers)},
                            {"bytes", int64_t(S.KVBytes)},
                            {"layers", viz::formatRanges(S.KVLayers)}}},
        {"memory",
         llvm::json::Object{{"weights", int64_t(D.WeightBytes)},
                            {"kv_cache", int64_t(D.KVCacheBytes)},
                            {"activations", int64_t(D.ActivationBytes)},
                            {"workspace", int64_t(D.WorkspaceBytes)},
                            {"reserve", int64_t(D.ReserveBytes)},
                            {"free", int64_t(viz::freeBytes(D))},
                            {"capacity", int64_t(D.CapacityBytes)}}},
        {"predicted", llvm::json::Object{{"prefill_s", D.PrefillSeconds},
                                         {"decode_s", D.DecodeSeconds}}}});
  }
  llvm::json::Object OffDevice;
  for (const char *W : {"host", "disk"})
    if (Sum.count(W))
      OffDevice[W] = llvm::json::Object{{"tensors", int64_t(Sum[W].Tensors)},
                                        {"bytes", int64_t(Sum[W].WeightBytes)}};
  llvm::json::Array Fallbacks;
  for (const plan::Fallback &F : P.Fallbacks)
    Fallbacks.push_back(llvm::json::Object{{"tensor", F.Buffer},
                                           {"kind", plan::getKindName(F.Kind)},
                                           {"reason", F.Reason}});
  return llvm::json::Object{
      {"model", P.Model.Name},
      {"cluster", P.ClusterSpec},
      {"strategy", P.Strategy},
      {"multi_device", P.MultiDevice},
      {"devices", std::move(Devices)},
      {"off_device", std::move(OffDevice)},
      {"fallbacks", std::move(Fallbacks)},
      {"schedule", viz::scheduleReportToJSON(P)},
      {"predicted",
       llvm::json::Object{
           {"prefill_s", P.Predicted.PrefillSeconds},
           {"decode_s_per_step", P.Predicted.DecodeSecondsPerStep},
           {"decode_tokens_per_s", P.Predicted.DecodeTokensPerSecond}}}};
}

int runCompile() {
  passes::CompileOptions COpts;
  COpts.Strategy = Strategy;
  COpts.Balance = Balance;
  COpts.KVStrategy = KVStrategy;
  COpts.Overrides.assign(Overrides.begin(), Overrides.end());
  COpts.NoOffload = NoOffload;
  if (llvm::Error E = passes::checkCompileOptions(COpts))
    return Errors.usage(llvm::toString(std::move(E)));
  import::LoweringOptions LOpts;
  LOpts.Batch = Batch;
  LOpts.Context = Context;
  LOpts.PrefillTokens = Prefill;
  if (!KVDType.empty()) {
    std::optional<ir::DType> T = ir::parseDType(KVDType);
    if (!T || !ir::isFloat(*T))
      return Errors.usage("--kv-dtype=" + KVDType +
                          ": expected a float type such "
                          "as f16, bf16, f32 or f8_e4m3");
    LOpts.KVType = *T;
  }

  auto Cluster = makeCluster(ClusterSpec);
  if (!Cluster)
    return Errors.fail(llvm::toString(Cluster.takeError()));
  if (llvm::Error E = applyMemoryLimits(*Cluster))
    return Errors.usage(llvm::toString(std::move(E)));

  // A .sir file is a graph already lowered (and perhaps placed by hand):
  // tests and experiments compile it as it is.
  bool FromText = llvm::StringRef(ModelSpec).endswith(".sir");
  llvm::Expected<import::ModelSource> Source =
      FromText ? import::ModelSource() : import::openModel(ModelSpec);
  if (!Source)
    return Errors.fail(llvm::toString(Source.takeError()));
  llvm::Expected<ir::Graph> Graph = ir::Graph();
  if (FromText) {
    auto Text = llvm::MemoryBuffer::getFileOrSTDIN(ModelSpec);
    if (!Text)
      return Errors.fail(ModelSpec + ": " + Text.getError().message());
    Graph = ir::text::parseGraph((*Text)->getBuffer(), ModelSpec);
    if (Graph)
      if (llvm::Error E = ir::verify(*Graph))
        Graph = std::move(E);
  } else {
    Graph = import::lowerModel(
        Source->Config, Source->Tensors ? &*Source->Tensors : nullptr, LOpts);
  }
  if (!Graph)
    return Errors.fail(ModelSpec + ": " + llvm::toString(Graph.takeError()));
  auto Stats = import::computeWeightStats(*Graph);
  if (!Stats)
    return Errors.fail(ModelSpec + ": " + llvm::toString(Stats.takeError()));

  plan::ModelInfo Model;
  Model.Name = FromText ? Graph->getName().str() : Source->Config.Name;
  Model.Source = ModelSpec;
  Model.Format = FromText ? "sir" : import::getFormatName(Source->Kind).str();
  Model.Fingerprint = passes::fingerprintGraph(*Graph);
  if (!FromText && Source->Tensors) {
    auto Digest = import::sampleContentDigest(*Source->Tensors);
    if (!Digest)
      return Errors.fail(ModelSpec + ": " + llvm::toString(Digest.takeError()));
    Model.ContentDigest = std::move(*Digest);
  }
  Model.Parameters = Stats->Parameters;
  Model.WeightBytes = Stats->WeightBytes;
  Model.Layers = FromText ? 0 : Source->Config.Layers;
  passes::CompileRequest Request;
  Request.Options = std::move(COpts);
  Request.Pipeline = PassPipeline; // empty: the default for the options
  Request.Model = std::move(Model);
  Request.TimePasses = TimePasses;
  auto Compiled = passes::compilePlan(*Graph, *Cluster, Request);
  if (!Compiled)
    return Errors.fail(ModelSpec + " on " + Cluster->Spec + ": " +
                       llvm::toString(Compiled.takeError()));
  if (Compiled->Rounds > 1)
    spdlog::info("placed {} times: the exact memory plan needed more "
                 "activation memory than estimated",
                 Compiled->Rounds);
  plan::Plan *Plan = &Compiled->Plan;

  if (TimePasses)
    for (const passes::Statistic &S : Compiled->Stats)
      if (S.Name == passes::TimeStatistic)
        llvm::errs() << llvm::formatv("time: {0,-18} {1,8:f3} ms\n", S.Pass,
                                      S.Value / 1e3);
  if (!OutputPath.empty())
    if (llvm::Error E = writeOutputFile(OutputPath, [&](llvm::raw_ostream &OS) {
          plan::writePlan(OS, *Plan);
          return llvm::Error::success();
        }))
      return Errors.fail(llvm::toString(std::move(E)));
  if (!ReportJSON.empty())
    if (llvm::Error E = writeOutputFile(ReportJSON, [&](llvm::raw_ostream &OS) {
          OS << llvm::formatv("{0:2}", reportToJSON(*Plan)) << "\n";
          return llvm::Error::success();
        }))
      return Errors.fail(llvm::toString(std::move(E)));
  // DEBUG=2: where every buffer went and why.
  if (spdlog::should_log(spdlog::level::debug))
    for (const plan::Buffer &B : Plan->Buffers)
      spdlog::debug("{} {} {}{} -> {}: {}", plan::getKindName(B.Kind).str(),
                    B.Name, formatBytes(B.Bytes),
                    B.ShardInfo
                        ? llvm::formatv(" (shard {0}/{1})", B.ShardInfo->Index,
                                        B.ShardInfo->Count)
                              .str()
                        : std::string(),
                    viz::locationName(*Plan, B.Where), B.PlacedBy);
  viz::printTextReport(llvm::outs(), *Plan, OutputPath);
  return ExitSuccess;
}

} // namespace

Command getCompileCommand() { return {&CompileCmd, &runCompile}; }

} // namespace strata::tool
