//===- GGUFConfig.cpp - A GGUF file's metadata as a ModelConfig -----------===//
//
// The {arch}.* keys of llama-family GGUF files (llama.cpp's names), read
// into the hyperparameters the lowering needs. The file itself is read by
// ir/modelfile/GGUFReader.h, which knows nothing of models.
//
//===----------------------------------------------------------------------===//

#include "ir/import/GGUFConfig.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace strata::import {
namespace {

llvm::Error makeError(llvm::StringRef Path, const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 Path + ": " + Msg);
}

/// S with quotes, backslashes and non-printable bytes escaped, so that a
/// message never carries invalid UTF-8 or control characters.
std::string escape(llvm::StringRef S) {
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  llvm::printEscapedString(S, OS);
  return Out;
}

/// Reads {arch}.* hyperparameters, each with an error that names the file
/// and the key.
class ConfigReader {
public:
  ConfigReader(const GGUFFile &F, llvm::StringRef Arch) : F(F), Arch(Arch) {}

  llvm::Error error(const llvm::Twine &Msg) const {
    return makeError(F.Path, Msg);
  }

  std::string key(llvm::StringRef Suffix) const {
    return (Arch + "." + Suffix).str();
  }

  /// A non-negative integer, or nullopt when the key is absent.
  llvm::Expected<std::optional<int64_t>> optInt(llvm::StringRef Suffix) const {
    std::string Key = key(Suffix);
    const GGUFValue *V = F.find(Key);
    if (!V)
      return std::nullopt;
    std::optional<int64_t> I = V->asInt();
    if (!I || *I < 0 || V->Kind == GGUFValue::Type::Bool)
      return error("metadata key '" + Key +
                   "' must be a non-negative integer, got " + describe(*V) +
                   (V->Kind == GGUFValue::Type::Array
                        ? " (per-layer values are not supported)"
                        : ""));
    return I;
  }

  llvm::Expected<int64_t> requiredInt(llvm::StringRef Suffix) const {
    llvm::Expected<std::optional<int64_t>> I = optInt(Suffix);
    if (!I)
      return I.takeError();
    if (!*I)
      return missing(key(Suffix));
    return **I;
  }

  llvm::Expected<std::optional<double>> optFloat(llvm::StringRef Suffix) const {
    std::string Key = key(Suffix);
    const GGUFValue *V = F.find(Key);
    if (!V)
      return std::nullopt;
    std::optional<double> D = V->asFloat();
    if (!D)
      return error("metadata key '" + Key + "' must be a number, got " +
                   describe(*V));
    return D;
  }

  /// A string under a full key (not prefixed by the architecture), or
  /// nullopt when the key is absent.
  llvm::Expected<std::optional<llvm::StringRef>>
  optString(llvm::StringRef Key) const {
    const GGUFValue *V = F.find(Key);
    if (!V)
      return std::nullopt;
    std::optional<llvm::StringRef> S = V->asString();
    if (!S)
      return error("metadata key '" + Key + "' must be a string, got " +
                   describe(*V));
    return S;
  }

  llvm::Error missing(llvm::StringRef Key) const {
    return error("missing metadata key '" + Key + "'");
  }

  const TensorDesc *tensor(llvm::StringRef Name) const {
    for (const TensorDesc &T : F.Tensors.Tensors)
      if (T.Name == Name)
        return &T;
    return nullptr;
  }

private:
  static std::string describe(const GGUFValue &V) {
    std::string S = getGGUFTypeName(V.Kind).str();
    if (V.Kind == GGUFValue::Type::Array)
      S += " of " + getGGUFTypeName(V.ArrayElemType).str();
    else if (std::optional<int64_t> I = V.asInt())
      S += " " + std::to_string(*I);
    return S;
  }

  const GGUFFile &F;
  llvm::StringRef Arch;
};

/// Assigns *Opt to Out when present; forwards errors.
template <typename T>
llvm::Error assignIf(llvm::Expected<std::optional<T>> Opt, T &Out) {
  if (!Opt)
    return Opt.takeError();
  if (*Opt)
    Out = **Opt;
  return llvm::Error::success();
}

