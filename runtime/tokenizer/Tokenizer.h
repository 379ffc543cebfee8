//===- Tokenizer.h - SentencePiece BPE encode and decode --------*- C++ -*-===//
//
// The tokenizer of llama-family models ("llama" in GGUF's tokenizer.ggml.model:
// SentencePiece BPE with byte fallback). It is built from plain vectors and
// knows nothing of where they came from; GGUFVocabulary.h reads them from a
// GGUF file.
//
// Encoding normalises text the way llama does (every ' ' becomes U+2581 "▁",
// and one "▁" is put in front), splits it into UTF-8 characters and then
// repeatedly merges the adjacent pair whose concatenation is the
// highest-scoring piece of the vocabulary, leftmost first on ties. A priority
// queue of candidate pairs over a linked list of symbols makes this
// O(n log n) in the length of the text. Characters that end up as no piece
// become byte tokens <0xXX>, one per byte, or one unknown token when the
// vocabulary lacks some of the 256 byte tokens.
//
// Decoding is streaming: a Detokenizer turns one id at a time into text and
// only ever returns complete UTF-8, holding back a character whose bytes
// arrive in several byte tokens.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_TOKENIZER_TOKENIZER_H
#define STRATA_RUNTIME_TOKENIZER_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strata::runtime {

/// llama_token_type, with the same numbering (GGUF tokenizer.ggml.token_type).
enum class TokenType : uint8_t {
  Undefined = 0, ///< Treated as Normal.
  Normal = 1,
  Unknown = 2,
  /// BOS, EOS and the like: never produced by encode; print nothing.
  Control = 3,
  /// Merged like Normal pieces and printed as stored (llama.cpp also
  /// matches them whole in the text before merging; that is not done here).
  UserDefined = 4,
  Unused = 5,
  Byte = 6, ///< "<0xXX>": one raw byte.
};

/// The id that means "no such token".
constexpr int32_t NoToken = -1;

/// Everything a Tokenizer is built from; index i of each vector describes
/// token id i.
struct Vocabulary {
  std::vector<std::string> Tokens; ///< Piece text, spaces written as U+2581.
  std::vector<float> Scores;       ///< Merge priority: higher merges first.
  std::vector<TokenType> Types;
  int32_t BOS = NoToken;
  int32_t EOS = NoToken;
  /// Stands for a character with neither a piece nor byte tokens.
  int32_t Unknown = NoToken;
  /// Whether encode(Text) puts BOS first.
  bool AddBOS = true;
  /// Whether encoding puts "▁" in front of the text (SentencePiece's
  /// add_dummy_prefix) and decoding drops it again.
  bool AddSpacePrefix = true;
};

class Tokenizer {
public:
  /// Checks that the vectors have one entry per token, that the special ids
  /// are tokens (or NoToken), that no score is NaN, that byte tokens are
  /// spelt <0xXX>, and that every text can be encoded: the vocabulary has all
  /// 256 byte tokens or an unknown token. When two tokens have the same text
  /// the lower id is the one encode produces.
  static llvm::Expected<Tokenizer> create(Vocabulary V);

  /// Token ids for Text, BOS first when AddBOS and the vocabulary has one.
  /// Text need not be valid UTF-8: a byte that starts no valid character is a
  /// character of its own (and so becomes a byte token). Empty text gives no
  /// tokens besides BOS.
  std::vector<int32_t> encode(llvm::StringRef Text, bool AddBOS) const;
  /// The same, with BOS as the vocabulary says (addsBOS()).
  std::vector<int32_t> encode(llvm::StringRef Text) const {
    return encode(Text, addsBOS());
  }

  /// The text of a whole sequence, as a Detokenizer at the start of a text
  /// gives it, then finished.
  std::string decode(llvm::ArrayRef<int32_t> Ids) const;

  size_t size() const { return V.Tokens.size(); }
  bool contains(int32_t Id) const { return Id >= 0 && size_t(Id) < size(); }
  // The accessors below take an Id for which contains(Id) holds.
  /// The piece as stored in the vocabulary ("▁the", "<0x0A>", "<s>").
  llvm::StringRef piece(int32_t Id) const { return V.Tokens[Id]; }
  float score(int32_t Id) const { return V.Scores[Id]; }
  TokenType type(int32_t Id) const { return V.Types[Id]; }
  int32_t bos() const { return V.BOS; }
  int32_t eos() const { return V.EOS; }
  int32_t unknown() const { return V.Unknown; }
  bool addsBOS() const { return V.AddBOS; }
  bool addsSpacePrefix() const { return V.AddSpacePrefix; }
  /// The byte a Byte token stands for.
  uint8_t byteOf(int32_t Id) const { return ByteValues[Id]; }

private:
  explicit Tokenizer(Vocabulary V) : V(std::move(V)) {}

  Vocabulary V;
  /// Text to id of the tokens encode may produce by merging: Normal,
  /// Undefined and UserDefined ones.
  llvm::StringMap<int32_t> PieceIds;
  /// Byte value to its Byte token, or NoToken.
  std::array<int32_t, 256> ByteIds;
  /// Id to byte value, for Byte tokens; 0 for the others.
  std::vector<uint8_t> ByteValues;
  /// Whether every byte has a Byte token.
  bool HasAllBytes = false;
  /// Whether no piece has a "▁" past its first character, so that encode
  /// may merge each word on its own (see mergeWords in the .cpp).
  bool SplitAtSpaces = false;
};

/// Turns token ids into text one at a time, for printing while generating.
///
/// Normal pieces have "▁" turned back into ' '; byte tokens give their byte;
/// control and unused tokens (BOS, EOS) give nothing; the unknown token gives
/// U+2585 "▅" (as llama.cpp prints it); user-defined pieces are printed as
/// stored. The leading space of the first piece of a text, at the start of the
/// stream or right after BOS, is dropped: it is the one encoding put in front.
///
/// Only complete UTF-8 is returned. The bytes of a character split across
/// byte tokens are held back until the character is complete; a byte that
/// cannot continue what is held, or cannot start a character, becomes U+FFFD
/// (one per maximal invalid subsequence, as Unicode recommends). Ids that are
/// not tokens of the vocabulary also give U+FFFD.
class Detokenizer {
public:
  /// AtTextStart false continues a text whose start was decoded elsewhere,
  /// such as the tokens generated after a prompt: no space is dropped until
  /// the next BOS.
  explicit Detokenizer(const Tokenizer &T, bool AtTextStart = true)
      : T(&T), AtTextStart(AtTextStart) {}

  /// The text that Id completes; empty when it completes none.
  std::string decode(int32_t Id);
  /// U+FFFD for an incomplete character still held back (the stream ended in
  /// the middle of it), else nothing.
  std::string finish();

private:
  void appendBytes(llvm::StringRef Bytes, std::string &Out);

  const Tokenizer *T;
  bool AtTextStart;
  /// The valid start of a character whose remaining bytes have not come yet.
  std::string Pending;
};

} // namespace strata::runtime

#endif // STRATA_RUNTIME_TOKENIZER_TOKENIZER_H
