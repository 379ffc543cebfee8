//===- GraphTest.cpp - Building, def-use links, order ---------------------===//

#include "TestGraphs.h"

#include "ir/Graph.h"

using namespace strata;
using namespace strata::ir;
using strata::test::type;
using strata::test::unwrap;

TEST(Graph, DefUseLinks) {
  Graph G = test::makeMLPGraph();
  ValueId X = *G.lookup(0, "x");
  ValueId N = *G.lookup(0, "n");
  ValueId W = *G.lookupShared("w");
  EXPECT_EQ(G.getValue(X).Kind, ValueKind::Input);
  EXPECT_EQ(G.getValue(W).Kind, ValueKind::Weight);
  EXPECT_EQ(G.getValue(N).Kind, ValueKind::Activation);
  EXPECT_EQ(G.getValue(*G.lookup(0, "a")).Kind, ValueKind::Output);
  ASSERT_EQ(G.getValue(X).Users.size(), 1u);
  EXPECT_EQ(G.getValue(X).Users[0], G.getValue(N).Def);
  EXPECT_TRUE(G.getValue(W).isShared());
  EXPECT_FALSE(G.getValue(X).isShared());
  // Shared values are visible from programs; program values are not shared.
  EXPECT_EQ(G.lookup(0, "w"), W);
  EXPECT_FALSE(G.lookupShared("x"));
}

TEST(Graph, NamesMustBeUnique) {
  Graph G = test::makeMLPGraph();
  auto Dup = G.addWeight("w", type(DType::F32, {1}));
  ASSERT_FALSE(Dup);
  EXPECT_EQ(llvm::toString(Dup.takeError()), "value %w is already defined");
  // A program value may not shadow a shared one, nor the reverse.
  auto Shadow = G.addInput(0, "norm", type(DType::F32, {1}));
  ASSERT_FALSE(Shadow);
  llvm::consumeError(Shadow.takeError());
  auto Reverse = G.addWeight("x", type(DType::F32, {1}));
  ASSERT_FALSE(Reverse);
  EXPECT_EQ(llvm::toString(Reverse.takeError()),
            "value %x is already defined in program @decode");
  auto DupProgram = G.addProgram("decode");
  ASSERT_FALSE(DupProgram);
  llvm::consumeError(DupProgram.takeError());
  // The same local name may appear in two programs.
  ProgramId P2 = unwrap(G.addProgram("prefill"));
  EXPECT_TRUE(bool(G.addInput(P2, "x", type(DType::F32, {4, 8}))));
}

TEST(Graph, SetOperandsKeepsUsersRight) {
  Graph G = test::makeMLPGraph();
  ValueId X = *G.lookup(0, "x");
  ValueId N = *G.lookup(0, "n");
  OpId M = G.getValue(*G.lookup(0, "m")).Def;
  ValueId W = *G.lookupShared("w");
  G.setOperands(M, {X, W});
  EXPECT_TRUE(G.getValue(N).Users.empty());
  EXPECT_EQ(G.getValue(X).Users.size(), 2u);
}

TEST(Graph, EraseOp) {
  Graph G = test::makeMLPGraph();
  ProgramId P = 0;
  ValueId X = *G.lookup(P, "x");
  AttrDict Eps;
  Eps.set("eps", 1e-5);
  OpId Dead = unwrap(
      G.addOp(P, OpKind::Softmax, {X}, "dead", type(DType::F32, {2, 8})));
  EXPECT_EQ(G.getValue(X).Users.size(), 2u);
  G.eraseOp(Dead);
  EXPECT_EQ(G.getValue(X).Users.size(), 1u);
  EXPECT_FALSE(G.lookup(P, "dead"));
  EXPECT_EQ(G.getProgram(P).Body.size(), 3u);
}

TEST(Graph, TopologicalOrderKeepsStoredOrderWhenValid) {
  Graph G = test::makeMLPGraph();
  auto Order = unwrap(G.topologicalOrder(0));
  EXPECT_EQ(Order, G.getProgram(0).Body);
}

TEST(Graph, TopologicalOrderMovesUsesAfterDefs) {
  Graph G = test::makeMLPGraph();
  std::vector<OpId> Reversed(G.getProgram(0).Body.rbegin(),
                             G.getProgram(0).Body.rend());
  std::vector<OpId> Original = G.getProgram(0).Body;
  G.setBody(0, Reversed);
  EXPECT_EQ(unwrap(G.topologicalOrder(0)), Original);
}

TEST(Graph, TopologicalOrderReportsTheCycle) {
  Graph G("cyclic");
  ProgramId P = unwrap(G.addProgram("p"));
  ValueId X = unwrap(G.addInput(P, "x", type(DType::F32, {4})));
  TensorType T = type(DType::F32, {4});
  OpId A = unwrap(G.addOp(P, OpKind::Add, {X, X}, "a", T));
  OpId B = unwrap(G.addOp(P, OpKind::Add, {G.getOp(A).Result, X}, "b", T));
  OpId C = unwrap(G.addOp(P, OpKind::Add, {G.getOp(B).Result, X}, "c", T));
  // A tail hanging off the cycle is not part of it.
  unwrap(G.addOp(P, OpKind::Softmax, {G.getOp(C).Result}, "tail", T));
  G.setOperands(A, {G.getOp(C).Result, X});
  auto Order = G.topologicalOrder(P);
  ASSERT_FALSE(Order);
  EXPECT_EQ(llvm::toString(Order.takeError()),
            "program @p has a cycle: %a -> %b -> %c -> %a");
}

TEST(Graph, AttributesOfResultsLiveOnTheirOp) {
  Graph G = test::makeMLPGraph();
  ValueId N = *G.lookup(0, "n");
  G.getAttrs(N).set(AttrKeys::Device, 1);
  EXPECT_EQ(G.getOp(G.getValue(N).Def).Attrs.getInt("device"), 1);
  ValueId W = *G.lookupShared("w");
  G.getAttrs(W).set(AttrKeys::Layer, 3);
  EXPECT_EQ(G.getValue(W).Attrs.getInt("layer"), 3);
}
