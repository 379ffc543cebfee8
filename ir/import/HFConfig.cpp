//===- HFConfig.cpp - Hugging Face config.json to ModelConfig -------------===//

#include "ir/import/HFConfig.h"

#include "ir/support/JSONFieldReader.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace strata::import {

static llvm::Error fileError(llvm::StringRef Path, const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 Path + ": " + Msg);
}

namespace {

/// Typed access to the keys of one JSON object of a config, on
/// JSONFieldReader's reads: the first problem is kept and later reads
/// return defaults, so that a conversion reads as a list of fields instead
/// of a ladder of checks; the caller asks for the error once at the end.
/// Nested objects share the reader and name their keys with their path
/// ("rope_scaling.factor").
class ConfigReader {
public:
  ConfigReader(JSONFieldReader &R, const JSONObject &Obj, const FieldPath &At)
      : R(R), Obj(Obj), At(At) {}

  /// The object at Key, which ChildAt (At.field(Key), kept alive by the
  /// caller) names.
  ConfigReader nested(const JSONObject &Child, const FieldPath &ChildAt) const {
    return ConfigReader(R, Child, ChildAt);
  }
  const FieldPath &path() const { return At; }

  /// The value of Key, or null when it is absent or null: transformers
  /// treats an explicit null like a missing key (its default applies).
  const JSONValue *find(llvm::StringRef Key) const {
    const JSONValue *V = Obj.get(Key);
    return V && !V->getAsNull() ? V : nullptr;
  }
  bool has(llvm::StringRef Key) const { return find(Key) != nullptr; }

  /// A required key; null is a wrong type, not a default.
  const JSONValue *require(llvm::StringRef Key) {
    return R.required(Obj, At, Key);
  }

  int64_t getInt(llvm::StringRef Key) {
    const JSONValue *V = require(Key);
    return V ? asInt(Key, *V, 0) : 0;
  }
  int64_t getInt(llvm::StringRef Key, int64_t Default) {
    const JSONValue *V = find(Key);
    return V ? asInt(Key, *V, Default) : Default;
  }
  double getNumber(llvm::StringRef Key) {
    const JSONValue *V = require(Key);
    return V ? asNumber(Key, *V, 0) : 0;
  }
  double getNumber(llvm::StringRef Key, double Default) {
    const JSONValue *V = find(Key);
    return V ? asNumber(Key, *V, Default) : Default;
  }
  bool getBool(llvm::StringRef Key, bool Default) {
    const JSONValue *V = find(Key);
    FieldPath Here = At.field(Key);
    bool B = Default;
    return V && R.boolean(*V, Here, B) ? B : Default;
  }
  std::optional<std::string> getString(llvm::StringRef Key) {
    const JSONValue *V = find(Key);
    FieldPath Here = At.field(Key);
    std::string S;
    if (!V || !R.string(*V, Here, S))
      return std::nullopt;
    return S;
  }

  /// A problem of the whole config ("unsupported model_type ...").
  void fail(const llvm::Twine &Msg) { R.fail(FieldPath(), Msg); }
  /// A problem of Key's value ("rope_scaling.factor: must be ...").
  void fail(llvm::StringRef Key, const llvm::Twine &Msg) {
    FieldPath Here = At.field(Key);
    R.fail(Here, Msg);
  }
  void wrongType(llvm::StringRef Key, llvm::StringRef Expected,
                 const JSONValue &Got) {
    FieldPath Here = At.field(Key);
    R.expected(Here, Expected, Got);
  }
  void wrongType(const FieldPath &Here, llvm::StringRef Expected,
                 const JSONValue &Got) {
    R.expected(Here, Expected, Got);
  }

private:
  int64_t asInt(llvm::StringRef Key, const JSONValue &V, int64_t Default) {
    FieldPath Here = At.field(Key);
    int64_t I = Default;
    return R.signedInteger(V, Here, I) ? I : Default;
  }
  double asNumber(llvm::StringRef Key, const JSONValue &V, double Default) {
    FieldPath Here = At.field(Key);
    double D = Default;
    return R.number(V, Here, D) ? D : Default;
  }

  JSONFieldReader &R;
  const JSONObject &Obj;
  const FieldPath &At;
};

struct SupportedArch {
  llvm::StringLiteral ModelType; ///< config.json's model_type.
  llvm::StringLiteral ClassName; ///< Its architectures entry.
  Architecture Arch;
};

} // namespace

