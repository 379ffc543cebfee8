//===- Plan.cpp - Accessors of the plan types -----------------------------===//

#include "ir/plan/Plan.h"

#include "llvm/Support/ErrorHandling.h"

#include <initializer_list>

namespace strata::plan {

template <> llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<BufferKind>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_BUFFER_KIND(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

template <> llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<RegionKind>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_REGION_KIND(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

template <> llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<StreamKind>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_STREAM_KIND(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

template <> llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<StepOp>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_STEP_OP(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

template <>
llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<CleanupKind>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_CLEANUP_KIND(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

template <> llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<DeviceKind>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_DEVICE_KIND(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

template <>
llvm::ArrayRef<llvm::StringLiteral> getKindSpellings<FallbackKind>() {
  static constexpr llvm::StringLiteral Names[] = {
#define STRATA_FALLBACK_KIND(Enumerator, Spelling) Spelling,
#include "ir/plan/PlanKinds.def"
  };
  return Names;
}

uint64_t Device::regionBytes(RegionKind R) const {
  switch (R) {
  case RegionKind::None:
    return 0;
  case RegionKind::Weights:
    return WeightRegionBytes;
  case RegionKind::KVCache:
    return KVCacheRegionBytes;
  case RegionKind::Arena:
    return ArenaRegionBytes;
  }
  llvm_unreachable("unknown region");
}

/// Sums saturate: a plan read from a file may claim anything.
static uint64_t saturatingSum(std::initializer_list<uint64_t> Terms) {
  uint64_t Sum = 0;
  for (uint64_t T : Terms)
    Sum = T > UINT64_MAX - Sum ? UINT64_MAX : Sum + T;
  return Sum;
}

uint64_t Device::regionBytes() const {
  return saturatingSum(
      {WeightRegionBytes, KVCacheRegionBytes, ArenaRegionBytes});
}

uint64_t Device::neededBytes() const {
  return saturatingSum({regionBytes(), ReserveBytes});
}

std::optional<int64_t> StepAttrs::getInt(llvm::StringRef Key) const {
  auto It = Values.find(Key.str());
  if (It == Values.end())
    return std::nullopt;
  if (const int64_t *I = std::get_if<int64_t>(&It->second))
    return *I;
  return std::nullopt;
}

std::optional<double> StepAttrs::getFloat(llvm::StringRef Key) const {
  auto It = Values.find(Key.str());
  if (It == Values.end())
    return std::nullopt;
  // JSON does not tell 10000.0 from 10000: a float attribute may read back
  // as an integer.
  if (const int64_t *I = std::get_if<int64_t>(&It->second))
    return static_cast<double>(*I);
  if (const double *D = std::get_if<double>(&It->second))
    return *D;
  return std::nullopt;
}

std::optional<std::string> StepAttrs::getString(llvm::StringRef Key) const {
  auto It = Values.find(Key.str());
  if (It == Values.end())
    return std::nullopt;
  if (const std::string *S = std::get_if<std::string>(&It->second))
    return *S;
  return std::nullopt;
}

const std::vector<int64_t> *StepAttrs::getInts(llvm::StringRef Key) const {
  auto It = Values.find(Key.str());
  if (It == Values.end())
    return nullptr;
  return std::get_if<std::vector<int64_t>>(&It->second);
}

const ProgramSchedule *Plan::findProgram(llvm::StringRef Name) const {
  for (const ProgramSchedule &P : Programs)
    if (P.Name == Name)
      return &P;
  return nullptr;
}

} // namespace strata::plan
