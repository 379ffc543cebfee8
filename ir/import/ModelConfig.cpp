//===- ModelConfig.cpp - Hyperparameters of a decoder model ---------------===//

#include "ir/import/ModelConfig.h"

#include "ir/TensorType.h"

namespace strata::import {

llvm::StringRef getArchitectureName(Architecture A) {
  switch (A) {
  case Architecture::Llama:
    return "llama";
  case Architecture::Qwen2:
    return "qwen2";
  case Architecture::Mixtral:
    return "mixtral";
  case Architecture::Qwen2MoE:
    return "qwen2_moe";
  case Architecture::DeepSeekV3:
    return "deepseek_v3";
  }
  llvm_unreachable("unknown architecture");
}

static llvm::Error configError(const ModelConfig &C, const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 C.Name + ": " + Msg);
}

llvm::Error ModelConfig::validate() const {
  // Every size must be positive and small enough that products of two of
  // them stay far from overflow; real models are far below 2^24 per size.
  constexpr int64_t MaxSize = int64_t(1) << 24;
  struct Field {
    const char *Name;
    int64_t Value;
  } Sizes[] = {{"vocabulary size", Vocab}, {"hidden size", Hidden},
               {"layer count", Layers},    {"attention heads", Heads},
               {"KV heads", KVHeads},      {"head dimension", HeadDim}};
  for (const Field &F : Sizes)
    if (F.Value <= 0 || F.Value > MaxSize)
      return configError(*this, llvm::Twine(F.Name) + " must be in 1.." +
                                    llvm::Twine(MaxSize) + ", got " +
                                    llvm::Twine(F.Value));
  bool AllMoE =
      MoE && MoE->FirstDenseLayers == 0 && Arch != Architecture::DeepSeekV3;
  if (!AllMoE && (FFN <= 0 || FFN > MaxSize))
    return configError(*this, "intermediate (FFN) size must be in 1.." +
                                  llvm::Twine(MaxSize) + ", got " +
                                  llvm::Twine(FFN));
  if (MaxContext < 0 || MaxContext > MaxSize)
    return configError(*this, "maximum context must be in 0.." +
                                  llvm::Twine(MaxSize) + ", got " +
                                  llvm::Twine(MaxContext));
  if (Heads % KVHeads != 0)
    return configError(*this, "attention heads (" + llvm::Twine(Heads) +
                                  ") must be a multiple of KV heads (" +
                                  llvm::Twine(KVHeads) + ")");
  if (!MLA && HeadDim % 2 != 0)
    return configError(*this, "head dimension " + llvm::Twine(HeadDim) +
                                  " must be even for RoPE");
  if (!(RMSNormEps > 0) || !(RopeTheta > 0))
    return configError(*this, "RMSNorm epsilon and RoPE theta must be "
                              "positive");
  if (MoE) {
    if (MoE->NumExperts <= 0 || MoE->NumExperts > 4096 ||
        MoE->ExpertsPerToken <= 0 || MoE->ExpertsPerToken > MoE->NumExperts)
      return configError(*this, "MoE needs 1..4096 experts and 1..experts "
                                "experts per token, got " +
                                    llvm::Twine(MoE->NumExperts) + " and " +
                                    llvm::Twine(MoE->ExpertsPerToken));
    if (MoE->ExpertFFN <= 0 || MoE->ExpertFFN > MaxSize)
      return configError(*this, "expert intermediate size must be in 1.." +
                                    llvm::Twine(MaxSize));
    if (MoE->NumSharedExperts < 0 || MoE->FirstDenseLayers < 0 ||
        MoE->FirstDenseLayers > Layers ||
        (MoE->NumSharedExperts > 0 &&
         (MoE->SharedExpertFFN <= 0 || MoE->SharedExpertFFN > MaxSize)))
      return configError(*this, "inconsistent shared-expert or dense-layer "
                                "counts");
  }
  if (MLA) {
    const MLAConfig &M = *MLA;
    if (M.QLoraRank < 0 || M.KVLoraRank <= 0 || M.QKNopeHeadDim <= 0 ||
        M.QKRopeHeadDim <= 0 || M.QKRopeHeadDim % 2 != 0 || M.VHeadDim <= 0 ||
        M.QLoraRank > MaxSize || M.KVLoraRank > MaxSize ||
        M.QKNopeHeadDim > MaxSize || M.QKRopeHeadDim > MaxSize ||
        M.VHeadDim > MaxSize)
      return configError(*this, "MLA ranks and head dimensions must be "
                                "positive (rope dimension even)");
  }
  return llvm::Error::success();
}

} // namespace strata::import
