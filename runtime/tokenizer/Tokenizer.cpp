//===- Tokenizer.cpp - SentencePiece BPE encode and decode ----------------===//
//
// Encoding follows SentencePiece's BPE model as llama.cpp and llama2.c run it:
// merges are not a ranked list as in GPT-2's BPE but come from the scores of
// the pieces, so at every step the best adjacent pair is the one whose
// concatenation has the highest score. Doing that by rescanning all pairs is
// O(n^2); here every adjacent pair whose concatenation is a piece sits in a
// max-heap keyed by (score, position), symbols form a doubly linked list, and
// a merge only adds the two pairs it creates. Heap entries made stale by an
// earlier merge are recognised when popped and skipped. When the vocabulary
// allows it (no piece spans two words, as in llama's), each word is merged on
// its own, which gives the same result with heaps that fit in cache.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <optional>

namespace strata::runtime {

namespace {

/// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
constexpr llvm::StringLiteral SpaceMark = "\xE2\x96\x81";
/// U+FFFD REPLACEMENT CHARACTER.
constexpr llvm::StringLiteral Replacement = "\xEF\xBF\xBD";
/// U+2585 LOWER FIVE EIGHTHS BLOCK: what llama.cpp prints for the unknown
/// token.
constexpr llvm::StringLiteral UnknownMark = "\xE2\x96\x85";

/// The byte of a piece spelt "<0xXX>" (two upper- or lower-case hex digits).
std::optional<uint8_t> parseBytePiece(llvm::StringRef Piece) {
  if (Piece.size() != 6 || !Piece.startswith("<0x") || !Piece.endswith(">"))
    return std::nullopt;
  unsigned Value;
  if (Piece.substr(3, 2).getAsInteger(16, Value))
    return std::nullopt;
  return static_cast<uint8_t>(Value);
}

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

/// The length of the character a byte starts: 1 for ASCII, 2 to 4 for a lead
/// byte, 0 for a byte that starts nothing (a continuation byte, C0, C1, F5-FF).
unsigned sequenceLength(uint8_t Lead) {
  if (Lead < 0x80)
    return 1;
  if (Lead >= 0xC2 && Lead <= 0xDF)
    return 2;
  if (Lead >= 0xE0 && Lead <= 0xEF)
    return 3;
  if (Lead >= 0xF0 && Lead <= 0xF4)
    return 4;
  return 0;
}

/// Whether B can follow the valid incomplete character Prefix. The second
/// byte's range depends on the lead, which rules out overlong forms,
/// surrogates and code points past U+10FFFF (Unicode table 3-7).
bool continues(llvm::StringRef Prefix, uint8_t B) {
  if (Prefix.size() > 1)
    return B >= 0x80 && B <= 0xBF;
  switch (static_cast<uint8_t>(Prefix[0])) {
  case 0xE0:
    return B >= 0xA0 && B <= 0xBF;
  case 0xED:
    return B >= 0x80 && B <= 0x9F;
  case 0xF0:
    return B >= 0x90 && B <= 0xBF;
  case 0xF4:
    return B >= 0x80 && B <= 0x8F;
  default:
    return B >= 0x80 && B <= 0xBF;
  }
}

/// The length of the character at the start of S when it is valid UTF-8,
/// else 1: a stray byte is a character of its own.
size_t characterLength(llvm::StringRef S) {
  const auto *Begin = reinterpret_cast<const llvm::UTF8 *>(S.data());
  size_t Length = llvm::getNumBytesForUTF8(*Begin);
  if (Length <= S.size() && llvm::isLegalUTF8Sequence(Begin, Begin + Length))
    return Length;
  return 1;
}

//===----------------------------------------------------------------------===//
// Merging
//===----------------------------------------------------------------------===//

/// A run of the normalised text: a character at first, then the union of
/// merged neighbours. Size 0 marks a symbol merged into its left neighbour.
/// Index is uint32_t below 4 GiB of text, which halves the memory the merge
/// loop walks through, and uint64_t above.
template <typename Index> struct Symbol {
  Index Begin;
  Index Size;
  Index Prev;
  Index Next;
  int32_t Id; ///< The piece the run spells, or NoToken.
};

/// The symbol at Left and its right neighbour, whose concatenation (Size
/// bytes) is the piece Id.
template <typename Index> struct Candidate {
  float Score;
  int32_t Id;
  Index Left;
  Index Size;
};

/// Orders the heap: the top is the highest score, and of equal scores the
/// leftmost pair. Symbols never move, so Left orders pairs by position.
struct WorseCandidate {
  template <typename C> bool operator()(const C &A, const C &B) const {
    if (A.Score != B.Score)
      return A.Score < B.Score;
    return A.Left > B.Left;
  }
};

/// The merge loop; one Merger runs over many texts, reusing its buffers.
template <typename Index> class Merger {
public:
  static constexpr Index None = std::numeric_limits<Index>::max();

  Merger(const llvm::StringMap<int32_t> &PieceIds, llvm::ArrayRef<float> Scores)
      : PieceIds(PieceIds), Scores(Scores) {}

  /// Splits Text into characters, merges, and calls Emit(Begin, Size, Id) for
  /// each surviving symbol in text order, Begin relative to Text.
  template <typename Fn> void run(llvm::StringRef Text, Fn Emit) {
    assert(Text.size() < None && "Index too narrow for the text");
    this->Text = Text;
    split();
    // Heapify once: cheaper than pushing the first pairs one at a time.
    Heap.clear();
    Heapified = false;
    for (Index I = 1; I < Symbols.size(); ++I)
      addCandidate(I - 1);
    std::make_heap(Heap.begin(), Heap.end(), WorseCandidate());
    Heapified = true;
    while (!Heap.empty()) {
      std::pop_heap(Heap.begin(), Heap.end(), WorseCandidate());
      Candidate<Index> C = Heap.back();
      Heap.pop_back();
      if (isCurrent(C))
        merge(C);
    }
    for (Index I = Symbols.empty() ? None : 0; I != None; I = Symbols[I].Next)
      Emit(Symbols[I].Begin, Symbols[I].Size, Symbols[I].Id);
  }

private:
  void split() {
    Symbols.clear();
    Symbols.reserve(Text.size());
    for (Index Begin = 0; Begin < Text.size();) {
      Index Size = static_cast<Index>(characterLength(Text.substr(Begin)));
      Index I = static_cast<Index>(Symbols.size());
      Symbols.push_back({Begin, Size, I == 0 ? None : I - 1, None,
                         lookup(Text.substr(Begin, Size))});
      if (I > 0)
        Symbols[I - 1].Next = I;
      Begin += Size;
    }
  }

  int32_t lookup(llvm::StringRef Piece) const {
    auto It = PieceIds.find(Piece);
    return It == PieceIds.end() ? NoToken : It->second;
  }

  /// Queues the pair of Left and its right neighbour if it spells a piece.
  void addCandidate(Index Left) {
    if (Left == None || Symbols[Left].Next == None)
      return;
    // Symbols are contiguous runs of the text, so the concatenation is a
    // substring and looking it up allocates nothing.
    const Symbol<Index> &L = Symbols[Left];
    Index Size = L.Size + Symbols[L.Next].Size;
    int32_t Id = lookup(Text.substr(L.Begin, Size));
    if (Id == NoToken)
      return;
    Heap.push_back({Scores[Id], Id, Left, Size});
    if (Heapified)
      std::push_heap(Heap.begin(), Heap.end(), WorseCandidate());
  }

  /// Whether the pair is as it was when C was queued. Sizes only grow, so
  /// any merge since then into either side, or of one side into the other,
  /// changes the sum of their sizes; a side merged leftwards has size 0.
  bool isCurrent(const Candidate<Index> &C) const {
    const Symbol<Index> &L = Symbols[C.Left];
    return L.Size != 0 && L.Next != None &&
           L.Size + Symbols[L.Next].Size == C.Size;
  }

  void merge(const Candidate<Index> &C) {
    Symbol<Index> &L = Symbols[C.Left];
    Symbol<Index> &R = Symbols[L.Next];
    L.Size += R.Size;
    L.Id = C.Id;
    L.Next = R.Next;
    R.Size = 0;
    if (L.Next != None)
      Symbols[L.Next].Prev = C.Left;
    Index Prev = L.Prev;
    addCandidate(Prev);
    addCandidate(C.Left);
  }

  llvm::StringRef Text;
  const llvm::StringMap<int32_t> &PieceIds;
  llvm::ArrayRef<float> Scores;
  std::vector<Symbol<Index>> Symbols;
  /// A max-heap under WorseCandidate once Heapified.
  std::vector<Candidate<Index>> Heap;
  bool Heapified = false;
};

/// Runs the merge loop over Text, or over each of its words when
/// SplitAtSpaces, and calls Emit(Begin, Size, Id) for each resulting symbol,
/// Begin relative to Text.
///
/// A word is a run that starts at a "▁" (or at the start). When no piece has
/// a "▁" past its first character no merge can join two words: the piece
/// would have one there. Each word's merges then happen in the same order
/// whether the others are merged with it or not, so merging word by word
/// gives the same symbols, with small heaps that stay in cache.
template <typename Index, typename Fn>
void mergeWords(llvm::StringRef Text, bool SplitAtSpaces,
                const llvm::StringMap<int32_t> &PieceIds,
                llvm::ArrayRef<float> Scores, Fn Emit) {
  Merger<Index> M(PieceIds, Scores);
  if (!SplitAtSpaces) {
    M.run(Text, Emit);
    return;
  }
  // "▁" is a whole character wherever its bytes occur: E2 only ever starts
  // one, valid or not.
  for (size_t Begin = 0; Begin < Text.size();) {
    size_t End = Text.find(SpaceMark, Begin + 1);
    if (End == llvm::StringRef::npos)
      End = Text.size();
    M.run(Text.slice(Begin, End), [&](uint64_t B, uint64_t Size, int32_t Id) {
      Emit(Begin + B, Size, Id);
    });
    Begin = End;
  }
}

/// mergeWords with the narrowest index that fits Text.
template <typename Fn>
void mergeSymbols(llvm::StringRef Text, bool SplitAtSpaces,
                  const llvm::StringMap<int32_t> &PieceIds,
                  llvm::ArrayRef<float> Scores, Fn Emit) {
  if (Text.size() < std::numeric_limits<uint32_t>::max())
    mergeWords<uint32_t>(Text, SplitAtSpaces, PieceIds, Scores, Emit);
  else
    mergeWords<uint64_t>(Text, SplitAtSpaces, PieceIds, Scores, Emit);
}

/// Text as SentencePiece sees it: spaces as U+2581, one in front when
/// AddSpacePrefix.
std::string normalize(llvm::StringRef Text, bool AddSpacePrefix) {
  std::string Out;
  Out.reserve(Text.size() + Text.size() / 4 + SpaceMark.size());
  if (AddSpacePrefix)
    Out += SpaceMark;
  for (char C : Text) {
    if (C == ' ')
      Out += SpaceMark;
    else
      Out.push_back(C);
  }
  return Out;
}

} // namespace

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

llvm::Expected<Tokenizer> Tokenizer::create(Vocabulary V) {
  auto Fail = [](const llvm::Twine &Message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), Message);
  };
  size_t N = V.Tokens.size();
  if (N == 0)
    return Fail("the vocabulary has no tokens");
  if (N > size_t(std::numeric_limits<int32_t>::max()))
    return Fail(llvm::formatv("the vocabulary has {0} tokens: ids are int32 "
                              "so at most {1} fit",
                              N, std::numeric_limits<int32_t>::max()));
  if (V.Scores.size() != N)
    return Fail(llvm::formatv("the vocabulary has {0} tokens but {1} scores", N,
                              V.Scores.size()));
  if (V.Types.size() != N)
    return Fail(llvm::formatv("the vocabulary has {0} tokens but {1} types", N,
                              V.Types.size()));
  for (auto [Name, Id] : {std::pair<llvm::StringRef, int32_t>{"BOS", V.BOS},
                          {"EOS", V.EOS},
                          {"unknown", V.Unknown}})
    if (Id != NoToken && (Id < 0 || size_t(Id) >= N))
      return Fail(llvm::formatv(
          "the {0} token id is {1} but the vocabulary has {2} tokens", Name, Id,
          N));

  Tokenizer T(std::move(V));
  const Vocabulary &Voc = T.V;
  T.ByteIds.fill(NoToken);
  T.ByteValues.assign(N, 0);
  for (size_t I = 0; I < N; ++I) {
    int32_t Id = static_cast<int32_t>(I);
    if (std::isnan(Voc.Scores[I]))
      return Fail(llvm::formatv("the score of token {0} is NaN", Id));
    switch (Voc.Types[I]) {
    case TokenType::Undefined:
    case TokenType::Normal:
    case TokenType::UserDefined:
      // try_emplace keeps the first: of equal pieces the lower id wins.
      T.PieceIds.try_emplace(Voc.Tokens[I], Id);
      break;
    case TokenType::Byte: {
      std::optional<uint8_t> Byte = parseBytePiece(Voc.Tokens[I]);
      if (!Byte)
        return Fail(llvm::formatv("token {0} is a byte token but is spelt "
                                  "'{1}', not <0xXX>",
                                  Id, Voc.Tokens[I]));
      T.ByteValues[I] = *Byte;
      if (T.ByteIds[*Byte] == NoToken)
        T.ByteIds[*Byte] = Id;
      break;
    }
    case TokenType::Unknown:
    case TokenType::Control:
    case TokenType::Unused:
      break;
    }
  }
  T.SplitAtSpaces = llvm::none_of(T.PieceIds, [](const auto &Entry) {
    return Entry.getKey().find(SpaceMark, 1) != llvm::StringRef::npos;
  });
  T.HasAllBytes =
      llvm::all_of(T.ByteIds, [](int32_t Id) { return Id != NoToken; });
  if (!T.HasAllBytes && Voc.Unknown == NoToken)
    return Fail("the vocabulary has neither all 256 byte tokens nor an "
                "unknown token, so some text could not be encoded");
  return T;
}

