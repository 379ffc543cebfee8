//===- InspectCommand.cpp - strata inspect: a model's memory picture ------===//
//
// Opens a model (preset, GGUF, Hugging Face checkpoint or config.json),
// lowers it for the batch and context asked for, and reports its
// hyperparameters, parameters, bytes by role and by layer, KV-cache bytes
// and activation peaks, as text or as one JSON object (docs/cli.md).
// Weight bytes are never read.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"
#include "OutputFile.h"
#include "ir/WeightRole.h"

#include "ir/Verifier.h"
#include "ir/import/Lowering.h"
#include "ir/import/ModelSource.h"
#include "ir/import/ModelStats.h"
#include "ir/text/Printer.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include "spdlog/spdlog.h"

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand InspectCmd("inspect",
                          "Show a model's architecture, parameters and memory "
                          "needs (weights, KV cache, activations)");

cl::opt<std::string> ModelSpec(cl::Positional, cl::Required,
                               cl::desc("<model.gguf | checkpoint folder | "
                                        "config.json | preset:NAME>"),
                               cl::sub(InspectCmd),
                               cl::cat(getStrataCategory()));
cl::opt<int64_t> Batch("batch", cl::desc("Sequences decoded together"),
                       cl::init(1), cl::sub(InspectCmd),
                       cl::cat(getStrataCategory()));
cl::opt<int64_t> Context("context",
                         cl::desc("KV-cache tokens per sequence (default: the "
                                  "model's maximum context)"),
                         cl::init(0), cl::sub(InspectCmd),
                         cl::cat(getStrataCategory()));
cl::opt<int64_t> Prefill("prefill",
                         cl::desc("Tokens per prefill chunk (default: "
                                  "min(context, 512))"),
                         cl::init(0), cl::sub(InspectCmd),
                         cl::cat(getStrataCategory()));
cl::opt<std::string> KVDType("kv-dtype",
                             cl::desc("KV-cache element type, e.g. f16, bf16, "
                                      "f32, f8_e4m3 (default: the compute "
                                      "type)"),
                             cl::sub(InspectCmd), cl::cat(getStrataCategory()));
cl::opt<bool> AsJSON("json", cl::desc("Print one JSON object instead of text"),
                     cl::sub(InspectCmd), cl::cat(getStrataCategory()));
