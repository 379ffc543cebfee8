//===- JSONFieldReaderTest.cpp - Validating reads of a JSON document ------===//
//
// The reads the plan, cluster and config.json readers share: paths, the
// wording of each problem, and that only the first problem is kept. The
// readers' own tests check their messages in context.
//
//===----------------------------------------------------------------------===//

#include "ir/support/JSONFieldReader.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <string>

using namespace strata;

namespace {

/// A parsed document that outlives the test's reads.
struct Doc {
  explicit Doc(llvm::StringRef Text) : Text(Text.str()) {
    llvm::Expected<std::unique_ptr<JSONDocument>> D =
        readJSONDocument(this->Text, "f.json");
    EXPECT_TRUE(static_cast<bool>(D));
    if (D)
      Parsed = std::move(*D);
    else
      llvm::consumeError(D.takeError());
  }
  const JSONObject &root() const { return *Parsed->root().getAsObject(); }

  std::string Text;
  std::unique_ptr<JSONDocument> Parsed;
};

std::string errorOf(JSONFieldReader &R) {
  llvm::Error E = R.takeError();
  return E ? llvm::toString(std::move(E)) : "(no error)";
}

} // namespace

TEST(JSONFieldReader, PathsNameFieldsAndElements) {
  FieldPath Doc;
  FieldPath Nodes = Doc.field("nodes");
  FieldPath Node = Nodes.index(0);
  FieldPath Devices = Node.field("devices");
  FieldPath Device = Devices.index(12);
  FieldPath Memory = Device.field("memory_gib");
  EXPECT_EQ(Doc.str(), "");
  EXPECT_TRUE(Doc.isRoot());
  EXPECT_EQ(Memory.str(), "nodes[0].devices[12].memory_gib");
  // An empty key is a key, not an index.
  FieldPath Empty = Devices.field("");
  EXPECT_EQ(Empty.str(), "nodes[0].devices.");
}

TEST(JSONFieldReader, TypedReadsAndTheirMessages) {
  Doc D(R"({"s": "x", "n": 5, "neg": -5, "d": 1.5, "whole": 4.0, "b": true,
            "big": 4294967296, "arr": [], "obj": {}, "nul": null,
            "long": "0123456789012345678901234567890123456789012"})");
  const JSONObject &O = D.root();
  FieldPath Doc;
  auto Message = [&](auto Read) {
    JSONFieldReader R("f.json");
    EXPECT_FALSE(Read(R));
    return errorOf(R);
  };
  std::string S;
  uint32_t U32 = 0;
  int64_t I64 = 0;
  bool B = false;
  EXPECT_EQ(
      Message([&](JSONFieldReader &R) { return R.string(O, Doc, "n", S); }),
      "f.json: n: expected a string, got 5");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.string(O, Doc, "missing", S);
            }),
            "f.json: missing: required field is missing");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.integer(O, Doc, "neg", U32);
            }),
            "f.json: neg: expected a non-negative integer, got -5");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.integer(O, Doc, "whole", U32);
            }),
            "f.json: whole: expected a non-negative integer, got 4.0");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.integer(O, Doc, "big", U32);
            }),
            "f.json: big: out of range (at most 4294967295)");
  EXPECT_EQ(
      Message([&](JSONFieldReader &R) { return R.boolean(O, Doc, "s", B); }),
      "f.json: s: expected true or false, got \"x\"");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.array(O, Doc, "obj") != nullptr;
            }),
            "f.json: obj: expected an array, got an empty object");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.object(O, Doc, "arr") != nullptr;
            }),
            "f.json: arr: expected an object, got an empty array");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.field(O, Doc, "long",
                             [&](const JSONValue &V, const FieldPath &At) {
                               return R.signedInteger(V, At, I64);
                             });
            }),
            "f.json: long: expected an integer, got a string");
  EXPECT_EQ(Message([&](JSONFieldReader &R) {
              return R.field(O, Doc, "nul",
                             [&](const JSONValue &V, const FieldPath &At) {
                               double X = 0;
                               return R.number(V, At, X);
                             });
            }),
            "f.json: nul: expected a number, got null");

  // What succeeds.
  JSONFieldReader R("f.json");
  EXPECT_TRUE(R.string(O, Doc, "s", S));
  EXPECT_EQ(S, "x");
  EXPECT_TRUE(R.integer(O, Doc, "n", U32));
  EXPECT_EQ(U32, 5u);
  EXPECT_TRUE(
      R.field(O, Doc, "whole", [&](const JSONValue &V, const FieldPath &At) {
        return R.signedInteger(V, At, I64);
      }));
  EXPECT_EQ(I64, 4);
  EXPECT_TRUE(R.boolean(O, Doc, "b", B));
  EXPECT_TRUE(B);
  EXPECT_FALSE(R.failed());
  EXPECT_EQ(errorOf(R), "(no error)");
}

