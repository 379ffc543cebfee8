//===- HFConfigTest.cpp - Hugging Face config.json to ModelConfig ---------===//
//
// The configs below are the published config.json files of the models named
// (values as released; bookkeeping keys such as auto_map left out).
//
//===----------------------------------------------------------------------===//

#include "ir/import/HFConfig.h"

#include "SafeTensorsWriter.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include "gtest/gtest.h"

#include <functional>

using namespace strata;
using namespace strata::import;
using namespace strata::test;

namespace {

const char *const Llama3_8B = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": 128001,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 8192,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
})";

const char *const Llama31_8B = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009],
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3"
  },
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
})";

const char *const Mistral7B_v01 = R"({
  "architectures": ["MistralForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mistral",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 10000.0,
  "sliding_window": 4096,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.34.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
})";

const char *const Qwen2_7B = R"({
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 3584,
  "initializer_range": 0.02,
  "intermediate_size": 18944,
  "max_position_embeddings": 131072,
  "max_window_layers": 28,
  "model_type": "qwen2",
  "num_attention_heads": 28,
  "num_hidden_layers": 28,
  "num_key_value_heads": 4,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 131072,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.37.2",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 152064
})";

const char *const Mixtral8x7B = R"({
  "architectures": ["MixtralForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mixtral",
  "num_attention_heads": 32,
  "num_experts_per_tok": 2,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "num_local_experts": 8,
  "output_router_logits": false,
  "rms_norm_eps": 1e-05,
  "rope_theta": 1000000.0,
  "router_aux_loss_coef": 0.02,
  "sliding_window": null,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.36.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
})";

// Qwen1.5-MoE-A2.7B.
const char *const Qwen15MoE = R"({
  "architectures": ["Qwen2MoeForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 5632,
  "max_position_embeddings": 8192,
  "max_window_layers": 21,
  "model_type": "qwen2_moe",
  "num_attention_heads": 16,
  "num_hidden_layers": 24,
  "num_key_value_heads": 16,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 32768,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.39.0.dev0",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936,
  "decoder_sparse_step": 1,
  "moe_intermediate_size": 1408,
  "shared_expert_intermediate_size": 5632,
  "num_experts_per_tok": 4,
  "num_experts": 60,
  "norm_topk_prob": false,
  "output_router_logits": false,
  "router_aux_loss_coef": 0.001
})";

const char *const DeepSeekV3 = R"({
  "architectures": ["DeepseekV3ForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "aux_loss_alpha": 0.001,
  "bos_token_id": 0,
  "eos_token_id": 1,
  "ep_size": 1,
  "first_k_dense_replace": 3,
  "hidden_act": "silu",
  "hidden_size": 7168,
  "initializer_range": 0.02,
  "intermediate_size": 18432,
  "kv_lora_rank": 512,
  "max_position_embeddings": 163840,
  "model_type": "deepseek_v3",
  "moe_intermediate_size": 2048,
  "moe_layer_freq": 1,
  "n_group": 8,
  "n_routed_experts": 256,
  "n_shared_experts": 1,
  "norm_topk_prob": true,
  "num_attention_heads": 128,
  "num_experts_per_tok": 8,
  "num_hidden_layers": 61,
  "num_key_value_heads": 128,
  "num_nextn_predict_layers": 1,
  "pretraining_tp": 1,
  "q_lora_rank": 1536,
  "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64,
  "quantization_config": {
    "activation_scheme": "dynamic",
    "fmt": "e4m3",
    "quant_method": "fp8",
    "weight_block_size": [128, 128]
  },
  "rms_norm_eps": 1e-06,
  "rope_scaling": {
    "beta_fast": 32,
    "beta_slow": 1,
    "factor": 40,
    "mscale": 1.0,
    "mscale_all_dim": 1.0,
    "original_max_position_embeddings": 4096,
    "type": "yarn"
  },
  "rope_theta": 10000,
  "routed_scaling_factor": 2.5,
  "scoring_func": "sigmoid",
  "seq_aux": true,
  "tie_word_embeddings": false,
  "topk_group": 4,
  "topk_method": "noaux_tc",
  "torch_dtype": "bfloat16",
  "transformers_version": "4.33.1",
  "use_cache": true,
  "v_head_dim": 128,
  "vocab_size": 129280
})";

