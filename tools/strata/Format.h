//===- Format.h - Numbers for people ----------------------------*- C++ -*-===//

#ifndef STRATA_TOOLS_FORMAT_H
#define STRATA_TOOLS_FORMAT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include "ir/Units.h"
#include "tools/strata/viz/PlanSummary.h"
#include <cstdint>

#include <set>
#include <string>

namespace strata::tool {

using ir::formatBytes;
using ir::formatCount;

/// The shortest form that reads back to the same double: 1e-05, 10000.0.
std::string formatFloat(double D);
/// "1 token", "2 tokens".
std::string plural(uint64_t N, llvm::StringRef Noun);
/// Parses a size: "70GiB", "40GB", "512MiB", "64KiB", "1048576" (bytes).
llvm::Expected<uint64_t> parseSize(llvm::StringRef Text);
/// "0-9, 12" from a set of layer numbers; "" for none.
using viz::formatRanges;

} // namespace strata::tool

#endif // STRATA_TOOLS_FORMAT_H
