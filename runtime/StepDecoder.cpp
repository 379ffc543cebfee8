//===- StepDecoder.cpp - A bound step as typed kernel parameters ----------===//

#include "runtime/StepDecoder.h"

#include "llvm/Support/FormatVariadic.h"

namespace strata::runtime {

llvm::Error stepError(const BoundStep &S, const llvm::Twine &Msg) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("step {0} ({1} '{2}' on device {3}): ", S.Index,
                    plan::getKindName(S.Step->Op), S.Step->Name, S.Device)
              .str() +
          Msg);
}

namespace {

using kernels::ElementType;

/// The checks every decoder makes, each an error naming the step.
class Checker {
public:
  explicit Checker(const BoundStep &S) : S(S) {}

  llvm::Error operands(size_t Ins, size_t Outs) const {
    if (S.Inputs.size() != Ins || S.Outputs.size() != Outs)
      return fail(llvm::formatv("expected {0} inputs and {1} outputs, got {2} "
                                "and {3}",
                                Ins, Outs, S.Inputs.size(), S.Outputs.size()));
    return llvm::Error::success();
  }
  llvm::Error rank(const TensorView &T, size_t R, llvm::StringRef What) const {
    if (T.Shape.size() != R)
      return fail(llvm::formatv("{0} has rank {1}, expected {2}", What,
                                T.Shape.size(), R));
    return llvm::Error::success();
  }
  /// At least rank 1, with a last axis of at least one element.
  llvm::Error rows(const TensorView &T, llvm::StringRef What) const {
    if (T.Shape.empty() || T.Shape.back() <= 0)
      return fail(What + " needs a last axis of at least one element");
    return llvm::Error::success();
  }
  llvm::Error elements(const TensorView &T, int64_t N,
                       llvm::StringRef What) const {
    if (T.numElements() != N)
      return fail(llvm::formatv("{0}: {1} elements, expected {2}", What,
                                T.numElements(), N));
    return llvm::Error::success();
  }
  llvm::Error type(const TensorView &T, ElementType Want,
                   llvm::StringRef What) const {
    if (T.Type != Want)
      return fail(What + " must be " + kernels::getName(Want) + ", not " +
                  kernels::getName(T.Type));
    return llvm::Error::success();
  }
  llvm::Expected<int64_t> requiredInt(llvm::StringRef Key) const {
    std::optional<int64_t> V = S.Step->Attrs.getInt(Key);
    if (!V)
      return fail("needs the integer attribute '" + Key + "'");
    return *V;
  }
  llvm::Error fail(const llvm::Twine &Msg) const { return stepError(S, Msg); }

  const BoundStep &S;
  const plan::StepAttrs &attrs() const { return S.Step->Attrs; }
};

#define CHECK(E)                                                               \
  if (llvm::Error Err = (E))                                                   \
    return Err;

llvm::Expected<StepParams> decodeEmbedding(const Checker &C) {
  CHECK(C.operands(2, 1));
  EmbeddingParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Outputs[0]};
  CHECK(C.rank(P.Table, 2, "the table"));
  CHECK(C.type(P.Ids, ElementType::I32, "the token ids"));
  P.Rows = P.Table.Shape[0];
  P.Dim = P.Table.Shape[1];
  P.RowOffset = C.attrs().getInt("row_offset").value_or(0);
  P.Vocab = C.attrs().getInt("vocab").value_or(-1);
  CHECK(C.elements(P.Out, P.Ids.numElements() * P.Dim, "the output"));
  return P;
}

llvm::Expected<StepParams> decodeRMSNorm(const Checker &C) {
  CHECK(C.operands(2, 1));
  RMSNormParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Outputs[0]};
  CHECK(C.rows(P.X, "the input"));
  P.Dim = P.X.Shape.back();
  P.Rows = P.X.numElements() / P.Dim;
  P.Eps = static_cast<float>(C.attrs().getFloat("eps").value_or(1e-5));
  CHECK(C.elements(P.Weight, P.Dim, "the weight"));
  CHECK(C.elements(P.Out, P.X.numElements(), "the output"));
  return P;
}

llvm::Expected<StepParams> decodeMatMul(const Checker &C) {
  CHECK(C.operands(2, 1));
  MatMulParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Outputs[0]};
  CHECK(C.rank(P.Weight, 2, "the weight"));
  CHECK(C.rows(P.X, "the input"));
  CHECK(C.rows(P.Out, "the output"));
  P.In = P.Weight.Shape[1];
  P.OutFeatures = P.Weight.Shape[0];
  if (P.X.Shape.back() != P.In || P.Out.Shape.back() != P.OutFeatures)
    return C.fail(llvm::formatv("x [..., {0}] times a [{1}, {2}] weight "
                                "cannot make [..., {3}]",
                                P.X.Shape.back(), P.OutFeatures, P.In,
                                P.Out.Shape.back()));
  P.Rows = P.X.numElements() / P.In;
  CHECK(C.elements(P.Out, P.Rows * P.OutFeatures, "the output"));
  return P;
}

