//===- CpuKernels.cpp - A plan step as a call of a CPU kernel -------------===//

#include "runtime/cpu/CpuKernels.h"

#include "kernels/cpu/ArgMax.h"
#include "kernels/cpu/Attention.h"
#include "kernels/cpu/Convert.h"
#include "kernels/cpu/Elementwise.h"
#include "kernels/cpu/Embedding.h"
#include "kernels/cpu/KVAppend.h"
#include "kernels/cpu/MatMul.h"
#include "kernels/cpu/RMSNorm.h"
#include "kernels/cpu/RoPE.h"
#include "kernels/cpu/Slice.h"
#include "kernels/cpu/Softmax.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>

namespace strata::runtime {
namespace {

using namespace kernels;
using namespace kernels::cpu;

llvm::Error stepError(const BoundStep &S, const llvm::Twine &Msg) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("step {0} ({1} '{2}' on device {3}): ", S.Index,
                    plan::getKindName(S.Step->Op), S.Step->Name, S.Device)
              .str() +
          Msg);
}

ConstBuffer in(const TensorView &T) { return {T.Data, T.Type}; }
MutableBuffer out(const TensorView &T) { return {T.Data, T.Type}; }
llvm::ArrayRef<int32_t> ints(const TensorView &T) {
  return {static_cast<const int32_t *>(T.Data),
          static_cast<size_t>(T.numElements())};
}

llvm::Expected<RoPEParams> ropeParams(const BoundStep &S) {
  const plan::StepAttrs &A = S.Step->Attrs;
  RoPEParams P;
  P.Theta = A.getFloat("theta").value_or(10000);
  std::string Mode = A.getString("mode").value_or("normal");
  if (Mode == "neox")
    P.Mode = RoPEMode::NeoX;
  else if (Mode != "normal")
    return stepError(S, "unknown rope mode '" + Mode + "'");
  std::string Scaling = A.getString("scaling").value_or("");
  if (Scaling == "linear")
    P.Scaling = RoPEScaling::Linear;
  else if (Scaling == "llama3")
    P.Scaling = RoPEScaling::Llama3;
  else if (Scaling == "yarn")
    P.Scaling = RoPEScaling::YaRN;
  else if (!Scaling.empty())
    return stepError(S, "unknown rope scaling '" + Scaling + "'");
  P.Factor = A.getFloat("scaling_factor").value_or(1);
  P.LowFreqFactor = A.getFloat("low_freq_factor").value_or(1);
  P.HighFreqFactor = A.getFloat("high_freq_factor").value_or(4);
  P.OriginalContext = A.getInt("original_context").value_or(0);
  P.BetaFast = A.getFloat("beta_fast").value_or(32);
  P.BetaSlow = A.getFloat("beta_slow").value_or(1);
  P.MScale = A.getFloat("mscale").value_or(1);
  P.MScaleAllDim = A.getFloat("mscale_all_dim").value_or(0);
  return P;
}

