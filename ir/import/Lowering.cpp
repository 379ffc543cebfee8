//===- Lowering.cpp - A decoder model as a tensor graph -------------------===//
//
// One Lowering object builds one graph: first every weight and KV cache
// (declared once, shared by both programs), then each program, layer by
// layer. Weight names come from the model's naming scheme, so that every
// graph weight is exactly one tensor of its file.
//
//===----------------------------------------------------------------------===//

#include "ir/import/Lowering.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::import {
namespace {

using ir::AttrDict;
using ir::DType;
using ir::OpKind;
using ir::ValueId;

llvm::Error loweringError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// The weights of one layer; absent ones stay InvalidId.
struct LayerWeights {
  ValueId AttnNorm = ir::InvalidId, Q = ir::InvalidId, K = ir::InvalidId,
          V = ir::InvalidId, O = ir::InvalidId, QBias = ir::InvalidId,
          KBias = ir::InvalidId, VBias = ir::InvalidId;
  // MLA
  ValueId QA = ir::InvalidId, QANorm = ir::InvalidId, QB = ir::InvalidId,
          KVA = ir::InvalidId, KVANorm = ir::InvalidId, KVB = ir::InvalidId;
  ValueId FFNNorm = ir::InvalidId, Gate = ir::InvalidId, Up = ir::InvalidId,
          Down = ir::InvalidId;
  // MoE
  ValueId Router = ir::InvalidId, RouterBias = ir::InvalidId;
  std::vector<std::array<ValueId, 3>> Experts; ///< gate, up, down
  std::array<ValueId, 3> Shared = {ir::InvalidId, ir::InvalidId, ir::InvalidId};
  ValueId SharedGate = ir::InvalidId;
  // KV caches
  ValueId CacheK = ir::InvalidId, CacheV = ir::InvalidId;
};

class Lowering {
public:
  Lowering(const ModelConfig &C, const TensorTable *Table,
           const LoweringOptions &O)
      : C(C), Table(Table), Opts(O), G(C.Name) {}

  llvm::Expected<ir::Graph> run();

private:
  //===--- Names -------------------------------------------------------===//
  std::string globalName(llvm::StringRef HF, llvm::StringRef GGUF) const {
    return (C.Naming == NamingScheme::GGUF ? GGUF : HF).str();
  }
  std::string layerName(int64_t L, llvm::StringRef HF,
                        llvm::StringRef GGUF) const {
    if (C.Naming == NamingScheme::GGUF)
      return ("blk." + llvm::Twine(L) + "." + GGUF).str();
    return ("model.layers." + llvm::Twine(L) + "." + HF).str();
  }

  //===--- Weights -----------------------------------------------------===//
  llvm::Expected<ValueId> weight(const std::string &Name,
                                 llvm::ArrayRef<int64_t> Dims,
                                 ir::WeightRole Role, int64_t Layer,
                                 std::optional<DType> PresetType = {});
  llvm::Error declareWeights();
  llvm::Error declareLayer(int64_t L, LayerWeights &W);
  llvm::Error declareAttention(int64_t L, LayerWeights &W);
  llvm::Error declareMLP(int64_t L, LayerWeights &W);
  llvm::Error checkAllTensorsUsed() const;
  /// DeepSeek-V3 checkpoints carry a multi-token-prediction module as the
  /// layers after the last (model.layers.61.*); the model lowered is the
  /// main one, so those tensors are skipped rather than reported.
  bool isMTPTensor(llvm::StringRef Name) const {
    unsigned L = 0;
    return C.Arch == Architecture::DeepSeekV3 &&
           Name.consume_front("model.layers.") && !Name.consumeInteger(10, L) &&
           static_cast<int64_t>(L) >= C.Layers;
  }

  //===--- Programs ----------------------------------------------------===//
  llvm::Error buildProgram(llvm::StringRef Name, int64_t Tokens);
  ir::TensorType type(DType D, llvm::ArrayRef<int64_t> Dims) const {
    return {D, llvm::cantFail(ir::Shape::get(Dims))};
  }
  /// Appends an op to the current program, named "<Prefix><Suffix>".
  llvm::Expected<ValueId> op(OpKind K, llvm::ArrayRef<ValueId> Args,
                             const llvm::Twine &Suffix,
                             llvm::ArrayRef<int64_t> Dims, AttrDict Attrs = {},
                             std::optional<DType> Elem = {});
  AttrDict ropeAttrs() const;
  llvm::Expected<ValueId> attentionBlock(const LayerWeights &W, ValueId H);
  llvm::Expected<ValueId> mlaBlock(const LayerWeights &W, ValueId H);
  llvm::Expected<ValueId> ffn(ValueId X, ValueId Gate, ValueId Up, ValueId Down,
                              const llvm::Twine &Name);
  llvm::Expected<ValueId> mlpBlock(const LayerWeights &W, ValueId F);

