//===- WeightRole.cpp - What each weight of a model is for ----------------===//

#include "ir/WeightRole.h"

#include "llvm/ADT/StringExtras.h"

namespace strata::ir {
namespace {

struct RoleInfo {
  llvm::StringLiteral Name;
  llvm::StringLiteral Family;
  TensorParallelSplit Split;
};

constexpr RoleInfo Roles[] = {
#define STRATA_WEIGHT_ROLE(Enum, Name, Family, TensorParallel)                 \
  {Name, Family, TensorParallelSplit::TensorParallel},
#include "ir/WeightRoles.def"
};

const RoleInfo &info(WeightRole R) { return Roles[static_cast<size_t>(R)]; }

} // namespace

llvm::StringRef getWeightRoleName(WeightRole R) { return info(R).Name; }

std::optional<WeightRole> parseWeightRole(llvm::StringRef Name) {
  for (size_t I = 0; I < std::size(Roles); ++I)
    if (Roles[I].Name == Name)
      return static_cast<WeightRole>(I);
  return std::nullopt;
}

llvm::StringRef getWeightRoleFamily(WeightRole R) { return info(R).Family; }

TensorParallelSplit getTensorParallelSplit(WeightRole R) {
  return info(R).Split;
}

std::string listWeightRoles() {
  std::string Out;
  for (const RoleInfo &I : Roles)
    Out += (Out.empty() ? "" : ", ") + I.Name.str();
  return Out;
}

std::optional<WeightRole> getWeightRole(const AttrDict &A) {
  std::optional<llvm::StringRef> Name = A.getString(AttrKeys::Role);
  return Name ? parseWeightRole(*Name) : std::nullopt;
}

void setWeightRole(AttrDict &A, WeightRole R) {
  A.set(AttrKeys::Role, getWeightRoleName(R).str());
}

} // namespace strata::ir