static constexpr SupportedArch SupportedArchs[] = {
    {"llama", "LlamaForCausalLM", Architecture::Llama},
    {"mistral", "MistralForCausalLM", Architecture::Llama},
    {"qwen2", "Qwen2ForCausalLM", Architecture::Qwen2},
    {"mixtral", "MixtralForCausalLM", Architecture::Mixtral},
    {"qwen2_moe", "Qwen2MoeForCausalLM", Architecture::Qwen2MoE},
    {"deepseek_v3", "DeepseekV3ForCausalLM", Architecture::DeepSeekV3},
};

static std::string supportedList(bool ClassNames) {
  std::string List;
  for (const SupportedArch &A : SupportedArchs) {
    if (!List.empty())
      List += ", ";
    List += ClassNames ? A.ClassName : A.ModelType;
  }
  return List;
}

/// model_type decides, as in transformers' AutoConfig; architectures, when
/// given, must name a supported causal-LM class of the same family (another
/// head, e.g. ...ForSequenceClassification, has other weights).
static std::optional<Architecture> detectArchitecture(ConfigReader &R) {
  std::optional<Architecture> FromType;
  std::optional<std::string> ModelType = R.getString("model_type");
  if (ModelType) {
    for (const SupportedArch &A : SupportedArchs)
      if (A.ModelType == *ModelType)
        FromType = A.Arch;
    if (!FromType) {
      R.fail("unsupported model_type '" + *ModelType +
             "' (supported: " + supportedList(false) + ")");
      return std::nullopt;
    }
  }

  std::optional<Architecture> FromClass;
  if (const JSONValue *V = R.find("architectures")) {
    const JSONArray *Classes = V->getAsArray();
    if (!Classes || Classes->empty()) {
      R.wrongType("architectures", "a non-empty array of strings", *V);
      return std::nullopt;
    }
    FieldPath ClassesAt = R.path().field("architectures");
    for (size_t I = 0; I < Classes->size(); ++I) {
      const JSONValue &C = (*Classes)[I];
      llvm::Optional<llvm::StringRef> Name = C.getAsString();
      if (!Name) {
        FieldPath ClassAt = ClassesAt.index(I);
        R.wrongType(ClassAt, "a string", C);
        return std::nullopt;
      }
      const SupportedArch *Found = nullptr;
      for (const SupportedArch &A : SupportedArchs)
        if (A.ClassName == *Name)
          Found = &A;
      if (!Found) {
        R.fail("unsupported architecture '" + *Name +
               "' (supported: " + supportedList(true) + ")");
        return std::nullopt;
      }
      if (FromType && Found->Arch != *FromType) {
        R.fail("architecture '" + *Name + "' does not match model_type '" +
               *ModelType + "'");
        return std::nullopt;
      }
      FromClass = Found->Arch;
    }
  }

  if (FromType)
    return FromType;
  if (FromClass)
    return FromClass;
  R.fail("model_type", "required field is missing");
  return std::nullopt;
}

static ir::DType parseTorchDType(ConfigReader &R) {
  // Newer transformers write "dtype" instead of "torch_dtype".
  llvm::StringRef Key = R.has("torch_dtype") ? "torch_dtype" : "dtype";
  std::optional<std::string> Name = R.getString(Key);
  if (!Name || *Name == "bfloat16")
    return ir::DType::BF16;
  if (*Name == "float16")
    return ir::DType::F16;
  if (*Name == "float32")
    return ir::DType::F32;
  R.fail(Key + " '" + *Name +
         "' is not supported (supported: bfloat16, float16, float32)");
  return ir::DType::BF16;
}

/// Shortest readable form: 0.5, 8, 1e-06.
static std::string formatNumber(double D) {
  std::string S;
  llvm::raw_string_ostream(S) << llvm::format("%g", D);
  return S;
}