ModelConfig parse(llvm::StringRef Text, llvm::StringRef Path) {
  llvm::Expected<ModelConfig> C = parseHFConfig(Text, Path);
  if (!C) {
    ADD_FAILURE() << llvm::toString(C.takeError());
    return {};
  }
  return std::move(*C);
}

/// Base's JSON with Edit applied to its top-level object.
std::string edited(llvm::StringRef Base,
                   const std::function<void(llvm::json::Object &)> &Edit) {
  llvm::json::Value V = llvm::cantFail(llvm::json::parse(Base));
  Edit(*V.getAsObject());
  return llvm::formatv("{0}", V).str();
}

/// The message of parsing Base, edited, as "config.json".
std::string
errorOf(llvm::StringRef Base,
        const std::function<void(llvm::json::Object &)> &Edit = nullptr) {
  std::string Text = Edit ? edited(Base, Edit) : Base.str();
  llvm::Expected<ModelConfig> C = parseHFConfig(Text, "config.json");
  if (C) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(C.takeError());
}

} // namespace

//===----------------------------------------------------------------------===//
// Published configs
//===----------------------------------------------------------------------===//

TEST(HFConfig, Llama3_8BFromAFolder) {
  TempDir Dir;
  Dir.makeDir("Meta-Llama-3-8B");
  std::string Path = Dir.file("Meta-Llama-3-8B/config.json");
  writeFile(Path, Llama3_8B);
  llvm::Expected<ModelConfig> R = readHFConfig(Path);
  ASSERT_TRUE(bool(R)) << llvm::toString(R.takeError());
  const ModelConfig &C = *R;
  EXPECT_EQ(C.Name, "Meta-Llama-3-8B");
  EXPECT_EQ(C.Arch, Architecture::Llama);
  EXPECT_EQ(C.Naming, NamingScheme::HuggingFace);
  EXPECT_EQ(C.Vocab, 128256);
  EXPECT_EQ(C.Hidden, 4096);
  EXPECT_EQ(C.FFN, 14336);
  EXPECT_EQ(C.Layers, 32);
  EXPECT_EQ(C.Heads, 32);
  EXPECT_EQ(C.KVHeads, 8);
  EXPECT_EQ(C.HeadDim, 128);
  EXPECT_EQ(C.MaxContext, 8192);
  EXPECT_DOUBLE_EQ(C.RMSNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(C.RopeTheta, 500000.0);
  EXPECT_EQ(C.Scaling.Type, RopeScaling::Kind::None);
  EXPECT_TRUE(C.RopeNeoX);
  EXPECT_FALSE(C.TiedEmbeddings);
  EXPECT_FALSE(C.QKVBias);
  EXPECT_EQ(C.WeightType, ir::DType::BF16);
  EXPECT_FALSE(C.MoE);
  EXPECT_FALSE(C.MLA);
}

TEST(HFConfig, Llama31RopeScaling) {
  ModelConfig C = parse(Llama31_8B, "Meta-Llama-3.1-8B/config.json");
  EXPECT_EQ(C.Name, "Meta-Llama-3.1-8B");
  EXPECT_EQ(C.MaxContext, 131072);
  EXPECT_EQ(C.Scaling.Type, RopeScaling::Kind::Llama3);
  EXPECT_DOUBLE_EQ(C.Scaling.Factor, 8.0);
  EXPECT_DOUBLE_EQ(C.Scaling.LowFreqFactor, 1.0);
  EXPECT_DOUBLE_EQ(C.Scaling.HighFreqFactor, 4.0);
  EXPECT_EQ(C.Scaling.OriginalContext, 8192);
}

TEST(HFConfig, MistralSlidingWindowBoundsTheContext) {
  ModelConfig C = parse(Mistral7B_v01, "Mistral-7B-v0.1/config.json");
  EXPECT_EQ(C.Arch, Architecture::Llama);
  EXPECT_EQ(C.MaxContext, 4096);
  EXPECT_DOUBLE_EQ(C.RopeTheta, 10000.0);
  // v0.2 and later have no window.
  ModelConfig V2 = parse(edited(Mistral7B_v01,
                                [](llvm::json::Object &O) {
                                  O["sliding_window"] = nullptr;
                                  O["rope_theta"] = 1000000.0;
                                }),
                         "Mistral-7B-v0.2/config.json");
  EXPECT_EQ(V2.MaxContext, 32768);
}

TEST(HFConfig, Qwen2) {
  ModelConfig C = parse(Qwen2_7B, "Qwen2-7B/config.json");
  EXPECT_EQ(C.Arch, Architecture::Qwen2);
  EXPECT_TRUE(C.QKVBias);
  EXPECT_EQ(C.Vocab, 152064);
  EXPECT_EQ(C.Hidden, 3584);
  EXPECT_EQ(C.FFN, 18944);
  EXPECT_EQ(C.Layers, 28);
  EXPECT_EQ(C.Heads, 28);
  EXPECT_EQ(C.KVHeads, 4);
  EXPECT_EQ(C.HeadDim, 128);
  // use_sliding_window is false: the window key is ignored.
  EXPECT_EQ(C.MaxContext, 131072);
  EXPECT_DOUBLE_EQ(C.RMSNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(C.RopeTheta, 1e6);
  // Qwen2.5's long-context setting: YaRN with the older "type" key.
  ModelConfig Y =
      parse(edited(Qwen2_7B,
                   [](llvm::json::Object &O) {
                     O["rope_scaling"] = llvm::json::Object{
                         {"factor", 4.0},
                         {"original_max_position_embeddings", 32768},
                         {"type", "yarn"}};
                   }),
            "Qwen2.5-7B/config.json");
  EXPECT_EQ(Y.Scaling.Type, RopeScaling::Kind::YaRN);
  EXPECT_DOUBLE_EQ(Y.Scaling.Factor, 4.0);
  EXPECT_EQ(Y.Scaling.OriginalContext, 32768);
  EXPECT_DOUBLE_EQ(Y.Scaling.BetaFast, 32.0);
  EXPECT_DOUBLE_EQ(Y.Scaling.BetaSlow, 1.0);
}

TEST(HFConfig, Mixtral) {
  ModelConfig C = parse(Mixtral8x7B, "Mixtral-8x7B-v0.1/config.json");
  EXPECT_EQ(C.Arch, Architecture::Mixtral);
  EXPECT_EQ(C.Vocab, 32000);
  EXPECT_EQ(C.KVHeads, 8);
  EXPECT_EQ(C.MaxContext, 32768);
  ASSERT_TRUE(C.MoE);
  EXPECT_EQ(C.MoE->NumExperts, 8);
  EXPECT_EQ(C.MoE->ExpertsPerToken, 2);
  EXPECT_EQ(C.MoE->ExpertFFN, 14336);
  EXPECT_EQ(C.MoE->NumSharedExperts, 0);
  EXPECT_EQ(C.MoE->FirstDenseLayers, 0);
  EXPECT_FALSE(C.MoE->RouterBias);
  EXPECT_FALSE(C.MLA);
}

TEST(HFConfig, Qwen2MoE) {
  ModelConfig C = parse(Qwen15MoE, "Qwen1.5-MoE-A2.7B/config.json");
  EXPECT_EQ(C.Arch, Architecture::Qwen2MoE);
  EXPECT_TRUE(C.QKVBias);
  EXPECT_EQ(C.Vocab, 151936);
  EXPECT_EQ(C.HeadDim, 128);
  ASSERT_TRUE(C.MoE);
  EXPECT_EQ(C.MoE->NumExperts, 60);
  EXPECT_EQ(C.MoE->ExpertsPerToken, 4);
  EXPECT_EQ(C.MoE->ExpertFFN, 1408);
  EXPECT_EQ(C.MoE->NumSharedExperts, 1);
  EXPECT_EQ(C.MoE->SharedExpertFFN, 5632);
  EXPECT_TRUE(C.MoE->SharedExpertGate);
  EXPECT_EQ(C.MoE->FirstDenseLayers, 0);
}

TEST(HFConfig, DeepSeekV3) {
  ModelConfig C = parse(DeepSeekV3, "DeepSeek-V3/config.json");
  EXPECT_EQ(C.Arch, Architecture::DeepSeekV3);
  EXPECT_EQ(C.Vocab, 129280);
  EXPECT_EQ(C.Hidden, 7168);
  EXPECT_EQ(C.FFN, 18432);
  EXPECT_EQ(C.Layers, 61);
  EXPECT_EQ(C.Heads, 128);
  EXPECT_EQ(C.KVHeads, 128);
  EXPECT_EQ(C.HeadDim, 192); // 128 without RoPE + 64 with
  EXPECT_EQ(C.MaxContext, 163840);
  EXPECT_DOUBLE_EQ(C.RMSNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(C.RopeTheta, 10000.0);
  // The checkpoint keeps RoPE pairs interleaved.
  EXPECT_FALSE(C.RopeNeoX);
  ASSERT_TRUE(C.MLA);
  EXPECT_EQ(C.MLA->QLoraRank, 1536);
  EXPECT_EQ(C.MLA->KVLoraRank, 512);
  EXPECT_EQ(C.MLA->QKNopeHeadDim, 128);
  EXPECT_EQ(C.MLA->QKRopeHeadDim, 64);
  EXPECT_EQ(C.MLA->VHeadDim, 128);
  ASSERT_TRUE(C.MoE);
  EXPECT_EQ(C.MoE->NumExperts, 256);
  EXPECT_EQ(C.MoE->ExpertsPerToken, 8);
  EXPECT_EQ(C.MoE->ExpertFFN, 2048);
  EXPECT_EQ(C.MoE->NumSharedExperts, 1);
  EXPECT_EQ(C.MoE->SharedExpertFFN, 2048);
  EXPECT_EQ(C.MoE->FirstDenseLayers, 3);
  EXPECT_TRUE(C.MoE->RouterBias);
  EXPECT_FALSE(C.MoE->SharedExpertGate);
  EXPECT_EQ(C.Scaling.Type, RopeScaling::Kind::YaRN);
  EXPECT_DOUBLE_EQ(C.Scaling.Factor, 40.0);
  EXPECT_DOUBLE_EQ(C.Scaling.BetaFast, 32.0);
  EXPECT_DOUBLE_EQ(C.Scaling.BetaSlow, 1.0);
  EXPECT_DOUBLE_EQ(C.Scaling.MScale, 1.0);
  EXPECT_DOUBLE_EQ(C.Scaling.MScaleAllDim, 1.0);
  EXPECT_EQ(C.Scaling.OriginalContext, 4096);
}

TEST(HFConfig, DeepSeekVariants) {
  // q_lora_rank null: q is projected directly. Greedy routing has no bias.
  ModelConfig C = parse(edited(DeepSeekV3,
                               [](llvm::json::Object &O) {
                                 O["q_lora_rank"] = nullptr;
                                 O["topk_method"] = "greedy";
                                 O["rope_interleave"] = false;
                               }),
                        "ds/config.json");
  ASSERT_TRUE(C.MLA);
  EXPECT_EQ(C.MLA->QLoraRank, 0);
  EXPECT_FALSE(C.MoE->RouterBias);
  EXPECT_TRUE(C.RopeNeoX);
}

TEST(HFConfig, Defaults) {
  ModelConfig C = parse(edited(Llama3_8B,
                               [](llvm::json::Object &O) {
                                 O.erase("num_key_value_heads");
                                 O.erase("rope_theta");
                                 O.erase("tie_word_embeddings");
                                 O.erase("torch_dtype");
                                 O.erase("rope_scaling");
                                 O.erase("architectures");
                               }),
                        "m/config.json");
  EXPECT_EQ(C.KVHeads, 32);
  EXPECT_DOUBLE_EQ(C.RopeTheta, 10000.0);
  EXPECT_FALSE(C.TiedEmbeddings);
  EXPECT_EQ(C.WeightType, ir::DType::BF16);
  EXPECT_EQ(C.HeadDim, 128);
  // Only architectures: the class names the family.
  ModelConfig Q = parse(edited(Qwen2_7B,
                               [](llvm::json::Object &O) {
                                 O.erase("model_type");
                                 O["tie_word_embeddings"] = true;
                                 O["torch_dtype"] = "float16";
                               }),
                        "q/config.json");
  EXPECT_EQ(Q.Arch, Architecture::Qwen2);
  EXPECT_TRUE(Q.TiedEmbeddings);
  EXPECT_EQ(Q.WeightType, ir::DType::F16);
  // An explicit head_dim wins over hidden / heads (Mistral-Nemo).
  ModelConfig N = parse(edited(Mistral7B_v01,
                               [](llvm::json::Object &O) {
                                 O["hidden_size"] = 5120;
                                 O["head_dim"] = 128;
                                 O["torch_dtype"] = "float32";
                               }),
                        "n/config.json");
  EXPECT_EQ(N.HeadDim, 128);
  EXPECT_EQ(N.WeightType, ir::DType::F32);
  // Linear scaling.
  ModelConfig L = parse(edited(Llama3_8B,
                               [](llvm::json::Object &O) {
                                 O["rope_scaling"] = llvm::json::Object{
                                     {"rope_type", "linear"}, {"factor", 2}};
                               }),
                        "l/config.json");
  EXPECT_EQ(L.Scaling.Type, RopeScaling::Kind::Linear);
  EXPECT_DOUBLE_EQ(L.Scaling.Factor, 2.0);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(HFConfig, MissingAndMistypedKeys) {
  EXPECT_EQ(
      errorOf(Llama3_8B, [](llvm::json::Object &O) { O.erase("hidden_size"); }),
      "config.json: hidden_size: required field is missing");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) { O["hidden_size"] = "4096"; }),
            "config.json: hidden_size: expected an integer, got \"4096\"");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) { O["hidden_size"] = 4096.5; }),
            "config.json: hidden_size: expected an integer, got 4096.5");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) { O["vocab_size"] = nullptr; }),
            "config.json: vocab_size: expected an integer, got null");
  EXPECT_EQ(
      errorOf(Llama3_8B,
              [](llvm::json::Object &O) { O["tie_word_embeddings"] = "yes"; }),
      "config.json: tie_word_embeddings: expected true or false, got "
      "\"yes\"");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O["rms_norm_eps"] = llvm::json::Array{};
                    }),
            "config.json: rms_norm_eps: expected a number, got an empty "
            "array");
  EXPECT_EQ(
      errorOf(Mixtral8x7B,
              [](llvm::json::Object &O) { O.erase("num_local_experts"); }),
      "config.json: num_local_experts: required field is missing");
  EXPECT_EQ(errorOf(DeepSeekV3,
                    [](llvm::json::Object &O) { O.erase("q_lora_rank"); }),
            "config.json: q_lora_rank: required field is missing");
  EXPECT_EQ(errorOf("{\"model_type\": \"llama\",}"),
            "config.json:1:24: invalid JSON: Expected object key");
  EXPECT_EQ(errorOf("[]"),
            "config.json: expected a JSON object, got an empty array");
}

