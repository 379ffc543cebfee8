//===- JSONParserTest.cpp - parseJSON against llvm::json::parse -----------===//
//
// parseJSON must read every text as llvm::json::parse does: the same value,
// or the same error at the same place, except for surrogate pairs above
// U+1FFFF, which LLVM 14 decodes wrongly (fuzz/JSONAgreement.h). Each case
// is run through both; the random cases are edits of small documents that
// reach every branch (escapes, surrogates, every kind of number, every
// error).
//
//===----------------------------------------------------------------------===//

#include "ir/support/JSONParser.h"
#include "fuzz/JSONAgreement.h"
#include "ir/support/JSONDocument.h"

#include "llvm/Support/JSON.h"
#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <string>

using namespace strata;
using llvm::json::Value;
using strata::fuzz::disagreement;
using strata::fuzz::hasHighSurrogatePair;

namespace {

TEST(JSONParser, AgreesWithLLVMOnEveryKindOfValueAndError) {
  const char *Cases[] = {
      // Values.
      "null",
      "true",
      "false",
      "0",
      "-0",
      "12",
      "-12",
      "1.5",
      "-1.5e-3",
      "1E+2",
      ".5",
      "+5",
      "5.",
      "9223372036854775807",
      "-9223372036854775808",
      "9223372036854775808",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775809",
      "1e400",
      "-1e400",
      "1e-400",
      "123456789012345678901234567890",
      "\"\"",
      "\"abc\"",
      R"("\" \\ \/ \b \f \n \r \t")",
      R"("\u0041\u00e9\u20ac")",
      R"("\ud83d\ude00")",
      R"("\ud83d")",
      R"("\ude00")",
      R"("\ud83dx")",
      R"("\ud83d\u0041")",
      R"("\ud83d\ud83d\ude00")",
      R"("\uD83D\uDE00")",
      "\"caf\xc3\xa9\"",
      "[]",
      "[1]",
      "[1, 2 ,3 ]",
      " [ [ ] , { } ] ",
      "{}",
      R"({"a": 1, "b": [true, null], "c": {"d": "e"}})",
      R"({"a": 1, "a": 2})",
      R"({"a": [1], "a": {"b": 2}})",
      "\t\r\n [1,\n 2]\n",
      // Errors.
      "",
      " ",
      "nul",
      "nulx",
      "nullx",
      "tru",
      "trUe",
      "fals",
      "falsey",
      "x",
      "[",
      "[1",
      "[1,",
      "[1,]",
      "[1 2]",
      "{",
      "{\"a\"",
      "{\"a\":",
      "{\"a\" 1}",
      "{\"a\":1,}",
      "{\"a\":1 \"b\":2}",
      "{1: 2}",
      "{\"a\":1}}",
      "]",
      "}",
      "-",
      "--1",
      "1-",
      "1e",
      "1.2.3",
      "0x10",
      "\"abc",
      "\"",
      "\"a\\",
      "\"\\q\"",
      "\"\\u12\"",
      "\"\\u12",
      "\"\\u123g\"",
      "\"\\ud83d\\u12\"",
      "\"a\x01\"",
      "\"a\x01",
      "\"\\n",
      "\"\xff\"",
      "[1]\xc3",
      "1 2",
      "[1,\n 2,\n x]",
      "{\n\"a\": \"b\n\"}",
  };
  for (const char *C : Cases)
    EXPECT_EQ(disagreement(C), "") << "text: " << C;
  // Objects large enough for the builder's key index, with repeated keys
  // before and after it starts.
  std::string Large = "{";
  for (int I = 0; I < 40; ++I)
    Large += "\"k" + std::to_string(I % 25) + "\": " + std::to_string(I) + ",";
  Large += "\"k3\": [1, {\"k3\": 2, \"k3\": 3}]}";
  EXPECT_EQ(disagreement(Large), "");
  EXPECT_EQ(disagreement("[9223372036854775808.0, -9223372036854775808.0]"),
            "");
  // A NUL inside a string, which a C string cannot hold.
  EXPECT_EQ(disagreement(llvm::StringRef("\"a\0b\"", 5)), "");
  EXPECT_EQ(disagreement(llvm::StringRef("[1]\0", 4)), "");
}

