//===- CostModel.cpp - Predicted time of ops and transfers ----------------===//

#include "passes/CostModel.h"

#include <algorithm>
#include <cmath>

namespace strata::passes {

static double bytesOf(const ir::TensorType &T) {
  auto B = T.getByteSize();
  if (!B) {
    llvm::consumeError(B.takeError());
    return 0; // Unreachable for verified graphs: sizes are exact there.
  }
  return static_cast<double>(*B);
}

static double elements(const ir::TensorType &T) {
  return static_cast<double>(T.Dims.numElements());
}

OpCost computeOpCost(const ir::Graph &G, const ir::Op &O) {
  auto Operand = [&](unsigned I) -> const ir::TensorType & {
    return G.getValue(O.Operands[I]).Type;
  };
  const ir::TensorType &R = G.getValue(O.Result).Type;
  OpCost C;
  switch (O.Kind) {
  case ir::OpKind::MatMul: {
    // [..., K] x [N, K]^T: 2 M N K, reading x and the weight, writing y.
    double K = static_cast<double>(Operand(1).Dims[1]);
    C.Flops = 2 * elements(R) * K;
    C.WeightBytes = bytesOf(Operand(1));
    C.Bytes = bytesOf(Operand(0)) + C.WeightBytes + bytesOf(R);
    return C;
  }
  case ir::OpKind::Embedding:
    // Gathers one row per id.
    C.Bytes = 2 * bytesOf(R) + bytesOf(Operand(1));
    return C;
  case ir::OpKind::Attention:
  case ir::OpKind::MLAAttention: {
    // Scores and weighted sum over the whole cache: 2 T L H (Dk + Dv) per
    // sequence, reading q, the cache and writing the output.
    const ir::TensorType &Q = Operand(0), &K = Operand(1);
    double B = Q.Dims[0], T = Q.Dims[1], H = Q.Dims[2], L = K.Dims[1];
    double Dk = Q.Dims[3], Dv = R.Dims[3];
    C.Flops = 2 * B * T * L * H * (Dk + Dv);
    C.Bytes =
        bytesOf(Q) + bytesOf(Operand(1)) + bytesOf(Operand(2)) + bytesOf(R);
    if (O.Kind == ir::OpKind::MLAAttention) {
      // Absorbing kv_b into q and the output reads it once per step.
      C.WeightBytes = bytesOf(Operand(3));
      C.Bytes += C.WeightBytes;
      C.Flops += 2 * B * T * elements(Operand(3));
    }
    return C;
  }
  case ir::OpKind::KVAppend:
    // Reads the new rows and writes them into the cache.
    C.Bytes = 2 * bytesOf(Operand(1));
    return C;
  case ir::OpKind::MoEExperts: {
    // Each token runs top_k experts; a step touches the experts any of its
    // tokens chose: E (1 - (1 - k/E)^tokens) of them on average.
    double Tokens = elements(R) / R.Dims.back();
    double Experts = static_cast<double>(O.Operands.size() - 2) / 3;
    double Routed = static_cast<double>(Operand(1).Dims.back());
    double TopK = 1;
    if (const ir::Value &W = G.getValue(O.Operands[1]); !W.isDeclared())
      TopK =
          static_cast<double>(G.getOp(W.Def).Attrs.getInt("top_k").value_or(1));
    double PerExpertWeights = 0, PerTokenFlops = 0;
    for (unsigned I = 2; I + 2 < O.Operands.size(); I += 3) {
      PerExpertWeights += bytesOf(Operand(I)) + bytesOf(Operand(I + 1)) +
                          bytesOf(Operand(I + 2));
      PerTokenFlops += 2 * (elements(Operand(I)) + elements(Operand(I + 1)) +
                            elements(Operand(I + 2)));
    }
    PerExpertWeights /= Experts;
    PerTokenFlops /= Experts;
    double Share = std::min(1.0, TopK / Routed);
    double Touched = Experts * (1 - std::pow(1 - Share, Tokens));
    C.Flops = Tokens * Experts * Share * PerTokenFlops;
    C.WeightBytes = Touched * PerExpertWeights;
    C.Bytes =
        C.WeightBytes + bytesOf(Operand(0)) + bytesOf(Operand(1)) + bytesOf(R);
    return C;
  }
  case ir::OpKind::Reshape:
    return C; // A view: no work.
  default: {
    // Elementwise and reductions: read every operand, write the result,
    // a few FLOPs per element.
    for (ir::ValueId V : O.Operands)
      C.Bytes += bytesOf(G.getValue(V).Type);
    C.Bytes += bytesOf(R);
    C.Flops = 4 * elements(R);
    if (O.Kind == ir::OpKind::RMSNorm || O.Kind == ir::OpKind::Add ||
        O.Kind == ir::OpKind::Mul)
      C.WeightBytes =
          G.getValue(O.Operands[1]).isShared() ? bytesOf(Operand(1)) : 0;
    return C;
  }
  }
}

double predictSeconds(const OpCost &C, const cluster::Device &D, ir::DType T) {
  double Peak = D.peakFlops(T);
  double Compute = Peak > 0 ? C.Flops / Peak : 0;
  double Memory = D.MemoryBandwidth > 0 ? C.Bytes / D.MemoryBandwidth : 0;
  double Launch =
      D.Kind == cluster::DeviceKind::GPU ? GPULaunchSeconds : CPULaunchSeconds;
  return std::max(Compute, Memory) + Launch;
}

} // namespace strata::passes
