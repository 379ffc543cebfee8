//===- TestGraphs.h - Small graphs the unit tests share ---------*- C++ -*-===//

#ifndef STRATA_TESTS_UNIT_TESTGRAPHS_H
#define STRATA_TESTS_UNIT_TESTGRAPHS_H

#include "ir/Graph.h"

#include "gtest/gtest.h"

namespace strata::test {

inline ir::TensorType type(ir::DType D, llvm::ArrayRef<int64_t> Dims) {
  auto S = ir::Shape::get(Dims);
  EXPECT_TRUE(bool(S)) << llvm::toString(S.takeError());
  return {D, *S};
}

/// Unwraps an Expected in a test, failing the test on an error.
template <typename T> T unwrap(llvm::Expected<T> E) {
  if (!E) {
    ADD_FAILURE() << llvm::toString(E.takeError());
    std::abort();
  }
  return std::move(*E);
}

/// x -> rms_norm -> matmul -> argmax, with two weights: small but typed.
inline ir::Graph makeMLPGraph() {
  using namespace ir;
  Graph G("mlp");
  ValueId Norm = unwrap(G.addWeight("norm", type(DType::F32, {8})));
  ValueId W = unwrap(G.addWeight("w", type(DType::F16, {16, 8})));
  ProgramId P = unwrap(G.addProgram("decode"));
  ValueId X = unwrap(G.addInput(P, "x", type(DType::F32, {2, 8})));
  AttrDict Eps;
  Eps.set("eps", 1e-5);
  OpId N = unwrap(G.addOp(P, OpKind::RMSNorm, {X, Norm}, "n",
                          type(DType::F32, {2, 8}), Eps));
  OpId M = unwrap(G.addOp(P, OpKind::MatMul, {G.getOp(N).Result, W}, "m",
                          type(DType::F32, {2, 16})));
  OpId A = unwrap(G.addOp(P, OpKind::ArgMax, {G.getOp(M).Result}, "a",
                          type(DType::I32, {2})));
  EXPECT_FALSE(bool(G.addOutput(P, G.getOp(A).Result)));
  return G;
}

} // namespace strata::test

#endif // STRATA_TESTS_UNIT_TESTGRAPHS_H
