//===- OpOperands.h - What each operand of an op is -------------*- C++ -*-===//
//
// Operand positions by name, beside Ops.def (docs/ir.md has the table), so
// that code reading an op says `Op.Operands[MatMulOperand::Weight]` rather
// than `Op.Operands[1]`. moe_experts is variadic: two operands, then three
// weights per expert.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_OPOPERANDS_H
#define STRATA_IR_OPOPERANDS_H

#include "ir/Graph.h"

#include <array>

namespace strata::ir {

namespace EmbeddingOperand {
inline constexpr unsigned Table = 0;
inline constexpr unsigned Ids = 1;
} // namespace EmbeddingOperand
namespace RMSNormOperand {
inline constexpr unsigned Input = 0;
inline constexpr unsigned Weight = 1;
} // namespace RMSNormOperand
namespace MatMulOperand {
inline constexpr unsigned Input = 0;
inline constexpr unsigned Weight = 1;
} // namespace MatMulOperand
namespace RoPEOperand {
inline constexpr unsigned Input = 0;
inline constexpr unsigned Positions = 1;
} // namespace RoPEOperand
namespace KVAppendOperand {
inline constexpr unsigned Cache = 0;
inline constexpr unsigned New = 1;
inline constexpr unsigned Positions = 2;
} // namespace KVAppendOperand
namespace AttentionOperand {
inline constexpr unsigned Queries = 0;
inline constexpr unsigned Keys = 1;
inline constexpr unsigned Values = 2;
inline constexpr unsigned Positions = 3;
} // namespace AttentionOperand
/// add, mul and silu_mul: the second is broadcast from the right.
namespace BinaryOperand {
inline constexpr unsigned Left = 0;
inline constexpr unsigned Right = 1;
} // namespace BinaryOperand
namespace MoEExpertsOperand {
inline constexpr unsigned Input = 0;
inline constexpr unsigned Routing = 1;
inline constexpr unsigned FirstExpert = 2;
/// Each expert's weights follow FirstExpert in this order.
enum ExpertPart : unsigned { Gate, Up, Down, PartsPerExpert };
} // namespace MoEExpertsOperand
namespace MLAAttentionOperand {
inline constexpr unsigned Queries = 0;
inline constexpr unsigned Latent = 1;
inline constexpr unsigned RopeKeys = 2;
inline constexpr unsigned KVUp = 3;
inline constexpr unsigned Positions = 4;
} // namespace MLAAttentionOperand

/// The experts a moe_experts op computes (its operands after the first
/// two, three per expert).
inline unsigned getNumExperts(const Op &O) {
  return (O.Operands.size() - MoEExpertsOperand::FirstExpert) /
         MoEExpertsOperand::PartsPerExpert;
}
/// Operand index of expert E's Part.
inline unsigned getExpertOperand(unsigned E, MoEExpertsOperand::ExpertPart P) {
  return MoEExpertsOperand::FirstExpert +
         E * MoEExpertsOperand::PartsPerExpert + P;
}

} // namespace strata::ir

#endif // STRATA_IR_OPOPERANDS_H
