//===- WeightRole.h - What each weight of a model is for --------*- C++ -*-===//
//
// A weight's role (WeightRoles.def) is an attribute the lowering sets,
// `role = "attn_output"`. It tells later stages what they need to know of a
// tensor (how tensor parallelism splits it, which group a report counts it
// in) without reading its name, which is the file format's business.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_WEIGHTROLE_H
#define STRATA_IR_WEIGHTROLE_H

#include "ir/Attribute.h"

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace strata::ir {

enum class WeightRole : uint8_t {
#define STRATA_WEIGHT_ROLE(Enum, Name, Family, TensorParallel) Enum,
#include "ir/WeightRoles.def"
};

/// How a tensor-parallel group holds a weight (WeightRoles.def).
enum class TensorParallelSplit : uint8_t { Rows, Columns, Copied };

namespace AttrKeys {
/// A weight's role: a WeightRole's name.
inline constexpr llvm::StringLiteral Role = "role";
} // namespace AttrKeys

llvm::StringRef getWeightRoleName(WeightRole R);
std::optional<WeightRole> parseWeightRole(llvm::StringRef Name);
/// The group reports count it in: "attention", "mlp", "experts", ...
llvm::StringRef getWeightRoleFamily(WeightRole R);
TensorParallelSplit getTensorParallelSplit(WeightRole R);
/// Every role's name, comma-separated, for messages.
std::string listWeightRoles();

/// The role A's `role` attribute names, if it names one.
std::optional<WeightRole> getWeightRole(const AttrDict &A);
void setWeightRole(AttrDict &A, WeightRole R);

} // namespace strata::ir

#endif // STRATA_IR_WEIGHTROLE_H