TEST(HFConfig, UnsupportedArchitectures) {
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O["model_type"] = "gpt2";
                      O["architectures"] = llvm::json::Array{"GPT2LMHeadModel"};
                    }),
            "config.json: unsupported model_type 'gpt2' (supported: llama, "
            "mistral, qwen2, mixtral, qwen2_moe, deepseek_v3)");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O.erase("model_type");
                      O["architectures"] = llvm::json::Array{"GPT2LMHeadModel"};
                    }),
            "config.json: unsupported architecture 'GPT2LMHeadModel' "
            "(supported: LlamaForCausalLM, MistralForCausalLM, "
            "Qwen2ForCausalLM, MixtralForCausalLM, Qwen2MoeForCausalLM, "
            "DeepseekV3ForCausalLM)");
  // Another head on a supported family has other weights.
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O["architectures"] =
                          llvm::json::Array{"LlamaForSequenceClassification"};
                    }),
            "config.json: unsupported architecture "
            "'LlamaForSequenceClassification' (supported: LlamaForCausalLM, "
            "MistralForCausalLM, Qwen2ForCausalLM, MixtralForCausalLM, "
            "Qwen2MoeForCausalLM, DeepseekV3ForCausalLM)");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O["architectures"] =
                          llvm::json::Array{"Qwen2ForCausalLM"};
                    }),
            "config.json: architecture 'Qwen2ForCausalLM' does not match "
            "model_type 'llama'");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O.erase("model_type");
                      O.erase("architectures");
                    }),
            "config.json: model_type: required field is missing");
}