  const ModelConfig &C;
  const TensorTable *Table;
  LoweringOptions Opts;
  ir::Graph G;

  llvm::StringMap<unsigned> TableIndex;
  std::vector<bool> TableUsed;
  DType Compute = DType::F32, KV = DType::F32;
  int64_t Context = 0;

  ValueId Embd = ir::InvalidId, OutNorm = ir::InvalidId, LMHead = ir::InvalidId;
  std::vector<LayerWeights> Layers;

  // The program being built.
  ir::ProgramId Prog = ir::InvalidId;
  int64_t B = 0, T = 0;
  ValueId Pos = ir::InvalidId;
  std::string Prefix;
  int64_t Layer = -1;
};

llvm::Expected<ValueId> Lowering::weight(const std::string &Name,
                                         llvm::ArrayRef<int64_t> Dims,
                                         ir::WeightRole Role, int64_t L,
                                         std::optional<DType> PresetType) {
  AttrDict A;
  if (L >= 0)
    A.set(ir::AttrKeys::Layer, L);
  ir::setWeightRole(A, Role);
  DType Elem = PresetType.value_or(C.WeightType);
  if (Table) {
    auto It = TableIndex.find(Name);
    if (It == TableIndex.end())
      return loweringError("tensor '" + Name + "' (" +
                           ir::getWeightRoleName(Role) +
                           (L >= 0 ? ", layer " + llvm::Twine(L) : "") +
                           ") is missing from the checkpoint");
    const TensorDesc &D = Table->Tensors[It->second];
    if (llvm::ArrayRef<int64_t>(D.Dims) != Dims) {
      std::string Got, Want;
      llvm::raw_string_ostream GotOS(Got), WantOS(Want);
      llvm::interleaveComma(D.Dims, GotOS);
      llvm::interleaveComma(Dims, WantOS);
      return loweringError("tensor '" + Name + "' has shape [" + GotOS.str() +
                           "], but the model's configuration implies [" +
                           WantOS.str() + "]");
    }
    Elem = D.Type;
    TableUsed[It->second] = true;
  }
  auto S = ir::Shape::get(Dims);
  if (!S)
    return loweringError("tensor '" + Name + "': " + toString(S.takeError()));
  return G.addWeight(Name, {Elem, std::move(*S)}, std::move(A));
}

llvm::Error Lowering::declareWeights() {
  const int64_t V = C.Vocab, H = C.Hidden;
  auto E = weight(globalName("model.embed_tokens.weight", "token_embd.weight"),
                  {V, H}, ir::WeightRole::Embedding, -1);
  if (!E)
    return E.takeError();
  Embd = *E;
  if (Table && C.Naming == NamingScheme::GGUF &&
      TableIndex.count("rope_freqs.weight")) {
    // llama3-scaled GGUF files store the RoPE frequency factors.
    auto R = weight("rope_freqs.weight", {C.HeadDim / 2},
                    ir::WeightRole::RopeFrequencies, -1);
    if (!R)
      return R.takeError();
  }
  // Grown one declared layer at a time, not sized from C.Layers: a file
  // that claims 2^24 layers and holds two made lowering allocate 2 GB before
  // the first missing tensor stopped it (found while fuzzing the GGUF
  // reader, whose target lowers what it reads).
  for (int64_t L = 0; L < C.Layers; ++L) {
    LayerWeights W;
    if (llvm::Error Err = declareLayer(L, W))
      return Err;
    Layers.push_back(std::move(W));
  }
  auto N = weight(globalName("model.norm.weight", "output_norm.weight"), {H},
                  ir::WeightRole::Norm, -1);
  if (!N)
    return N.takeError();
  OutNorm = *N;
  if (C.TiedEmbeddings) {
    LMHead = Embd; // One weight, used twice, counted once.
  } else {
    auto LM = weight(globalName("lm_head.weight", "output.weight"), {V, H},
                     ir::WeightRole::OutputHead, -1);
    if (!LM)
      return LM.takeError();
    LMHead = *LM;
  }
  return llvm::Error::success();
}

llvm::Error Lowering::declareLayer(int64_t L, LayerWeights &W) {
  auto AN = weight(layerName(L, "input_layernorm.weight", "attn_norm.weight"),
                   {C.Hidden}, ir::WeightRole::Norm, L);
  if (!AN)
    return AN.takeError();
  W.AttnNorm = *AN;
  if (llvm::Error Err = declareAttention(L, W))
    return Err;
  auto FN =
      weight(layerName(L, "post_attention_layernorm.weight", "ffn_norm.weight"),
             {C.Hidden}, ir::WeightRole::Norm, L);
  if (!FN)
    return FN.takeError();
  W.FFNNorm = *FN;
  if (llvm::Error Err = declareMLP(L, W))
    return Err;

  // KV caches, sized for the batch and context.
  AttrDict A;
  A.set(ir::AttrKeys::Layer, L);
  auto Cache = [&](llvm::StringRef Name, int64_t Heads,
                   int64_t Dim) -> llvm::Expected<ValueId> {
    auto S = ir::Shape::get({Opts.Batch, Context, Heads, Dim});
    if (!S)
      return loweringError("KV cache of layer " + llvm::Twine(L) + ": " +
                           toString(S.takeError()));
    return G.addKVCache((Name + "." + llvm::Twine(L)).str(),
                        {KV, std::move(*S)}, A);
  };
  auto K = C.MLA ? Cache("cache_latent", 1, C.MLA->KVLoraRank)
                 : Cache("cache_k", C.KVHeads, C.HeadDim);
  if (!K)
    return K.takeError();
  auto V = C.MLA ? Cache("cache_rope", 1, C.MLA->QKRopeHeadDim)
                 : Cache("cache_v", C.KVHeads, C.HeadDim);
  if (!V)
    return V.takeError();
  W.CacheK = *K;
  W.CacheV = *V;
  return llvm::Error::success();
}

llvm::Error Lowering::declareAttention(int64_t L, LayerWeights &W) {
  const int64_t H = C.Hidden;
  using ir::WeightRole;
  struct Spec {
    ValueId *Slot;
    WeightRole Role;
    const char *HF, *GGUF;
    llvm::SmallVector<int64_t, 2> Dims;
  };
  std::vector<Spec> Specs;
  if (C.MLA) {
    const MLAConfig &M = *C.MLA;
    int64_t QDim = C.Heads * (M.QKNopeHeadDim + M.QKRopeHeadDim);
    if (M.QLoraRank > 0) {
      Specs.push_back({&W.QA,
                       WeightRole::QueryDown,
                       "self_attn.q_a_proj.weight",
                       "attn_q_a.weight",
                       {M.QLoraRank, H}});
      Specs.push_back({&W.QANorm,
                       WeightRole::Norm,
                       "self_attn.q_a_layernorm.weight",
                       "attn_q_a_norm.weight",
                       {M.QLoraRank}});
      Specs.push_back({&W.QB,
                       WeightRole::QueryUp,
                       "self_attn.q_b_proj.weight",
                       "attn_q_b.weight",
                       {QDim, M.QLoraRank}});
    } else {
      Specs.push_back({&W.Q,
                       WeightRole::Query,
                       "self_attn.q_proj.weight",
                       "attn_q.weight",
                       {QDim, H}});
    }
    Specs.push_back({&W.KVA,
                     WeightRole::KVDown,
                     "self_attn.kv_a_proj_with_mqa.weight",
                     "attn_kv_a_mqa.weight",
                     {M.KVLoraRank + M.QKRopeHeadDim, H}});
    Specs.push_back({&W.KVANorm,
                     WeightRole::Norm,
                     "self_attn.kv_a_layernorm.weight",
                     "attn_kv_a_norm.weight",
                     {M.KVLoraRank}});
    Specs.push_back({&W.KVB,
                     WeightRole::KVUp,
                     "self_attn.kv_b_proj.weight",
                     "attn_kv_b.weight",
                     {C.Heads * (M.QKNopeHeadDim + M.VHeadDim), M.KVLoraRank}});
    Specs.push_back({&W.O,
                     WeightRole::AttentionOutput,
                     "self_attn.o_proj.weight",
                     "attn_output.weight",
                     {H, C.Heads * M.VHeadDim}});
  } else {
    int64_t QDim = C.Heads * C.HeadDim, KVDim = C.KVHeads * C.HeadDim;
    Specs.push_back({&W.Q,
                     WeightRole::Query,
                     "self_attn.q_proj.weight",
                     "attn_q.weight",
                     {QDim, H}});
    Specs.push_back({&W.K,
                     WeightRole::Key,
                     "self_attn.k_proj.weight",
                     "attn_k.weight",
                     {KVDim, H}});
    Specs.push_back({&W.V,
                     WeightRole::Value,
                     "self_attn.v_proj.weight",
                     "attn_v.weight",
                     {KVDim, H}});
    Specs.push_back({&W.O,
                     WeightRole::AttentionOutput,
                     "self_attn.o_proj.weight",
                     "attn_output.weight",
                     {H, QDim}});
    if (C.QKVBias) {
      Specs.push_back({&W.QBias,
                       WeightRole::QueryBias,
                       "self_attn.q_proj.bias",
                       "attn_q.bias",
                       {QDim}});
      Specs.push_back({&W.KBias,
                       WeightRole::KeyBias,
                       "self_attn.k_proj.bias",
                       "attn_k.bias",
                       {KVDim}});
      Specs.push_back({&W.VBias,
                       WeightRole::ValueBias,
                       "self_attn.v_proj.bias",
                       "attn_v.bias",
                       {KVDim}});
    }
  }
  for (Spec &S : Specs) {
    auto V = weight(layerName(L, S.HF, S.GGUF), S.Dims, S.Role, L);
    if (!V)
      return V.takeError();
    *S.Slot = *V;
  }
  return llvm::Error::success();
}

llvm::Error Lowering::declareMLP(int64_t L, LayerWeights &W) {
  const int64_t H = C.Hidden;
  bool IsMoE = C.MoE && L >= C.MoE->FirstDenseLayers;
  using ir::WeightRole;
  // The roles of a SwiGLU FFN's gate, up and down projections.
  using FFNRoles = std::array<WeightRole, 3>;
  constexpr FFNRoles Dense = {WeightRole::FFNGate, WeightRole::FFNUp,
                              WeightRole::FFNDown};
  constexpr FFNRoles Routed = {WeightRole::ExpertGate, WeightRole::ExpertUp,
                               WeightRole::ExpertDown};
  constexpr FFNRoles Shared = {WeightRole::SharedExpertGate,
                               WeightRole::SharedExpertUp,
                               WeightRole::SharedExpertDown};
  auto FFNWeights = [&](std::array<ValueId, 3> &Slots, const std::string &Base,
                        const char *GateName, const char *UpName,
                        const char *DownName, int64_t F,
                        const FFNRoles &Roles) -> llvm::Error {
    const char *Names[3] = {GateName, UpName, DownName};
    llvm::SmallVector<int64_t, 2> Dims[3] = {{F, H}, {F, H}, {H, F}};
    for (int I = 0; I < 3; ++I) {
      std::string Name = Base + Names[I];
      auto V = weight(C.Naming == NamingScheme::GGUF ? layerName(L, "", Name)
                                                     : layerName(L, Name, ""),
                      Dims[I], Roles[I], L);
      if (!V)
        return V.takeError();
      Slots[I] = *V;
    }
    return llvm::Error::success();
  };

  if (!IsMoE) {
    std::array<ValueId, 3> Slots;
    llvm::Error Err =
        C.Naming == NamingScheme::GGUF
            ? FFNWeights(Slots, "", "ffn_gate.weight", "ffn_up.weight",
                         "ffn_down.weight", C.FFN, Dense)
            : FFNWeights(Slots, "mlp.", "gate_proj.weight", "up_proj.weight",
                         "down_proj.weight", C.FFN, Dense);
    if (Err)
      return Err;
    W.Gate = Slots[0];
    W.Up = Slots[1];
    W.Down = Slots[2];
    return llvm::Error::success();
  }

  if (C.Naming == NamingScheme::GGUF)
    return loweringError("mixture-of-experts layers in GGUF files (merged "
                         "expert tensors) are not supported yet; use the "
                         "Hugging Face checkpoint or a preset");
  const MoEConfig &M = *C.MoE;
  bool IsMixtral = C.Arch == Architecture::Mixtral;
  std::string Block = IsMixtral ? "block_sparse_moe." : "mlp.";
  auto R = weight(layerName(L, Block + "gate.weight", ""), {M.NumExperts, H},
                  WeightRole::Router, L);
  if (!R)
    return R.takeError();
  W.Router = *R;
  if (M.RouterBias) {
    // Stored in float32 in DeepSeek-V3's checkpoint.
    auto RB = weight(layerName(L, "mlp.gate.e_score_correction_bias", ""),
                     {M.NumExperts}, WeightRole::RouterBias, L, DType::F32);
    if (!RB)
      return RB.takeError();
    W.RouterBias = *RB;
  }
  W.Experts.resize(M.NumExperts);
  for (int64_t E = 0; E < M.NumExperts; ++E) {
    std::string Base = Block + "experts." + std::to_string(E) + ".";
    llvm::Error Err =
        IsMixtral ? FFNWeights(W.Experts[E], Base, "w1.weight", "w3.weight",
                               "w2.weight", M.ExpertFFN, Routed)
                  : FFNWeights(W.Experts[E], Base, "gate_proj.weight",
                               "up_proj.weight", "down_proj.weight",
                               M.ExpertFFN, Routed);
    if (Err)
      return Err;
  }
  if (M.NumSharedExperts > 0) {
    bool Qwen = C.Arch == Architecture::Qwen2MoE;
    std::string Base = Qwen ? "mlp.shared_expert." : "mlp.shared_experts.";
    if (llvm::Error Err =
            FFNWeights(W.Shared, Base, "gate_proj.weight", "up_proj.weight",
                       "down_proj.weight", M.SharedExpertFFN, Shared))
      return Err;
    if (M.SharedExpertGate) {
      auto SG = weight(layerName(L, "mlp.shared_expert_gate.weight", ""),
                       {1, H}, WeightRole::SharedExpertScale, L);
      if (!SG)
        return SG.takeError();
      W.SharedGate = *SG;
    }
  }
  return llvm::Error::success();
}

llvm::Error Lowering::checkAllTensorsUsed() const {
  if (!Table)
    return llvm::Error::success();
  std::string Names;
  unsigned Unused = 0;
  for (size_t I = 0; I < Table->Tensors.size(); ++I) {
    if (TableUsed[I] || isMTPTensor(Table->Tensors[I].Name))
      continue;
    if (Unused++ < 10)
      Names += (Unused > 1 ? ", '" : "'") + Table->Tensors[I].Name + "'";
  }
  if (Unused == 0)
    return llvm::Error::success();
  return loweringError(
      llvm::Twine(Unused) + " tensor(s) of the checkpoint are not part of a " +
      getArchitectureName(C.Arch) + " model as configured: " + Names +
      (Unused > 10 ? ", ..." : ""));
}

llvm::Expected<ValueId> Lowering::op(OpKind K, llvm::ArrayRef<ValueId> Args,
                                     const llvm::Twine &Suffix,
                                     llvm::ArrayRef<int64_t> Dims,
                                     AttrDict Attrs,
                                     std::optional<DType> Elem) {
  if (Layer >= 0)
    Attrs.set(ir::AttrKeys::Layer, Layer);
  auto O = G.addOp(Prog, K, Args, (Prefix + Suffix).str(),
                   type(Elem.value_or(Compute), Dims), std::move(Attrs));
  if (!O)
    return O.takeError();
  return G.getOp(*O).Result;
}

AttrDict Lowering::ropeAttrs() const {
  AttrDict A;
  A.set("theta", C.RopeTheta);
  A.set("mode", C.RopeNeoX ? "neox" : "normal");
  const RopeScaling &S = C.Scaling;
  switch (S.Type) {
  case RopeScaling::Kind::None:
    break;
  case RopeScaling::Kind::Linear:
    A.set("scaling", "linear");
    A.set("scaling_factor", S.Factor);
    break;
  case RopeScaling::Kind::Llama3:
    A.set("scaling", "llama3");
    A.set("scaling_factor", S.Factor);
    A.set("low_freq_factor", S.LowFreqFactor);
    A.set("high_freq_factor", S.HighFreqFactor);
    A.set("original_context", S.OriginalContext);
    break;
  case RopeScaling::Kind::YaRN:
    A.set("scaling", "yarn");
    A.set("scaling_factor", S.Factor);
    A.set("beta_fast", S.BetaFast);
    A.set("beta_slow", S.BetaSlow);
    A.set("mscale", S.MScale);
    A.set("mscale_all_dim", S.MScaleAllDim);
    A.set("original_context", S.OriginalContext);
    break;
  }
  return A;
}

#define TRY(Var, Expr)                                                         \
  auto Var##OrErr = (Expr);                                                    \
  if (!Var##OrErr)                                                             \
    return Var##OrErr.takeError();                                             \
  ValueId Var = *Var##OrErr

llvm::Expected<ValueId> Lowering::attentionBlock(const LayerWeights &W,
                                                 ValueId H) {
  const int64_t D = C.HeadDim, QDim = C.Heads * D, KVDim = C.KVHeads * D;
  TRY(Q0, op(OpKind::MatMul, {H, W.Q}, "q", {B, T, QDim}));
  TRY(K0, op(OpKind::MatMul, {H, W.K}, "k", {B, T, KVDim}));
  TRY(V0, op(OpKind::MatMul, {H, W.V}, "v", {B, T, KVDim}));
  ValueId Q = Q0, K = K0, V = V0;
  if (C.QKVBias) {
    TRY(QB, op(OpKind::Add, {Q, W.QBias}, "q_bias", {B, T, QDim}));
    TRY(KB, op(OpKind::Add, {K, W.KBias}, "k_bias", {B, T, KVDim}));
    TRY(VB, op(OpKind::Add, {V, W.VBias}, "v_bias", {B, T, KVDim}));
    Q = QB, K = KB, V = VB;
  }
  TRY(Q4, op(OpKind::Reshape, {Q}, "q_heads", {B, T, C.Heads, D}));
  TRY(K4, op(OpKind::Reshape, {K}, "k_heads", {B, T, C.KVHeads, D}));
  TRY(V4, op(OpKind::Reshape, {V}, "v_heads", {B, T, C.KVHeads, D}));
  TRY(QR,
      op(OpKind::RoPE, {Q4, Pos}, "q_rope", {B, T, C.Heads, D}, ropeAttrs()));
  TRY(KR,
      op(OpKind::RoPE, {K4, Pos}, "k_rope", {B, T, C.KVHeads, D}, ropeAttrs()));
  TRY(KA, op(OpKind::KVAppend, {W.CacheK, KR, Pos}, "k_cache",
             {B, Context, C.KVHeads, D}, {}, KV));
  TRY(VA, op(OpKind::KVAppend, {W.CacheV, V4, Pos}, "v_cache",
             {B, Context, C.KVHeads, D}, {}, KV));
  TRY(Att,
      op(OpKind::Attention, {QR, KA, VA, Pos}, "attn", {B, T, C.Heads, D}));
  TRY(Flat, op(OpKind::Reshape, {Att}, "attn_flat", {B, T, QDim}));
  return op(OpKind::MatMul, {Flat, W.O}, "attn_out", {B, T, C.Hidden});
}

llvm::Expected<ValueId> Lowering::mlaBlock(const LayerWeights &W, ValueId H) {
  const MLAConfig &M = *C.MLA;
  const int64_t QHead = M.QKNopeHeadDim + M.QKRopeHeadDim;
  const int64_t Lat = M.KVLoraRank, R = M.QKRopeHeadDim;
  ValueId Q;
  if (M.QLoraRank > 0) {
    TRY(QA, op(OpKind::MatMul, {H, W.QA}, "q_a", {B, T, M.QLoraRank}));
    AttrDict Eps;
    Eps.set("eps", C.RMSNormEps);
    TRY(QAN, op(OpKind::RMSNorm, {QA, W.QANorm}, "q_a_norm",
                {B, T, M.QLoraRank}, Eps));
    TRY(QB, op(OpKind::MatMul, {QAN, W.QB}, "q", {B, T, C.Heads * QHead}));
    Q = QB;
  } else {
    TRY(Q0, op(OpKind::MatMul, {H, W.Q}, "q", {B, T, C.Heads * QHead}));
    Q = Q0;
  }
  TRY(Q4, op(OpKind::Reshape, {Q}, "q_heads", {B, T, C.Heads, QHead}));
  TRY(KVA, op(OpKind::MatMul, {H, W.KVA}, "kv_a", {B, T, Lat + R}));
  auto Slice = [&](ValueId X, int64_t Begin, int64_t End, const char *Name) {
    AttrDict A;
    A.set("axis", 2);
    A.set("begin", Begin);
    A.set("end", End);
    return op(OpKind::Slice, {X}, Name, {B, T, End - Begin}, A);
  };
  TRY(Latent, Slice(KVA, 0, Lat, "latent"));
  TRY(RopeKey, Slice(KVA, Lat, Lat + R, "rope_key"));
  AttrDict Eps;
  Eps.set("eps", C.RMSNormEps);
  TRY(LatN, op(OpKind::RMSNorm, {Latent, W.KVANorm}, "latent_norm", {B, T, Lat},
               Eps));
  TRY(Lat4, op(OpKind::Reshape, {LatN}, "latent_heads", {B, T, 1, Lat}));
  TRY(RK4, op(OpKind::Reshape, {RopeKey}, "rope_key_heads", {B, T, 1, R}));
  TRY(RKR,
      op(OpKind::RoPE, {RK4, Pos}, "rope_key_rot", {B, T, 1, R}, ropeAttrs()));
  TRY(LA, op(OpKind::KVAppend, {W.CacheK, Lat4, Pos}, "latent_cache",
             {B, Context, 1, Lat}, {}, KV));
  TRY(RA, op(OpKind::KVAppend, {W.CacheV, RKR, Pos}, "rope_cache",
             {B, Context, 1, R}, {}, KV));
  TRY(Att, op(OpKind::MLAAttention, {Q4, LA, RA, W.KVB, Pos}, "attn",
              {B, T, C.Heads, M.VHeadDim}, ropeAttrs()));
  TRY(Flat,
      op(OpKind::Reshape, {Att}, "attn_flat", {B, T, C.Heads * M.VHeadDim}));
  return op(OpKind::MatMul, {Flat, W.O}, "attn_out", {B, T, C.Hidden});
}

llvm::Expected<ValueId> Lowering::ffn(ValueId X, ValueId Gate, ValueId Up,
                                      ValueId Down, const llvm::Twine &Name) {
  int64_t F = G.getValue(Gate).Type.Dims[0];
  std::string N = Name.str();
  TRY(Gt, op(OpKind::MatMul, {X, Gate}, N + "gate", {B, T, F}));
  TRY(U, op(OpKind::MatMul, {X, Up}, N + "up", {B, T, F}));
  TRY(Act, op(OpKind::SiLUMul, {Gt, U}, N + "act", {B, T, F}));
  return op(OpKind::MatMul, {Act, Down}, N + "down", {B, T, C.Hidden});
}

llvm::Expected<ValueId> Lowering::mlpBlock(const LayerWeights &W, ValueId F) {
  if (W.Router == ir::InvalidId)
    return ffn(F, W.Gate, W.Up, W.Down, "ffn_");
  const MoEConfig &M = *C.MoE;
  const int64_t H = C.Hidden;
  TRY(Logits,
      op(OpKind::MatMul, {F, W.Router}, "router", {B, T, M.NumExperts}));
  ValueId Scores = Logits;
  if (W.RouterBias != ir::InvalidId) {
    TRY(Biased, op(OpKind::Add, {Logits, W.RouterBias}, "router_bias",
                   {B, T, M.NumExperts}));
    Scores = Biased;
  }
  AttrDict RA;
  RA.set("top_k", M.ExpertsPerToken);
  RA.set("scoring", C.Arch == Architecture::DeepSeekV3 ? "sigmoid" : "softmax");
  TRY(Route, op(OpKind::MoERoute, {Scores}, "route", {B, T, M.NumExperts}, RA));
  // One op for all routed experts: each expert's weights stay separate
  // operands (and tensors), so placement can spread them and split the op.
  llvm::SmallVector<ValueId, 16> Args = {F, Route};
  for (const auto &X : W.Experts)
    Args.append(X.begin(), X.end());
  TRY(Routed, op(OpKind::MoEExperts, Args, "experts", {B, T, H}));
  if (W.Shared[0] == ir::InvalidId)
    return Routed;
  ValueId Shared;
  if (W.SharedGate != ir::InvalidId) {
    // Qwen2-MoE: the shared expert scaled by sigmoid(x . gate), which is a
    // one-expert sigmoid route.
    TRY(SL, op(OpKind::MatMul, {F, W.SharedGate}, "shared_gate", {B, T, 1}));
    AttrDict SA;
    SA.set("top_k", 1);
    SA.set("scoring", "sigmoid");
    TRY(SR, op(OpKind::MoERoute, {SL}, "shared_route", {B, T, 1}, SA));
    TRY(Y,
        op(OpKind::MoEExperts, {F, SR, W.Shared[0], W.Shared[1], W.Shared[2]},
           "shared", {B, T, H}));
    Shared = Y;
  } else {
    TRY(Y, ffn(F, W.Shared[0], W.Shared[1], W.Shared[2], "shared_"));
    Shared = Y;
  }
  return op(OpKind::Add, {Routed, Shared}, "moe_out", {B, T, H});
}

llvm::Error Lowering::buildProgram(llvm::StringRef Name, int64_t Tokens) {
  auto P = G.addProgram(Name);
  if (!P)
    return P.takeError();
  Prog = *P;
  B = Opts.Batch;
  T = Tokens;
  Layer = -1;
  Prefix.clear();
  auto TokIds = G.addInput(Prog, "tokens", type(DType::I32, {B, T}));
  if (!TokIds)
    return TokIds.takeError();
  auto PosIn = G.addInput(Prog, "pos", type(DType::I32, {B, T}));
  if (!PosIn)
    return PosIn.takeError();
  Pos = *PosIn;
  TRY(X0, op(OpKind::Embedding, {Embd, *TokIds}, "embed", {B, T, C.Hidden}));
  ValueId X = X0;
  AttrDict Eps;
  Eps.set("eps", C.RMSNormEps);
  for (int64_t L = 0; L < C.Layers; ++L) {
    Layer = L;
    Prefix = "l" + std::to_string(L) + ".";
    const LayerWeights &W = Layers[L];
    TRY(H, op(OpKind::RMSNorm, {X, W.AttnNorm}, "attn_norm", {B, T, C.Hidden},
              Eps));
    TRY(A, C.MLA ? mlaBlock(W, H) : attentionBlock(W, H));
    TRY(R, op(OpKind::Add, {X, A}, "attn_res", {B, T, C.Hidden}));
    TRY(F,
        op(OpKind::RMSNorm, {R, W.FFNNorm}, "ffn_norm", {B, T, C.Hidden}, Eps));
    TRY(M, mlpBlock(W, F));
    TRY(Out, op(OpKind::Add, {R, M}, "out", {B, T, C.Hidden}));
    X = Out;
  }
  Layer = -1;
  Prefix.clear();
  // Only the last token's logits are needed to continue the sequence.
  if (T > 1) {
    AttrDict A;
    A.set("axis", 1);
    A.set("begin", T - 1);
    A.set("end", T);
    TRY(Last, op(OpKind::Slice, {X}, "last_token", {B, 1, C.Hidden}, A));
    X = Last;
  }
  TRY(N,
      op(OpKind::RMSNorm, {X, OutNorm}, "final_norm", {B, 1, C.Hidden}, Eps));
  TRY(Logits, op(OpKind::MatMul, {N, LMHead}, "logits", {B, 1, C.Vocab}));
  TRY(Next, op(OpKind::ArgMax, {Logits}, "next_token", {B, 1}, {}, DType::I32));
  // The greedy choice, and the logits for sampling at a temperature.
  if (llvm::Error E = G.addOutput(Prog, Next))
    return E;
  return G.addOutput(Prog, Logits);
}

#undef TRY

llvm::Expected<ir::Graph> Lowering::run() {
  if (llvm::Error Err = C.validate())
    return Err;
  if (Opts.Batch <= 0 || Opts.Batch > (1 << 20))
    return loweringError("batch must be in 1..1048576, got " +
                         llvm::Twine(Opts.Batch));
  Context = Opts.Context > 0 ? Opts.Context
                             : (C.MaxContext > 0 ? C.MaxContext : 4096);
  if (Opts.Context < 0 || Context > (int64_t(1) << 24))
    return loweringError("context must be in 1..16777216, got " +
                         llvm::Twine(Opts.Context));
  int64_t Prefill = Opts.PrefillTokens > 0 ? Opts.PrefillTokens
                                           : std::min<int64_t>(Context, 512);
  if (Opts.PrefillTokens < 0 || Prefill > Context)
    return loweringError("prefill chunk of " + llvm::Twine(Prefill) +
                         " tokens does not fit a context of " +
                         llvm::Twine(Context));

  if (Table) {
    TableUsed.assign(Table->Tensors.size(), false);
    for (size_t I = 0; I < Table->Tensors.size(); ++I)
      TableIndex[Table->Tensors[I].Name] = I;
  }
  // The compute type follows 16-bit float weights; anything else (f32,
  // quantized) computes in f32.
  DType EmbdType = C.WeightType;
  std::string EmbdName =
      globalName("model.embed_tokens.weight", "token_embd.weight");
  if (Table && TableIndex.count(EmbdName))
    EmbdType = Table->Tensors[TableIndex[EmbdName]].Type;
  Compute = Opts.ComputeType.value_or(
      EmbdType == DType::BF16 || EmbdType == DType::F16 ? EmbdType
                                                        : DType::F32);
  KV = Opts.KVType.value_or(Compute);
  if (!ir::isFloat(Compute) || !ir::isFloat(KV))
    return loweringError("compute and KV-cache types must be float types");

  if (llvm::Error Err = declareWeights())
    return Err;
  if (llvm::Error Err = checkAllTensorsUsed())
    return Err;
  if (llvm::Error Err = buildProgram("prefill", Prefill))
    return Err;
  if (llvm::Error Err = buildProgram("decode", 1))
    return Err;
  return std::move(G);
}

} // namespace

llvm::Expected<ir::Graph> lowerModel(const ModelConfig &C,
                                     const TensorTable *Table,
                                     const LoweringOptions &Options) {
  return Lowering(C, Table, Options).run();
}

} // namespace strata::import
