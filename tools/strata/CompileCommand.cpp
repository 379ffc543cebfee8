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
#include "ScheduleReport.h"

#include "ir/Verifier.h"
#include "ir/cluster/Cluster.h"
#include "ir/import/ContentDigest.h"
#include "ir/import/Lowering.h"
#include "ir/import/ModelSource.h"
#include "ir/import/ModelStats.h"
#include "ir/plan/Plan.h"
#include "ir/text/Parser.h"
#include "passes/BuildPlan.h"
#include "passes/CompilePlan.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
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

int fail(const llvm::Twine &Msg) {
  llvm::WithColor::error(llvm::errs(), "strata compile") << Msg << '\n';
  return ExitFailure;
}
int usage(const llvm::Twine &Msg) {
  llvm::WithColor::error(llvm::errs(), "strata compile") << Msg << '\n';
  return ExitUsage;
}

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

std::string where(const plan::Plan &P, const plan::Location &L) {
  switch (L.Where) {
  case plan::Location::Kind::Host:
    return "host";
  case plan::Location::Kind::Disk:
    return "disk";
  case plan::Location::Kind::Device:
    return (P.Devices[L.Device].Kind == "gpu" ? "cuda:" : "cpu:") +
           std::to_string(L.Device);
  }
  return "?";
}

/// What the report shows, per location ("cuda:0", "host", ...): derived
/// from the plan once, printed as text or JSON.
struct LocationSummary {
  uint64_t Tensors = 0, WeightBytes = 0, KVBuffers = 0, KVBytes = 0;
  std::set<int64_t> Layers;
  std::set<int64_t> KVLayers;
};

/// Locations in device order, then host, then disk.
struct LocationOrder {
  bool operator()(const std::string &A, const std::string &B) const {
    return rank(A) < rank(B);
  }
  static std::pair<uint64_t, std::string> rank(const std::string &L) {
    size_t Colon = L.find(':');
    if (Colon == std::string::npos)
      return {UINT64_MAX, L}; // "disk" sorts after "host"
    return {std::stoull(L.substr(Colon + 1)), L};
  }
};
using Summary = std::map<std::string, LocationSummary, LocationOrder>;

Summary summarise(const plan::Plan &P) {
  Summary Out;
  for (const plan::Buffer &B : P.Buffers) {
    LocationSummary &S = Out[where(P, B.Where)];
    if (B.Kind != "weight" && B.Kind != "kv_cache")
      continue; // activations and staging are the arena's
    if (B.Kind == "kv_cache") {
      ++S.KVBuffers;
      S.KVBytes += B.Bytes;
      if (B.Layer)
        S.KVLayers.insert(*B.Layer);
    } else {
      ++S.Tensors;
      S.WeightBytes += B.Bytes;
      if (B.Layer)
        S.Layers.insert(*B.Layer);
    }
  }
  return Out;
}

uint64_t freeBytes(const plan::Device &D) {
  uint64_t Used = D.WeightBytes + D.KVCacheBytes + D.ActivationBytes +
                  D.WorkspaceBytes + D.ReserveBytes;
  return D.CapacityBytes > Used ? D.CapacityBytes - Used : 0;
}

