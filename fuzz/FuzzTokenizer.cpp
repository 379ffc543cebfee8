//===- FuzzTokenizer.cpp - libFuzzer target for the tokenizer -------------===//
//
// The first byte of the input picks what the rest is:
//
//   0: a GGUF file whose tokenizer.ggml.* metadata is loaded as `strata run`
//      loads it (parseGGUF, loadTokenizerFromGGUF), then a fixed text is
//      encoded and decoded with it;
//   1: a vocabulary built directly from the bytes (FuzzedDataProvider:
//      pieces, scores, types, special ids, flags), which reaches
//      Tokenizer::create and the merge loop far more often than GGUF bytes
//      do, then a fuzzed text encoded and decoded with it;
//   2: text (and, read as int32 ids, a token stream) encoded and decoded
//      with the good vocabulary of the bundled stories260K model.
//
// Besides the sanitizers, two properties the tokenizer promises are checked
// (a failure aborts, so libFuzzer keeps the input): decoding only ever
// returns valid UTF-8, and encoded ids are tokens of the vocabulary. With
// the good vocabulary, decode(encode(text)) gives the text back for valid
// UTF-8 that has no U+2581 (the space mark, which decodes as ' ').
//
//===----------------------------------------------------------------------===//

#include "ir/modelfile/GGUFReader.h"
#include "runtime/tokenizer/GGUFVocabulary.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/raw_ostream.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

using namespace strata;
using runtime::Tokenizer;

