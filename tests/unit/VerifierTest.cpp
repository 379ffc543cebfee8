//===- VerifierTest.cpp - Every invariant the verifier checks -------------===//

#include "TestGraphs.h"

#include "ir/Verifier.h"
#include "ir/text/Parser.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace strata;
using namespace strata::ir;

namespace {

/// Messages of the verifier on a program body written in text.
std::vector<std::string> diagnose(llvm::StringRef Body,
                                  llvm::StringRef Shared = "") {
  std::string Text = "graph @g {\n" + Shared.str() + "\n  program @p {\n" +
                     Body.str() + "\n  }\n}\n";
  Graph G = test::unwrap(text::parseGraph(Text));
  std::vector<std::string> Out;
  for (const Diagnostic &D : verifyGraph(G))
    Out.push_back(D.Message);
  return Out;
}

using Messages = std::vector<std::string>;

} // namespace

TEST(Verifier, AcceptsTheExampleGraph) {
  auto Buf =
      llvm::MemoryBuffer::getFile(STRATA_SOURCE_DIR "/examples/tiny-llama.sir");
  ASSERT_TRUE(bool(Buf));
  Graph G = test::unwrap(text::parseGraph((*Buf)->getBuffer()));
  EXPECT_TRUE(verifyGraph(G).empty());
}

TEST(Verifier, ShapeMismatches) {
  EXPECT_EQ(diagnose("input %x : f32[2, 8]\n"
                     "%y = matmul %x, %w : f32[2, 16]",
                     "weight %w : f32[16, 4]"),
            Messages{"operand 1 (%w) of 'matmul' has 4 in dimension 1, but the "
                     "inner dimension is 8"});
  EXPECT_EQ(diagnose("input %x : f32[2, 8]\n"
                     "%y = matmul %x, %w : f32[2, 15]",
                     "weight %w : f32[16, 8]"),
            Messages{"'matmul' result type f32[2, 15] does not match the "
                     "expected f32[2, 16]"});
  EXPECT_EQ(diagnose("input %a : f32[2, 8]\ninput %b : f32[3]\n"
                     "%y = add %a, %b : f32[2, 8]"),
            Messages{"operand 1 (%b) of 'add' must have a trailing part of "
                     "operand 0's shape, f32[2, 8], got f32[3]"});
}

TEST(Verifier, TypeMismatches) {
  EXPECT_EQ(diagnose("input %t : f32[4]\n"
                     "%y = embedding %e, %t : f32[4, 8]",
                     "weight %e : f32[10, 8]"),
            Messages{"operand 1 (%t) of 'embedding' must be an integer tensor, "
                     "got f32[4]"});
  EXPECT_EQ(diagnose("input %x : f32[4]\n%y = softmax %x : f16[4]"),
            Messages{"'softmax' result type f16[4] does not match the expected "
                     "f32[4]"});
  EXPECT_EQ(diagnose("input %x : f32[2, 4]\n%y = argmax %x : f32[2]"),
            Messages{"'argmax' result must be an integer tensor, got f32[2]"});
}

TEST(Verifier, RequiredAttributes) {
  EXPECT_EQ(diagnose("input %x : f32[2, 8]\n"
                     "%y = rms_norm %x, %w : f32[2, 8]",
                     "weight %w : f32[8]"),
            Messages{"'rms_norm' needs a float attribute 'eps'"});
  EXPECT_EQ(diagnose("input %x : f32[1, 2, 4, 8]\ninput %p : i32[1, 2]\n"
                     "%y = rope %x, %p {theta = 1e4, mode = \"odd\"} : "
                     "f32[1, 2, 4, 8]"),
            Messages{"'rope' mode must be \"normal\" (adjacent pairs, GGUF "
                     "layout) or \"neox\" (halves, Hugging Face layout), got "
                     "\"odd\""});
  EXPECT_EQ(
      diagnose("input %x : f32[4]\n%y = softmax %x {layer = -1} : f32[4]"),
      Messages{"'softmax' defining %y attribute 'layer' must be a "
               "non-negative integer"});
}

TEST(Verifier, AttentionAndCache) {
  llvm::StringRef Shared = "kv_cache %k : f32[1, 16, 2, 8]\n"
                           "kv_cache %v : f32[1, 16, 2, 8]";
  EXPECT_TRUE(diagnose("input %q : f32[1, 4, 6, 8]\ninput %p : i32[1, 4]\n"
                       "%y = attention %q, %k, %v, %p : f32[1, 4, 6, 8]",
                       Shared)
                  .empty());
  EXPECT_EQ(diagnose("input %q : f32[1, 4, 5, 8]\ninput %p : i32[1, 4]\n"
                     "%y = attention %q, %k, %v, %p : f32[1, 4, 5, 8]",
                     Shared),
            Messages{"'attention' needs the query heads (5) to be a multiple "
                     "of the key heads (2)"});
  EXPECT_EQ(diagnose("input %n : f32[1, 4, 2, 8]\ninput %p : i32[1, 4]\n"
                     "%a = softmax %n : f32[1, 4, 2, 8]\n"
                     "%y = kv_append %a, %n, %p : f32[1, 4, 2, 8]",
                     Shared),
            Messages{"operand 0 (%a) of 'kv_append' must be a kv_cache value, "
                     "got activation %a"});
  EXPECT_EQ(diagnose("input %n : f32[1, 32, 2, 8]\ninput %p : i32[1, 32]\n"
                     "%y = kv_append %k, %n, %p : f32[1, 16, 2, 8]",
                     Shared),
            Messages{"'kv_append' writes 32 tokens into a cache of 16"});
}