/// rope's attributes; absent ones take the defaults of RoPEParams.
llvm::Error decodeRoPEAttrs(const Checker &C, RoPEParams &P) {
  const plan::StepAttrs &A = C.attrs();
  P.Theta = A.getFloat("theta").value_or(10000);
  std::string Mode = A.getString("mode").value_or("normal");
  if (Mode == "neox")
    P.Mode = RoPEMode::NeoX;
  else if (Mode != "normal")
    return C.fail("unknown rope mode '" + Mode + "'");
  std::string Scaling = A.getString("scaling").value_or("");
  if (Scaling == "linear")
    P.Scaling = RoPEScaling::Linear;
  else if (Scaling == "llama3")
    P.Scaling = RoPEScaling::Llama3;
  else if (Scaling == "yarn")
    P.Scaling = RoPEScaling::YaRN;
  else if (!Scaling.empty())
    return C.fail("unknown rope scaling '" + Scaling + "'");
  P.Factor = A.getFloat("scaling_factor").value_or(1);
  P.LowFreqFactor = A.getFloat("low_freq_factor").value_or(1);
  P.HighFreqFactor = A.getFloat("high_freq_factor").value_or(4);
  P.OriginalContext = A.getInt("original_context").value_or(0);
  P.BetaFast = A.getFloat("beta_fast").value_or(32);
  P.BetaSlow = A.getFloat("beta_slow").value_or(1);
  P.MScale = A.getFloat("mscale").value_or(1);
  P.MScaleAllDim = A.getFloat("mscale_all_dim").value_or(0);
  return llvm::Error::success();
}

llvm::Expected<StepParams> decodeRoPE(const Checker &C) {
  CHECK(C.operands(2, 1));
  RoPEParams P;
  P.X = C.S.Inputs[0];
  P.Pos = C.S.Inputs[1];
  P.Out = C.S.Outputs[0];
  CHECK(C.rank(P.X, 4, "the input"));
  CHECK(C.type(P.Pos, ElementType::I32, "the positions"));
  P.Batch = P.X.Shape[0];
  P.Tokens = P.X.Shape[1];
  P.Heads = P.X.Shape[2];
  P.HeadDim = P.X.Shape[3];
  CHECK(C.elements(P.Pos, P.Batch * P.Tokens, "the positions"));
  CHECK(C.elements(P.Out, P.X.numElements(), "the output"));
  CHECK(decodeRoPEAttrs(C, P));
  return P;
}

llvm::Expected<StepParams> decodeKVAppend(const Checker &C) {
  CHECK(C.operands(3, 1));
  KVAppendParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Inputs[2]};
  CHECK(C.rank(P.Cache, 4, "the cache"));
  CHECK(C.rank(P.New, 4, "the new keys or values"));
  CHECK(C.type(P.Pos, ElementType::I32, "the positions"));
  P.Batch = P.Cache.Shape[0];
  P.Context = P.Cache.Shape[1];
  P.Heads = P.Cache.Shape[2];
  P.HeadDim = P.Cache.Shape[3];
  P.Tokens = P.New.Shape[1];
  if (P.New.Shape[0] != P.Batch || P.New.Shape[2] != P.Heads ||
      P.New.Shape[3] != P.HeadDim)
    return C.fail(llvm::formatv("new keys or values [{0}, {1}, {2}, {3}] do "
                                "not fit a cache [{4}, {5}, {6}, {7}]",
                                P.New.Shape[0], P.New.Shape[1], P.New.Shape[2],
                                P.New.Shape[3], P.Batch, P.Context, P.Heads,
                                P.HeadDim));
  CHECK(C.elements(P.Pos, P.Batch * P.Tokens, "the positions"));
  return P;
}

