//===- TokenizerTest.cpp - SentencePiece BPE encode and decode ------------===//
//
// Hand-built vocabularies whose merges can be worked out on paper, a
// comparison with the obvious quadratic merge loop on random vocabularies,
// the vocabulary of the bundled stories260K model, and the GGUF loader's
// errors on files built in memory.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/tokenizer/GGUFVocabulary.h"

#include "ir/modelfile/GGUFReader.h"
#include "tests/unit/GGUFWriter.h"

#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <set>

using namespace strata;
using namespace strata::runtime;
using strata::test::GGUFWriter;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

const char *const StoriesPath = STRATA_SHARED_DIR "/models/stories260K.gguf";

/// <unk> 0, <s> 1, </s> 2, then (WithBytes) <0x00>..<0xFF> as 3..258, then
/// Pieces as normal tokens in order.
Vocabulary
makeVocabulary(const std::vector<std::pair<std::string, float>> &Pieces,
               bool WithBytes = true) {
  Vocabulary V;
  auto Add = [&](std::string Text, float Score, TokenType Type) {
    V.Tokens.push_back(std::move(Text));
    V.Scores.push_back(Score);
    V.Types.push_back(Type);
  };
  Add("<unk>", 0, TokenType::Unknown);
  Add("<s>", 0, TokenType::Control);
  Add("</s>", 0, TokenType::Control);
  if (WithBytes)
    for (unsigned B = 0; B < 256; ++B)
      Add(llvm::formatv("<0x{0:X-2}>", B).str(), 0, TokenType::Byte);
  for (const auto &P : Pieces)
    Add(P.first, P.second, TokenType::Normal);
  V.Unknown = 0;
  V.BOS = 1;
  V.EOS = 2;
  return V;
}

/// The tokenizer of V; a failed test when V is rejected.
std::optional<Tokenizer> makeTokenizer(Vocabulary V) {
  llvm::Expected<Tokenizer> T = Tokenizer::create(std::move(V));
  if (!T) {
    ADD_FAILURE() << llvm::toString(T.takeError());
    return std::nullopt;
  }
  return std::move(*T);
}

std::string createError(Vocabulary V) {
  llvm::Expected<Tokenizer> T = Tokenizer::create(std::move(V));
  if (T)
    return "success";
  return llvm::toString(T.takeError());
}

/// The stored pieces of Ids.
std::vector<std::string> piecesOf(const Tokenizer &T,
                                  const std::vector<int32_t> &Ids) {
  std::vector<std::string> Pieces;
  for (int32_t Id : Ids)
    Pieces.push_back(T.piece(Id).str());
  return Pieces;
}

std::vector<std::string> encodePieces(const Tokenizer &T,
                                      llvm::StringRef Text) {
  return piecesOf(T, T.encode(Text, /*AddBOS=*/false));
}

/// The bundled model's tokenizer, loaded once; null (and a failure) when it
/// cannot be.
const Tokenizer *stories() {
  static std::optional<Tokenizer> T = []() -> std::optional<Tokenizer> {
    llvm::Expected<Tokenizer> R = loadTokenizerFromGGUF(StoriesPath);
    if (!R) {
      ADD_FAILURE() << llvm::toString(R.takeError());
      return std::nullopt;
    }
    return std::move(*R);
  }();
  return T ? &*T : nullptr;
}

/// Decodes one id at a time, collecting each call's output.
std::vector<std::string> streamDecode(const Tokenizer &T,
                                      const std::vector<int32_t> &Ids,
                                      bool AtTextStart = true) {
  Detokenizer D(T, AtTextStart);
  std::vector<std::string> Out;
  for (int32_t Id : Ids)
    Out.push_back(D.decode(Id));
  Out.push_back(D.finish());
  return Out;
}

int32_t byteToken(uint8_t B) { return 3 + B; }

//===----------------------------------------------------------------------===//
// Merging on hand-built vocabularies
//===----------------------------------------------------------------------===//