TEST(Verifier, QuantizedRowsMustBeWholeBlocks) {
  EXPECT_EQ(diagnose("input %x : f32[1, 1]", "weight %w : q4_0[32, 1]"),
            Messages{"%w has type q4_0[32, 1], but q4_0 needs the last "
                     "dimension to be a multiple of its 32-element block"});
}

TEST(Verifier, Cycles) {
  EXPECT_EQ(diagnose("input %x : f32[4]\n"
                     "%a = add %c, %x : f32[4]\n"
                     "%b = add %a, %x : f32[4]\n"
                     "%c = add %b, %x : f32[4]"),
            Messages{"program @p has a cycle: %a -> %b -> %c -> %a"});
}

TEST(Verifier, ReportsEveryProblemNotJustTheFirst) {
  auto M = diagnose("input %x : f32[2, 8]\n"
                    "%a = softmax %x : f32[2, 9]\n"
                    "%b = argmax %x : f32[2]\n"
                    "%c = rms_norm %x, %x : f32[2, 8]");
  EXPECT_EQ(M.size(), 4u);
}

TEST(Verifier, GraphsBuiltInCodeAreCheckedToo) {
  Graph G = test::makeMLPGraph();
  // Break the def-use links behind the graph's back.
  G.getOp(G.getValue(*G.lookup(0, "m")).Def).Operands[0] = *G.lookup(0, "x");
  std::vector<Diagnostic> D = verifyGraph(G);
  ASSERT_FALSE(D.empty());
  EXPECT_NE(D[0].Message.find("def-use links"), std::string::npos)
      << D[0].Message;
}

TEST(Verifier, ErrorFormNamesTheSource) {
  Graph G = test::unwrap(
      text::parseGraph("graph @g {\n program @p {\n  input %x : f32[4]\n"
                       "  %y = softmax %x : f16[4]\n }\n}",
                       "bad.sir"));
  llvm::Error E = verify(G);
  ASSERT_TRUE(bool(E));
  EXPECT_EQ(llvm::toString(std::move(E)),
            "bad.sir:4:3: error: 'softmax' result type f16[4] does not match "
            "the expected f32[4]");
}

TEST(Verifier, MoEExpertsTakeThreeWeightsPerExpert) {
  llvm::StringRef Shared = "weight %g0 : f32[6, 4]\nweight %u0 : f32[6, 4]\n"
                           "weight %d0 : f32[4, 6]\nweight %g1 : f32[6, 4]\n"
                           "weight %u1 : f32[6, 4]\nweight %d1 : f32[4, 6]";
  EXPECT_TRUE(diagnose("input %x : f32[3, 4]\ninput %r : f32[3, 2]\n"
                       "%y = moe_experts %x, %r, %g0, %u0, %d0, %g1, %u1, %d1 "
                       ": f32[3, 4]",
                       Shared)
                  .empty());
  EXPECT_EQ(
      diagnose("input %x : f32[3, 4]\ninput %r : f32[3, 2]\n"
               "%y = moe_experts %x, %r, %g1, %u1, %d1 {first_expert = 1} "
               ": f32[3, 4]\n"
               "%z = moe_experts %x, %r, %g0, %u0, %d0 {first_expert = 2} "
               ": f32[3, 4]\n"
               "%w = moe_experts %x, %r, %g0, %d0, %u0 : f32[3, 4]",
               Shared),
      (Messages{"'moe_experts' covers experts 2..2, but the routing "
                "weights have 2",
                "operand 3 (%d0) of 'moe_experts' has 4 in dimension 0, "
                "but the expert's FFN size is 6"}));
  auto G = text::parseGraph("graph @g {\n program @p {\n  input %x : f32[4]\n"
                            "  %y = moe_experts %x, %x, %x, %x : f32[4]\n }\n}",
                            "t.sir");
  ASSERT_FALSE(G);
  std::string Msg = llvm::toString(G.takeError());
  EXPECT_EQ(Msg.substr(0, Msg.find('\n')),
            "t.sir:4:8: error: 'moe_experts' takes an input, routing weights "
            "and three weights per expert (5, 8, 11, ... operands), got 4");
}