TEST(HFConfig, RopeScalingErrors) {
  auto WithScaling = [](llvm::json::Value Scaling) {
    return errorOf(Llama31_8B, [&](llvm::json::Object &O) {
      O["rope_scaling"] = std::move(Scaling);
    });
  };
  EXPECT_EQ(WithScaling(llvm::json::Object{{"type", "dynamic"}, {"factor", 2}}),
            "config.json: rope_scaling type 'dynamic' is not supported "
            "(supported: default, linear, llama3, yarn)");
  EXPECT_EQ(WithScaling(
                llvm::json::Object{{"rope_type", "llama3"},
                                   {"factor", 8.0},
                                   {"high_freq_factor", 4.0},
                                   {"original_max_position_embeddings", 8192}}),
            "config.json: rope_scaling.low_freq_factor: required field is "
            "missing");
  EXPECT_EQ(
      WithScaling(llvm::json::Object{{"rope_type", "linear"}, {"factor", "8"}}),
      "config.json: rope_scaling.factor: expected a number, got \"8\"");
  EXPECT_EQ(
      WithScaling(llvm::json::Object{{"rope_type", "linear"}, {"factor", 0.5}}),
      "config.json: rope_scaling.factor: must be at least 1, got 0.5");
  EXPECT_EQ(WithScaling(llvm::json::Object{{"factor", 2}}),
            "config.json: rope_scaling.rope_type: required field is missing");
  EXPECT_EQ(WithScaling("linear"),
            "config.json: rope_scaling: expected an object or null, got "
            "\"linear\"");
  EXPECT_EQ(WithScaling(llvm::json::Object{{"rope_type", "yarn"},
                                           {"factor", 4},
                                           {"attention_factor", 1.2}}),
            "config.json: key 'rope_scaling.attention_factor' is not "
            "supported");
}