void printReport(llvm::raw_ostream &OS, const plan::Plan &P,
                 const std::string &PlanPath) {
  OS << "model      " << P.Model.Name << " (" << formatCount(P.Model.Parameters)
     << " parameters, " << formatBytes(P.Model.WeightBytes) << ")\n";
  OS << "cluster    " << P.ClusterSpec << " (" << P.Devices.size()
     << " devices)\n";
  OS << "strategy   " << P.Strategy
     << (P.MultiDevice ? " (multi-device)"
                       : " (one device: no copies or "
                         "collectives)")
     << "; KV " << P.Opts.KVStrategy << "; batch " << P.Opts.Batch
     << ", context " << P.Opts.Context << "\n";
  if (!PlanPath.empty())
    OS << "plan       " << PlanPath << " (format " << P.Version
       << ", fingerprint " << P.Model.Fingerprint.substr(0, 16) << "...)\n";

  Summary Sum = summarise(P);
  OS << "\nweights per device\n";
  for (const auto &[W, S] : Sum)
    if (S.Tensors)
      OS << llvm::formatv("  {0,-8} {1,7} tensors {2,12}\n", W, S.Tensors,
                          formatBytes(S.WeightBytes));
  OS << "\nlayers per device\n";
  for (const auto &[W, S] : Sum)
    if (!S.Layers.empty())
      OS << llvm::formatv("  {0,-8} {1}\n", W, formatRanges(S.Layers));
  OS << "\nKV cache per device\n";
  for (const auto &[W, S] : Sum)
    if (S.KVBuffers)
      OS << llvm::formatv("  {0,-8} {1,7} buffers {2,12}  layers {3}\n", W,
                          S.KVBuffers, formatBytes(S.KVBytes),
                          formatRanges(S.KVLayers));
  OS << "\nmemory per device\n";
  OS << llvm::formatv(
      "  {0,-8} {1,10} {2,10} {3,11} {4,10} {5,10} {6,10} {7,6}\n", "device",
      "weights", "KV cache", "arena", "reserve", "free", "capacity", "fill");
  for (const plan::Device &D : P.Devices) {
    uint64_t Used = D.CapacityBytes - std::min(D.CapacityBytes, freeBytes(D));
    OS << llvm::formatv(
        "  {0,-8} {1,10} {2,10} {3,11} {4,10} {5,10} {6,10} {7,5:f1}%\n",
        where(P, plan::Location::device(D.Index)), formatBytes(D.WeightBytes),
        formatBytes(D.KVCacheBytes), formatBytes(D.ActivationBytes),
        formatBytes(D.ReserveBytes), formatBytes(freeBytes(D)),
        formatBytes(D.CapacityBytes),
        100.0 * static_cast<double>(Used) /
            static_cast<double>(std::max<uint64_t>(1, D.CapacityBytes)));
  }
  OS << "\nfallbacks: " << (P.Fallbacks.empty() ? "none" : "") << "\n";
  for (const plan::Fallback &F : P.Fallbacks)
    OS << "  " << F.Kind << " " << F.Buffer << ": " << F.Reason << "\n";
  OS << "\npredicted (cost model)\n";
  OS << llvm::formatv("  prefill  {0:f3} ms for {1} tokens x {2}\n",
                      P.Predicted.PrefillSeconds * 1e3, P.Opts.PrefillTokens,
                      plural(P.Opts.Batch, "sequence"));
  OS << llvm::formatv("  decode   {0:f3} ms per step, {1:f1} tokens/s\n",
                      P.Predicted.DecodeSecondsPerStep * 1e3,
                      P.Predicted.DecodeTokensPerSecond);
  for (const plan::Device &D : P.Devices)
    if (D.DecodeSeconds > 0)
      OS << llvm::formatv("  {0,-8} prefill {1:f3} ms, decode {2:f3} ms\n",
                          where(P, plan::Location::device(D.Index)),
                          D.PrefillSeconds * 1e3, D.DecodeSeconds * 1e3);
  OS << "\n";
  printScheduleReport(OS, P);
}