TEST(JSONParser, AgreesWithLLVMOnRandomEdits) {
  const std::string Seeds[] = {
      R"({"buffers": [{"name": "blk.0.attn_q.weight", "bytes": 131072, "shape": [64, 512], "offset": null, "live": true}], "s": -1.25e-3})",
      R"(["\u00e9\ud83d\ude00\n", 18446744073709551615, -9223372036854775808, 0.5, false, {"": []}])",
      "{\"k\":\n  [1, 2.0, \"caf\xc3\xa9\", {\"x\": [null, true]}]\n}",
  };
  // Characters that move a parser between its states.
  const std::string Alphabet = "{}[]\":,\\u0123456789.eE+-ntfalsrd \n\t\x01"
                               "\xc3\xa9\xff";
  std::mt19937 Rng(20261126);
  int Values = 0, Errors = 0;
  for (int Round = 0; Round < 20000; ++Round) {
    std::string Text = Seeds[Round % 3];
    int Edits = 1 + Rng() % 4;
    for (int E = 0; E < Edits; ++E) {
      size_t At = Rng() % (Text.size() + 1);
      char C = Alphabet[Rng() % Alphabet.size()];
      switch (Rng() % 3) {
      case 0:
        Text.insert(At, 1, C);
        break;
      case 1:
        if (At < Text.size())
          Text.erase(At, 1);
        break;
      default:
        if (At < Text.size())
          Text[At] = C;
        break;
      }
    }
    std::string Why = disagreement(Text);
    ASSERT_EQ(Why, "") << "text: " << Text;
    llvm::Expected<Value> V = parseJSON(Text);
    if (V) {
      ++Values;
    } else {
      ++Errors;
      llvm::consumeError(V.takeError());
    }
  }
  // Both outcomes are exercised, not one.
  EXPECT_GT(Values, 1000);
  EXPECT_GT(Errors, 1000);
}

TEST(JSONParser, TheDocumentKeepsMembersInFileOrderAndTheLastOfARepeatedKey) {
  llvm::Expected<std::unique_ptr<JSONDocument>> Doc = parseJSONDocument(
      R"({"b": 1, "a": "x\ty", "b": [true, null], "c": 2.5})");
  ASSERT_TRUE(static_cast<bool>(Doc)) << llvm::toString(Doc.takeError());
  const JSONObject &O = *(*Doc)->root().getAsObject();
  ASSERT_EQ(O.size(), 3u);
  EXPECT_EQ(O.begin()[0].Key, "b");
  EXPECT_EQ(O.begin()[1].Key, "a");
  EXPECT_EQ(O.begin()[2].Key, "c");
  EXPECT_EQ(O.get("a")->getAsString().getValueOr(""), "x\ty");
  const JSONArray *B = O.get("b")->getAsArray();
  ASSERT_NE(B, nullptr);
  ASSERT_EQ(B->size(), 2u);
  EXPECT_EQ((*B)[0].getAsBoolean().getValueOr(false), true);
  EXPECT_TRUE((*B)[1].getAsNull().hasValue());
  EXPECT_EQ(O.get("c")->getAsNumber().getValueOr(0), 2.5);
  EXPECT_FALSE(O.get("c")->getAsInteger().hasValue());
  EXPECT_EQ(O.get("missing"), nullptr);
  EXPECT_EQ(llvm::formatv("{0}", (*Doc)->root()).str(),
            R"({"a":"x\ty","b":[true,null],"c":2.5})");
}

