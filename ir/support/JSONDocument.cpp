//===- JSONDocument.cpp - A read-only JSON document, compact --------------===//

#include "ir/support/JSONDocument.h"

#include <cmath>
#include <limits>

namespace strata {

const JSONValue *JSONObject::get(llvm::StringRef Key) const {
  for (const JSONMember &M : *this)
    if (M.Key == Key)
      return &M.Value;
  return nullptr;
}

llvm::Optional<int64_t> JSONValue::getAsInteger() const {
  if (K == Integer)
    return I;
  if (K == Double) {
    // 2^63 itself is out of range: int64's largest is 2^63 - 1.
    double Whole = 0;
    if (std::modf(D, &Whole) == 0.0 && Whole >= -0x1p63 && Whole < 0x1p63)
      return int64_t(Whole);
  }
  return llvm::None;
}

llvm::json::Value JSONValue::toLLVM() const {
  switch (K) {
  case Null:
    return nullptr;
  case Boolean:
    return B;
  case Integer:
    return I;
  case Double:
    return D;
  case String:
    return S.str();
  case Array: {
    llvm::json::Array Out;
    Out.reserve(A.size());
    for (const JSONValue &E : A)
      Out.push_back(E.toLLVM());
    return Out;
  }
  case Object: {
    llvm::json::Object Out;
    for (const JSONMember &M : O)
      Out[M.Key.str()] = M.Value.toLLVM();
    return Out;
  }
  }
  llvm_unreachable("unknown JSON value kind");
}

} // namespace strata
