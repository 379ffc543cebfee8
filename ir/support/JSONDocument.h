//===- JSONDocument.h - A read-only JSON document, compact ------*- C++ -*-===//
//
// What parseJSONDocument reads: values in one arena, objects as arrays of
// members, strings pointing into the text where they hold no escape. The
// accessors are llvm::json::Value's, so that a reader written against one
// reads the other.
//
// Why not llvm::json::Value: each json::Object is a DenseMap, which
// allocates at least 64 buckets (about 4 KB) for its first key, so reading
// a plan of 170,000 small objects (405B on 64 devices) took 700 MB and most
// of its time in malloc and page faults. Here an object of 13 members
// takes 13 members.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_SUPPORT_JSONDOCUMENT_H
#define STRATA_IR_SUPPORT_JSONDOCUMENT_H

#include "ir/support/JSONNesting.h"

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <memory>

namespace strata {

class JSONValue;
struct JSONMember;

class JSONArray {
public:
  size_t size() const { return Size; }
  bool empty() const { return Size == 0; }
  const JSONValue &operator[](size_t I) const;
  const JSONValue *begin() const { return Data; }
  const JSONValue *end() const;

private:
  friend class JSONDocumentBuilder;
  const JSONValue *Data = nullptr;
  size_t Size = 0;
};

/// Members in file order; a repeated key keeps its last value, at the place
/// of its first (as json::parse keeps it).
class JSONObject {
public:
  size_t size() const { return Size; }
  bool empty() const { return Size == 0; }
  const JSONMember *begin() const { return Data; }
  const JSONMember *end() const;
  /// The value of Key, or null. A linear scan: plan objects have a dozen
  /// members.
  const JSONValue *get(llvm::StringRef Key) const;

private:
  friend class JSONDocumentBuilder;
  const JSONMember *Data = nullptr;
  size_t Size = 0;
};

class JSONValue {
public:
  enum Kind : uint8_t { Null, Boolean, Integer, Double, String, Array, Object };

  JSONValue() : K(Null), I(0) {}
  Kind kind() const { return K; }

  llvm::Optional<std::nullptr_t> getAsNull() const {
    if (K == Null)
      return nullptr;
    return llvm::None;
  }
  llvm::Optional<bool> getAsBoolean() const {
    if (K == Boolean)
      return B;
    return llvm::None;
  }
  llvm::Optional<double> getAsNumber() const {
    if (K == Double)
      return D;
    if (K == Integer)
      return double(I);
    return llvm::None;
  }
  /// An integer, or a double that is one and fits in int64.
  llvm::Optional<int64_t> getAsInteger() const;
  /// A non-negative integer (not a double), as json::Value gives it.
  llvm::Optional<uint64_t> getAsUINT64() const {
    if (K == Integer && I >= 0)
      return uint64_t(I);
    return llvm::None;
  }
  llvm::Optional<llvm::StringRef> getAsString() const {
    if (K == String)
      return S;
    return llvm::None;
  }
  const JSONArray *getAsArray() const { return K == Array ? &A : nullptr; }
  const JSONObject *getAsObject() const { return K == Object ? &O : nullptr; }

  /// The same value as an llvm::json::Value, for code that takes one.
  llvm::json::Value toLLVM() const;

private:
  friend class JSONDocumentBuilder;
  Kind K;
  union {
    bool B;
    int64_t I;
    double D;
    llvm::StringRef S;
    JSONArray A;
    JSONObject O;
  };
};

struct JSONMember {
  llvm::StringRef Key;
  JSONValue Value;
};

inline const JSONValue &JSONArray::operator[](size_t I) const {
  return Data[I];
}
inline const JSONValue *JSONArray::end() const { return Data + Size; }
inline const JSONMember *JSONObject::end() const { return Data + Size; }

/// A parsed document. Strings may point into the text it was read from:
/// keep the text alive while the document is used.
class JSONDocument {
public:
  const JSONValue &root() const { return Root; }

private:
  friend class JSONDocumentBuilder;
  llvm::BumpPtrAllocator Arena;
  JSONValue Root;
};

/// Parses Text with llvm::json::parse's grammar, values and errors
/// (JSONParser.h). Arrays and objects nested deeper than MaxDepth are an
/// error.
llvm::Expected<std::unique_ptr<JSONDocument>>
parseJSONDocument(llvm::StringRef Text, unsigned MaxDepth = MaxJSONNesting);

} // namespace strata

/// Prints a value as compact JSON, as llvm::json::Value prints.
template <> struct llvm::format_provider<strata::JSONValue> {
  static void format(const strata::JSONValue &V, llvm::raw_ostream &OS,
                     llvm::StringRef Options) {
    llvm::format_provider<llvm::json::Value>::format(V.toLLVM(), OS, Options);
  }
};

#endif // STRATA_IR_SUPPORT_JSONDOCUMENT_H
