//===- ParserTest.cpp - The .sir parser -----------------------------------===//

#include "TestGraphs.h"

#include "ir/text/Parser.h"

using namespace strata;
using namespace strata::ir;

namespace {

std::string parseError(llvm::StringRef Text) {
  auto G = text::parseGraph(Text, "t.sir");
  if (G)
    return "<parsed>";
  return llvm::toString(G.takeError());
}

/// The first line of an error: `t.sir:L:C: error: message`.
std::string firstLine(llvm::StringRef Text) {
  return parseError(Text).substr(0, parseError(Text).find('\n'));
}

} // namespace

TEST(Parser, ReadsDeclarationsOpsAndAttributes) {
  auto G = test::unwrap(text::parseGraph(R"(
graph @g {
  weight %w : q8_0[16, 64] {layer = 2, note = "a\22b", flags = [1, -2], on = true}
  kv_cache %"odd name" : f16[1, 8, 2, 4]
  program @p {
    input %x : f32[3, 64]
    %y = matmul %x, %w {scale = 0.5} : f32[3, 16]
    output %y
  }
})",
                                         "t.sir"));
  EXPECT_EQ(G.getName(), "g");
  EXPECT_EQ(G.getSourceName(), "t.sir");
  ValueId W = *G.lookupShared("w");
  EXPECT_EQ(G.getValue(W).Type.str(), "q8_0[16, 64]");
  const AttrDict &A = G.getValue(W).Attrs;
  EXPECT_EQ(A.getInt("layer"), 2);
  EXPECT_EQ(A.getString("note"), llvm::StringRef("a\"b"));
  EXPECT_EQ(A.get("flags")->getIntList(), (std::vector<int64_t>{1, -2}));
  EXPECT_TRUE(A.get("on")->getBool());
  EXPECT_TRUE(G.lookupShared("odd name"));
  ValueId Y = *G.lookup(0, "y");
  EXPECT_EQ(G.getValue(Y).Kind, ValueKind::Output);
  EXPECT_EQ(G.getAttrs(Y).getFloat("scale"), 0.5);
  EXPECT_EQ(G.getValue(Y).Loc.Line, 7u);
  EXPECT_EQ(G.getValue(Y).Loc.Col, 5u);
}

TEST(Parser, ForwardReferencesResolve) {
  auto G = test::unwrap(text::parseGraph(R"(graph @g {
  program @p {
    input %x : f32[4]
    %b = softmax %a : f32[4]
    %a = softmax %x : f32[4]
    output %b
  }
})"));
  EXPECT_EQ(G.getValue(*G.lookup(0, "a")).Users.size(), 1u);
}

TEST(Parser, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(firstLine("graph @g {\n  bogus\n}"),
            "t.sir:2:3: error: expected 'weight', 'kv_cache', 'program' or "
            "'}'");
  EXPECT_EQ(firstLine("graph @g {\n  weight %w : f32[4, -3]\n}"),
            "t.sir:2:15: error: invalid shape: dimension 1 is negative (-3)");
  EXPECT_EQ(firstLine("graph @g {\n  weight %w : f32[99999999999999999999]\n}"),
            "t.sir:2:19: error: integer '99999999999999999999' does not fit in "
            "64 bits");
  EXPECT_EQ(firstLine("graph @g {\n  weight %w : f33[4]\n}"),
            "t.sir:2:15: error: unknown element type 'f33'");
  EXPECT_EQ(firstLine("graph @g {\n  weight %w : q4_0[33]\n}"),
            "t.sir:2:15: error: 33 elements of q4_0 are not a whole number of "
            "32-element blocks");
  EXPECT_EQ(firstLine("graph @g {\n program @p {\n  %y = frob %x : f32[1]\n"
                      " }\n}"),
            "t.sir:3:8: error: unknown op 'frob' (docs/ir.md lists the ops)");
  EXPECT_EQ(firstLine("graph @g {\n program @p {\n  input %x : f32[1]\n"
                      "  %y = add %x : f32[1]\n }\n}"),
            "t.sir:4:8: error: 'add' takes 2 operands, got 1");
  EXPECT_EQ(firstLine("graph @g { weight %w : f32[1] {a = 1, a = 2} }"),
            "t.sir:1:39: error: attribute 'a' is given twice");
  EXPECT_EQ(firstLine("graph @g { weight %w : f32[1] {a = \"x} }"),
            "t.sir:1:36: error: unterminated string");
  EXPECT_EQ(firstLine("graph @g { } trailing"),
            "t.sir:1:14: error: expected the end of the file after the graph");
  EXPECT_EQ(firstLine(""), "t.sir:1:1: error: expected 'graph'");
  EXPECT_EQ(firstLine("graph @g { weight %w : f32[1] {a = 1e999} }"),
            "t.sir:1:36: error: float '1e999' is out of range");
}

TEST(Parser, ErrorsShowTheLineAndACaret) {
  EXPECT_EQ(parseError("graph @g {\n  bogus\n}"),
            "t.sir:2:3: error: expected 'weight', 'kv_cache', 'program' or "
            "'}'\n  bogus\n  ^");
}

TEST(Parser, NameErrorsAreAllReported) {
  std::string E = parseError(R"(graph @g {
  weight %w : f32[4]
  weight %w : f32[4]
  program @p {
    %a = softmax %nope : f32[4]
    %b = add %a, %missing : f32[4]
    output %ghost
  }
})");
  EXPECT_NE(E.find("t.sir:3:10: error: value %w is already defined"),
            std::string::npos)
      << E;
  // A redefinition stops the parse, so a second file checks the uses.
  E = parseError(R"(graph @g {
  program @p {
    %a = softmax %nope : f32[4]
    %b = add %a, %missing : f32[4]
    output %ghost
  }
})");
  EXPECT_NE(E.find("t.sir:3:18: error: use of undefined value %nope"),
            std::string::npos)
      << E;
  EXPECT_NE(E.find("t.sir:4:18: error: use of undefined value %missing"),
            std::string::npos)
      << E;
  EXPECT_NE(E.find("t.sir:5:12: error: output of undefined value %ghost"),
            std::string::npos)
      << E;
}

TEST(Parser, GarbageNeverCrashes) {
  // Every prefix of a valid file, and a few byte soups, parse or fail
  // cleanly.
  std::string Valid = R"(graph @g {
  weight %w : f32[16, 8] {layer = 0}
  program @p {
    input %x : f32[2, 8]
    %y = matmul %x, %w {eps = 1.5e-3, name = "q\0a"} : f32[2, 16]
    output %y
  }
})";
  for (size_t N = 0; N < Valid.size(); ++N) {
    auto G = text::parseGraph(llvm::StringRef(Valid).take_front(N));
    EXPECT_FALSE(G);
    llvm::consumeError(G.takeError());
  }
  for (llvm::StringRef Soup : {"\xff\xfe", "graph @", "graph @\"", "%%%%",
                               "graph @g { program @p { %x = } }", "-", "1e"}) {
    auto G = text::parseGraph(Soup);
    EXPECT_FALSE(G);
    llvm::consumeError(G.takeError());
  }
}