cl::opt<bool> PrintGraph("print-graph",
                         cl::desc("Print the lowered graph in the .sir text "
                                  "form instead of the report"),
                         cl::sub(InspectCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> OutputPath("o", cl::desc("Write the report to this file"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(InspectCmd),
                                cl::cat(getStrataCategory()));

std::string ropeScalingName(const import::RopeScaling &S) {
  switch (S.Type) {
  case import::RopeScaling::Kind::None:
    return "none";
  case import::RopeScaling::Kind::Linear:
    return "linear x" + formatFloat(S.Factor);
  case import::RopeScaling::Kind::Llama3:
    return llvm::formatv("llama3 x{0} (original context {1})",
                         formatFloat(S.Factor), S.OriginalContext);
  case import::RopeScaling::Kind::YaRN:
    return llvm::formatv("yarn x{0} (original context {1})",
                         formatFloat(S.Factor), S.OriginalContext);
  }
  return "?";
}

struct Report {
  const import::ModelSource &Source;
  const ir::Graph &Graph;
  const import::ModelStats &Stats;
  int64_t Context;
  ir::DType KVType;

  uint64_t kvPerToken() const {
    return Stats.KVCacheBytes / static_cast<uint64_t>(Batch * Context);
  }

  void printText(llvm::raw_ostream &OS) const {
    const import::ModelConfig &C = Source.Config;
    OS << "model          " << C.Name << "\n";
    OS << "source         " << Source.Origin << "\n";
    OS << "architecture   " << import::getArchitectureName(C.Arch) << "\n";
    OS << llvm::formatv("hyperparameters vocab {0}, hidden {1}, layers {2}, "
                        "heads {3}, KV heads {4}, head dim {5}",
                        C.Vocab, C.Hidden, C.Layers, C.Heads, C.KVHeads,
                        C.HeadDim)
       << "\n";
    OS << "               FFN " << C.FFN;
    if (C.MoE)
      OS << llvm::formatv(", {0} experts (top {1}) of FFN {2}",
                          C.MoE->NumExperts, C.MoE->ExpertsPerToken,
                          C.MoE->ExpertFFN)
         << (C.MoE->NumSharedExperts ? llvm::formatv(", {0} shared of FFN {1}",
                                                     C.MoE->NumSharedExperts,
                                                     C.MoE->SharedExpertFFN)
                                           .str()
                                     : std::string())
         << (C.MoE->FirstDenseLayers ? llvm::formatv(", first {0} layers dense",
                                                     C.MoE->FirstDenseLayers)
                                           .str()
                                     : std::string());
    if (C.MLA)
      OS << llvm::formatv(", MLA latent {0} + rope {1}", C.MLA->KVLoraRank,
                          C.MLA->QKRopeHeadDim);
    OS << "\n";
    OS << llvm::formatv("               context {0}, RoPE theta {1} ({2}, "
                        "scaling {3}), RMSNorm eps {4}, tied embeddings {5}, "
                        "q/k/v bias {6}",
                        C.MaxContext, formatFloat(C.RopeTheta),
                        C.RopeNeoX ? "neox" : "normal",
                        ropeScalingName(C.Scaling), formatFloat(C.RMSNormEps),
                        C.TiedEmbeddings ? "yes" : "no",
                        C.QKVBias ? "yes" : "no")
       << "\n\n";
    OS << "tensors        " << formatCount(Stats.Tensors) << "\n";
    OS << "parameters     " << formatCount(Stats.Parameters);
    if (Source.PublishedParameters)
      OS << " (published: " << formatCount(Source.PublishedParameters) << ")";
    OS << "\n";
    OS << "weights        " << formatBytes(Stats.WeightBytes) << " ("
       << formatCount(Stats.WeightBytes) << " bytes)\n";
    OS << llvm::formatv("KV cache       {0} per token ({1}); batch {2} x "
                        "context {3}: {4} ({5} bytes)",
                        formatBytes(kvPerToken()), ir::getDTypeName(KVType),
                        Batch.getValue(), Context,
                        formatBytes(Stats.KVCacheBytes),
                        formatCount(Stats.KVCacheBytes))
       << "\n";
    for (const import::ProgramStats &P : Stats.Programs)
      OS << llvm::formatv("activations    {0,-8} peak {1} ({2} x {3}, {4} "
                          "ops)",
                          P.Name, formatBytes(P.ActivationPeakBytes),
                          plural(P.Tokens, "token"), plural(Batch, "sequence"),
                          P.Ops)
         << "\n";

    OS << "\nweights by role\n";
    OS << llvm::formatv("  {0,-12} {1,10} {2,20} {3,12}\n", "role", "tensors",
                        "parameters", "bytes");
    for (const import::WeightGroup &R : Stats.ByRole)
      OS << llvm::formatv("  {0,-12} {1,10} {2,20} {3,12}\n", R.Name,
                          formatCount(R.Tensors), formatCount(R.Parameters),
                          formatBytes(R.Bytes));

    OS << "\nper layer\n";
    OS << llvm::formatv("  {0,-8} {1,10} {2,18} {3,12} {4,12}\n", "layer",
                        "tensors", "parameters", "weights", "KV cache");
    for (const import::LayerStats &L : Stats.Layers)
      OS << llvm::formatv("  {0,-8} {1,10} {2,18} {3,12} {4,12}\n", L.Layer,
                          formatCount(L.Tensors), formatCount(L.Parameters),
                          formatBytes(L.WeightBytes),
                          formatBytes(L.KVCacheBytes));
    OS << llvm::formatv("  {0,-8} {1,10} {2,18} {3,12} {4,12}\n", "other",
                        formatCount(Stats.OutsideLayers.Tensors),
                        formatCount(Stats.OutsideLayers.Parameters),
                        formatBytes(Stats.OutsideLayers.Bytes), "-");
  }

  llvm::json::Value toJSON() const {
    const import::ModelConfig &C = Source.Config;
    llvm::json::Object Config{{"vocab", C.Vocab},
                              {"hidden", C.Hidden},
                              {"ffn", C.FFN},
                              {"layers", C.Layers},
                              {"heads", C.Heads},
                              {"kv_heads", C.KVHeads},
                              {"head_dim", C.HeadDim},
                              {"max_context", C.MaxContext},
                              {"rope_theta", C.RopeTheta},
                              {"rope_layout", C.RopeNeoX ? "neox" : "normal"},
                              {"rope_scaling", ropeScalingName(C.Scaling)},
                              {"rms_norm_eps", C.RMSNormEps},
                              {"tied_embeddings", C.TiedEmbeddings},
                              {"qkv_bias", C.QKVBias}};
    if (C.MoE)
      Config["moe"] =
          llvm::json::Object{{"experts", C.MoE->NumExperts},
                             {"experts_per_token", C.MoE->ExpertsPerToken},
                             {"expert_ffn", C.MoE->ExpertFFN},
                             {"shared_experts", C.MoE->NumSharedExperts},
                             {"shared_expert_ffn", C.MoE->SharedExpertFFN},
                             {"first_dense_layers", C.MoE->FirstDenseLayers}};
    if (C.MLA)
      Config["mla"] =
          llvm::json::Object{{"q_lora_rank", C.MLA->QLoraRank},
                             {"kv_lora_rank", C.MLA->KVLoraRank},
                             {"qk_nope_head_dim", C.MLA->QKNopeHeadDim},
                             {"qk_rope_head_dim", C.MLA->QKRopeHeadDim},
                             {"v_head_dim", C.MLA->VHeadDim}};
    llvm::json::Object Roles;
    for (const import::WeightGroup &R : Stats.ByRole)
      Roles[R.Name] = llvm::json::Object{{"tensors", int64_t(R.Tensors)},
                                         {"parameters", int64_t(R.Parameters)},
                                         {"bytes", int64_t(R.Bytes)}};
    llvm::json::Array Layers;
    for (const import::LayerStats &L : Stats.Layers)
      Layers.push_back(
          llvm::json::Object{{"layer", L.Layer},
                             {"tensors", int64_t(L.Tensors)},
                             {"parameters", int64_t(L.Parameters)},
                             {"weight_bytes", int64_t(L.WeightBytes)},
                             {"kv_cache_bytes", int64_t(L.KVCacheBytes)}});
    llvm::json::Object Activations;
    for (const import::ProgramStats &P : Stats.Programs)
      Activations[P.Name] =
          llvm::json::Object{{"tokens", P.Tokens},
                             {"ops", int64_t(P.Ops)},
                             {"peak_bytes", int64_t(P.ActivationPeakBytes)}};
    llvm::json::Object Top{
        {"model", C.Name},
        {"format", import::getFormatName(Source.Kind)},
        {"source", Source.Origin},
        {"architecture", import::getArchitectureName(C.Arch)},
        {"config", std::move(Config)},
        {"tensors", int64_t(Stats.Tensors)},
        {"parameters", int64_t(Stats.Parameters)},
        {"weight_bytes", int64_t(Stats.WeightBytes)},
        {"kv_cache_bytes", int64_t(Stats.KVCacheBytes)},
        {"kv_cache_bytes_per_token", int64_t(kvPerToken())},
        {"kv_dtype", ir::getDTypeName(KVType)},
        {"batch", Batch.getValue()},
        {"context", Context},
        {"bytes_by_role", std::move(Roles)},
        {"outside_layers",
         llvm::json::Object{
             {"tensors", int64_t(Stats.OutsideLayers.Tensors)},
             {"parameters", int64_t(Stats.OutsideLayers.Parameters)},
             {"bytes", int64_t(Stats.OutsideLayers.Bytes)}}},
        {"layers", std::move(Layers)},
        {"activations", std::move(Activations)}};
    if (Source.PublishedParameters)
      Top["published_parameters"] = int64_t(Source.PublishedParameters);
    return Top;
  }
};

constexpr CommandErrors Errors("strata inspect");

int runInspect() {
  import::LoweringOptions Opts;
  Opts.Batch = Batch;
  Opts.Context = Context;
  Opts.PrefillTokens = Prefill;
  if (!KVDType.empty()) {
    std::optional<ir::DType> T = ir::parseDType(KVDType);
    if (!T || !ir::isFloat(*T))
      return Errors.usage("--kv-dtype=" + KVDType +
                          ": expected a float type such as f16, bf16, f32 or "
                          "f8_e4m3");
    Opts.KVType = *T;
  }

  auto Source = import::openModel(ModelSpec);
  if (!Source)
    return Errors.fail(llvm::toString(Source.takeError()));
  spdlog::info("{}: {} ({}), {} tensors in the file", ModelSpec,
               Source->Config.Name, import::getFormatName(Source->Kind),
               Source->Tensors ? Source->Tensors->Tensors.size() : 0);
  auto Graph = import::lowerModel(
      Source->Config, Source->Tensors ? &*Source->Tensors : nullptr, Opts);
  if (!Graph)
    return Errors.fail(ModelSpec + ": " + llvm::toString(Graph.takeError()));
  if (llvm::Error E = ir::verify(*Graph))
    return Errors.fail(ModelSpec + ": the lowered graph is invalid (a bug):\n" +
                       llvm::toString(std::move(E)));
  auto Stats = import::computeModelStats(*Graph);
  if (!Stats)
    return Errors.fail(ModelSpec + ": " + llvm::toString(Stats.takeError()));

  if (spdlog::should_log(spdlog::level::debug))
    for (ir::ValueId V : Graph->sharedValues()) {
      const ir::Value &Val = Graph->getValue(V);
      spdlog::debug(
          "{} {} {} {}", ir::getValueKindName(Val.Kind), Val.Name,
          Val.Type.str(),
          Val.Attrs.getString(ir::AttrKeys::Role).value_or("kv_cache").str());
    }

  // The KV type and context are those of the first cache (all are alike).
  ir::DType KVType = ir::DType::F32;
  int64_t Ctx = 0;
  for (ir::ValueId V : Graph->sharedValues())
    if (Graph->getValue(V).Kind == ir::ValueKind::KVCache) {
      KVType = Graph->getValue(V).Type.Elem;
      Ctx = Graph->getValue(V).Type.Dims[1];
      break;
    }
  Report R{*Source, *Graph, *Stats, Ctx, KVType};
  if (llvm::Error E = writeOutputFile(OutputPath, [&](llvm::raw_ostream &OS) {
        if (PrintGraph)
          ir::text::printGraph(*Graph, OS);
        else if (AsJSON)
          OS << llvm::formatv("{0:2}", R.toJSON()) << '\n';
        else
          R.printText(OS);
        return llvm::Error::success();
      }))
    return Errors.fail(llvm::toString(std::move(E)));
  return ExitSuccess;
}

} // namespace

Command getInspectCommand() { return {&InspectCmd, &runInspect}; }

} // namespace strata::tool