/// The report as JSON (docs/cli.md): the same tables, keyed by location.
llvm::json::Value reportToJSON(const plan::Plan &P) {
  Summary Sum = summarise(P);
  llvm::json::Array Devices;
  for (const plan::Device &D : P.Devices) {
    std::string W = where(P, plan::Location::device(D.Index));
    const LocationSummary &S = Sum[W];
    Devices.push_back(llvm::json::Object{
        {"device", W},
        {"index", int64_t(D.Index)},
        {"name", D.Name},
        {"weights", llvm::json::Object{{"tensors", int64_t(S.Tensors)},
                                       {"bytes", int64_t(S.WeightBytes)}}},
        {"layers", formatRanges(S.Layers)},
        {"kv_cache", llvm::json::Object{{"buffers", int64_t(S.KVBuffers)},
                                        {"bytes", int64_t(S.KVBytes)},
                                        {"layers", formatRanges(S.KVLayers)}}},
        {"memory",
         llvm::json::Object{{"weights", int64_t(D.WeightBytes)},
                            {"kv_cache", int64_t(D.KVCacheBytes)},
                            {"activations", int64_t(D.ActivationBytes)},
                            {"workspace", int64_t(D.WorkspaceBytes)},
                            {"reserve", int64_t(D.ReserveBytes)},
                            {"free", int64_t(freeBytes(D))},
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
    Fallbacks.push_back(llvm::json::Object{
        {"tensor", F.Buffer}, {"kind", F.Kind}, {"reason", F.Reason}});
  return llvm::json::Object{
      {"model", P.Model.Name},
      {"cluster", P.ClusterSpec},
      {"strategy", P.Strategy},
      {"multi_device", P.MultiDevice},
      {"devices", std::move(Devices)},
      {"off_device", std::move(OffDevice)},
      {"fallbacks", std::move(Fallbacks)},
      {"schedule", scheduleReportToJSON(P)},
      {"predicted",
       llvm::json::Object{
           {"prefill_s", P.Predicted.PrefillSeconds},
           {"decode_s_per_step", P.Predicted.DecodeSecondsPerStep},
           {"decode_tokens_per_s", P.Predicted.DecodeTokensPerSecond}}}};
}

int runCompile() {
  if (Strategy != "auto" && Strategy != "pipeline" && Strategy != "tensor")
    return usage("--strategy=" + Strategy +
                 ": expected auto, pipeline or "
                 "tensor");
  if (Balance != "time" && Balance != "memory")
    return usage("--balance=" + Balance + ": expected time or memory");
  if (KVStrategy != "with-layer" && KVStrategy != "by-head")
    return usage("--kv-strategy=" + KVStrategy +
                 ": expected with-layer or by-head");
  import::LoweringOptions LOpts;
  LOpts.Batch = Batch;
  LOpts.Context = Context;
  LOpts.PrefillTokens = Prefill;
  if (!KVDType.empty()) {
    std::optional<ir::DType> T = ir::parseDType(KVDType);
    if (!T || !ir::isFloat(*T))
      return usage("--kv-dtype=" + KVDType +
                   ": expected a float type such "
                   "as f16, bf16, f32 or f8_e4m3");
    LOpts.KVType = *T;
  }

  auto Cluster = makeCluster(ClusterSpec);
  if (!Cluster)
    return fail(llvm::toString(Cluster.takeError()));
  if (llvm::Error E = applyMemoryLimits(*Cluster))
    return usage(llvm::toString(std::move(E)));

  // A .sir file is a graph already lowered (and perhaps placed by hand):
  // tests and experiments compile it as it is.
  bool FromText = llvm::StringRef(ModelSpec).endswith(".sir");
  llvm::Expected<import::ModelSource> Source =
      FromText ? import::ModelSource() : import::openModel(ModelSpec);
  if (!Source)
    return fail(llvm::toString(Source.takeError()));
  llvm::Expected<ir::Graph> Graph = ir::Graph();
  if (FromText) {
    auto Text = llvm::MemoryBuffer::getFileOrSTDIN(ModelSpec);
    if (!Text)
      return fail(ModelSpec + ": " + Text.getError().message());
    Graph = ir::text::parseGraph((*Text)->getBuffer(), ModelSpec);
    if (Graph)
      if (llvm::Error E = ir::verify(*Graph))
        Graph = std::move(E);
  } else {
    Graph = import::lowerModel(
        Source->Config, Source->Tensors ? &*Source->Tensors : nullptr, LOpts);
  }
  if (!Graph)
    return fail(ModelSpec + ": " + llvm::toString(Graph.takeError()));
  auto Stats = import::computeWeightStats(*Graph);
  if (!Stats)
    return fail(ModelSpec + ": " + llvm::toString(Stats.takeError()));

  std::string Pipeline =
      "place-layers{strategy=" + Strategy.getValue() +
      ",balance=" + Balance.getValue() +
      "},place-experts,insert-tp-allreduce,place-nonlayer,place-kv{"
      "strategy=" +
      KVStrategy.getValue() + "}";
  if (!Overrides.empty())
    Pipeline += ",place-override{rules=" + llvm::join(Overrides, ";") + "}";
  Pipeline += std::string(",place-fallbacks{offload=") +
              (NoOffload ? "false" : "true") + "},verify-placement";
  if (!PassPipeline.empty())
    Pipeline = PassPipeline;
  plan::ModelInfo Model;
  Model.Name = FromText ? Graph->getName().str() : Source->Config.Name;
  Model.Source = ModelSpec;
  Model.Format = FromText ? "sir" : import::getFormatName(Source->Kind).str();
  Model.Fingerprint = passes::fingerprintGraph(*Graph);
  if (!FromText && Source->Tensors) {
    auto Digest = import::sampleContentDigest(*Source->Tensors);
    if (!Digest)
      return fail(ModelSpec + ": " + llvm::toString(Digest.takeError()));
    Model.ContentDigest = std::move(*Digest);
  }
  Model.Parameters = Stats->Parameters;
  Model.WeightBytes = Stats->WeightBytes;
  Model.Layers = FromText ? 0 : Source->Config.Layers;
  plan::Options POpts;
  POpts.Strategy = Strategy;
  POpts.KVStrategy = KVStrategy;
  POpts.Batch = Batch;
  POpts.NoOffload = NoOffload;
  for (ir::ValueId V : Graph->sharedValues())
    if (Graph->getValue(V).Kind == ir::ValueKind::KVCache &&
        Graph->getValue(V).Type.Dims.rank() >= 2) {
      POpts.Context = Graph->getValue(V).Type.Dims[1];
      POpts.KVDType = ir::getDTypeName(Graph->getValue(V).Type.Elem).str();
      break;
    }
  if (std::optional<ir::ProgramId> Pre = Graph->lookupProgram("prefill");
      Pre && !Graph->getProgram(*Pre).Inputs.empty() &&
      Graph->getValue(Graph->getProgram(*Pre).Inputs[0]).Type.Dims.rank() >= 2)
    POpts.PrefillTokens =
        Graph->getValue(Graph->getProgram(*Pre).Inputs[0]).Type.Dims[1];
  passes::CompileRequest Request;
  Request.Pipeline = Pipeline;
  Request.Model = std::move(Model);
  Request.Options = std::move(POpts);
  Request.TimePasses = TimePasses;
  auto Compiled = passes::compilePlan(*Graph, *Cluster, Request);
  if (!Compiled)
    return fail(ModelSpec + " on " + Cluster->Spec + ": " +
                llvm::toString(Compiled.takeError()));
  if (Compiled->Rounds > 1)
    spdlog::info("placed {} times: the exact memory plan needed more "
                 "activation memory than estimated",
                 Compiled->Rounds);
  plan::Plan *Plan = &Compiled->Plan;

  if (TimePasses)
    for (const passes::Statistic &S : Compiled->Stats)
      if (S.Name == "time-us")
        llvm::errs() << llvm::formatv("time: {0,-18} {1,8:f3} ms\n", S.Pass,
                                      S.Value / 1e3);
  if (!OutputPath.empty())
    if (llvm::Error E = writeOutputFile(OutputPath, [&](llvm::raw_ostream &OS) {
          plan::writePlan(OS, *Plan);
          return llvm::Error::success();
        }))
      return fail(llvm::toString(std::move(E)));
  if (!ReportJSON.empty())
    if (llvm::Error E = writeOutputFile(ReportJSON, [&](llvm::raw_ostream &OS) {
          OS << llvm::formatv("{0:2}", reportToJSON(*Plan)) << "\n";
          return llvm::Error::success();
        }))
      return fail(llvm::toString(std::move(E)));
  // DEBUG=2: where every buffer went and why.
  if (spdlog::should_log(spdlog::level::debug))
    for (const plan::Buffer &B : Plan->Buffers)
      spdlog::debug(
          "{} {} {}{} -> {}: {}", B.Kind, B.Name, formatBytes(B.Bytes),
          B.ShardInfo ? llvm::formatv(" (shard {0}/{1})", B.ShardInfo->Index,
                                      B.ShardInfo->Count)
                            .str()
                      : std::string(),
          where(*Plan, B.Where), B.PlacedBy);
  printReport(llvm::outs(), *Plan, OutputPath);
  return ExitSuccess;
}

} // namespace

Command getCompileCommand() { return {&CompileCmd, &runCompile}; }

} // namespace strata::tool