llvm::Error readRopeScaling(const ConfigReader &CR, ModelConfig &C) {
  llvm::Expected<std::optional<llvm::StringRef>> Type =
      CR.optString(CR.key("rope.scaling.type"));
  if (!Type)
    return Type.takeError();
  RopeScaling &S = C.Scaling;
  if (!*Type) {
    // Older files give only a linear factor.
    double Linear = 1.0;
    if (llvm::Error E = assignIf(CR.optFloat("rope.scale_linear"), Linear))
      return E;
    if (Linear != 1.0) {
      S.Type = RopeScaling::Kind::Linear;
      S.Factor = Linear;
    }
    return llvm::Error::success();
  }
  if (**Type == "none")
    return llvm::Error::success();
  if (**Type == "linear")
    S.Type = RopeScaling::Kind::Linear;
  else if (**Type == "yarn")
    S.Type = RopeScaling::Kind::YaRN;
  else
    return CR.error("unsupported RoPE scaling type '" + **Type + "' in '" +
                    CR.key("rope.scaling.type") +
                    "' (supported: none, linear, yarn)");
  llvm::Expected<std::optional<double>> Factor =
      CR.optFloat("rope.scaling.factor");
  if (!Factor)
    return Factor.takeError();
  if (!*Factor)
    return CR.missing(CR.key("rope.scaling.factor"));
  S.Factor = **Factor;
  if (S.Type == RopeScaling::Kind::YaRN) {
    if (llvm::Error E =
            assignIf(CR.optInt("rope.scaling.original_context_length"),
                     S.OriginalContext))
      return E;
    if (llvm::Error E =
            assignIf(CR.optFloat("rope.scaling.yarn_beta_fast"), S.BetaFast))
      return E;
    if (llvm::Error E =
            assignIf(CR.optFloat("rope.scaling.yarn_beta_slow"), S.BetaSlow))
      return E;
  }
  return llvm::Error::success();
}

llvm::Error readMoE(const ConfigReader &CR, ModelConfig &C) {
  MoEConfig M;
  llvm::Expected<int64_t> Experts = CR.requiredInt("expert_count");
  if (!Experts)
    return Experts.takeError();
  M.NumExperts = *Experts;
  llvm::Expected<int64_t> Used = CR.requiredInt("expert_used_count");
  if (!Used)
    return Used.takeError();
  M.ExpertsPerToken = *Used;
  // Mixtral files give the expert size as feed_forward_length.
  M.ExpertFFN = C.FFN;
  if (llvm::Error E =
          assignIf(CR.optInt("expert_feed_forward_length"), M.ExpertFFN))
    return E;
  if (C.Arch == Architecture::Qwen2MoE) {
    if (llvm::Error E = assignIf(CR.optInt("expert_shared_feed_forward_length"),
                                 M.SharedExpertFFN))
      return E;
    if (const TensorDesc *Up = CR.tensor("blk.0.ffn_up_shexp.weight");
        Up && M.SharedExpertFFN == 0 && !Up->Dims.empty())
      M.SharedExpertFFN = Up->Dims[0];
    M.NumSharedExperts = M.SharedExpertFFN > 0 ? 1 : 0;
    M.SharedExpertGate =
        CR.tensor("blk.0.ffn_gate_inp_shexp.weight") != nullptr;
  }
  C.MoE = M;
  return llvm::Error::success();
}

llvm::Error readVocab(const ConfigReader &CR, const GGUFFile &F,
                      ModelConfig &C) {
  if (llvm::Error E = assignIf(CR.optInt("vocab_size"), C.Vocab))
    return E;
  if (C.Vocab > 0)
    return llvm::Error::success();
  if (const GGUFValue *Tokens = F.find("tokenizer.ggml.tokens")) {
    const std::vector<GGUFValue> *List = Tokens->asArray();
    if (!List)
      return CR.error("metadata key 'tokenizer.ggml.tokens' must be an "
                      "array, got " +
                      getGGUFTypeName(Tokens->Kind));
    C.Vocab = static_cast<int64_t>(List->size());
    return llvm::Error::success();
  }
  if (const TensorDesc *Embed = CR.tensor("token_embd.weight");
      Embed && !Embed->Dims.empty()) {
    C.Vocab = Embed->Dims[0];
    return llvm::Error::success();
  }
  return CR.error("cannot tell the vocabulary size: no '" +
                  CR.key("vocab_size") +
                  "', 'tokenizer.ggml.tokens' or token_embd.weight");
}

