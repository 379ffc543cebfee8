//===- StepDecoderTest.cpp - Steps decoded into kernel parameters ---------===//
//
// The decoder on hand-made steps, with no plan, kernel or backend behind
// them: each op's operands, sizes and attributes, and the errors for a
// wrong operand count, rank, shape, element type or attribute, each naming
// the step. Then the CPU backend's table: every op has one entry, and the
// ops without a CPU kernel are refused by name.
//
//===----------------------------------------------------------------------===//

#include "runtime/StepDecoder.h"
#include "runtime/cpu/CpuKernels.h"

#include "gtest/gtest.h"

#include <vector>

namespace strata::runtime {
namespace {

using kernels::ElementType;

/// Views over Storage (never read: the decoder looks at shapes only).
class StepBuilder {
public:
  StepBuilder(plan::StepOp Op, llvm::StringRef Name = "s") {
    Step.Op = Op;
    Step.Name = Name.str();
    Bound.Step = &Step;
    Bound.Index = 7;
    Bound.Device = 1;
  }
  StepBuilder &in(llvm::ArrayRef<int64_t> Shape,
                  ElementType T = ElementType::F32) {
    Bound.Inputs.push_back(view(Shape, T));
    return *this;
  }
  StepBuilder &out(llvm::ArrayRef<int64_t> Shape,
                   ElementType T = ElementType::F32) {
    Bound.Outputs.push_back(view(Shape, T));
    return *this;
  }
  StepBuilder &attr(llvm::StringRef Key, plan::AttrValue V) {
    Step.Attrs.set(Key, std::move(V));
    return *this;
  }
  StepBuilder &collective() {
    Step.Collective = 0;
    return *this;
  }

  llvm::Expected<StepParams> decode() const { return decodeStep(Bound); }
  /// The decoder's error, which must be one.
  std::string error() const {
    auto P = decode();
    if (P) {
      ADD_FAILURE() << "decoded without an error";
      return "";
    }
    return llvm::toString(P.takeError());
  }