static RopeScaling parseRopeScaling(ConfigReader &R, int64_t MaxContext) {
  RopeScaling S;
  const JSONValue *V = R.find("rope_scaling");
  if (!V)
    return S;
  const JSONObject *Obj = V->getAsObject();
  if (!Obj) {
    R.wrongType("rope_scaling", "an object or null", *V);
    return S;
  }
  FieldPath ScalingAt = R.path().field("rope_scaling");
  ConfigReader SR = R.nested(*Obj, ScalingAt);
  // transformers reads "rope_type" and falls back to the older "type".
  std::optional<std::string> Type = SR.getString("rope_type");
  if (!Type)
    Type = SR.getString("type");
  if (!Type) {
    SR.fail("rope_type", "required field is missing");
    return S;
  }

  if (*Type == "default")
    return S;
  if (*Type == "linear") {
    S.Type = RopeScaling::Kind::Linear;
    S.Factor = SR.getNumber("factor");
  } else if (*Type == "llama3") {
    S.Type = RopeScaling::Kind::Llama3;
    S.Factor = SR.getNumber("factor");
    S.LowFreqFactor = SR.getNumber("low_freq_factor");
    S.HighFreqFactor = SR.getNumber("high_freq_factor");
    S.OriginalContext = SR.getInt("original_max_position_embeddings");
    if (!(S.LowFreqFactor > 0) || !(S.HighFreqFactor > S.LowFreqFactor))
      SR.fail("rope_scaling needs 0 < low_freq_factor < high_freq_factor, "
              "got " +
              formatNumber(S.LowFreqFactor) + " and " +
              formatNumber(S.HighFreqFactor));
  } else if (*Type == "yarn") {
    S.Type = RopeScaling::Kind::YaRN;
    S.Factor = SR.getNumber("factor");
    S.BetaFast = SR.getNumber("beta_fast", S.BetaFast);
    S.BetaSlow = SR.getNumber("beta_slow", S.BetaSlow);
    S.MScale = SR.getNumber("mscale", S.MScale);
    S.MScaleAllDim = SR.getNumber("mscale_all_dim", S.MScaleAllDim);
    S.OriginalContext =
        SR.getInt("original_max_position_embeddings", MaxContext);
    // An explicit attention factor overrides the one derived from mscale;
    // RopeScaling has no field for it, so it must not be dropped silently.
    if (SR.has("attention_factor"))
      SR.fail("key 'rope_scaling.attention_factor' is not supported");
  } else {
    SR.fail("rope_scaling type '" + *Type +
            "' is not supported (supported: default, linear, llama3, yarn)");
    return S;
  }

  if (!(S.Factor >= 1))
    SR.fail("factor", "must be at least 1, got " + formatNumber(S.Factor));
  if (S.Type != RopeScaling::Kind::Linear && S.OriginalContext <= 0)
    SR.fail("original_max_position_embeddings",
            "must be positive, got " + llvm::Twine(S.OriginalContext));
  return S;
}

/// Keys that change the computation in ways ModelConfig cannot express.
static void rejectUnsupportedLayers(ConfigReader &R) {
  std::optional<std::string> Act = R.getString("hidden_act");
  if (Act && *Act != "silu")
    R.fail("hidden_act '" + *Act +
           "' is not supported (the supported architectures use 'silu')");
  // Llama's attention_bias puts biases on o_proj too, and mlp_bias on the
  // MLP; ModelConfig only knows Qwen2's q/k/v biases.
  if (R.getBool("attention_bias", false))
    R.fail("attention_bias true is not supported");
  if (R.getBool("mlp_bias", false))
    R.fail("mlp_bias true is not supported");
}

/// Sliding-window attention over at most the window's tokens is full
/// attention, so a window shorter than the context becomes the context
/// limit: exact, where ignoring the window would not be.
static void applySlidingWindow(ConfigReader &R, ModelConfig &C) {
  bool Used = true;
  if (C.Arch == Architecture::Qwen2 || C.Arch == Architecture::Qwen2MoE)
    Used = R.getBool("use_sliding_window", false);
  if (!Used)
    return;
  int64_t Window = R.getInt("sliding_window", 0);
  if (Window < 0)
    R.fail("sliding_window",
           "must not be negative, got " + llvm::Twine(Window));
  else if (Window > 0 && Window < C.MaxContext)
    C.MaxContext = Window;
}

/// The head dimension, when not given, is hidden / heads (transformers'
/// default); a hidden size that heads do not divide needs it spelled out.
static int64_t defaultHeadDim(ConfigReader &R, const ModelConfig &C) {
  if (R.has("head_dim"))
    return R.getInt("head_dim", 0);
  if (C.Heads <= 0)
    return 0; // validate() reports the head count
  if (C.Hidden % C.Heads != 0)
    R.fail("head_dim is not given and hidden_size " + llvm::Twine(C.Hidden) +
           " is not a multiple of num_attention_heads " + llvm::Twine(C.Heads));
  return C.Hidden / C.Heads;
}