TEST(TokenizerEncode, HigherScoreWinsBetweenCompetingMerges) {
  // "abc" is "▁abc": "ab" and "bc" overlap on "b", and only the better one
  // can happen. Neither joins "▁".
  std::optional<Tokenizer> BC = makeTokenizer(makeVocabulary({{"▁", -10},
                                                              {"a", -10},
                                                              {"b", -10},
                                                              {"c", -10},
                                                              {"ab", -2},
                                                              {"bc", -1}}));
  ASSERT_TRUE(BC);
  EXPECT_EQ(encodePieces(*BC, "abc"),
            (std::vector<std::string>{"▁", "a", "bc"}));

  std::optional<Tokenizer> AB = makeTokenizer(makeVocabulary({{"▁", -10},
                                                              {"a", -10},
                                                              {"b", -10},
                                                              {"c", -10},
                                                              {"ab", -1},
                                                              {"bc", -2}}));
  ASSERT_TRUE(AB);
  EXPECT_EQ(encodePieces(*AB, "abc"),
            (std::vector<std::string>{"▁", "ab", "c"}));
}

TEST(TokenizerEncode, EqualScoresMergeLeftmostFirst) {
  // Every "aa" scores the same, so the leftmost pair goes first each time:
  // "aaa" is "aa" "a", never "a" "aa".
  std::optional<Tokenizer> T =
      makeTokenizer(makeVocabulary({{"▁", -5}, {"a", -5}, {"aa", -1}}));
  ASSERT_TRUE(T);
  EXPECT_EQ(encodePieces(*T, "aaa"),
            (std::vector<std::string>{"▁", "aa", "a"}));
  EXPECT_EQ(encodePieces(*T, "aaaa"),
            (std::vector<std::string>{"▁", "aa", "aa"}));
  EXPECT_EQ(encodePieces(*T, "aaaaa"),
            (std::vector<std::string>{"▁", "aa", "aa", "a"}));
  // With "aaaa" too, the two "aa" made from "aaaa" join; the last "a" stays.
  std::optional<Tokenizer> T4 = makeTokenizer(
      makeVocabulary({{"▁", -5}, {"a", -5}, {"aa", -1}, {"aaaa", -2}}));
  ASSERT_TRUE(T4);
  EXPECT_EQ(encodePieces(*T4, "aaaaa"),
            (std::vector<std::string>{"▁", "aaaa", "a"}));
}

TEST(TokenizerEncode, MergesChainAndStalePairsAreSkipped) {
  // "▁abc": "bc" (-1) goes first, which spoils the queued "ab" (-2); then
  // "a"+"bc" is "abc" (-5) and "▁"+"abc" is "▁abc" (-6). A stale "ab" merge
  // would give "▁" "ab" "c".
  std::optional<Tokenizer> T = makeTokenizer(makeVocabulary({{"▁", -9},
                                                             {"a", -9},
                                                             {"b", -9},
                                                             {"c", -9},
                                                             {"ab", -2},
                                                             {"bc", -1},
                                                             {"abc", -5},
                                                             {"▁abc", -6}}));
  ASSERT_TRUE(T);
  EXPECT_EQ(encodePieces(*T, "abc"), (std::vector<std::string>{"▁abc"}));
  // Spaces are "▁" and each word gets its own.
  EXPECT_EQ(encodePieces(*T, "abc abc"),
            (std::vector<std::string>{"▁abc", "▁abc"}));
  // A merge needs its pieces next to each other: "cab" has no "bc".
  EXPECT_EQ(encodePieces(*T, "cab"),
            (std::vector<std::string>{"▁", "c", "ab"}));
}