TEST(JSONParser, GetAsInt64RefusesTheDoubleTwoToThe63) {
  EXPECT_EQ(getAsInt64(llvm::json::Value(0x1p63)), llvm::None);
  EXPECT_EQ(getAsInt64(llvm::json::Value(-0x1p63)), INT64_MIN);
  EXPECT_EQ(getAsInt64(llvm::json::Value(0x1p62)), int64_t(1) << 62);
  EXPECT_EQ(getAsInt64(llvm::json::Value(INT64_MAX)), INT64_MAX);
  EXPECT_EQ(getAsInt64(llvm::json::Value(uint64_t(INT64_MAX) + 1)), llvm::None);
  EXPECT_EQ(getAsInt64(llvm::json::Value(2.5)), llvm::None);
  EXPECT_EQ(getAsInt64(llvm::json::Value("7")), llvm::None);
}

TEST(JSONParser, SurrogatePairsDecodeToTheirCodePoints) {
  auto Decoded = [](llvm::StringRef Text) {
    llvm::Expected<Value> V = parseJSON(Text);
    EXPECT_TRUE(static_cast<bool>(V));
    return V ? V->getAsString()->str() : llvm::toString(V.takeError());
  };
  EXPECT_EQ(Decoded(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80"); // U+1F600
  EXPECT_EQ(Decoded(R"("\ud840\udc00")"), "\xF0\xA0\x80\x80"); // U+20000
  EXPECT_EQ(Decoded(R"("\ud8dd\ude00")"), "\xF1\x87\x98\x80"); // U+47600
  EXPECT_EQ(Decoded(R"("\udbff\udfff")"), "\xF4\x8F\xBF\xBF"); // U+10FFFF
  EXPECT_EQ(Decoded(R"("\ud83d\u0041")"), "\xEF\xBF\xBD"
                                          "A"); // unpaired
  EXPECT_TRUE(hasHighSurrogatePair(R"("\uD8DD\uDE00")"));
  EXPECT_FALSE(hasHighSurrogatePair(R"("\ud83d\ude00")"));
}

TEST(JSONParser, NestingBeyondTheLimitIsAnErrorNotACrash) {
  std::string Deep = std::string(4, '[') + std::string(4, ']');
  EXPECT_TRUE(static_cast<bool>(parseJSON(Deep, 4)));
  std::string TooDeep = "\n " + std::string(5, '[') + std::string(5, ']');
  llvm::Expected<Value> V = parseJSON(TooDeep, 4);
  ASSERT_FALSE(V);
  EXPECT_EQ(llvm::toString(V.takeError()),
            "[2:6, byte=7]: arrays and objects nest deeper than 4 levels");
  std::string Objects = "{\"a\":{\"a\":{\"a\":1}}}";
  EXPECT_TRUE(static_cast<bool>(parseJSON(Objects, 3)));
  llvm::Expected<Value> O = parseJSON(Objects, 2);
  ASSERT_FALSE(O);
  EXPECT_EQ(llvm::toString(O.takeError()),
            "[1:11, byte=11]: arrays and objects nest deeper than 2 levels");
  // A million levels: refused at the limit, in constant stack.
  std::string Huge(1 << 20, '[');
  llvm::Expected<Value> H = parseJSON(Huge);
  ASSERT_FALSE(H);
  EXPECT_NE(llvm::toString(H.takeError()).find("deeper than 256 levels"),
            std::string::npos);
}

TEST(JSONParser, LongArraysKeepEveryElementInOrder) {
  std::string Text = "[";
  for (int I = 0; I < 30000; ++I)
    Text += (I ? ",{\"i\":" : "{\"i\":") + std::to_string(I) + "}";
  Text += "]";
  llvm::Expected<Value> V = parseJSON(Text);
  ASSERT_TRUE(static_cast<bool>(V)) << llvm::toString(V.takeError());
  const llvm::json::Array &A = *V->getAsArray();
  ASSERT_EQ(A.size(), 30000u);
  for (int I = 0; I < 30000; I += 997)
    EXPECT_EQ(A[I].getAsObject()->getInteger("i").getValueOr(-1), I);
  EXPECT_EQ(A.back().getAsObject()->getInteger("i").getValueOr(-1), 29999);
}

} // namespace
