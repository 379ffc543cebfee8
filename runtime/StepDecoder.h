//===- StepDecoder.h - A bound step as typed kernel parameters --*- C++ -*-===//
//
// Every backend needs the same facts of a step: which operand is which, the
// sizes its kernel loops over, and the constants its attributes give. The
// decoder reads them once, when a program is prepared, and checks them
// (operand counts, ranks, shapes, element types, required attributes) with
// errors that name the step; a backend then only maps each decoded step
// onto a kernel call (the CPU backend through a table indexed by
// plan::StepOp, cpu/CpuKernels.cpp). Nothing here knows a backend.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_STEPDECODER_H
#define STRATA_RUNTIME_STEPDECODER_H

#include "runtime/Backend.h"

#include <variant>

namespace strata::runtime {

/// How many values plan::StepOp has (ir/plan/PlanKinds.def): the size of a
/// table indexed by op.
inline constexpr size_t NumStepOps = 0
#define STRATA_STEP_OP(Enumerator, Spelling) +1
#include "ir/plan/PlanKinds.def"
    ;

/// embedding: Out[t] = Table[Ids[t] - RowOffset] for ids this table (a
/// vocabulary shard, under tensor parallelism) holds; zero rows otherwise.
struct EmbeddingParams {
  TensorView Table, Ids, Out;
  int64_t Rows = 0, Dim = 0; ///< Of the table held.
  int64_t RowOffset = 0;     ///< The vocabulary row that Table's row 0 is.
  int64_t Vocab = -1;        ///< The whole vocabulary; -1: Rows (not split).
};

/// rms_norm over the last axis.
struct RMSNormParams {
  TensorView X, Weight, Out;
  int64_t Rows = 0, Dim = 0;
  float Eps = 1e-5f;
};

/// matmul: Out[Rows, OutFeatures] = X[Rows, In] Weight^T, Weight [Out, In].
struct MatMulParams {
  TensorView X, Weight, Out;
  int64_t Rows = 0, In = 0, OutFeatures = 0;
};

enum class RoPEMode { Normal, NeoX };
enum class RoPEScaling { None, Linear, Llama3, YaRN };

/// rope on X [Batch, Tokens, Heads, HeadDim] at Pos [Batch, Tokens].
struct RoPEParams {
  TensorView X, Pos, Out;
  int64_t Batch = 0, Tokens = 0, Heads = 0, HeadDim = 0;
  double Theta = 10000;
  RoPEMode Mode = RoPEMode::Normal;
  RoPEScaling Scaling = RoPEScaling::None;
  double Factor = 1;           ///< Linear, Llama3, YaRN.
  double LowFreqFactor = 1;    ///< Llama3.
  double HighFreqFactor = 4;   ///< Llama3.
  int64_t OriginalContext = 0; ///< Llama3, YaRN.
  double BetaFast = 32;        ///< YaRN.
  double BetaSlow = 1;         ///< YaRN.
  double MScale = 1;           ///< YaRN.
  double MScaleAllDim = 0;     ///< YaRN.
};

/// kv_append: New [Batch, Tokens, Heads, HeadDim] written into Cache
/// [Batch, Context, Heads, HeadDim] at Pos [Batch, Tokens], in place.
struct KVAppendParams {
  TensorView Cache, New, Pos;
  int64_t Batch = 0, Context = 0, Heads = 0, HeadDim = 0, Tokens = 0;
};

/// attention of Q [Batch, Tokens, Heads, KeyDim] over the caches K
/// [Batch, Context, KVHeads, KeyDim] and V [.., KVHeads, ValueDim], causal
/// at Pos.
struct AttentionParams {
  TensorView Q, K, V, Pos, Out;
  int64_t Batch = 0, Tokens = 0, Heads = 0, KVHeads = 0;
  int64_t KeyDim = 0, ValueDim = 0, Context = 0;
};

/// silu_mul: Out = silu(Gate) * Up, N elements.
struct SiLUMulParams {
  TensorView Gate, Up, Out;
  int64_t N = 0;
};

/// add and mul: Out = A op B, B repeated over A when it is shorter.
struct BinaryParams {
  TensorView A, B, Out;
  int64_t NumA = 0, NumB = 0;
};

/// softmax and argmax over the last axis of X, Rows rows of N.
struct RowsParams {
  TensorView X, Out;
  int64_t Rows = 0, N = 0;
};

/// slice: [Begin, End) of Axis of X (shape Dims).
struct SliceParams {
  TensorView X, Out;
  llvm::SmallVector<int64_t, 4> Dims;
  int64_t Axis = 0, Begin = 0, End = 0;
};

/// copy and prefetch: bytes moved as Rows rows of RowBytes each, row R read
/// at SrcOffset + R * SrcPitch and written at DstOffset + R * RowBytes (a
/// whole buffer is one row; a member's share of a tensor cut along an axis
/// is one row per outer index), or, when Convert is set, N elements
/// converted from Src's element type to Dst's.
struct TransferParams {
  TensorView Src, Dst;
  bool Convert = false;
  int64_t N = 0; ///< Elements, when Convert.
  int64_t Rows = 1;
  uint64_t RowBytes = 0, SrcPitch = 0, SrcOffset = 0, DstOffset = 0;
};

/// all_reduce (sum, in f32) and all_gather (along Axis): this member's
/// input and output.
struct CollectiveParams {
  TensorView In, Out;
  int64_t Axis = 0; ///< all_gather only.
};

using StepParams =
    std::variant<EmbeddingParams, RMSNormParams, MatMulParams, RoPEParams,
                 KVAppendParams, AttentionParams, SiLUMulParams, BinaryParams,
                 RowsParams, SliceParams, TransferParams, CollectiveParams>;

/// The parameters of S's kernel, checked against its bound buffers; an
/// error naming the step for a wrong number of operands, a rank or shape
/// the op cannot take, an element type it cannot take, or a missing or bad
/// attribute. Ops no backend has kernels for (moe_route, moe_experts,
/// mla_attention) are errors too.
llvm::Expected<StepParams> decodeStep(const BoundStep &S);

/// An error about S: "step 12 (matmul 'l0.q' on device 1): Msg".
llvm::Error stepError(const BoundStep &S, const llvm::Twine &Msg);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_STEPDECODER_H