std::vector<int32_t> Tokenizer::encode(llvm::StringRef Text,
                                       bool AddBOS) const {
  std::vector<int32_t> Ids;
  if (AddBOS && V.BOS != NoToken)
    Ids.push_back(V.BOS);
  // SentencePiece gives nothing for empty text, not a lone "▁".
  if (Text.empty())
    return Ids;

  std::string Normalized = normalize(Text, V.AddSpacePrefix);
  Ids.reserve(Ids.size() + Normalized.size() / 2);
  mergeSymbols(Normalized, SplitAtSpaces, PieceIds, V.Scores,
               [&](uint64_t Begin, uint64_t Size, int32_t Id) {
                 if (Id != NoToken) {
                   Ids.push_back(Id);
                   return;
                 }
                 // A character that is no piece, as merged symbols always
                 // are. Byte fallback needs a token for each of its bytes;
                 // create() made sure that without all of them there is an
                 // unknown token.
                 if (!HasAllBytes) {
                   Ids.push_back(V.Unknown);
                   return;
                 }
                 for (char C : llvm::StringRef(Normalized).substr(Begin, Size))
                   Ids.push_back(ByteIds[static_cast<uint8_t>(C)]);
               });
  return Ids;
}

std::string Tokenizer::decode(llvm::ArrayRef<int32_t> Ids) const {
  Detokenizer D(*this);
  std::string Out;
  for (int32_t Id : Ids)
    Out += D.decode(Id);
  Out += D.finish();
  return Out;
}