TEST(TokenizerEncode, ByteFallbackForCharactersWithoutPiece) {
  std::optional<Tokenizer> T =
      makeTokenizer(makeVocabulary({{"▁", -1}, {"a", -1}, {"▁a", 0}}));
  ASSERT_TRUE(T);
  // "é" is C3 A9 and has no piece: one byte token per byte.
  EXPECT_EQ(T->encode("aé", false),
            (std::vector<int32_t>{261, byteToken(0xC3), byteToken(0xA9)}));
  // An emoji is four bytes.
  EXPECT_EQ(
      encodePieces(*T, "a😀"),
      (std::vector<std::string>{"▁a", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"}));
  // A byte that starts no valid character is a character of its own.
  EXPECT_EQ(encodePieces(*T, "a\xFF"),
            (std::vector<std::string>{"▁a", "<0xFF>"}));
  EXPECT_EQ(encodePieces(*T, "\xC3(a"),
            (std::vector<std::string>{"▁", "<0xC3>", "<0x28>", "a"}));
}

TEST(TokenizerEncode, UnknownTokenWithoutByteTokens) {
  std::optional<Tokenizer> T = makeTokenizer(
      makeVocabulary({{"▁", -1}, {"a", -1}, {"b", -1}}, /*WithBytes=*/false));
  ASSERT_TRUE(T);
  // One <unk> per character, however many bytes it has.
  EXPECT_EQ(encodePieces(*T, "aé b"),
            (std::vector<std::string>{"▁", "a", "<unk>", "▁", "b"}));
  EXPECT_EQ(T->encode("😀x", false), (std::vector<int32_t>{3, 0, 0}));
  EXPECT_EQ(T->decode(T->encode("aé b")), "a▅ b");
}

TEST(TokenizerEncode, BOSAndEmptyText) {
  std::optional<Tokenizer> T =
      makeTokenizer(makeVocabulary({{"▁", -1}, {"a", -1}}));
  ASSERT_TRUE(T);
  EXPECT_EQ(T->encode("", false), std::vector<int32_t>{});
  EXPECT_EQ(T->encode("", true), std::vector<int32_t>{1});
  EXPECT_EQ(T->encode("a", true), (std::vector<int32_t>{1, 259, 260}));
  // encode(Text) follows the vocabulary's AddBOS.
  EXPECT_EQ(T->encode("a"), (std::vector<int32_t>{1, 259, 260}));
  Vocabulary NoBOS = makeVocabulary({{"▁", -1}, {"a", -1}});
  NoBOS.AddBOS = false;
  std::optional<Tokenizer> TN = makeTokenizer(NoBOS);
  ASSERT_TRUE(TN);
  EXPECT_EQ(TN->encode("a"), (std::vector<int32_t>{259, 260}));
}

TEST(TokenizerEncode, WithoutSpacePrefix) {
  Vocabulary V = makeVocabulary({{"▁", -1}, {"a", -1}, {"b", -1}, {"▁b", 0}});
  V.AddSpacePrefix = false;
  std::optional<Tokenizer> T = makeTokenizer(V);
  ASSERT_TRUE(T);
  EXPECT_EQ(encodePieces(*T, "a b"), (std::vector<std::string>{"a", "▁b"}));
  // Nothing was put in front, so nothing is dropped.
  EXPECT_EQ(T->decode(T->encode(" b", true)), " b");
}

TEST(TokenizerEncode, OnlyNormalAndUserDefinedPiecesAreMerged) {
  // "<s>" is a control token: text that spells it is not BOS, although
  // "<s"+">" would spell it.
  Vocabulary V =
      makeVocabulary({{"▁", -1}, {"<", -1}, {"s", -1}, {">", -1}, {"<s", 0}});
  std::optional<Tokenizer> T = makeTokenizer(V);
  ASSERT_TRUE(T);
  EXPECT_EQ(encodePieces(*T, "<s>"),
            (std::vector<std::string>{"▁", "<s", ">"}));
}

//===----------------------------------------------------------------------===//
// Comparison with the quadratic merge loop
//===----------------------------------------------------------------------===//

/// What llama2.c does: rescan every adjacent pair, merge the best (strictly
/// higher score wins, so the leftmost of equals), until none is a piece.
/// ASCII text only, so characters are bytes.
std::vector<std::string> quadraticMerge(const Vocabulary &V,
                                        llvm::StringRef Text) {
  std::map<std::string, float> Scores;
  for (size_t I = 0; I < V.Tokens.size(); ++I)
    if (V.Types[I] == TokenType::Normal)
      Scores.try_emplace(V.Tokens[I], V.Scores[I]);
  std::vector<std::string> Symbols;
  if (Text.empty())
    return Symbols;
  Symbols.push_back("▁");
  for (char C : Text) {
    if (C == ' ')
      Symbols.push_back("▁");
    else
      Symbols.push_back(std::string(1, C));
  }
  for (;;) {
    std::optional<size_t> Best;
    float BestScore = 0;
    for (size_t I = 0; I + 1 < Symbols.size(); ++I) {
      auto It = Scores.find(Symbols[I] + Symbols[I + 1]);
      if (It != Scores.end() && (!Best || It->second > BestScore)) {
        Best = I;
        BestScore = It->second;
      }
    }
    if (!Best)
      return Symbols;
    Symbols[*Best] += Symbols[*Best + 1];
    Symbols.erase(Symbols.begin() + *Best + 1);
  }
}

TEST(TokenizerEncode, SameAsQuadraticMergeOnRandomVocabularies) {
  std::mt19937 Rng(20240611);
  const std::vector<std::string> Alphabet = {"a", "b", "c", "▁"};
  auto Pick = [&](size_t N) {
    return std::uniform_int_distribution<size_t>(0, N - 1)(Rng);
  };
  for (int Round = 0; Round < 200; ++Round) {
    // Scores from a few values, so that ties are common.
    std::vector<std::pair<std::string, float>> Pieces;
    std::set<std::string> Seen;
    for (const std::string &A : Alphabet) {
      Pieces.push_back({A, -10});
      Seen.insert(A);
    }
    // In odd rounds "▁" may be anywhere in a piece, so merges can join
    // words; in even rounds only at the start, as in llama vocabularies,
    // which lets the tokenizer merge word by word.
    bool SpaceAnywhere = Round % 2;
    for (int I = 0; I < 25; ++I) {
      std::string Piece;
      for (size_t L = 2 + Pick(4); L > 0; --L) {
        std::string C = Alphabet[Pick(Alphabet.size())];
        if (C != "▁" || SpaceAnywhere || Piece.empty())
          Piece += C;
      }
      if (Seen.insert(Piece).second)
        Pieces.push_back({Piece, -float(Pick(4))});
    }
    Vocabulary V = makeVocabulary(Pieces);
    std::optional<Tokenizer> T = makeTokenizer(V);
    ASSERT_TRUE(T);
    for (int I = 0; I < 20; ++I) {
      std::string Text;
      for (size_t L = Pick(40); L > 0; --L)
        Text += "abc "[Pick(4)];
      ASSERT_EQ(encodePieces(*T, Text), quadraticMerge(V, Text))
          << "round " << Round << ", text '" << Text << "'";
    }
  }
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

TEST(TokenizerDecode, CharacterSplitAcrossByteTokens) {
  std::optional<Tokenizer> T =
      makeTokenizer(makeVocabulary({{"▁", -1}, {"a", -1}, {"▁a", 0}}));
  ASSERT_TRUE(T);
  // Nothing comes out until the fourth byte of the emoji.
  EXPECT_EQ(streamDecode(*T, {1, 261, byteToken(0xF0), byteToken(0x9F),
                              byteToken(0x98), byteToken(0x80), 260}),
            (std::vector<std::string>{"", "a", "", "", "", "😀", "a", ""}));
  EXPECT_EQ(T->decode(T->encode("aé😀a")), "aé😀a");
}

TEST(TokenizerDecode, InvalidBytesBecomeReplacementCharacters) {
  std::optional<Tokenizer> T =
      makeTokenizer(makeVocabulary({{"▁", -1}, {"a", -1}, {"▁a", 0}}));
  ASSERT_TRUE(T);
  const std::string R = "\xEF\xBF\xBD";
  // A continuation byte with nothing to continue.
  EXPECT_EQ(streamDecode(*T, {byteToken(0x80)}),
            (std::vector<std::string>{R, ""}));
  // A character cut short by a piece: U+FFFD, then the piece.
  EXPECT_EQ(streamDecode(*T, {byteToken(0xC3), 260}),
            (std::vector<std::string>{"", R + "a", ""}));
  // Cut short by the end of the stream: finish() says so.
  EXPECT_EQ(streamDecode(*T, {byteToken(0xE2), byteToken(0x82)}),
            (std::vector<std::string>{"", "", R}));
  // E0 80 would be an overlong form: E0 is dropped, then 80 is a stray
  // continuation. Two maximal invalid subsequences, two U+FFFD.
  EXPECT_EQ(T->decode({byteToken(0xE0), byteToken(0x80)}), R + R);
  // A cut-short character followed by a new lead byte that completes.
  EXPECT_EQ(T->decode({byteToken(0xF0), byteToken(0xC3), byteToken(0xA9)}),
            R + "é");
  // Bytes that never start anything.
  EXPECT_EQ(T->decode({byteToken(0xC0), byteToken(0xFF)}), R + R);
  // Ids outside the vocabulary.
  EXPECT_EQ(T->decode({-1, 260, 100000}), R + "a" + R);
}

TEST(TokenizerDecode, LeadingSpaceOnlyAtTextStart) {
  std::optional<Tokenizer> T = makeTokenizer(
      makeVocabulary({{"▁", -1}, {"a", -1}, {"b", -1}, {"▁a", 0}, {"▁b", 0}}));
  ASSERT_TRUE(T);
  int32_t A = 259 + 3, B = 259 + 4, Space = 259;
  // BOS and EOS print nothing; the space encoding added is dropped once.
  EXPECT_EQ(streamDecode(*T, {1, A, B, 2}),
            (std::vector<std::string>{"", "a", " b", "", ""}));
  EXPECT_EQ(T->decode({A, B}), "a b");
  // A new BOS starts a new text, whose added space goes too.
  EXPECT_EQ(T->decode({1, A, 2, 1, B}), "ab");
  // Only one space goes: " a" was "▁▁a".
  EXPECT_EQ(T->decode({1, Space, A}), " a");
  // Continuing a text decoded elsewhere keeps the space.
  EXPECT_EQ(streamDecode(*T, {B, A}, /*AtTextStart=*/false),
            (std::vector<std::string>{" b", " a", ""}));
  // The unknown token.
  EXPECT_EQ(T->decode({1, 0, A}), "▅ a");
}

TEST(TokenizerDecode, UserDefinedAndUnusedTokens) {
  Vocabulary V = makeVocabulary({{"▁", -1}, {"a", -1}, {"▁a", 0}});
  V.Tokens.push_back("<|x|>▁");
  V.Scores.push_back(0);
  V.Types.push_back(TokenType::UserDefined);
  V.Tokens.push_back("gone");
  V.Scores.push_back(0);
  V.Types.push_back(TokenType::Unused);
  std::optional<Tokenizer> T = makeTokenizer(V);
  ASSERT_TRUE(T);
  // A user-defined piece is printed as stored, "▁" included; an unused
  // token prints nothing.
  EXPECT_EQ(T->decode({1, 262, 263, 261}), "<|x|>▁ a");
}

//===----------------------------------------------------------------------===//
// Vocabulary checks
//===----------------------------------------------------------------------===//

TEST(TokenizerCreate, Errors) {
  Vocabulary V = makeVocabulary({{"▁", -1}});
  V.Scores.pop_back();
  EXPECT_EQ(createError(V), "the vocabulary has 260 tokens but 259 scores");

  V = makeVocabulary({{"▁", -1}});
  V.Types.push_back(TokenType::Normal);
  EXPECT_EQ(createError(V), "the vocabulary has 260 tokens but 261 types");

  V = makeVocabulary({{"▁", -1}});
  V.EOS = 260;
  EXPECT_EQ(createError(V),
            "the EOS token id is 260 but the vocabulary has 260 tokens");

  V = makeVocabulary({{"▁", -1}});
  V.Scores[259] = std::nanf("");
  EXPECT_EQ(createError(V), "the score of token 259 is NaN");

  V = makeVocabulary({{"▁", -1}});
  V.Tokens[10] = "<0x7>";
  EXPECT_EQ(createError(V),
            "token 10 is a byte token but is spelt '<0x7>', not <0xXX>");

  V = makeVocabulary({{"▁", -1}}, /*WithBytes=*/false);
  V.Unknown = NoToken;
  EXPECT_EQ(createError(V), "the vocabulary has neither all 256 byte tokens "
                            "nor an unknown token, so some text could not be "
                            "encoded");
  // With all the byte tokens no unknown token is needed.
  V = makeVocabulary({{"▁", -1}});
  V.Unknown = NoToken;
  EXPECT_EQ(createError(V), "success");

  EXPECT_EQ(createError(Vocabulary()), "the vocabulary has no tokens");
}

//===----------------------------------------------------------------------===//
// The bundled stories260K vocabulary
//===----------------------------------------------------------------------===//

TEST(StoriesTokenizer, Vocabulary) {
  const Tokenizer *T = stories();
  ASSERT_TRUE(T);
  ASSERT_EQ(T->size(), 512u);
  std::map<TokenType, int> Counts;
  for (int32_t Id = 0; Id < 512; ++Id)
    ++Counts[T->type(Id)];
  EXPECT_EQ(Counts, (std::map<TokenType, int>{{TokenType::Normal, 253},
                                              {TokenType::Unknown, 1},
                                              {TokenType::Control, 2},
                                              {TokenType::Byte, 256}}));
  EXPECT_EQ(T->unknown(), 0);
  EXPECT_EQ(T->bos(), 1);
  EXPECT_EQ(T->eos(), 2);
  EXPECT_TRUE(T->addsBOS());
  EXPECT_EQ(T->piece(3), "<0x00>");
  EXPECT_EQ(T->piece(258), "<0xFF>");
  EXPECT_EQ(T->byteOf(3 + 0x0A), 0x0A);
}

// Worked out from the vocabulary (ids 259..409 are merged pieces with scores
// 0, -1, -2, ... by id; 410..511 single characters, "▁" is 410 at -151):
//
// "the" is "▁the". "▁t" (259, score 0) is the best pair and goes first, then
// "he" (260, -1) beats "▁t"+"h" = "▁th" (308, -49), then "▁t"+"he" = "▁the"
// (265, -6).
//
// "Once upon a time" is "▁Once▁upon▁a▁time". In score order: "▁t" (259),
// "▁a" (261), "im" (288), "on" (289), "▁u" (318), "▁O" (319), "▁On" (321),
// "ce" (331), "▁up" (350), "ime" (369), "▁time" (378), "▁Once" (403) and
// "▁upon" (407). "▁One" (385) never forms: "▁On" is next to "c", not "e".
//
// "Hello world" is "▁Hello▁world". "he" needs a lower-case h, so: "▁w" (263),
// "or" (304), "ll" (306), "▁H" (320), "ld" (341), "▁He" (346). No piece joins
// "▁He"+"ll", "ll"+"o", "o"+"▁w" or "▁w"+"or".
//
// "\n" has no piece: "▁" (410) then the byte token <0x0A> (3 + 10 = 13).
// "😀" likewise: "▁", then F0 9F 98 80 as 3 + each byte.
TEST(StoriesTokenizer, ExactEncodings) {
  const Tokenizer *T = stories();
  ASSERT_TRUE(T);
  EXPECT_EQ(T->encode("the"), (std::vector<int32_t>{1, 265}));
  EXPECT_EQ(T->encode("Once upon a time"),
            (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(T->encode("Hello world"),
            (std::vector<int32_t>{1, 346, 306, 414, 263, 304, 341}));
  EXPECT_EQ(piecesOf(*T, T->encode("Hello world", false)),
            (std::vector<std::string>{"▁He", "ll", "o", "▁w", "or", "ld"}));
  EXPECT_EQ(T->encode("\n", false), (std::vector<int32_t>{410, 13}));
  EXPECT_EQ(T->encode("😀", false),
            (std::vector<int32_t>{410, 243, 162, 155, 131}));
  EXPECT_EQ(T->encode("Tim and Lily"),
            (std::vector<int32_t>{1, 326, 269, 317}));
}

TEST(StoriesTokenizer, RoundTrip) {
  const Tokenizer *T = stories();
  ASSERT_TRUE(T);
  const std::vector<std::string> Texts = {
      "",
      "a",
      " ",
      "   ",
      "Once upon a time, there was a little girl named Lily.",
      "Hello world",
      "  two  leading and trailing spaces  ",
      "line one\nline two\n\nline four\r\n",
      "\ttabs\tand\vcontrol\x01 bytes\x7F",
      "Lily's café, naïve résumé, señor Ñandú",
      "“Quotes” — dashes – and… ellipses ’",
      "日本語のテキスト",
      "Emoji: 😀🎉👍🏽 and a flag 🇫🇷",
      "Mixed: ∑ x² ≠ ∞, €5, ™, ©",
      "<s> and </s> and <unk> are just text here",
      "<0x41> is not a byte",
      "Zero\u200bwidth and non\u00a0breaking",
      "1234567890 !@#$%^&*()_+-=[]{}|;':\",./<>?`~\\",
  };
  for (const std::string &Text : Texts) {
    for (bool AddBOS : {true, false}) {
      std::vector<int32_t> Ids = T->encode(Text, AddBOS);
      EXPECT_EQ(T->decode(Ids), Text) << "BOS " << AddBOS;
      // Streaming gives the same text, piece by piece.
      std::string Streamed;
      for (const std::string &Piece : streamDecode(*T, Ids))
        Streamed += Piece;
      EXPECT_EQ(Streamed, Text);
    }
  }
}

TEST(StoriesTokenizer, StreamedPiecesAreCompleteUTF8) {
  const Tokenizer *T = stories();
  ASSERT_TRUE(T);
  std::vector<int32_t> Ids = T->encode("Fun: 🎉 日本 é!");
  std::vector<std::string> Pieces = streamDecode(*T, Ids);
  for (const std::string &Piece : Pieces) {
    const auto *Begin = reinterpret_cast<const llvm::UTF8 *>(Piece.data());
    EXPECT_TRUE(llvm::isLegalUTF8String(&Begin, Begin + Piece.size()))
        << "'" << Piece << "'";
  }
}

TEST(StoriesTokenizer, LongTextIsFast) {
  // 1 MiB of story text, merged word by word, and 256 KiB of letters
  // without a space: one word, so one heap of a quarter million pairs. The
  // merge loop is O(n log n) and each takes a fraction of a second; a loop
  // that rescans all pairs after each merge would take hours on either.
  const Tokenizer *T = stories();
  ASSERT_TRUE(T);
  const std::string Sentence =
      "Once upon a time, there was a little girl named Lily. She liked to "
      "play with her big red ball in the park with her mom.\n";
  std::string Story;
  while (Story.size() < (1u << 20))
    Story += Sentence;
  std::vector<int32_t> Ids = T->encode(Story);
  EXPECT_LT(Ids.size(), Story.size() / 2);
  EXPECT_EQ(T->decode(Ids), Story);

  std::mt19937 Rng(7);
  std::string Letters(1u << 18, 'a');
  for (char &C : Letters)
    C = "etaoinshrdlu"[std::uniform_int_distribution<int>(0, 11)(Rng)];
  Ids = T->encode(Letters);
  EXPECT_EQ(T->decode(Ids), Letters);
}

//===----------------------------------------------------------------------===//
// Loading from GGUF
//===----------------------------------------------------------------------===//

/// A small llama vocabulary: <unk> <s> </s> ▁ a b.
GGUFWriter vocabularyFile(llvm::StringRef Model = "llama") {
  GGUFWriter W;
  W.str("general.architecture", "llama")
      .str("tokenizer.ggml.model", Model)
      .strArray("tokenizer.ggml.tokens",
                {"<unk>", "<s>", "</s>", "▁", "a", "b"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3})
      .i32Array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1})
      .u32("tokenizer.ggml.unknown_token_id", 0)
      .u32("tokenizer.ggml.bos_token_id", 1)
      .u32("tokenizer.ggml.eos_token_id", 2);
  return W;
}

std::string loadError(const GGUFWriter &W) {
  std::string Bytes = W.file();
  llvm::Expected<import::GGUFFile> F =
      import::parseGGUF(Bytes, "v.gguf", Bytes.size());
  if (!F)
    return "parse: " + llvm::toString(F.takeError());
  llvm::Expected<Tokenizer> T = loadTokenizerFromGGUF(*F, "v.gguf");
  if (T)
    return "success";
  return llvm::toString(T.takeError());
}

TEST(GGUFVocabulary, SmallFile) {
  std::string Bytes =
      vocabularyFile().boolean("tokenizer.ggml.add_bos_token", false).file();
  llvm::Expected<import::GGUFFile> F =
      import::parseGGUF(Bytes, "v.gguf", Bytes.size());
  ASSERT_TRUE(bool(F)) << llvm::toString(F.takeError());
  llvm::Expected<Tokenizer> T = loadTokenizerFromGGUF(*F, "v.gguf");
  ASSERT_TRUE(bool(T)) << llvm::toString(T.takeError());
  EXPECT_FALSE(T->addsBOS());
  EXPECT_EQ(T->encode("ab a"), (std::vector<int32_t>{3, 4, 5, 3, 4}));
  EXPECT_EQ(T->decode({1, 3, 4, 5, 3, 4, 2}), "ab a");
  // No byte tokens: "é" is unknown.
  EXPECT_EQ(T->encode("é"), (std::vector<int32_t>{3, 0}));
}

TEST(GGUFVocabulary, DefaultsAndNoneIds) {
  // Without the id keys llama's numbering is assumed; 0xFFFFFFFF is none.
  GGUFWriter W;
  W.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "▁", "a"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0, -1, -2})
      .i32Array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1})
      .u32("tokenizer.ggml.eos_token_id", 0xFFFFFFFF);
  std::string Bytes = W.file();
  llvm::Expected<import::GGUFFile> F =
      import::parseGGUF(Bytes, "v.gguf", Bytes.size());
  ASSERT_TRUE(bool(F)) << llvm::toString(F.takeError());
  llvm::Expected<Tokenizer> T = loadTokenizerFromGGUF(*F, "v.gguf");
  ASSERT_TRUE(bool(T)) << llvm::toString(T.takeError());
  EXPECT_EQ(T->unknown(), 0);
  EXPECT_EQ(T->bos(), 1);
  EXPECT_EQ(T->eos(), NoToken);
  EXPECT_TRUE(T->addsBOS());
  EXPECT_EQ(T->encode("a"), (std::vector<int32_t>{1, 3, 4}));
}

