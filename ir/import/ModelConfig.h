//===- ModelConfig.h - Hyperparameters of a decoder model -------*- C++ -*-===//
//
// Everything the lowering needs to know about a decoder-only transformer,
// whichever source it came from: a GGUF file's metadata, a Hugging Face
// config.json, or a built-in preset.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_MODELCONFIG_H
#define STRATA_IR_IMPORT_MODELCONFIG_H

#include "ir/DataType.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace strata::import {

/// The model families the lowering knows.
enum class Architecture {
  Llama,      ///< Llama 2/3, Mistral: GQA, RMSNorm, SwiGLU
  Qwen2,      ///< Llama with biases on q, k and v
  Mixtral,    ///< Llama attention, every MLP a mixture of experts
  Qwen2MoE,   ///< Qwen2 attention, MoE MLP with a gated shared expert
  DeepSeekV3, ///< MLA attention, dense first layers, then routed + shared
              ///< experts
};
llvm::StringRef getArchitectureName(Architecture A);

/// How weight tensors are named in the source.
enum class NamingScheme {
  GGUF,        ///< token_embd.weight, blk.0.attn_q.weight, ...
  HuggingFace, ///< model.embed_tokens.weight,
               ///< model.layers.0.self_attn.q_proj.weight, ...
};

struct RopeScaling {
  enum class Kind { None, Linear, Llama3, YaRN };
  Kind Type = Kind::None;
  double Factor = 1.0;
  double LowFreqFactor = 1.0;  ///< llama3
  double HighFreqFactor = 4.0; ///< llama3
  int64_t OriginalContext = 0; ///< llama3, yarn
  double BetaFast = 32.0;      ///< yarn
  double BetaSlow = 1.0;       ///< yarn
  double MScale = 1.0;         ///< yarn
  double MScaleAllDim = 0.0;   ///< yarn
};

struct MoEConfig {
  int64_t NumExperts = 0;       ///< Routed experts per MoE layer.
  int64_t ExpertsPerToken = 0;  ///< top-k.
  int64_t ExpertFFN = 0;        ///< Each expert's intermediate size.
  int64_t NumSharedExperts = 0; ///< Always-on experts (DeepSeek, Qwen-MoE).
  int64_t SharedExpertFFN =
      0; ///< Intermediate size of the shared expert(s) together.
  int64_t FirstDenseLayers = 0;  ///< Layers before the first MoE layer
                                 ///< (DeepSeek's first_k_dense_replace).
  bool RouterBias = false;       ///< DeepSeek-V3's e_score_correction_bias.
  bool SharedExpertGate = false; ///< Qwen2-MoE's shared_expert_gate.
};

/// DeepSeek's multi-head latent attention.
struct MLAConfig {
  int64_t QLoraRank = 0; ///< 0: q is projected directly.
  int64_t KVLoraRank = 0;
  int64_t QKNopeHeadDim = 0;
  int64_t QKRopeHeadDim = 0;
  int64_t VHeadDim = 0;
};

struct ModelConfig {
  std::string Name; ///< For reports: the preset or file name.
  Architecture Arch = Architecture::Llama;
  NamingScheme Naming = NamingScheme::HuggingFace;

  int64_t Vocab = 0;
  int64_t Hidden = 0;
  int64_t FFN = 0; ///< Dense MLP intermediate size.
  int64_t Layers = 0;
  int64_t Heads = 0;
  int64_t KVHeads = 0;
  int64_t HeadDim = 0; ///< Usually Hidden / Heads.
  int64_t MaxContext = 0;
  double RMSNormEps = 1e-5;
  double RopeTheta = 10000.0;
  RopeScaling Scaling;
  /// Which RoPE pairing the weights expect: GGUF files store q/k permuted
  /// for adjacent pairs ("normal"), Hugging Face checkpoints use halves
  /// ("neox").
  bool RopeNeoX = true;
  bool TiedEmbeddings = false;
  bool QKVBias = false;
  ir::DType WeightType =
      ir::DType::BF16; ///< For presets; files say per tensor.

  std::optional<MoEConfig> MoE;
  std::optional<MLAConfig> MLA;

  /// Checks that the hyperparameters are present and consistent (heads
  /// divide, sizes positive and bounded); the message names the field.
  llvm::Error validate() const;
};

} // namespace strata::import

#endif // STRATA_IR_IMPORT_MODELCONFIG_H