namespace {

[[noreturn]] void propertyFailed(const llvm::Twine &What) {
  llvm::errs() << "tokenizer property failed: " << What << '\n';
  std::abort();
}

bool isValidUTF8(llvm::StringRef S) {
  const auto *Begin = reinterpret_cast<const llvm::UTF8 *>(S.begin());
  const auto *End = reinterpret_cast<const llvm::UTF8 *>(S.end());
  return llvm::isLegalUTF8String(&Begin, End);
}

std::string hex(llvm::StringRef S) {
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  for (unsigned char C : S)
    OS << llvm::format_hex_no_prefix(C, 2) << ' ';
  return Out;
}

/// Encodes and decodes Text, and decodes Ids one at a time as generation
/// does, checking the promises every vocabulary keeps.
void exercise(const Tokenizer &T, llvm::StringRef Text,
              llvm::ArrayRef<int32_t> Ids, bool AddBOS, bool AtTextStart) {
  std::vector<int32_t> Encoded = T.encode(Text, AddBOS);
  for (int32_t Id : Encoded)
    if (!T.contains(Id))
      propertyFailed("encode gave id " + llvm::Twine(Id) + " of a " +
                     llvm::Twine(T.size()) + "-token vocabulary for text " +
                     hex(Text));
  std::string Decoded = T.decode(Encoded);
  if (!isValidUTF8(Decoded))
    propertyFailed("decode gave invalid UTF-8: " + hex(Decoded));

  runtime::Detokenizer D(T, AtTextStart);
  std::string Streamed;
  for (int32_t Id : Ids) {
    std::string Piece = D.decode(Id);
    if (!isValidUTF8(Piece))
      propertyFailed("streaming decode of id " + llvm::Twine(Id) +
                     " gave invalid UTF-8: " + hex(Piece));
    Streamed += Piece;
  }
  Streamed += D.finish();
  if (!isValidUTF8(Streamed))
    propertyFailed("streaming decode gave invalid UTF-8: " + hex(Streamed));
}

/// The bytes after the first as int32 ids, little-endian.
std::vector<int32_t> idsOf(llvm::StringRef Bytes) {
  std::vector<int32_t> Ids;
  for (size_t I = 0; I + 4 <= Bytes.size(); I += 4)
    Ids.push_back(static_cast<int32_t>(uint32_t(uint8_t(Bytes[I])) |
                                       uint32_t(uint8_t(Bytes[I + 1])) << 8 |
                                       uint32_t(uint8_t(Bytes[I + 2])) << 16 |
                                       uint32_t(uint8_t(Bytes[I + 3])) << 24));
  return Ids;
}

// Mode 0: a GGUF file's vocabulary.
void fuzzGGUFVocabulary(llvm::StringRef Bytes) {
  llvm::Expected<import::GGUFFile> F =
      import::parseGGUF(Bytes, "fuzz.gguf", Bytes.size());
  if (!F) {
    llvm::consumeError(F.takeError());
    return;
  }
  llvm::Expected<Tokenizer> T = runtime::loadTokenizerFromGGUF(*F, "fuzz.gguf");
  if (!T) {
    llvm::consumeError(T.takeError());
    return;
  }
  std::vector<int32_t> AllIds;
  for (int32_t Id = -1;
       Id <= static_cast<int32_t>(std::min<size_t>(T->size(), 4096)); ++Id)
    AllIds.push_back(Id);
  exercise(*T, "Once upon a time, a caf\xC3\xA9 \xF0\x9F\x99\x82 \xFF\n",
           AllIds, /*AddBOS=*/true, /*AtTextStart=*/true);
}

// Mode 1: a vocabulary made from the bytes.
void fuzzBuiltVocabulary(llvm::StringRef Bytes) {
  FuzzedDataProvider FDP(reinterpret_cast<const uint8_t *>(Bytes.data()),
                         Bytes.size());
  runtime::Vocabulary V;
  V.AddBOS = FDP.ConsumeBool();
  V.AddSpacePrefix = FDP.ConsumeBool();
  bool AddByteTokens = FDP.ConsumeBool();
  size_t NumPieces = FDP.ConsumeIntegralInRange<size_t>(0, 512);
  for (size_t I = 0; I < NumPieces && FDP.remaining_bytes() > 0; ++I) {
    V.Tokens.push_back(FDP.ConsumeRandomLengthString(32));
    V.Scores.push_back(FDP.ConsumeFloatingPoint<float>());
    V.Types.push_back(
        static_cast<runtime::TokenType>(FDP.ConsumeIntegralInRange(0, 6)));
  }
  // Byte fallback needs all 256; spelling them out in fuzzed bytes would
  // take the fuzzer a long time.
  if (AddByteTokens)
    for (unsigned B = 0; B < 256; ++B) {
      std::string Piece;
      llvm::raw_string_ostream(Piece)
          << "<0x" << llvm::format_hex_no_prefix(B, 2, /*Upper=*/true) << '>';
      V.Tokens.push_back(Piece);
      V.Scores.push_back(0);
      V.Types.push_back(runtime::TokenType::Byte);
    }
  int32_t Limit = static_cast<int32_t>(V.Tokens.size()) + 1;
  V.BOS = FDP.ConsumeIntegralInRange<int32_t>(-2, Limit);
  V.EOS = FDP.ConsumeIntegralInRange<int32_t>(-2, Limit);
  V.Unknown = FDP.ConsumeIntegralInRange<int32_t>(-2, Limit);
  bool AddBOS = FDP.ConsumeBool();
  bool AtTextStart = FDP.ConsumeBool();
  std::string Text = FDP.ConsumeRandomLengthString(1024);
  std::string IdBytes = FDP.ConsumeRemainingBytesAsString();

  llvm::Expected<Tokenizer> T = Tokenizer::create(std::move(V));
  if (!T) {
    llvm::consumeError(T.takeError());
    return;
  }
  exercise(*T, Text, idsOf(IdBytes), AddBOS, AtTextStart);
}

// Mode 2: fuzzed text with the bundled model's vocabulary.
const Tokenizer &goodTokenizer() {
  static const std::optional<Tokenizer> T = [] {
    const char *Path = std::getenv("STRATA_FUZZ_VOCAB");
    if (!Path)
      Path = STRATA_SHARED_DIR "/models/stories260K.gguf";
    llvm::Expected<Tokenizer> Loaded = runtime::loadTokenizerFromGGUF(Path);
    if (!Loaded) {
      llvm::errs() << "FuzzTokenizer: cannot load the vocabulary (set "
                      "STRATA_FUZZ_VOCAB to a llama-vocabulary GGUF file): "
                   << llvm::toString(Loaded.takeError()) << '\n';
      std::exit(1);
    }
    return std::optional<Tokenizer>(std::move(*Loaded));
  }();
  return *T;
}

void fuzzText(llvm::StringRef Bytes) {
  const Tokenizer &T = goodTokenizer();
  bool AddBOS = !Bytes.empty() && (Bytes[0] & 1);
  llvm::StringRef Text = Bytes.drop_front(std::min<size_t>(1, Bytes.size()));
  exercise(T, Text, idsOf(Text), AddBOS, /*AtTextStart=*/AddBOS);

  // The space mark decodes as a space, so only text without one can come
  // back unchanged.
  if (!isValidUTF8(Text) || Text.contains("\xE2\x96\x81"))
    return;
  std::string Decoded = T.decode(T.encode(Text, AddBOS));
  if (Decoded != Text)
    propertyFailed("decode(encode(text)) differs from the text: " + hex(Text) +
                   "became " + hex(Decoded));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  goodTokenizer(); // fail at start, not at the first mode-2 input
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size == 0)
    return 0;
  llvm::StringRef Rest(reinterpret_cast<const char *>(Data) + 1, Size - 1);
  switch (Data[0] % 3) {
  case 0:
    fuzzGGUFVocabulary(Rest);
    break;
  case 1:
    fuzzBuiltVocabulary(Rest);
    break;
  case 2:
    fuzzText(Rest);
    break;
  }
  return 0;
}