llvm::Error readAttention(const ConfigReader &CR, ModelConfig &C) {
  llvm::Expected<int64_t> Heads = CR.requiredInt("attention.head_count");
  if (!Heads)
    return Heads.takeError();
  C.Heads = *Heads;
  C.KVHeads = C.Heads;
  if (llvm::Error E = assignIf(CR.optInt("attention.head_count_kv"), C.KVHeads))
    return E;

  llvm::Expected<std::optional<int64_t>> KeyLength =
      CR.optInt("attention.key_length");
  if (!KeyLength)
    return KeyLength.takeError();
  if (*KeyLength) {
    C.HeadDim = **KeyLength;
  } else if (C.Heads > 0) {
    if (C.Hidden % C.Heads != 0)
      return CR.error("embedding length " + llvm::Twine(C.Hidden) +
                      " is not a multiple of the head count " +
                      llvm::Twine(C.Heads) + " and '" +
                      CR.key("attention.key_length") + "' is absent");
    C.HeadDim = C.Hidden / C.Heads;
  }
  // ModelConfig has one head size and rotates all of it.
  llvm::Expected<std::optional<int64_t>> ValueLength =
      CR.optInt("attention.value_length");
  if (!ValueLength)
    return ValueLength.takeError();
  if (*ValueLength && **ValueLength != C.HeadDim)
    return CR.error("'" + CR.key("attention.value_length") + "' (" +
                    llvm::Twine(**ValueLength) + ") differs from the key " +
                    "length (" + llvm::Twine(C.HeadDim) + "); unsupported");
  llvm::Expected<std::optional<int64_t>> RopeDims =
      CR.optInt("rope.dimension_count");
  if (!RopeDims)
    return RopeDims.takeError();
  if (*RopeDims && **RopeDims != C.HeadDim)
    return CR.error("'" + CR.key("rope.dimension_count") + "' (" +
                    llvm::Twine(**RopeDims) + ") differs from the head size (" +
                    llvm::Twine(C.HeadDim) +
                    "); partial rotary embeddings are unsupported");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<ModelConfig> modelConfigFromGGUF(const GGUFFile &F) {
  ConfigReader General(F, "general");
  llvm::Expected<std::optional<llvm::StringRef>> ArchName =
      General.optString("general.architecture");
  if (!ArchName)
    return ArchName.takeError();
  if (!*ArchName)
    return General.missing("general.architecture");
  llvm::StringRef Arch = **ArchName;
  ConfigReader CR(F, Arch);

  ModelConfig C;
  if (Arch == "llama")
    C.Arch = Architecture::Llama;
  else if (Arch == "qwen2")
    C.Arch = Architecture::Qwen2;
  else if (Arch == "qwen2moe")
    C.Arch = Architecture::Qwen2MoE;
  else
    return CR.error("unsupported architecture '" + escape(Arch) +
                    "' (general.architecture; supported: llama, qwen2, "
                    "qwen2moe)");
  // Mixtral files say "llama" and give an expert count.
  llvm::Expected<std::optional<int64_t>> Experts = CR.optInt("expert_count");
  if (!Experts)
    return Experts.takeError();
  if (C.Arch == Architecture::Llama && *Experts && **Experts > 0)
    C.Arch = Architecture::Mixtral;
  bool HasMoE =
      C.Arch == Architecture::Mixtral || C.Arch == Architecture::Qwen2MoE;

  C.Name = llvm::sys::path::stem(F.Path).str();
  if (const GGUFValue *Name = F.find("general.name"))
    if (std::optional<llvm::StringRef> S = Name->asString(); S && !S->empty())
      C.Name = S->str();
  C.Naming = NamingScheme::GGUF;
  // llama.cpp's converter permutes llama's q and k for adjacent-pair
  // rotation; qwen2 weights are stored as trained, rotating halves.
  C.RopeNeoX =
      C.Arch == Architecture::Qwen2 || C.Arch == Architecture::Qwen2MoE;

  llvm::Expected<int64_t> Hidden = CR.requiredInt("embedding_length");
  if (!Hidden)
    return Hidden.takeError();
  C.Hidden = *Hidden;
  llvm::Expected<int64_t> Layers = CR.requiredInt("block_count");
  if (!Layers)
    return Layers.takeError();
  C.Layers = *Layers;
  // A Qwen2-MoE model may have no dense MLP at all.
  if (C.Arch == Architecture::Qwen2MoE) {
    if (llvm::Error E = assignIf(CR.optInt("feed_forward_length"), C.FFN))
      return E;
  } else {
    llvm::Expected<int64_t> FFN = CR.requiredInt("feed_forward_length");
    if (!FFN)
      return FFN.takeError();
    C.FFN = *FFN;
  }
  if (llvm::Error E = readAttention(CR, C))
    return E;
  if (llvm::Error E = assignIf(CR.optInt("context_length"), C.MaxContext))
    return E;

  llvm::Expected<std::optional<double>> Eps =
      CR.optFloat("attention.layer_norm_rms_epsilon");
  if (!Eps)
    return Eps.takeError();
  if (!*Eps)
    return CR.missing(CR.key("attention.layer_norm_rms_epsilon"));
  C.RMSNormEps = **Eps;
  if (llvm::Error E = assignIf(CR.optFloat("rope.freq_base"), C.RopeTheta))
    return E;
  if (llvm::Error E = readRopeScaling(CR, C))
    return E;
  if (llvm::Error E = readVocab(CR, F, C))
    return E;
  if (HasMoE)
    if (llvm::Error E = readMoE(CR, C))
      return E;

  C.TiedEmbeddings = !CR.tensor("output.weight");
  C.QKVBias = CR.tensor("blk.0.attn_q.bias") != nullptr;
  // A summary for reports; each tensor keeps its own type.
  if (const TensorDesc *Q = CR.tensor("blk.0.attn_q.weight"))
    C.WeightType = Q->Type;

  if (llvm::Error E = C.validate())
    return CR.error(llvm::toString(std::move(E)));
  return C;
}

} // namespace strata::import