static void parseMixtral(ConfigReader &R, ModelConfig &C) {
  MoEConfig M;
  M.NumExperts = R.getInt("num_local_experts");
  M.ExpertsPerToken = R.getInt("num_experts_per_tok");
  M.ExpertFFN = C.FFN;
  C.MoE = M;
}

static void parseQwen2MoE(ConfigReader &R, ModelConfig &C) {
  C.QKVBias = true;
  MoEConfig M;
  M.NumExperts = R.getInt("num_experts");
  M.ExpertsPerToken = R.getInt("num_experts_per_tok");
  M.ExpertFFN = R.getInt("moe_intermediate_size");
  M.NumSharedExperts = 1;
  M.SharedExpertFFN = R.getInt("shared_expert_intermediate_size");
  M.SharedExpertGate = true;
  C.MoE = M;
  // Only the layout with a MoE MLP in every layer is representable.
  int64_t Step = R.getInt("decoder_sparse_step", 1);
  if (Step != 1)
    R.fail("decoder_sparse_step " + llvm::Twine(Step) +
           " is not supported (every layer must be a MoE layer: 1)");
  if (const JSONValue *V = R.find("mlp_only_layers")) {
    const JSONArray *A = V->getAsArray();
    if (!A)
      R.wrongType("mlp_only_layers", "an array", *V);
    else if (!A->empty())
      R.fail("mlp_only_layers is not supported (every layer must be a MoE "
             "layer: [])");
  }
}

static void parseDeepSeekV3(ConfigReader &R, ModelConfig &C) {
  MLAConfig A;
  // null means "q is projected directly" (DeepSeek-V2-Lite); a missing key
  // is an error rather than transformers' default of 1536.
  if (R.require("q_lora_rank"))
    A.QLoraRank = R.getInt("q_lora_rank", 0);
  A.KVLoraRank = R.getInt("kv_lora_rank");
  A.QKNopeHeadDim = R.getInt("qk_nope_head_dim");
  A.QKRopeHeadDim = R.getInt("qk_rope_head_dim");
  A.VHeadDim = R.getInt("v_head_dim");
  C.MLA = A;
  // A head's query/key is its no-RoPE part followed by its RoPE part; any
  // head_dim key in the file (transformers writes qk_rope_head_dim) is not
  // this.
  // validate() bounds every size later; until then a file may hold any
  // int64, so sums and products are checked (fuzz/FuzzHFConfig found the
  // signed overflow here).
  if (llvm::AddOverflow(A.QKNopeHeadDim, A.QKRopeHeadDim, C.HeadDim))
    R.fail("qk_nope_head_dim + qk_rope_head_dim (" +
           llvm::Twine(A.QKNopeHeadDim) + " + " + llvm::Twine(A.QKRopeHeadDim) +
           ") does not fit in 64 bits");
  // DeepSeek keeps the RoPE dimensions of q and k interleaved in pairs and
  // its modeling code de-interleaves them before rotate_half.
  C.RopeNeoX = !R.getBool("rope_interleave", true);

  MoEConfig M;
  M.NumExperts = R.getInt("n_routed_experts");
  M.ExpertsPerToken = R.getInt("num_experts_per_tok");
  M.ExpertFFN = R.getInt("moe_intermediate_size");
  M.NumSharedExperts = R.getInt("n_shared_experts");
  if (llvm::MulOverflow(M.NumSharedExperts, M.ExpertFFN, M.SharedExpertFFN))
    R.fail("n_shared_experts * moe_intermediate_size (" +
           llvm::Twine(M.NumSharedExperts) + " * " + llvm::Twine(M.ExpertFFN) +
           ") does not fit in 64 bits");
  M.FirstDenseLayers = R.getInt("first_k_dense_replace");
  // transformers' DeepseekV3 has no topk_method key and always uses the
  // score-correction bias, which is what noaux_tc means.
  std::optional<std::string> TopK = R.getString("topk_method");
  if (!TopK || *TopK == "noaux_tc")
    M.RouterBias = true;
  else if (*TopK != "greedy" && *TopK != "group_limited_greedy")
    R.fail("topk_method '" + *TopK +
           "' is not supported (supported: noaux_tc, greedy, "
           "group_limited_greedy)");
  C.MoE = M;
  int64_t Freq = R.getInt("moe_layer_freq", 1);
  if (Freq != 1)
    R.fail("moe_layer_freq " + llvm::Twine(Freq) +
           " is not supported (every layer after the dense ones must be a "
           "MoE layer: 1)");
}

