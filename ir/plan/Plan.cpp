//===- Plan.cpp - Accessors of the plan types -----------------------------===//

#include "ir/plan/Plan.h"

namespace strata::plan {

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
