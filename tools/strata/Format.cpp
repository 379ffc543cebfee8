//===- Format.cpp - Numbers for people ------------------------------------===//

#include "Format.h"

#include "ir/Attribute.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::tool {

std::string formatFloat(double D) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  ir::Attribute(D).print(OS);
  return OS.str();
}

std::string plural(uint64_t N, llvm::StringRef Noun) {
  return std::to_string(N) + " " + Noun.str() + (N == 1 ? "" : "s");
}

llvm::Expected<uint64_t> parseSize(llvm::StringRef Text) {
  llvm::StringRef T = Text.trim();
  static const std::pair<llvm::StringRef, uint64_t> Units[] = {
      {"TiB", 1ull << 40}, {"GiB", 1ull << 30},      {"MiB", 1ull << 20},
      {"KiB", 1ull << 10}, {"TB", 1000000000000ull}, {"GB", 1000000000ull},
      {"MB", 1000000ull},  {"KB", 1000ull},          {"B", 1}};
  uint64_t Scale = 1;
  for (const auto &[Suffix, S] : Units)
    if (T.endswith(Suffix)) {
      T = T.drop_back(Suffix.size()).trim();
      Scale = S;
      break;
    }
  double V = 0;
  if (T.empty() || T.getAsDouble(V) || !(V > 0) || V * Scale > 1.8e19)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'" + Text +
                                       "' is not a size such as "
                                       "70GiB, 40GB or 512MiB");
  return static_cast<uint64_t>(V * static_cast<double>(Scale));
}

} // namespace strata::tool
