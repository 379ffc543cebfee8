//===- Units.h - Byte counts and counts for people --------------*- C++ -*-===//

#ifndef STRATA_IR_UNITS_H
#define STRATA_IR_UNITS_H

#include <cstdint>
#include <string>

namespace strata::ir {

/// 8030261248 -> "8,030,261,248".
std::string formatCount(uint64_t N);
/// Binary units with three significant digits: 1536 -> "1.50 KiB".
std::string formatBytes(uint64_t Bytes);

} // namespace strata::ir

#endif // STRATA_IR_UNITS_H