/// The config's folder names the model; a bare file name names itself.
static std::string modelName(llvm::StringRef Path) {
  llvm::StringRef Dir =
      llvm::sys::path::filename(llvm::sys::path::parent_path(Path));
  return Dir.empty() || Dir == "." ? Path.str() : Dir.str();
}

llvm::Expected<ModelConfig> parseHFConfig(llvm::StringRef JsonText,
                                          llvm::StringRef Path) {
  // The parser bounds the nesting itself (MaxJSONNesting).
  llvm::Expected<std::unique_ptr<JSONDocument>> Doc =
      readJSONDocument(JsonText, Path);
  if (!Doc)
    return Doc.takeError();
  JSONFieldReader Fields(Path);
  FieldPath Root;
  const JSONObject *Obj = (*Doc)->root().getAsObject();
  if (!Obj) {
    Fields.expected(Root, "a JSON object", (*Doc)->root());
    return Fields.takeError();
  }

  ConfigReader R(Fields, *Obj, Root);
  std::optional<Architecture> Arch = detectArchitecture(R);
  if (!Arch)
    return Fields.takeError();

  ModelConfig C;
  C.Name = modelName(Path);
  C.Arch = *Arch;
  C.Naming = NamingScheme::HuggingFace;
  C.RopeNeoX = true;
  C.Vocab = R.getInt("vocab_size");
  C.Hidden = R.getInt("hidden_size");
  C.FFN = R.getInt("intermediate_size");
  C.Layers = R.getInt("num_hidden_layers");
  C.Heads = R.getInt("num_attention_heads");
  C.KVHeads = R.getInt("num_key_value_heads", C.Heads);
  C.MaxContext = R.getInt("max_position_embeddings");
  C.RMSNormEps = R.getNumber("rms_norm_eps");
  C.RopeTheta = R.getNumber("rope_theta", 10000.0);
  C.TiedEmbeddings = R.getBool("tie_word_embeddings", false);
  C.WeightType = parseTorchDType(R);
  C.Scaling = parseRopeScaling(R, C.MaxContext);
  rejectUnsupportedLayers(R);

  switch (C.Arch) {
  case Architecture::Llama:
    C.HeadDim = defaultHeadDim(R, C);
    break;
  case Architecture::Qwen2:
    C.HeadDim = defaultHeadDim(R, C);
    C.QKVBias = true; // Qwen2 always has q/k/v biases
    break;
  case Architecture::Mixtral:
    C.HeadDim = defaultHeadDim(R, C);
    parseMixtral(R, C);
    break;
  case Architecture::Qwen2MoE:
    C.HeadDim = defaultHeadDim(R, C);
    parseQwen2MoE(R, C);
    break;
  case Architecture::DeepSeekV3:
    parseDeepSeekV3(R, C);
    break;
  }
  if (C.Arch != Architecture::DeepSeekV3)
    applySlidingWindow(R, C);

  if (Fields.failed())
    return Fields.takeError();
  if (llvm::Error E = C.validate()) {
    // validate() names the model; here the file says where.
    std::string Text = llvm::toString(std::move(E));
    llvm::StringRef Msg = Text;
    Msg.consume_front(C.Name + ": ");
    return fileError(Path, Msg);
  }
  return C;
}

llvm::Expected<ModelConfig> readHFConfig(llvm::StringRef Path) {
  // Real configs are a few kilobytes; a huge file is not a config.
  constexpr uint64_t MaxConfigBytes = 16 << 20;
  uint64_t Size = 0;
  if (std::error_code EC = llvm::sys::fs::file_size(Path, Size))
    return fileError(Path, "cannot open: " + EC.message());
  if (Size > MaxConfigBytes)
    return fileError(Path, "file size " + llvm::Twine(Size) +
                               " exceeds the limit of " +
                               llvm::Twine(MaxConfigBytes) + " bytes");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buf =
      llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return fileError(Path, "cannot read: " + Buf.getError().message());
  return parseHFConfig((*Buf)->getBuffer(), Path);
}

} // namespace strata::import