  plan::Step Step;
  BoundStep Bound;

private:
  TensorView view(llvm::ArrayRef<int64_t> Shape, ElementType T) {
    TensorView V;
    V.Type = T;
    V.Shape.assign(Shape.begin(), Shape.end());
    V.Bytes = kernels::getByteSize(T, V.numElements());
    V.Data = reinterpret_cast<void *>(uintptr_t(0x1000) * ++Views);
    return V;
  }
  unsigned Views = 0;
};

template <typename P> P decoded(const StepBuilder &S) {
  auto D = S.decode();
  if (!D) {
    ADD_FAILURE() << llvm::toString(D.takeError());
    return P();
  }
  if (!std::holds_alternative<P>(*D)) {
    ADD_FAILURE() << "decoded into another kind of parameters";
    return P();
  }
  return std::get<P>(*D);
}

//===----------------------------------------------------------------------===//
// What each op decodes into
//===----------------------------------------------------------------------===//

TEST(StepDecoder, MatMulSizesComeFromTheWeight) {
  StepBuilder S(plan::StepOp::MatMul);
  S.in({1, 3, 64}).in({32, 64}, ElementType::Q8_0).out({1, 3, 32});
  MatMulParams P = decoded<MatMulParams>(S);
  EXPECT_EQ(P.Rows, 3);
  EXPECT_EQ(P.In, 64);
  EXPECT_EQ(P.OutFeatures, 32);
  EXPECT_EQ(P.Weight.Type, ElementType::Q8_0);
  EXPECT_EQ(P.X.Data, S.Bound.Inputs[0].Data);
  EXPECT_EQ(P.Out.Data, S.Bound.Outputs[0].Data);
}

TEST(StepDecoder, EmbeddingReadsItsVocabularyShard) {
  StepBuilder S(plan::StepOp::Embedding);
  S.in({256, 16}).in({1, 4}, ElementType::I32).out({1, 4, 16});
  S.attr("row_offset", int64_t(256)).attr("vocab", int64_t(512));
  EmbeddingParams P = decoded<EmbeddingParams>(S);
  EXPECT_EQ(P.Rows, 256);
  EXPECT_EQ(P.Dim, 16);
  EXPECT_EQ(P.RowOffset, 256);
  EXPECT_EQ(P.Vocab, 512);

  StepBuilder Whole(plan::StepOp::Embedding);
  Whole.in({256, 16}).in({1, 4}, ElementType::I32).out({1, 4, 16});
  EXPECT_EQ(decoded<EmbeddingParams>(Whole).RowOffset, 0);
  EXPECT_EQ(decoded<EmbeddingParams>(Whole).Vocab, -1);
}

TEST(StepDecoder, RMSNormRowsAndEps) {
  StepBuilder S(plan::StepOp::RMSNorm);
  S.in({2, 3, 8}).in({8}).out({2, 3, 8}).attr("eps", 1e-6);
  RMSNormParams P = decoded<RMSNormParams>(S);
  EXPECT_EQ(P.Rows, 6);
  EXPECT_EQ(P.Dim, 8);
  EXPECT_FLOAT_EQ(P.Eps, 1e-6f);
}

TEST(StepDecoder, RoPEAttributesAndDefaults) {
  StepBuilder S(plan::StepOp::RoPE);
  S.in({1, 5, 4, 16}).in({1, 5}, ElementType::I32).out({1, 5, 4, 16});
  S.attr("theta", 500000.0).attr("mode", std::string("neox"));
  S.attr("scaling", std::string("llama3")).attr("scaling_factor", 8.0);
  S.attr("original_context", int64_t(8192));
  RoPEParams P = decoded<RoPEParams>(S);
  EXPECT_EQ(P.Batch, 1);
  EXPECT_EQ(P.Tokens, 5);
  EXPECT_EQ(P.Heads, 4);
  EXPECT_EQ(P.HeadDim, 16);
  EXPECT_EQ(P.Theta, 500000.0);
  EXPECT_EQ(P.Mode, RoPEMode::NeoX);
  EXPECT_EQ(P.Scaling, RoPEScaling::Llama3);
  EXPECT_EQ(P.Factor, 8.0);
  EXPECT_EQ(P.OriginalContext, 8192);
  EXPECT_EQ(P.HighFreqFactor, 4.0); // the default

  StepBuilder Plain(plan::StepOp::RoPE);
  Plain.in({1, 1, 2, 8}).in({1, 1}, ElementType::I32).out({1, 1, 2, 8});
  RoPEParams D = decoded<RoPEParams>(Plain);
  EXPECT_EQ(D.Theta, 10000.0);
  EXPECT_EQ(D.Mode, RoPEMode::Normal);
  EXPECT_EQ(D.Scaling, RoPEScaling::None);
}

TEST(StepDecoder, AttentionSharesKeyValueHeads) {
  StepBuilder S(plan::StepOp::Attention);
  S.in({1, 3, 8, 16}).in({1, 96, 2, 16}).in({1, 96, 2, 32});
  S.in({1, 3}, ElementType::I32).out({1, 3, 8, 32});
  AttentionParams P = decoded<AttentionParams>(S);
  EXPECT_EQ(P.Batch, 1);
  EXPECT_EQ(P.Tokens, 3);
  EXPECT_EQ(P.Heads, 8);
  EXPECT_EQ(P.KVHeads, 2);
  EXPECT_EQ(P.KeyDim, 16);
  EXPECT_EQ(P.ValueDim, 32);
  EXPECT_EQ(P.Context, 96);
}

TEST(StepDecoder, KVAppendWritesItsCacheInPlace) {
  StepBuilder S(plan::StepOp::KVAppend);
  S.in({1, 96, 2, 16}).in({1, 3, 2, 16}).in({1, 3}, ElementType::I32);
  S.out({1, 96, 2, 16});
  KVAppendParams P = decoded<KVAppendParams>(S);
  EXPECT_EQ(P.Context, 96);
  EXPECT_EQ(P.Heads, 2);
  EXPECT_EQ(P.HeadDim, 16);
  EXPECT_EQ(P.Tokens, 3);
  EXPECT_EQ(P.Cache.Data, S.Bound.Inputs[0].Data);
}

TEST(StepDecoder, ElementwiseAndRows) {
  StepBuilder Add(plan::StepOp::Add);
  Add.in({3, 8}).in({8}).out({3, 8});
  BinaryParams B = decoded<BinaryParams>(Add);
  EXPECT_EQ(B.NumA, 24);
  EXPECT_EQ(B.NumB, 8);

  StepBuilder Silu(plan::StepOp::SiLUMul);
  Silu.in({3, 8}).in({3, 8}).out({3, 8});
  EXPECT_EQ(decoded<SiLUMulParams>(Silu).N, 24);

  StepBuilder Max(plan::StepOp::ArgMax);
  Max.in({1, 3, 512}).out({1, 3}, ElementType::I32);
  RowsParams R = decoded<RowsParams>(Max);
  EXPECT_EQ(R.Rows, 3);
  EXPECT_EQ(R.N, 512);
}

TEST(StepDecoder, SlicedTransferIsRowsOfBytes) {
  // Columns [16, 48) of a [4, 64] f32 tensor: 4 rows of 128 bytes, each
  // read 64 bytes into a 256-byte row.
  StepBuilder S(plan::StepOp::Copy);
  S.in({4, 64}).out({4, 32});
  S.attr("axis", int64_t(1))
      .attr("begin", int64_t(16))
      .attr("end", int64_t(48));
  TransferParams P = decoded<TransferParams>(S);
  EXPECT_FALSE(P.Convert);
  EXPECT_EQ(P.Rows, 4);
  EXPECT_EQ(P.RowBytes, 128u);
  EXPECT_EQ(P.SrcPitch, 256u);
  EXPECT_EQ(P.SrcOffset, 64u);
  EXPECT_EQ(P.DstOffset, 0u);
}

TEST(StepDecoder, WholeAndConvertingTransfers) {
  StepBuilder Whole(plan::StepOp::Prefetch);
  Whole.in({2, 8}).out({4, 8}).attr("dst_offset", int64_t(64));
  TransferParams W = decoded<TransferParams>(Whole);
  EXPECT_EQ(W.Rows, 1);
  EXPECT_EQ(W.RowBytes, 64u);
  EXPECT_EQ(W.DstOffset, 64u);

  StepBuilder Convert(plan::StepOp::Copy);
  Convert.in({2, 8}, ElementType::BF16).out({2, 8});
  TransferParams C = decoded<TransferParams>(Convert);
  EXPECT_TRUE(C.Convert);
  EXPECT_EQ(C.N, 16);
}

TEST(StepDecoder, CollectivesKeepTheirAxis) {
  StepBuilder Gather(plan::StepOp::AllGather);
  Gather.in({1, 3, 8}).out({1, 3, 16}).attr("axis", int64_t(2)).collective();
  EXPECT_EQ(decoded<CollectiveParams>(Gather).Axis, 2);

  StepBuilder Reduce(plan::StepOp::AllReduce);
  Reduce.in({1, 3, 8}).out({1, 3, 8}).collective();
  EXPECT_TRUE(bool(Reduce.decode()));
}

//===----------------------------------------------------------------------===//
// What it refuses
//===----------------------------------------------------------------------===//

TEST(StepDecoder, ErrorsNameTheStep) {
  StepBuilder S(plan::StepOp::MatMul, "l0.q");
  S.in({1, 64}).in({32, 64}).out({1, 32}).out({1, 32});
  EXPECT_EQ(S.error(), "step 7 (matmul 'l0.q' on device 1): expected 2 "
                       "inputs and 1 outputs, got 2 and 2");
}

TEST(StepDecoder, BadShapesAreRefused) {
  StepBuilder Rank(plan::StepOp::MatMul);
  Rank.in({1, 64}).in({64}).out({1, 32});
  EXPECT_NE(Rank.error().find("the weight has rank 1, expected 2"),
            std::string::npos);

  StepBuilder Inner(plan::StepOp::MatMul);
  Inner.in({1, 48}).in({32, 64}).out({1, 32});
  EXPECT_NE(Inner.error().find("x [..., 48] times a [32, 64] weight cannot "
                               "make [..., 32]"),
            std::string::npos);

  StepBuilder Heads(plan::StepOp::Attention);
  Heads.in({1, 3, 8, 16}).in({1, 96, 3, 16}).in({1, 96, 3, 16});
  Heads.in({1, 3}, ElementType::I32).out({1, 3, 8, 16});
  EXPECT_NE(Heads.error().find("8 query heads cannot share 3 key-value heads"),
            std::string::npos);

  StepBuilder Cache(plan::StepOp::KVAppend);
  Cache.in({1, 96, 2, 16}).in({1, 3, 4, 16}).in({1, 3}, ElementType::I32);
  Cache.out({1, 96, 2, 16});
  EXPECT_NE(Cache.error().find("do not fit a cache"), std::string::npos);

  StepBuilder Pos(plan::StepOp::RoPE);
  Pos.in({1, 5, 4, 16}).in({1, 4}, ElementType::I32).out({1, 5, 4, 16});
  EXPECT_NE(Pos.error().find("the positions: 4 elements, expected 5"),
            std::string::npos);

  StepBuilder Bias(plan::StepOp::Add);
  Bias.in({3, 8}).in({5}).out({3, 8});
  EXPECT_NE(Bias.error().find("5 elements cannot be repeated over 24"),
            std::string::npos);
}

TEST(StepDecoder, BadTypesAreRefused) {
  StepBuilder Ids(plan::StepOp::Embedding);
  Ids.in({256, 16}).in({1, 4}).out({1, 4, 16});
  EXPECT_NE(Ids.error().find("the token ids must be i32, not f32"),
            std::string::npos);

  StepBuilder Max(plan::StepOp::ArgMax);
  Max.in({1, 512}).out({1});
  EXPECT_NE(Max.error().find("argmax's output must be i32"), std::string::npos);
}

TEST(StepDecoder, BadAttributesAreRefused) {
  StepBuilder Missing(plan::StepOp::Slice);
  Missing.in({4, 64}).out({4, 32}).attr("axis", int64_t(1));
  EXPECT_NE(Missing.error().find("needs the integer attribute 'begin'"),
            std::string::npos);

  StepBuilder Range(plan::StepOp::Slice);
  Range.in({4, 64}).out({4, 32}).attr("axis", int64_t(1));
  Range.attr("begin", int64_t(40)).attr("end", int64_t(72));
  EXPECT_NE(Range.error().find("[40, 72) is not a range of axis 1, which has "
                               "64 elements"),
            std::string::npos);

  StepBuilder Axis(plan::StepOp::Copy);
  Axis.in({4, 64}).out({4, 32}).attr("axis", int64_t(2));
  Axis.attr("begin", int64_t(0)).attr("end", int64_t(32));
  EXPECT_NE(Axis.error().find("axis 2 is not an axis of a rank 2 input"),
            std::string::npos);

  StepBuilder Mode(plan::StepOp::RoPE);
  Mode.in({1, 1, 2, 8}).in({1, 1}, ElementType::I32).out({1, 1, 2, 8});
  Mode.attr("mode", std::string("gptj"));
  EXPECT_NE(Mode.error().find("unknown rope mode 'gptj'"), std::string::npos);

  StepBuilder Blocks(plan::StepOp::Copy);
  Blocks.in({4, 64}, ElementType::Q8_0).out({4, 16}, ElementType::Q8_0);
  Blocks.attr("axis", int64_t(1)).attr("begin", int64_t(8));
  Blocks.attr("end", int64_t(24));
  EXPECT_NE(Blocks.error().find("cannot cut a q8_0 tensor inside its blocks"),
            std::string::npos);

  StepBuilder Offset(plan::StepOp::Copy);
  Offset.in({2, 8}).out({2, 8}).attr("dst_offset", int64_t(4));
  EXPECT_NE(Offset.error().find("64 bytes at offset 4 do not fit a buffer of "
                                "64"),
            std::string::npos);

  StepBuilder Gather(plan::StepOp::AllGather);
  Gather.in({1, 8}).out({1, 16}).attr("axis", int64_t(3)).collective();
  EXPECT_NE(Gather.error().find("cannot gather a rank 2 part along axis 3"),
            std::string::npos);
}

TEST(StepDecoder, OpsWithoutKernelsAreRefused) {
  StepBuilder S(plan::StepOp::MoERoute, "l0.route");
  S.in({1, 8}).out({1, 2});
  EXPECT_EQ(S.error(), "step 7 (moe_route 'l0.route' on device 1): no "
                       "backend has kernels for 'moe_route' steps yet");
}

//===----------------------------------------------------------------------===//
// The CPU backend's table
//===----------------------------------------------------------------------===//

TEST(CpuKernelTable, EveryDecodedKernelOpBinds) {
  StepBuilder MatMul(plan::StepOp::MatMul);
  MatMul.in({1, 64}).in({32, 64}).out({1, 32});
  EXPECT_TRUE(bool(bindCpuKernel(MatMul.Bound)));

  StepBuilder Copy(plan::StepOp::Copy);
  Copy.in({2, 8}).out({2, 8});
  EXPECT_TRUE(bool(bindCpuKernel(Copy.Bound)));

  // The decoder's errors come through the table.
  StepBuilder Bad(plan::StepOp::MatMul, "bad");
  Bad.in({1, 64}).in({64}).out({1, 32});
  auto K = bindCpuKernel(Bad.Bound);
  ASSERT_FALSE(bool(K));
  EXPECT_NE(llvm::toString(K.takeError()).find("the weight has rank 1"),
            std::string::npos);
}

TEST(CpuKernelTable, OpsWithoutACpuKernelAreNamed) {
  for (plan::StepOp Op : {plan::StepOp::MoERoute, plan::StepOp::MoEExperts,
                          plan::StepOp::MLAAttention}) {
    StepBuilder S(Op, "x");
    S.in({1, 8}).out({1, 8});
    auto K = bindCpuKernel(S.Bound);
    ASSERT_FALSE(bool(K));
    EXPECT_NE(llvm::toString(K.takeError())
                  .find("the CPU backend has no kernel for '" +
                        plan::getKindName(Op).str() + "' yet"),
              std::string::npos);
  }
  StepBuilder Reduce(plan::StepOp::AllReduce);
  Reduce.in({1, 8}).out({1, 8}).collective();
  auto K = bindCpuKernel(Reduce.Bound);
  ASSERT_FALSE(bool(K));
  EXPECT_NE(llvm::toString(K.takeError()).find("a collective is not a kernel"),
            std::string::npos);
}

TEST(CpuKernelTable, HasAnEntryPerOp) {
  EXPECT_EQ(NumStepOps, plan::getKindSpellings<plan::StepOp>().size());
}

} // namespace
} // namespace strata::runtime