TEST(JSONFieldReader, IntegersStopBelowINT64_MAX) {
  // The parser clamps anything larger to INT64_MAX, so INT64_MAX itself
  // may stand for a larger number.
  Doc D(R"({"max": 9223372036854775807, "below": 9223372036854775806})");
  FieldPath Doc;
  uint64_t N = 0;
  JSONFieldReader R("f.json");
  EXPECT_TRUE(R.integer(D.root(), Doc, "below", N));
  EXPECT_EQ(N, MaxExactJSONInteger);
  EXPECT_FALSE(R.integer(D.root(), Doc, "max", N));
  EXPECT_EQ(errorOf(R),
            "f.json: max: out of range (at most 9223372036854775806)");
}

TEST(JSONFieldReader, NumberRanges) {
  Doc D(R"({"zero": 0, "neg": -1, "big": 1e9, "half": 1.5, "inf": 1e400})");
  FieldPath Doc;
  auto Message = [&](llvm::StringRef Key, NumberRange Range) {
    JSONFieldReader R("f.json");
    double X = 0;
    R.field(D.root(), Doc, Key, [&](const JSONValue &V, const FieldPath &At) {
      return R.number(V, At, X, Range);
    });
    return errorOf(R);
  };
  EXPECT_EQ(Message("zero", {}), "(no error)");
  EXPECT_EQ(Message("zero", {/*Positive=*/true}),
            "f.json: zero: must be positive");
  EXPECT_EQ(Message("neg", {}), "f.json: neg: must not be negative");
  EXPECT_EQ(Message("big", {false, 16384}),
            "f.json: big: must be at most 16384");
  EXPECT_EQ(Message("inf", {false, 16384}),
            "f.json: inf: must be at most 16384");
  EXPECT_EQ(Message("half", {false, 10, /*Whole=*/true}),
            "f.json: half: expected a whole number");
}

TEST(JSONFieldReader, OneOfNamesTheSpellings) {
  Doc D(R"({"kind": "tpu", "n": 3, "ok": "cpu", "empty": ""})");
  static constexpr llvm::StringLiteral Kinds[] = {"gpu", "", "cpu"};
  FieldPath Doc;
  JSONFieldReader R("f.json");
  EXPECT_EQ(R.oneOf(D.root(), Doc, "ok", Kinds), std::optional<size_t>(2));
  EXPECT_FALSE(R.oneOf(D.root(), Doc, "kind", Kinds));
  EXPECT_EQ(errorOf(R),
            "f.json: kind: expected \"gpu\" or \"cpu\", got \"tpu\"");
  // The empty spelling stands for a value that has none; it never matches.
  EXPECT_FALSE(R.oneOf(D.root(), Doc, "empty", Kinds));
  EXPECT_EQ(errorOf(R), "f.json: empty: expected \"gpu\" or \"cpu\", got \"\"");
  EXPECT_FALSE(R.oneOf(D.root(), Doc, "n", Kinds));
  EXPECT_EQ(errorOf(R), "f.json: n: expected \"gpu\" or \"cpu\", got 3");
  EXPECT_EQ(findSpelling(Kinds, "GPU"), std::nullopt);
  EXPECT_EQ(findSpelling(Kinds, "GPU", /*IgnoreCase=*/true),
            std::optional<size_t>(0));
}