TEST(HFConfig, UnsupportedLayers) {
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) { O["hidden_act"] = "gelu"; }),
            "config.json: hidden_act 'gelu' is not supported (the supported "
            "architectures use 'silu')");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) { O["attention_bias"] = true; }),
            "config.json: attention_bias true is not supported");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) {
                      O["torch_dtype"] = "float8_e4m3fn";
                    }),
            "config.json: torch_dtype 'float8_e4m3fn' is not supported "
            "(supported: bfloat16, float16, float32)");
  EXPECT_EQ(
      errorOf(Qwen15MoE,
              [](llvm::json::Object &O) { O["decoder_sparse_step"] = 2; }),
      "config.json: decoder_sparse_step 2 is not supported (every layer "
      "must be a MoE layer: 1)");
  EXPECT_EQ(errorOf(Qwen15MoE,
                    [](llvm::json::Object &O) {
                      O["mlp_only_layers"] = llvm::json::Array{3};
                    }),
            "config.json: mlp_only_layers is not supported (every layer must "
            "be a MoE layer: [])");
  EXPECT_EQ(errorOf(DeepSeekV3,
                    [](llvm::json::Object &O) { O["topk_method"] = "random"; }),
            "config.json: topk_method 'random' is not supported (supported: "
            "noaux_tc, greedy, group_limited_greedy)");
}

