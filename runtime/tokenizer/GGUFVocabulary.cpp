//===- GGUFVocabulary.cpp - The tokenizer stored in a GGUF file -----------===//
//
// The keys are those llama.cpp's convert scripts write. Every value is checked
// for its type and range here, where the key can be named, before
// Tokenizer::create checks the vocabulary as a whole.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/GGUFVocabulary.h"

#include "ir/modelfile/GGUFReader.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdint>

namespace strata::runtime {

using import::GGUFFile;
using import::GGUFValue;

namespace {

/// Reads the tokenizer.ggml.* keys of one file; every error names the file.
class VocabularyReader {
public:
  VocabularyReader(const GGUFFile &F, llvm::StringRef Path)
      : F(F), Path(Path) {}

  llvm::Expected<Vocabulary> read() {
    if (llvm::Error E = checkModel())
      return E;
    Vocabulary V;
    if (llvm::Error E = readTokens(V.Tokens))
      return E;
    if (llvm::Error E = readScores(V.Tokens.size(), V.Scores))
      return E;
    if (llvm::Error E = readTypes(V.Tokens.size(), V.Types))
      return E;
    // SentencePiece's own numbering, which llama.cpp also falls back on.
    if (llvm::Error E = readTokenId("tokenizer.ggml.bos_token_id", 1,
                                    V.Tokens.size(), V.BOS))
      return E;
    if (llvm::Error E = readTokenId("tokenizer.ggml.eos_token_id", 2,
                                    V.Tokens.size(), V.EOS))
      return E;
    if (llvm::Error E = readTokenId("tokenizer.ggml.unknown_token_id", 0,
                                    V.Tokens.size(), V.Unknown))
      return E;
    if (llvm::Error E = readFlag("tokenizer.ggml.add_bos_token", V.AddBOS))
      return E;
    if (llvm::Error E =
            readFlag("tokenizer.ggml.add_space_prefix", V.AddSpacePrefix))
      return E;
    return V;
  }

  llvm::Error fail(const llvm::Twine &Message) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   Path + ": " + Message);
  }

private:
  llvm::Error checkModel() const {
    constexpr llvm::StringLiteral Key = "tokenizer.ggml.model";
    const GGUFValue *V = F.find(Key);
    if (!V)
      return fail(llvm::Twine(Key) + " is missing");
    std::optional<llvm::StringRef> Model = V->asString();
    if (!Model)
      return fail(llvm::formatv("{0}: expected a string, got {1}", Key,
                                import::getGGUFTypeName(V->Kind)));
    if (*Model != "llama")
      return fail(llvm::formatv("{0} '{1}' is not supported yet: only "
                                "SentencePiece ('llama') vocabularies",
                                Key, *Model));
    return llvm::Error::success();
  }

  /// The elements of the array at Key; when Count is set there must be that
  /// many (one per token).
  llvm::Expected<const std::vector<GGUFValue> *>
  getArray(llvm::StringRef Key, std::optional<size_t> Count) const {
    const GGUFValue *V = F.find(Key);
    if (!V)
      return fail(Key + " is missing");
    const std::vector<GGUFValue> *Elems = V->asArray();
    if (!Elems)
      return fail(llvm::formatv("{0}: expected an array, got {1}", Key,
                                import::getGGUFTypeName(V->Kind)));
    if (Count && Elems->size() != *Count)
      return fail(llvm::formatv("{0} has {1} entries but "
                                "tokenizer.ggml.tokens has {2}: expected one "
                                "per token",
                                Key, Elems->size(), *Count));
    return Elems;
  }

  llvm::Error readTokens(std::vector<std::string> &Tokens) const {
    constexpr llvm::StringLiteral Key = "tokenizer.ggml.tokens";
    llvm::Expected<const std::vector<GGUFValue> *> Elems =
        getArray(Key, std::nullopt);
    if (!Elems)
      return Elems.takeError();
    if ((*Elems)->empty())
      return fail(llvm::Twine(Key) + " is empty");
    Tokens.reserve((*Elems)->size());
    for (size_t I = 0; I < (*Elems)->size(); ++I) {
      const GGUFValue &Elem = (**Elems)[I];
      std::optional<llvm::StringRef> Text = Elem.asString();
      if (!Text)
        return fail(llvm::formatv("{0}[{1}]: expected a string, got {2}", Key,
                                  I, import::getGGUFTypeName(Elem.Kind)));
      Tokens.push_back(Text->str());
    }
    return llvm::Error::success();
  }