/// Copies [Begin, End) of Axis of Src (shape Dims) into Dst, byte-wise;
/// a block type (q8_0) is sliced in whole blocks along the last axis.
llvm::Error copySlice(const BoundStep &S, const TensorView &Src,
                      llvm::ArrayRef<int64_t> Dims, int64_t Axis, int64_t Begin,
                      int64_t End, const TensorView &Dst) {
  int64_t Outer = 1, Inner = 1;
  for (int64_t A = 0; A < Axis; ++A)
    Outer *= Dims[A];
  for (size_t A = Axis + 1; A < Dims.size(); ++A)
    Inner *= Dims[A];
  int64_t Block = getBlockElements(Src.Type);
  if ((Begin * Inner) % Block || (End * Inner) % Block ||
      (Dims[Axis] * Inner) % Block)
    return stepError(S, "cannot cut a " + llvm::Twine(getName(Src.Type)) +
                            " tensor inside its blocks");
  uint64_t RowBytes = getByteSize(Src.Type, Dims[Axis] * Inner);
  uint64_t Skip = getByteSize(Src.Type, Begin * Inner);
  uint64_t Take = getByteSize(Src.Type, (End - Begin) * Inner);
  if (Take * Outer != Dst.Bytes)
    return stepError(S, llvm::formatv("the slice is {0} bytes but its buffer "
                                      "{1}",
                                      Take * Outer, Dst.Bytes));
  const char *From = static_cast<const char *>(Src.Data);
  char *To = static_cast<char *>(Dst.Data);
  for (int64_t O = 0; O < Outer; ++O)
    std::memcpy(To + O * Take, From + O * RowBytes + Skip, Take);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<CpuKernel> bindCpuKernel(const BoundStep &S) {
  const plan::Step &St = *S.Step;
  const plan::StepAttrs &A = St.Attrs;
  plan::StepOp Op = St.Op;
  auto Need = [&](size_t Ins, size_t Outs) -> llvm::Error {
    if (S.Inputs.size() != Ins || S.Outputs.size() != Outs)
      return stepError(S, llvm::formatv("expected {0} inputs and {1} "
                                        "outputs, got {2} and {3}",
                                        Ins, Outs, S.Inputs.size(),
                                        S.Outputs.size()));
    return llvm::Error::success();
  };
  auto Rank = [&](const TensorView &T, size_t R,
                  llvm::StringRef What) -> llvm::Error {
    if (T.Shape.size() != R)
      return stepError(S, llvm::formatv("{0} has rank {1}, expected {2}", What,
                                        T.Shape.size(), R));
    return llvm::Error::success();
  };
#define CHECK(E)                                                               \
  if (llvm::Error Err = (E))                                                   \
    return Err;

  if (Op == plan::StepOp::Embedding) {
    CHECK(Need(2, 1));
    const TensorView &T = S.Inputs[0], &Ids = S.Inputs[1], &Y = S.Outputs[0];
    CHECK(Rank(T, 2, "the table"));
    EmbeddingTable Table;
    Table.Data = in(T);
    Table.Rows = T.Shape[0];
    Table.Dim = T.Shape[1];
    Table.RowOffset = A.getInt("row_offset").value_or(0);
    Table.Vocab = A.getInt("vocab").value_or(-1);
    return CpuKernel([=](const CpuContext &) {
      return embedding(Table, ints(Ids), out(Y));
    });
  }
  if (Op == plan::StepOp::RMSNorm) {
    CHECK(Need(2, 1));
    const TensorView &X = S.Inputs[0], &W = S.Inputs[1], &Y = S.Outputs[0];
    int64_t Dim = X.Shape.back();
    float Eps = static_cast<float>(A.getFloat("eps").value_or(1e-5));
    return CpuKernel([=](const CpuContext &) {
      return rmsNorm(in(X), in(W), out(Y), X.numElements() / Dim, Dim, Eps);
    });
  }
  if (Op == plan::StepOp::MatMul) {
    CHECK(Need(2, 1));
    const TensorView &X = S.Inputs[0], &W = S.Inputs[1], &Y = S.Outputs[0];
    CHECK(Rank(W, 2, "the weight"));
    int64_t In = W.Shape[1], Out = W.Shape[0];
    if (X.Shape.back() != In || Y.Shape.back() != Out)
      return stepError(S,
                       llvm::formatv("x [..., {0}] times a [{1}, {2}] "
                                     "weight cannot make [..., {3}]",
                                     X.Shape.back(), Out, In, Y.Shape.back()));
    return CpuKernel([=](const CpuContext &C) {
      return matmul(in(X), in(W), out(Y), X.numElements() / In, In, Out, C);
    });
  }
  if (Op == plan::StepOp::RoPE) {
    CHECK(Need(2, 1));
    const TensorView &X = S.Inputs[0], &Pos = S.Inputs[1], &Y = S.Outputs[0];
    CHECK(Rank(X, 4, "the input"));
    auto P = ropeParams(S);
    if (!P)
      return P.takeError();
    RoPEShape Shape{X.Shape[0], X.Shape[1], X.Shape[2], X.Shape[3]};
    RoPEParams Params = *P;
    return CpuKernel([=](const CpuContext &) {
      return rope(in(X), out(Y), Shape, ints(Pos), Params);
    });
  }
  if (Op == plan::StepOp::KVAppend) {
    CHECK(Need(3, 1));
    const TensorView &Cache = S.Inputs[0], &New = S.Inputs[1],
                     &Pos = S.Inputs[2];
    CHECK(Rank(Cache, 4, "the cache"));
    CHECK(Rank(New, 4, "the new keys or values"));
    KVCacheShape Shape{Cache.Shape[0], Cache.Shape[1], Cache.Shape[2],
                       Cache.Shape[3]};
    int64_t Tokens = New.Shape[1];
    return CpuKernel([=](const CpuContext &) {
      return kvAppend(out(Cache), Shape, in(New), Tokens, ints(Pos));
    });
  }
  if (Op == plan::StepOp::Attention) {
    CHECK(Need(4, 1));
    const TensorView &Q = S.Inputs[0], &K = S.Inputs[1], &V = S.Inputs[2],
                     &Pos = S.Inputs[3], &Y = S.Outputs[0];
    CHECK(Rank(Q, 4, "the queries"));
    CHECK(Rank(K, 4, "the key cache"));
    AttentionShape Shape;
    Shape.Batch = Q.Shape[0];
    Shape.Tokens = Q.Shape[1];
    Shape.Heads = Q.Shape[2];
    Shape.KeyDim = Q.Shape[3];
    Shape.KVHeads = K.Shape[2];
    Shape.Context = K.Shape[1];
    Shape.ValueDim = V.Shape[3];
    return CpuKernel([=](const CpuContext &C) {
      return attention(in(Q), in(K), in(V), ints(Pos), out(Y), Shape,
                       std::nullopt, C);
    });
  }
  if (Op == plan::StepOp::SiLUMul) {
    CHECK(Need(2, 1));
    const TensorView &G = S.Inputs[0], &U = S.Inputs[1], &Y = S.Outputs[0];
    return CpuKernel([=](const CpuContext &) {
      return siluMul(in(G), in(U), out(Y), Y.numElements());
    });
  }
  if (Op == plan::StepOp::Add || Op == plan::StepOp::Mul) {
    CHECK(Need(2, 1));
    const TensorView &X = S.Inputs[0], &B = S.Inputs[1], &Y = S.Outputs[0];
    bool IsAdd = Op == plan::StepOp::Add;
    return CpuKernel([=](const CpuContext &) {
      return IsAdd
                 ? add(in(X), X.numElements(), in(B), B.numElements(), out(Y))
                 : mul(in(X), X.numElements(), in(B), B.numElements(), out(Y));
    });
  }
  if (Op == plan::StepOp::Softmax) {
    CHECK(Need(1, 1));
    const TensorView &X = S.Inputs[0], &Y = S.Outputs[0];
    int64_t N = X.Shape.back();
    return CpuKernel([=](const CpuContext &) {
      return softmax(in(X), out(Y), X.numElements() / N, N);
    });
  }
  if (Op == plan::StepOp::ArgMax) {
    CHECK(Need(1, 1));
    const TensorView &X = S.Inputs[0], &Y = S.Outputs[0];
    if (Y.Type != ElementType::I32)
      return stepError(S, "argmax writes i32");
    int64_t N = X.Shape.back();
    return CpuKernel([=](const CpuContext &) {
      return argmax(in(X), X.numElements() / N, N,
                    static_cast<int32_t *>(Y.Data));
    });
  }
  if (Op == plan::StepOp::Slice) {
    CHECK(Need(1, 1));
    const TensorView &X = S.Inputs[0], &Y = S.Outputs[0];
    std::optional<int64_t> Axis = A.getInt("axis"), Begin = A.getInt("begin"),
                           End = A.getInt("end");
    if (!Axis || !Begin || !End)
      return stepError(S, "slice needs axis, begin and end");
    std::vector<int64_t> Dims(X.Shape.begin(), X.Shape.end());
    return CpuKernel([=](const CpuContext &) {
      return slice(in(X), Dims, *Axis, *Begin, *End, out(Y));
    });
  }
  if (Op == plan::StepOp::Copy || Op == plan::StepOp::Prefetch) {
    CHECK(Need(1, 1));
    const TensorView &X = S.Inputs[0], &Y = S.Outputs[0];
    std::optional<int64_t> Axis = A.getInt("axis");
    if (Axis) {
      // A member's share of a whole tensor.
      std::optional<int64_t> Begin = A.getInt("begin"), End = A.getInt("end");
      if (!Begin || !End || *Axis < 0 ||
          static_cast<size_t>(*Axis) >= X.Shape.size())
        return stepError(S, "a sliced transfer needs axis, begin and end");
      std::vector<int64_t> Dims(X.Shape.begin(), X.Shape.end());
      BoundStep Copy = S;
      return CpuKernel([=](const CpuContext &) {
        return copySlice(Copy, X, Dims, *Axis, *Begin, *End, Y);
      });
    }
    uint64_t Offset = A.getInt("dst_offset").value_or(0);
    if (X.Type != Y.Type) {
      if (Offset)
        return stepError(S, "a converting copy cannot land at an offset");
      return CpuKernel([=](const CpuContext &) {
        return convert(in(X), out(Y), Y.numElements());
      });
    }
    if (Offset + X.Bytes > Y.Bytes)
      return stepError(S, llvm::formatv("{0} bytes at offset {1} do not fit "
                                        "a buffer of {2}",
                                        X.Bytes, Offset, Y.Bytes));
    return CpuKernel([=](const CpuContext &) {
      std::memcpy(static_cast<char *>(Y.Data) + Offset, X.Data, X.Bytes);
      return llvm::Error::success();
    });
  }
#undef CHECK
  return stepError(S, "the CPU backend has no kernel for '" +
                          plan::getKindName(Op) + "' yet");
}

} // namespace strata::runtime