llvm::Expected<StepParams> decodeAttention(const Checker &C) {
  CHECK(C.operands(4, 1));
  AttentionParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Inputs[2], C.S.Inputs[3],
                    C.S.Outputs[0]};
  CHECK(C.rank(P.Q, 4, "the queries"));
  CHECK(C.rank(P.K, 4, "the key cache"));
  CHECK(C.rank(P.V, 4, "the value cache"));
  CHECK(C.type(P.Pos, ElementType::I32, "the positions"));
  P.Batch = P.Q.Shape[0];
  P.Tokens = P.Q.Shape[1];
  P.Heads = P.Q.Shape[2];
  P.KeyDim = P.Q.Shape[3];
  P.Context = P.K.Shape[1];
  P.KVHeads = P.K.Shape[2];
  P.ValueDim = P.V.Shape[3];
  if (P.K.Shape[0] != P.Batch || P.K.Shape[3] != P.KeyDim ||
      P.V.Shape[0] != P.Batch || P.V.Shape[1] != P.Context ||
      P.V.Shape[2] != P.KVHeads)
    return C.fail(llvm::formatv("queries [{0}, {1}, {2}, {3}] do not fit "
                                "caches [{4}, {5}, {6}, {7}] and [{8}, {9}, "
                                "{10}, {11}]",
                                P.Batch, P.Tokens, P.Heads, P.KeyDim,
                                P.K.Shape[0], P.K.Shape[1], P.K.Shape[2],
                                P.K.Shape[3], P.V.Shape[0], P.V.Shape[1],
                                P.V.Shape[2], P.V.Shape[3]));
  if (P.KVHeads <= 0 || P.Heads % P.KVHeads)
    return C.fail(llvm::formatv("{0} query heads cannot share {1} key-value "
                                "heads",
                                P.Heads, P.KVHeads));
  CHECK(C.elements(P.Pos, P.Batch * P.Tokens, "the positions"));
  CHECK(C.elements(P.Out, P.Batch * P.Tokens * P.Heads * P.ValueDim,
                   "the output"));
  return P;
}

llvm::Expected<StepParams> decodeSiLUMul(const Checker &C) {
  CHECK(C.operands(2, 1));
  SiLUMulParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Outputs[0]};
  P.N = P.Out.numElements();
  CHECK(C.elements(P.Gate, P.N, "the gate"));
  CHECK(C.elements(P.Up, P.N, "the up projection"));
  return P;
}

llvm::Expected<StepParams> decodeBinary(const Checker &C) {
  CHECK(C.operands(2, 1));
  BinaryParams P{C.S.Inputs[0], C.S.Inputs[1], C.S.Outputs[0]};
  P.NumA = P.A.numElements();
  P.NumB = P.B.numElements();
  if (P.NumB <= 0 || P.NumA % P.NumB)
    return C.fail(llvm::formatv("{0} elements cannot be repeated over {1}",
                                P.NumB, P.NumA));
  CHECK(C.elements(P.Out, P.NumA, "the output"));
  return P;
}

/// softmax and argmax: rows of the last axis.
llvm::Expected<StepParams> decodeRows(const Checker &C) {
  CHECK(C.operands(1, 1));
  RowsParams P{C.S.Inputs[0], C.S.Outputs[0]};
  CHECK(C.rows(P.X, "the input"));
  P.N = P.X.Shape.back();
  P.Rows = P.X.numElements() / P.N;
  if (C.S.Step->Op == plan::StepOp::ArgMax) {
    CHECK(C.type(P.Out, ElementType::I32, "argmax's output"));
    CHECK(C.elements(P.Out, P.Rows, "the output"));
  } else {
    CHECK(C.elements(P.Out, P.X.numElements(), "the output"));
  }
  return P;
}

/// [Begin, End) of an axis of Shape, from the step's attributes.
llvm::Error decodeRange(const Checker &C, llvm::ArrayRef<int64_t> Shape,
                        int64_t &Axis, int64_t &Begin, int64_t &End) {
  auto A = C.requiredInt("axis");
  if (!A)
    return A.takeError();
  auto B = C.requiredInt("begin");
  if (!B)
    return B.takeError();
  auto E = C.requiredInt("end");
  if (!E)
    return E.takeError();
  Axis = *A, Begin = *B, End = *E;
  if (Axis < 0 || static_cast<size_t>(Axis) >= Shape.size())
    return C.fail(llvm::formatv("axis {0} is not an axis of a rank {1} input",
                                Axis, Shape.size()));
  if (Begin < 0 || Begin > End || End > Shape[Axis])
    return C.fail(llvm::formatv("[{0}, {1}) is not a range of axis {2}, which "
                                "has {3} elements",
                                Begin, End, Axis, Shape[Axis]));
  return llvm::Error::success();
}

llvm::Expected<StepParams> decodeSlice(const Checker &C) {
  CHECK(C.operands(1, 1));
  SliceParams P;
  P.X = C.S.Inputs[0];
  P.Out = C.S.Outputs[0];
  P.Dims = P.X.Shape;
  CHECK(decodeRange(C, P.Dims, P.Axis, P.Begin, P.End));
  return P;
}