TEST(JSONFieldReader, UnknownKeysInSortedOrder) {
  Doc D(R"({"zeta": 1, "name": 2, "alpha": 3})");
  FieldPath Doc;
  FieldPath At = Doc.field("devices");
  JSONFieldReader R("f.json");
  EXPECT_FALSE(R.knownKeys(D.root(), At, {"name", "size"}));
  EXPECT_EQ(errorOf(R),
            "f.json: devices: unknown key 'alpha' (known: name, size)");
  EXPECT_TRUE(R.knownKeys(D.root(), At, {"alpha", "name", "zeta"}));
}

TEST(JSONFieldReader, OnlyTheFirstProblemIsKept) {
  Doc D(R"({"a": "x", "b": "y"})");
  FieldPath Doc;
  uint32_t N = 0;
  JSONFieldReader R("f.json");
  EXPECT_FALSE(R.integer(D.root(), Doc, "a", N));
  EXPECT_FALSE(R.integer(D.root(), Doc, "b", N));
  EXPECT_FALSE(R.fail(Doc, "something else"));
  EXPECT_TRUE(R.failed());
  EXPECT_EQ(R.where(Doc.field("b")), "f.json: b");
  EXPECT_EQ(errorOf(R),
            "f.json: a: expected a non-negative integer, got \"x\"");
  // A problem of the document as a whole has no path.
  JSONFieldReader Whole("f.json");
  Whole.fail(Doc, "expected a plan");
  EXPECT_EQ(errorOf(Whole), "f.json: expected a plan");
}

TEST(JSONFieldReader, DescribeShowsShortValuesAsWritten) {
  Doc D(R"({"a": [1], "o": {"k": 1}, "s": "gpu", "t": true, "d": 0.1,
            "e": 2.5e-07, "n": -3})");
  auto Describe = [&](llvm::StringRef Key) {
    return JSONFieldReader::describe(*D.root().get(Key));
  };
  EXPECT_EQ(Describe("a"), "an array");
  EXPECT_EQ(Describe("o"), "an object");
  EXPECT_EQ(Describe("s"), "\"gpu\"");
  EXPECT_EQ(Describe("t"), "true");
  EXPECT_EQ(Describe("d"), "0.1");
  EXPECT_EQ(Describe("e"), "2.5e-07");
  EXPECT_EQ(Describe("n"), "-3");
}

TEST(JSONFieldReader, SyntaxErrorsSayLineAndColumn) {
  for (auto [Text, Message] : {
           std::pair<const char *, const char *>{
               "{\n  \"a\": }", "f.json:2:8: invalid JSON: Invalid JSON value"},
           {"", "f.json:1:1: invalid JSON: Unexpected EOF"},
           {"[[[", "f.json:1:3: invalid JSON: Unexpected EOF"},
       }) {
    llvm::Expected<std::unique_ptr<JSONDocument>> D =
        readJSONDocument(Text, "f.json");
    ASSERT_FALSE(static_cast<bool>(D)) << Text;
    EXPECT_EQ(llvm::toString(D.takeError()), Message) << Text;
  }
  std::string Deep = "{\"a\":\n" + std::string(300, '[');
  llvm::Expected<std::unique_ptr<JSONDocument>> D =
      readJSONDocument(Deep, "f.json");
  ASSERT_FALSE(static_cast<bool>(D));
  // The 257th level opens at column 256 of line 2 (the object is level 1).
  EXPECT_EQ(llvm::toString(D.takeError()),
            "f.json:2:256: invalid JSON: arrays and objects nest deeper than "
            "256 levels");
}