TEST(HFConfig, InconsistentSizes) {
  // ModelConfig::validate() runs last; the file says where.
  EXPECT_EQ(
      errorOf(Llama3_8B,
              [](llvm::json::Object &O) { O["num_key_value_heads"] = 5; }),
      "config.json: attention heads (32) must be a multiple of KV heads "
      "(5)");
  EXPECT_EQ(
      errorOf(Llama3_8B,
              [](llvm::json::Object &O) { O["num_attention_heads"] = 0; }),
      "config.json: attention heads must be in 1..16777216, got 0");
  EXPECT_EQ(errorOf(Llama3_8B,
                    [](llvm::json::Object &O) { O["hidden_size"] = 4100; }),
            "config.json: head_dim is not given and hidden_size 4100 is not a "
            "multiple of num_attention_heads 32");
  llvm::Expected<ModelConfig> C = parseHFConfig(
      edited(Mixtral8x7B,
             [](llvm::json::Object &O) { O["num_experts_per_tok"] = 9; }),
      "models/Mixtral-8x7B/config.json");
  ASSERT_FALSE(bool(C));
  EXPECT_EQ(llvm::toString(C.takeError()),
            "models/Mixtral-8x7B/config.json: MoE needs 1..4096 experts and "
            "1..experts experts per token, got 8 and 9");
}