  llvm::Error readScores(size_t Count, std::vector<float> &Scores) const {
    constexpr llvm::StringLiteral Key = "tokenizer.ggml.scores";
    llvm::Expected<const std::vector<GGUFValue> *> Elems = getArray(Key, Count);
    if (!Elems)
      return Elems.takeError();
    Scores.reserve(Count);
    for (size_t I = 0; I < Count; ++I) {
      const GGUFValue &Elem = (**Elems)[I];
      std::optional<double> Score = Elem.asFloat();
      if (!Score)
        return fail(llvm::formatv("{0}[{1}]: expected a number, got {2}", Key,
                                  I, import::getGGUFTypeName(Elem.Kind)));
      if (std::isnan(*Score))
        return fail(llvm::formatv("{0}[{1}] is NaN", Key, I));
      Scores.push_back(static_cast<float>(*Score));
    }
    return llvm::Error::success();
  }

  llvm::Error readTypes(size_t Count, std::vector<TokenType> &Types) const {
    constexpr llvm::StringLiteral Key = "tokenizer.ggml.token_type";
    llvm::Expected<const std::vector<GGUFValue> *> Elems = getArray(Key, Count);
    if (!Elems)
      return Elems.takeError();
    Types.reserve(Count);
    for (size_t I = 0; I < Count; ++I) {
      const GGUFValue &Elem = (**Elems)[I];
      std::optional<int64_t> Type = Elem.asInt();
      if (!Type)
        return fail(llvm::formatv("{0}[{1}]: expected an integer, got {2}", Key,
                                  I, import::getGGUFTypeName(Elem.Kind)));
      if (*Type < int64_t(TokenType::Undefined) ||
          *Type > int64_t(TokenType::Byte))
        return fail(llvm::formatv("{0}[{1}] is {2}: expected 0 (undefined) "
                                  "to 6 (byte)",
                                  Key, I, *Type));
      Types.push_back(static_cast<TokenType>(*Type));
    }
    return llvm::Error::success();
  }

  /// A token id, Default when the key is absent. Converters write "none" as
  /// the u32 0xFFFFFFFF, which is -1 read as int32.
  llvm::Error readTokenId(llvm::StringRef Key, int32_t Default, size_t Count,
                          int32_t &Id) const {
    const GGUFValue *V = F.find(Key);
    if (!V) {
      if (size_t(Default) >= Count)
        return fail(llvm::formatv("{0} is missing and its default {1} is not "
                                  "a token: the vocabulary has {2}",
                                  Key, Default, Count));
      Id = Default;
      return llvm::Error::success();
    }
    std::optional<int64_t> Value = V->asInt();
    if (!Value)
      return fail(llvm::formatv("{0}: expected an integer, got {1}", Key,
                                import::getGGUFTypeName(V->Kind)));
    if (*Value == -1 || *Value == int64_t(UINT32_MAX)) {
      Id = NoToken;
      return llvm::Error::success();
    }
    if (*Value < 0 || uint64_t(*Value) >= Count)
      return fail(llvm::formatv("{0} is {1} but the vocabulary has {2} tokens",
                                Key, *Value, Count));
    Id = static_cast<int32_t>(*Value);
    return llvm::Error::success();
  }

  llvm::Error readFlag(llvm::StringRef Key, bool &Flag) const {
    const GGUFValue *V = F.find(Key);
    if (!V)
      return llvm::Error::success();
    std::optional<bool> Value = V->asBool();
    if (!Value)
      return fail(llvm::formatv("{0}: expected a bool, got {1}", Key,
                                import::getGGUFTypeName(V->Kind)));
    Flag = *Value;
    return llvm::Error::success();
  }

  const GGUFFile &F;
  llvm::StringRef Path;
};

} // namespace

llvm::Expected<Tokenizer> loadTokenizerFromGGUF(const GGUFFile &F,
                                                llvm::StringRef Path) {
  VocabularyReader Reader(F, Path);
  llvm::Expected<Vocabulary> V = Reader.read();
  if (!V)
    return V.takeError();
  llvm::Expected<Tokenizer> T = Tokenizer::create(std::move(*V));
  if (!T)
    return Reader.fail(llvm::toString(T.takeError()));
  return T;
}

llvm::Expected<Tokenizer> loadTokenizerFromGGUF(llvm::StringRef Path) {
  llvm::Expected<GGUFFile> F = import::readGGUFFile(Path);
  if (!F)
    return F.takeError();
  return loadTokenizerFromGGUF(*F, Path);
}

} // namespace strata::runtime
