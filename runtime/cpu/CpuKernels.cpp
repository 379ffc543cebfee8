//===- CpuKernels.cpp - A plan step as a call of a CPU kernel -------------===//

#include "runtime/cpu/CpuKernels.h"

#include "runtime/StepDecoder.h"

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

#include <array>
#include <cstring>

namespace strata::runtime {
namespace {

namespace kc = kernels::cpu;
using kc::CpuContext;

kernels::ConstBuffer in(const TensorView &T) { return {T.Data, T.Type}; }
kernels::MutableBuffer out(const TensorView &T) { return {T.Data, T.Type}; }
llvm::ArrayRef<int32_t> ints(const TensorView &T) {
  return {static_cast<const int32_t *>(T.Data),
          static_cast<size_t>(T.numElements())};
}

//===----------------------------------------------------------------------===//
// One kernel call per op, from its decoded parameters
//===----------------------------------------------------------------------===//

CpuKernel embeddingKernel(const EmbeddingParams &P) {
  kc::EmbeddingTable Table{in(P.Table), P.Rows, P.Dim, P.RowOffset, P.Vocab};
  return [Table, Ids = P.Ids, Out = P.Out](const CpuContext &) {
    return kc::embedding(Table, ints(Ids), out(Out));
  };
}

CpuKernel rmsNormKernel(const RMSNormParams &P) {
  return [P](const CpuContext &) {
    return kc::rmsNorm(in(P.X), in(P.Weight), out(P.Out), P.Rows, P.Dim, P.Eps);
  };
}

CpuKernel matMulKernel(const MatMulParams &P) {
  return [P](const CpuContext &C) {
    return kc::matmul(in(P.X), in(P.Weight), out(P.Out), P.Rows, P.In,
                      P.OutFeatures, C);
  };
}

kc::RoPEParams cpuRoPEParams(const RoPEParams &P) {
  kc::RoPEParams K;
  K.Theta = P.Theta;
  K.Mode = P.Mode == RoPEMode::NeoX ? kc::RoPEMode::NeoX : kc::RoPEMode::Normal;
  switch (P.Scaling) {
  case RoPEScaling::None:
    K.Scaling = kc::RoPEScaling::None;
    break;
  case RoPEScaling::Linear:
    K.Scaling = kc::RoPEScaling::Linear;
    break;
  case RoPEScaling::Llama3:
    K.Scaling = kc::RoPEScaling::Llama3;
    break;
  case RoPEScaling::YaRN:
    K.Scaling = kc::RoPEScaling::YaRN;
    break;
  }
  K.Factor = P.Factor;
  K.LowFreqFactor = P.LowFreqFactor;
  K.HighFreqFactor = P.HighFreqFactor;
  K.OriginalContext = P.OriginalContext;
  K.BetaFast = P.BetaFast;
  K.BetaSlow = P.BetaSlow;
  K.MScale = P.MScale;
  K.MScaleAllDim = P.MScaleAllDim;
  return K;
}

CpuKernel ropeKernel(const RoPEParams &P) {
  kc::RoPEShape Shape{P.Batch, P.Tokens, P.Heads, P.HeadDim};
  return [X = P.X, Pos = P.Pos, Out = P.Out, Shape,
          Params = cpuRoPEParams(P)](const CpuContext &) {
    return kc::rope(in(X), out(Out), Shape, ints(Pos), Params);
  };
}

CpuKernel kvAppendKernel(const KVAppendParams &P) {
  kc::KVCacheShape Shape{P.Batch, P.Context, P.Heads, P.HeadDim};
  return [P, Shape](const CpuContext &) {
    return kc::kvAppend(out(P.Cache), Shape, in(P.New), P.Tokens, ints(P.Pos));
  };
}

CpuKernel attentionKernel(const AttentionParams &P) {
  kc::AttentionShape Shape;
  Shape.Batch = P.Batch;
  Shape.Tokens = P.Tokens;
  Shape.Heads = P.Heads;
  Shape.KVHeads = P.KVHeads;
  Shape.KeyDim = P.KeyDim;
  Shape.ValueDim = P.ValueDim;
  Shape.Context = P.Context;
  return [P, Shape](const CpuContext &C) {
    return kc::attention(in(P.Q), in(P.K), in(P.V), ints(P.Pos), out(P.Out),
                         Shape, std::nullopt, C);
  };
}

CpuKernel siluMulKernel(const SiLUMulParams &P) {
  return [P](const CpuContext &) {
    return kc::siluMul(in(P.Gate), in(P.Up), out(P.Out), P.N);
  };
}

CpuKernel addKernel(const BinaryParams &P) {
  return [P](const CpuContext &) {
    return kc::add(in(P.A), P.NumA, in(P.B), P.NumB, out(P.Out));
  };
}

CpuKernel mulKernel(const BinaryParams &P) {
  return [P](const CpuContext &) {
    return kc::mul(in(P.A), P.NumA, in(P.B), P.NumB, out(P.Out));
  };
}

CpuKernel softmaxKernel(const RowsParams &P) {
  return [P](const CpuContext &) {
    return kc::softmax(in(P.X), out(P.Out), P.Rows, P.N);
  };
}

CpuKernel argMaxKernel(const RowsParams &P) {
  return [P](const CpuContext &) {
    return kc::argmax(in(P.X), P.Rows, P.N, static_cast<int32_t *>(P.Out.Data));
  };
}

CpuKernel sliceKernel(const SliceParams &P) {
  return [P](const CpuContext &) {
    return kc::slice(in(P.X), P.Dims, P.Axis, P.Begin, P.End, out(P.Out));
  };
}

CpuKernel transferKernel(const TransferParams &P) {
  if (P.Convert)
    return [P](const CpuContext &) {
      return kc::convert(in(P.Src), out(P.Dst), P.N);
    };
  const char *Src = static_cast<const char *>(P.Src.Data) + P.SrcOffset;
  char *Dst = static_cast<char *>(P.Dst.Data) + P.DstOffset;
  if (P.Rows == 1)
    return [Src, Dst, Bytes = P.RowBytes](const CpuContext &) {
      std::memcpy(Dst, Src, Bytes);
      return llvm::Error::success();
    };
  return [Src, Dst, Rows = P.Rows, Bytes = P.RowBytes,
          Pitch = P.SrcPitch](const CpuContext &) {
    for (int64_t R = 0; R < Rows; ++R)
      std::memcpy(Dst + R * Bytes, Src + R * Pitch, Bytes);
    return llvm::Error::success();
  };
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

using KernelBinder = CpuKernel (*)(const StepParams &);

template <typename Params, CpuKernel (*Bind)(const Params &)>
CpuKernel bindAs(const StepParams &P) {
  return Bind(std::get<Params>(P));
}

/// The CPU kernel of each op; null for ops that are not kernels here.
constexpr KernelBinder kernelBinder(plan::StepOp Op) {
  using plan::StepOp;
  switch (Op) {
  case StepOp::Embedding:
    return bindAs<EmbeddingParams, embeddingKernel>;
  case StepOp::RMSNorm:
    return bindAs<RMSNormParams, rmsNormKernel>;
  case StepOp::MatMul:
    return bindAs<MatMulParams, matMulKernel>;
  case StepOp::RoPE:
    return bindAs<RoPEParams, ropeKernel>;
  case StepOp::KVAppend:
    return bindAs<KVAppendParams, kvAppendKernel>;
  case StepOp::Attention:
    return bindAs<AttentionParams, attentionKernel>;
  case StepOp::SiLUMul:
    return bindAs<SiLUMulParams, siluMulKernel>;
  case StepOp::Add:
    return bindAs<BinaryParams, addKernel>;
  case StepOp::Mul:
    return bindAs<BinaryParams, mulKernel>;
  case StepOp::Softmax:
    return bindAs<RowsParams, softmaxKernel>;
  case StepOp::ArgMax:
    return bindAs<RowsParams, argMaxKernel>;
  case StepOp::Slice:
    return bindAs<SliceParams, sliceKernel>;
  case StepOp::Copy:     // device to device
  case StepOp::Prefetch: // host or disk to a staging buffer
    return bindAs<TransferParams, transferKernel>;
  case StepOp::MoERoute:     // no CPU kernel yet
  case StepOp::MoEExperts:   // no CPU kernel yet
  case StepOp::MLAAttention: // no CPU kernel yet
  case StepOp::AllReduce:    // the backend's rendezvous, not a kernel
  case StepOp::AllGather:    // the backend's rendezvous, not a kernel
    return nullptr;
  }
  return nullptr;
}

constexpr std::array<KernelBinder, NumStepOps> KernelTable = [] {
  std::array<KernelBinder, NumStepOps> T{};
  for (size_t I = 0; I < NumStepOps; ++I)
    T[I] = kernelBinder(static_cast<plan::StepOp>(I));
  return T;
}();

} // namespace

llvm::Expected<CpuKernel> bindCpuKernel(const BoundStep &S) {
  plan::StepOp Op = S.Step->Op;
  KernelBinder Bind = KernelTable[static_cast<size_t>(Op)];
  if (!Bind && plan::isCollective(Op))
    return stepError(S, "a collective is not a kernel");
  if (!Bind)
    return stepError(S, "the CPU backend has no kernel for '" +
                            plan::getKindName(Op) + "' yet");
  auto Params = decodeStep(S);
  if (!Params)
    return Params.takeError();
  return Bind(*Params);
}

} // namespace strata::runtime
