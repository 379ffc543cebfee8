//===- JSONAgreement.h - parseJSON against llvm::json::parse ----*- C++ -*-===//
//
// strata::parseJSONDocument and parseJSON must read every text as
// llvm::json::parse does: the same value, or the same error at the same
// place, with two deliberate differences (hasHighSurrogatePair, and the
// double 2^63, which json::Value calls an int64). fuzz/FuzzJSON checks it
// on what libFuzzer makes, tests/unit/JSONParserTest on fixed and random
// texts.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_FUZZ_JSONAGREEMENT_H
#define STRATA_FUZZ_JSONAGREEMENT_H

#include "ir/support/JSONDocument.h"
#include "ir/support/JSONParser.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <string>

namespace strata::fuzz {

using llvm::json::Value;

inline llvm::StringRef keyOf(const llvm::json::Object::value_type &KV) {
  return KV.first;
}
inline llvm::StringRef keyOf(const JSONMember &M) { return M.Key; }
inline const Value &valueOf(const llvm::json::Object::value_type &KV) {
  return KV.second;
}
inline const JSONValue &valueOf(const JSONMember &M) { return M.Value; }

/// Equal as every reader sees a value, through the accessors that
/// json::Value and JSONValue share: null, booleans, every number accessor,
/// strings (unless Strings is false), elements and members.
template <typename L, typename R>
bool sameValue(const L &A, const R &B, bool Strings = true) {
  llvm::Optional<double> X = A.getAsNumber(), Y = B.getAsNumber();
  // json::Value converts the double 2^63 to int64, which overflows (LLVM
  // 14's range check ends at double(INT64_MAX), which is 2^63); JSONValue
  // says it is no int64.
  bool Overflows = (X && *X == 0x1p63) || (Y && *Y == 0x1p63);
  if (A.getAsNull().hasValue() != B.getAsNull().hasValue() ||
      A.getAsBoolean() != B.getAsBoolean() ||
      (!Overflows && A.getAsInteger() != B.getAsInteger()) ||
      A.getAsUINT64() != B.getAsUINT64())
    return false;
  if (X.hasValue() != Y.hasValue() ||
      (X && *X != *Y && !(std::isnan(*X) && std::isnan(*Y))))
    return false;
  llvm::Optional<llvm::StringRef> S = A.getAsString(), T = B.getAsString();
  if (S.hasValue() != T.hasValue() || (S && Strings && *S != *T))
    return false;
  const auto *LA = A.getAsArray();
  const auto *RA = B.getAsArray();
  if (!LA != !RA || (LA && LA->size() != RA->size()))
    return false;
  for (size_t I = 0; LA && I < LA->size(); ++I)
    if (!sameValue((*LA)[I], (*RA)[I], Strings))
      return false;
  const auto *LO = A.getAsObject();
  const auto *RO = B.getAsObject();
  if (!LO != !RO || (LO && LO->size() != RO->size()))
    return false;
  if (LO)
    for (const auto &M : *LO) {
      const auto *Other = RO->get(keyOf(M));
      if (!Other || !sameValue(valueOf(M), *Other, Strings))
        return false;
    }
  return true;
}

/// Whether Text escapes a surrogate pair for a code point from U+20000 up,
/// which LLVM 14 decodes wrongly: it ORs the halves' bits into 0x10000
/// instead of adding, so U+47600 (\ud8dd\ude00) reads as U+37600.
/// parseJSON decodes them as RFC 8259 says; strings are not compared then.
inline bool hasHighSurrogatePair(llvm::StringRef Text) {
  std::string Lower = Text.lower();
  for (size_t At = Lower.find("\\ud"); At != std::string::npos;
       At = Lower.find("\\ud", At + 1)) {
    llvm::StringRef Hex = llvm::StringRef(Lower).substr(At + 3, 3);
    if (Hex.size() == 3 && Hex >= "840" && Hex <= "bff")
      return true;
  }
  return false;
}

/// An empty string when the parsers agree on Text, else what differs:
/// parseJSONDocument's document and parseJSON's json::Value each against
/// json::parse's.
inline std::string disagreement(llvm::StringRef Text) {
  llvm::Expected<std::unique_ptr<JSONDocument>> Doc = parseJSONDocument(Text);
  llvm::Expected<Value> Ours = parseJSON(Text);
  llvm::Expected<Value> Theirs = llvm::json::parse(Text);
  auto Outcome = [](auto &E) {
    return E ? std::string("a value") : llvm::toString(E.takeError());
  };
  if (!Doc || !Ours || !Theirs) {
    std::string D = Outcome(Doc), O = Outcome(Ours), T = Outcome(Theirs);
    if (D == T && O == T)
      return "";
    return "parseJSONDocument: " + D + "; parseJSON: " + O +
           "; json::parse: " + T;
  }
  bool Strings = !hasHighSurrogatePair(Text);
  if (!sameValue((*Doc)->root(), *Theirs, Strings))
    return llvm::formatv("parseJSONDocument read {0}, json::parse read {1}",
                         (*Doc)->root(), *Theirs)
        .str();
  if (!sameValue(*Ours, *Theirs, Strings))
    return llvm::formatv("parseJSON read {0}, json::parse read {1}", *Ours,
                         *Theirs)
        .str();
  return "";
}

} // namespace strata::fuzz

#endif // STRATA_FUZZ_JSONAGREEMENT_H