/// A member's share of a whole tensor: rows of bytes cut from each outer
/// index; a block type (q8_0) is cut in whole blocks only.
llvm::Error decodeSlicedTransfer(const Checker &C, TransferParams &P) {
  int64_t Axis, Begin, End;
  CHECK(decodeRange(C, P.Src.Shape, Axis, Begin, End));
  llvm::ArrayRef<int64_t> Dims = P.Src.Shape;
  int64_t Outer = 1, Inner = 1;
  for (int64_t A = 0; A < Axis; ++A)
    Outer *= Dims[A];
  for (size_t A = Axis + 1; A < Dims.size(); ++A)
    Inner *= Dims[A];
  int64_t Block = kernels::getBlockElements(P.Src.Type);
  if ((Begin * Inner) % Block || (End * Inner) % Block ||
      (Dims[Axis] * Inner) % Block)
    return C.fail("cannot cut a " + llvm::Twine(kernels::getName(P.Src.Type)) +
                  " tensor inside its blocks");
  if (P.Src.Type != P.Dst.Type)
    return C.fail("a sliced transfer cannot convert");
  P.Rows = Outer;
  P.SrcPitch = kernels::getByteSize(P.Src.Type, Dims[Axis] * Inner);
  P.SrcOffset = kernels::getByteSize(P.Src.Type, Begin * Inner);
  P.RowBytes = kernels::getByteSize(P.Src.Type, (End - Begin) * Inner);
  if (P.RowBytes * Outer != P.Dst.Bytes)
    return C.fail(llvm::formatv("the slice is {0} bytes but its buffer {1}",
                                P.RowBytes * Outer, P.Dst.Bytes));
  return llvm::Error::success();
}

llvm::Expected<StepParams> decodeTransfer(const Checker &C) {
  CHECK(C.operands(1, 1));
  TransferParams P;
  P.Src = C.S.Inputs[0];
  P.Dst = C.S.Outputs[0];
  if (C.attrs().getInt("axis")) {
    CHECK(decodeSlicedTransfer(C, P));
    return P;
  }
  P.DstOffset = C.attrs().getInt("dst_offset").value_or(0);
  if (P.Src.Type != P.Dst.Type) {
    if (P.DstOffset)
      return C.fail("a converting copy cannot land at an offset");
    P.Convert = true;
    P.N = P.Dst.numElements();
    CHECK(C.elements(P.Src, P.N, "the source"));
    return P;
  }
  if (P.DstOffset + P.Src.Bytes > P.Dst.Bytes)
    return C.fail(llvm::formatv("{0} bytes at offset {1} do not fit a buffer "
                                "of {2}",
                                P.Src.Bytes, P.DstOffset, P.Dst.Bytes));
  P.RowBytes = P.SrcPitch = P.Src.Bytes;
  return P;
}

llvm::Expected<StepParams> decodeCollective(const Checker &C) {
  CHECK(C.operands(1, 1));
  CollectiveParams P{C.S.Inputs[0], C.S.Outputs[0]};
  if (!C.S.Step->Collective)
    return C.fail("is not part of a collective");
  if (C.S.Step->Op == plan::StepOp::AllReduce) {
    CHECK(C.elements(P.In, P.Out.numElements(), "the input"));
    return P;
  }
  P.Axis = C.attrs().getInt("axis").value_or(0);
  if (P.Axis < 0 || static_cast<size_t>(P.Axis) >= P.Out.Shape.size() ||
      P.In.Shape.size() != P.Out.Shape.size())
    return C.fail(llvm::formatv("cannot gather a rank {0} part along axis {1} "
                                "of a rank {2} whole",
                                P.In.Shape.size(), P.Axis, P.Out.Shape.size()));
  return P;
}

#undef CHECK

} // namespace

llvm::Expected<StepParams> decodeStep(const BoundStep &S) {
  Checker C(S);
  switch (S.Step->Op) {
  case plan::StepOp::Embedding:
    return decodeEmbedding(C);
  case plan::StepOp::RMSNorm:
    return decodeRMSNorm(C);
  case plan::StepOp::MatMul:
    return decodeMatMul(C);
  case plan::StepOp::RoPE:
    return decodeRoPE(C);
  case plan::StepOp::KVAppend:
    return decodeKVAppend(C);
  case plan::StepOp::Attention:
    return decodeAttention(C);
  case plan::StepOp::SiLUMul:
    return decodeSiLUMul(C);
  case plan::StepOp::Add:
  case plan::StepOp::Mul:
    return decodeBinary(C);
  case plan::StepOp::Softmax:
  case plan::StepOp::ArgMax:
    return decodeRows(C);
  case plan::StepOp::Slice:
    return decodeSlice(C);
  case plan::StepOp::Copy:
  case plan::StepOp::Prefetch:
    return decodeTransfer(C);
  case plan::StepOp::AllReduce:
  case plan::StepOp::AllGather:
    return decodeCollective(C);
  case plan::StepOp::MoERoute:
  case plan::StepOp::MoEExperts:
  case plan::StepOp::MLAAttention:
    break;
  }
  return C.fail("no backend has kernels for '" + plan::getKindName(S.Step->Op) +
                "' steps yet");
}

} // namespace strata::runtime
