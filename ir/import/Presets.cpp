//===- Presets.cpp - Published model configurations -----------------------===//
//
// Values are those of each model's Hugging Face config.json; the published
// parameter counts are those the model cards and papers give (DeepSeek-V3:
// the 671B main model, without its multi-token-prediction layer).
//
//===----------------------------------------------------------------------===//

#include "ir/import/Presets.h"

#include "llvm/ADT/StringExtras.h"

#include <vector>

namespace strata::import {

namespace {

struct Dense {
  int64_t Vocab, Hidden, FFN, Layers, Heads, KVHeads, Context;
  double Theta, Eps = 1e-5;
};

ModelConfig dense(llvm::StringRef Name, Architecture Arch, const Dense &D) {
  ModelConfig C;
  C.Name = Name.str();
  C.Arch = Arch;
  C.Naming = NamingScheme::HuggingFace;
  C.Vocab = D.Vocab;
  C.Hidden = D.Hidden;
  C.FFN = D.FFN;
  C.Layers = D.Layers;
  C.Heads = D.Heads;
  C.KVHeads = D.KVHeads;
  C.HeadDim = D.Hidden / D.Heads;
  C.MaxContext = D.Context;
  C.RopeTheta = D.Theta;
  C.RMSNormEps = D.Eps;
  C.RopeNeoX = true;
  C.WeightType = ir::DType::BF16;
  return C;
}

ModelConfig llama31_405b() {
  ModelConfig C = dense("llama3.1-405b", Architecture::Llama,
                        {128256, 16384, 53248, 126, 128, 8, 131072, 500000.0});
  C.Scaling.Type = RopeScaling::Kind::Llama3;
  C.Scaling.Factor = 8.0;
  C.Scaling.LowFreqFactor = 1.0;
  C.Scaling.HighFreqFactor = 4.0;
  C.Scaling.OriginalContext = 8192;
  return C;
}

ModelConfig qwen25_72b() {
  ModelConfig C = dense("qwen2.5-72b", Architecture::Qwen2,
                        {152064, 8192, 29568, 80, 64, 8, 131072, 1000000.0});
  C.QKVBias = true;
  return C;
}

ModelConfig mixtral(llvm::StringRef Name, const Dense &D) {
  ModelConfig C = dense(Name, Architecture::Mixtral, D);
  MoEConfig M;
  M.NumExperts = 8;
  M.ExpertsPerToken = 2;
  M.ExpertFFN = D.FFN;
  C.MoE = M;
  return C;
}

ModelConfig deepseekV3() {
  ModelConfig C =
      dense("deepseek-v3", Architecture::DeepSeekV3,
            {129280, 7168, 18432, 61, 128, 128, 163840, 10000.0, 1e-6});
  MLAConfig A;
  A.QLoraRank = 1536;
  A.KVLoraRank = 512;
  A.QKNopeHeadDim = 128;
  A.QKRopeHeadDim = 64;
  A.VHeadDim = 128;
  C.MLA = A;
  C.HeadDim = A.QKNopeHeadDim + A.QKRopeHeadDim;
  MoEConfig M;
  M.NumExperts = 256;
  M.ExpertsPerToken = 8;
  M.ExpertFFN = 2048;
  M.NumSharedExperts = 1;
  M.SharedExpertFFN = 2048;
  M.FirstDenseLayers = 3;
  M.RouterBias = true; // topk_method "noaux_tc"
  C.MoE = M;
  // Its checkpoints store q and k's rotary dimensions interleaved in pairs
  // (config rope_interleave, default true): adjacent-pair RoPE.
  C.RopeNeoX = false;
  C.Scaling.Type = RopeScaling::Kind::YaRN;
  C.Scaling.Factor = 40.0;
  C.Scaling.OriginalContext = 4096;
  C.Scaling.BetaFast = 32.0;
  C.Scaling.BetaSlow = 1.0;
  C.Scaling.MScale = 1.0;
  C.Scaling.MScaleAllDim = 1.0;
  return C;
}

const std::vector<ModelPreset> &presetTable() {
  static const std::vector<ModelPreset> Table = {
      {"llama2-7b", "meta-llama/Llama-2-7b-hf", 6738415616,
       dense("llama2-7b", Architecture::Llama,
             {32000, 4096, 11008, 32, 32, 32, 4096, 10000.0})},
      {"llama3-8b", "meta-llama/Meta-Llama-3-8B", 8030261248,
       dense("llama3-8b", Architecture::Llama,
             {128256, 4096, 14336, 32, 32, 8, 8192, 500000.0})},
      {"llama3-70b", "meta-llama/Meta-Llama-3-70B", 70553706496,
       dense("llama3-70b", Architecture::Llama,
             {128256, 8192, 28672, 80, 64, 8, 8192, 500000.0})},
      {"llama3.1-405b", "meta-llama/Llama-3.1-405B", 405853388800,
       llama31_405b()},
      // Context 4096: its sliding window, so the KV cache never holds more
      // (max_position_embeddings is 32768).
      {"mistral-7b", "mistralai/Mistral-7B-v0.1", 7241732096,
       dense("mistral-7b", Architecture::Llama,
             {32000, 4096, 14336, 32, 32, 8, 4096, 10000.0})},
      {"qwen2.5-72b", "Qwen/Qwen2.5-72B", 72706203648, qwen25_72b()},
      {"mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1", 46702792704,
       mixtral("mixtral-8x7b",
               {32000, 4096, 14336, 32, 32, 8, 32768, 1000000.0})},
      {"mixtral-8x22b", "mistralai/Mixtral-8x22B-v0.1", 140630071296,
       mixtral("mixtral-8x22b",
               {32768, 6144, 16384, 56, 48, 8, 65536, 1000000.0})},
      {"deepseek-v3", "deepseek-ai/DeepSeek-V3", 671026419200, deepseekV3()},
  };
  return Table;
}

} // namespace

llvm::ArrayRef<ModelPreset> allModelPresets() { return presetTable(); }

llvm::Expected<const ModelPreset *> findModelPreset(llvm::StringRef Name) {
  for (const ModelPreset &P : presetTable())
    if (P.Name == Name)
      return &P;
  std::vector<llvm::StringRef> Names;
  for (const ModelPreset &P : presetTable())
    Names.push_back(P.Name);
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "unknown model preset '" + Name +
          "'; known presets: " + llvm::join(Names, ", "));
}

} // namespace strata::import
