//===- FuzzJSON.cpp - libFuzzer target for the JSON parser ----------------===//
//
// The input is any text. strata::parseJSONDocument, which reads every plan,
// config.json and cluster description, and parseJSON, which reads
// safetensors headers and indexes, must read it as llvm::json::parse does
// (fuzz/JSONAgreement.h); a difference aborts, and
// libFuzzer keeps the input. Texts nested deeper than the limit are left
// out: there json::parse would recurse without a bound.
//
//===----------------------------------------------------------------------===//

#include "fuzz/JSONAgreement.h"
#include "ir/support/JSONNesting.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  if (strata::findJSONNestingBeyond(Text, strata::MaxJSONNesting))
    return 0;
  std::string Why = strata::fuzz::disagreement(Text);
  if (!Why.empty()) {
    llvm::errs() << "the parsers disagree: " << Why << '\n';
    std::abort();
  }
  return 0;
}