TEST(GGUFVocabulary, Errors) {
  EXPECT_EQ(loadError(vocabularyFile()), "success");
  EXPECT_EQ(loadError(vocabularyFile("gpt2")),
            "v.gguf: tokenizer.ggml.model 'gpt2' is not supported yet: only "
            "SentencePiece ('llama') vocabularies");

  GGUFWriter NoModel;
  NoModel.strArray("tokenizer.ggml.tokens", {"a"});
  EXPECT_EQ(loadError(NoModel), "v.gguf: tokenizer.ggml.model is missing");

  GGUFWriter NoTokens;
  NoTokens.str("tokenizer.ggml.model", "llama");
  EXPECT_EQ(loadError(NoTokens), "v.gguf: tokenizer.ggml.tokens is missing");

  GGUFWriter NoTypes;
  NoTypes.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0});
  EXPECT_EQ(loadError(NoTypes), "v.gguf: tokenizer.ggml.token_type is missing");

  GGUFWriter Short;
  Short.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32Array("tokenizer.ggml.scores", {0, 0})
      .i32Array("tokenizer.ggml.token_type", {2, 3, 3});
  EXPECT_EQ(loadError(Short),
            "v.gguf: tokenizer.ggml.scores has 2 entries but "
            "tokenizer.ggml.tokens has 3: expected one per token");

  GGUFWriter LongTypes;
  LongTypes.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0})
      .i32Array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  EXPECT_EQ(loadError(LongTypes),
            "v.gguf: tokenizer.ggml.token_type has 4 entries but "
            "tokenizer.ggml.tokens has 3: expected one per token");

  GGUFWriter BadType;
  BadType.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0})
      .i32Array("tokenizer.ggml.token_type", {2, 9, 3});
  EXPECT_EQ(loadError(BadType), "v.gguf: tokenizer.ggml.token_type[1] is 9: "
                                "expected 0 (undefined) to 6 (byte)");

  GGUFWriter NumericTokens;
  NumericTokens.str("tokenizer.ggml.model", "llama")
      .i32Array("tokenizer.ggml.tokens", {1, 2, 3});
  EXPECT_EQ(loadError(NumericTokens),
            "v.gguf: tokenizer.ggml.tokens[0]: expected a string, got INT32");

  GGUFWriter ScalarScores;
  ScalarScores.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32("tokenizer.ggml.scores", 0);
  EXPECT_EQ(loadError(ScalarScores),
            "v.gguf: tokenizer.ggml.scores: expected an array, got FLOAT32");

  GGUFWriter BadBOS;
  BadBOS.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0})
      .i32Array("tokenizer.ggml.token_type", {2, 3, 3})
      .u32("tokenizer.ggml.bos_token_id", 600);
  EXPECT_EQ(loadError(BadBOS), "v.gguf: tokenizer.ggml.bos_token_id is 600 "
                               "but the vocabulary has 3 tokens");

  GGUFWriter StringFlag = vocabularyFile();
  StringFlag.str("tokenizer.ggml.add_bos_token", "yes");
  EXPECT_EQ(loadError(StringFlag), "v.gguf: tokenizer.ggml.add_bos_token: "
                                   "expected a bool, got STRING");

  // Tokenizer::create's own checks come back with the file's name.
  GGUFWriter BadByte;
  BadByte.str("tokenizer.ggml.model", "llama")
      .strArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0xZZ>"})
      .f32Array("tokenizer.ggml.scores", {0, 0, 0, 0})
      .i32Array("tokenizer.ggml.token_type", {2, 3, 3, 6});
  EXPECT_EQ(loadError(BadByte), "v.gguf: token 3 is a byte token but is "
                                "spelt '<0xZZ>', not <0xXX>");
}

TEST(GGUFVocabulary, MissingFile) {
  llvm::Expected<Tokenizer> T =
      loadTokenizerFromGGUF(STRATA_SHARED_DIR "/models/no-such-file.gguf");
  ASSERT_FALSE(bool(T));
  EXPECT_NE(llvm::toString(T.takeError()).find("no-such-file.gguf"),
            std::string::npos);
}

} // namespace
