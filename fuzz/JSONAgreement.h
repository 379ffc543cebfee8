//===- JSONAgreement.h - parseJSON against llvm::json::parse ----*- C++ -*-===//
//
// strata::parseJSON must read every text as llvm::json::parse does: the
// same value, or the same error at the same place, with one deliberate
// difference (hasHighSurrogatePair). fuzz/FuzzJSON checks it on what
// libFuzzer makes, tests/unit/JSONParserTest on fixed and random texts.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_FUZZ_JSONAGREEMENT_H
#define STRATA_FUZZ_JSONAGREEMENT_H

#include "ir/plan/JSONParser.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <string>

namespace strata::fuzz {

using llvm::json::Value;

/// Equal as every reader of a json::Value sees it: kinds, every number
/// accessor, strings (unless Strings is false), elements and keys.
inline bool sameValue(const Value &A, const Value &B, bool Strings = true) {
  if (A.kind() != B.kind())
    return false;
  switch (A.kind()) {
  case Value::Null:
    return true;
  case Value::Boolean:
    return *A.getAsBoolean() == *B.getAsBoolean();
  case Value::Number: {
    double X = *A.getAsNumber(), Y = *B.getAsNumber();
    return A.getAsInteger() == B.getAsInteger() &&
           A.getAsUINT64() == B.getAsUINT64() &&
           (X == Y || (std::isnan(X) && std::isnan(Y)));
  }
  case Value::String:
    return !Strings || *A.getAsString() == *B.getAsString();
  case Value::Array: {
    const llvm::json::Array &L = *A.getAsArray(), &R = *B.getAsArray();
    if (L.size() != R.size())
      return false;
    for (size_t I = 0; I < L.size(); ++I)
      if (!sameValue(L[I], R[I], Strings))
        return false;
    return true;
  }
  case Value::Object: {
    const llvm::json::Object &L = *A.getAsObject(), &R = *B.getAsObject();
    if (L.size() != R.size())
      return false;
    for (const auto &KV : L) {
      const Value *Other = R.get(KV.first);
      if (!Other || !sameValue(KV.second, *Other, Strings))
        return false;
    }
    return true;
  }
  }
  return false;
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

/// An empty string when both parsers agree on Text, else what differs.
inline std::string disagreement(llvm::StringRef Text) {
  llvm::Expected<Value> Ours = parseJSON(Text);
  llvm::Expected<Value> Theirs = llvm::json::parse(Text);
  if (!Ours || !Theirs) {
    std::string O = Ours ? "a value" : llvm::toString(Ours.takeError());
    std::string T = Theirs ? "a value" : llvm::toString(Theirs.takeError());
    return O == T ? "" : "parseJSON: " + O + "; json::parse: " + T;
  }
  if (sameValue(*Ours, *Theirs, !hasHighSurrogatePair(Text)))
    return "";
  return llvm::formatv("parseJSON read {0}, json::parse read {1}", *Ours,
                       *Theirs)
      .str();
}

} // namespace strata::fuzz

#endif // STRATA_FUZZ_JSONAGREEMENT_H