//===----------------------------------------------------------------------===//
// Detokenizer
//===----------------------------------------------------------------------===//

std::string Detokenizer::decode(int32_t Id) {
  std::string Out;
  if (!T->contains(Id)) {
    appendBytes(Replacement, Out);
    AtTextStart = false;
    return Out;
  }
  if (Id == T->bos()) {
    // A new text starts: its first piece carries the space encoding added.
    AtTextStart = T->addsSpacePrefix();
    return Out;
  }
  switch (T->type(Id)) {
  case TokenType::Control:
  case TokenType::Unused:
    return Out;
  case TokenType::Unknown:
    appendBytes(UnknownMark, Out);
    break;
  case TokenType::Byte: {
    char Byte = static_cast<char>(T->byteOf(Id));
    appendBytes(llvm::StringRef(&Byte, 1), Out);
    break;
  }
  case TokenType::UserDefined:
    appendBytes(T->piece(Id), Out);
    break;
  case TokenType::Undefined:
  case TokenType::Normal: {
    llvm::StringRef Piece = T->piece(Id);
    if (AtTextStart && T->addsSpacePrefix() && Piece.startswith(SpaceMark))
      Piece = Piece.drop_front(SpaceMark.size());
    std::string Text;
    Text.reserve(Piece.size());
    while (!Piece.empty()) {
      if (Piece.startswith(SpaceMark)) {
        Text.push_back(' ');
        Piece = Piece.drop_front(SpaceMark.size());
      } else {
        Text.push_back(Piece.front());
        Piece = Piece.drop_front();
      }
    }
    appendBytes(Text, Out);
    break;
  }
  }
  AtTextStart = false;
  return Out;
}

std::string Detokenizer::finish() {
  if (Pending.empty())
    return "";
  Pending.clear();
  return Replacement.str();
}

void Detokenizer::appendBytes(llvm::StringRef Bytes, std::string &Out) {
  for (char C : Bytes) {
    uint8_t B = static_cast<uint8_t>(C);
    if (!Pending.empty()) {
      if (continues(Pending, B)) {
        Pending.push_back(C);
        if (Pending.size() ==
            sequenceLength(static_cast<uint8_t>(Pending[0]))) {
          Out += Pending;
          Pending.clear();
        }
        continue;
      }
      // What is held can never complete; B may still start a character.
      Out += Replacement;
      Pending.clear();
    }
    switch (sequenceLength(B)) {
    case 0:
      Out += Replacement;
      break;
    case 1:
      Out.push_back(C);
      break;
    default:
      Pending.push_back(C);
      break;
    }
  }
}

} // namespace strata::runtime
