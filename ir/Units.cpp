//===- Units.cpp - Byte counts and counts for people ----------------------===//

#include "ir/Units.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <iterator>

namespace strata::ir {

std::string formatCount(uint64_t N) {
  std::string Digits = std::to_string(N);
  std::string Out;
  for (size_t I = 0; I < Digits.size(); ++I) {
    if (I && (Digits.size() - I) % 3 == 0)
      Out += ',';
    Out += Digits[I];
  }
  return Out;
}

std::string formatBytes(uint64_t Bytes) {
  static const char *Units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double V = static_cast<double>(Bytes);
  unsigned U = 0;
  while (V >= 1024 && U + 1 < std::size(Units)) {
    V /= 1024;
    ++U;
  }
  std::string S;
  llvm::raw_string_ostream OS(S);
  if (U == 0)
    OS << Bytes << " B";
  else
    OS << llvm::format(V < 10    ? "%.2f %s"
                       : V < 100 ? "%.1f %s"
                                 : "%.0f %s",
                       V, Units[U]);
  return OS.str();
}

} // namespace strata::ir
