//===- Format.h - Numbers for people ----------------------------*- C++ -*-===//

#ifndef STRATA_TOOLS_FORMAT_H
#define STRATA_TOOLS_FORMAT_H

#include "llvm/ADT/StringRef.h"
#include <cstdint>

#include <string>

namespace strata::tool {

/// 8030261248 -> "8,030,261,248".
std::string formatCount(uint64_t N);
/// The shortest form that reads back to the same double: 1e-05, 10000.0.
std::string formatFloat(double D);
/// "1 token", "2 tokens".
std::string plural(uint64_t N, llvm::StringRef Noun);
/// Binary units with three significant digits: 1536 -> "1.50 KiB".
std::string formatBytes(uint64_t Bytes);

} // namespace strata::tool

#endif // STRATA_TOOLS_FORMAT_H