TEST(HFConfig, MissingFile) {
  TempDir Dir;
  std::string Path = Dir.file("config.json");
  llvm::Expected<ModelConfig> C = readHFConfig(Path);
  ASSERT_FALSE(bool(C));
  EXPECT_EQ(llvm::toString(C.takeError()),
            Path + ": cannot open: No such file or directory");
}

// Found by fuzz/FuzzHFConfig (UBSan: signed overflow): the head size and
// the shared experts' size were computed from the file's integers before
// validate() bounded them.
TEST(HFConfig, SizesThatOverflowAreErrors) {
  EXPECT_EQ(
      errorOf(DeepSeekV3,
              [](llvm::json::Object &O) { O["qk_rope_head_dim"] = INT64_MAX; }),
      "config.json: qk_nope_head_dim + qk_rope_head_dim (128 + "
      "9223372036854775807) does not fit in 64 bits");
  EXPECT_EQ(errorOf(DeepSeekV3,
                    [](llvm::json::Object &O) {
                      O["n_shared_experts"] = int64_t(1) << 62;
                    }),
            "config.json: n_shared_experts * moe_intermediate_size "
            "(4611686018427387904 * 2048) does not fit in 64 bits");
}

// json::Value::getAsInteger converts the double 2^63 to int64, which
// overflows (UBSan stopped FuzzHFConfig's binary there); it is no integer.
TEST(HFConfig, TwoToThe63AsADoubleIsNoInteger) {
  EXPECT_EQ(errorOf(DeepSeekV3,
                    [](llvm::json::Object &O) { O["hidden_size"] = 0x1p63; }),
            "config.json: hidden_size: expected an integer, got "
            "9.223372036854776e+18");
}

// Found by fuzzing (fuzz/FuzzHFConfig): json::parse recursed once per level
// of nesting and overflowed the stack on a few megabytes of '['.
TEST(HFConfig, DeepNestingIsAnErrorNotACrash) {
  EXPECT_EQ(errorOf(std::string(4 << 20, '[')),
            "config.json:1:257: invalid JSON: arrays and objects nest deeper "
            "than 256 levels");
  EXPECT_EQ(errorOf(R"({"model_type": ")" + std::string(1000, '{') + "\"}"),
            "config.json: unsupported model_type '" + std::string(1000, '{') +
                "' (supported: llama, mistral, qwen2, mixtral, qwen2_moe, "
                "deepseek_v3)");
}
