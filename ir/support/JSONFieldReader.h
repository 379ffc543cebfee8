//===- JSONFieldReader.h - Validating reads of a JSON document --*- C++ -*-===//
//
// What every reader of a user's JSON file shares (plans, cluster
// descriptions, config.json): where a value sits (FieldPath,
// "buffers[3].device"), typed reads of a value or of an object's field with
// their checks, and the first problem found, reported as
//
//   FILE: PATH: MESSAGE        plan.json: buffers[3].device: expected ...
//   FILE: MESSAGE              about the document as a whole
//   FILE:LINE:COL: invalid JSON: MESSAGE      (readJSONDocument)
//
// Every read returns false (or null, or nothing) after recording a problem,
// and only the first problem is kept. A reader either chains its reads with
// && so that it stops at the first (the plan reader), or reads a list of
// fields and asks for the error once at the end (the cluster and config.json
// readers); the error is the same either way.
//
// The messages of the reads:
//
//   PATH: required field is missing
//   PATH: expected WHAT, got VALUE    a value of the wrong type; VALUE as
//                                     written when short, else its kind
//   PATH: out of range (at most N)    an integer beyond its type's range
//   PATH: must be positive, must not be negative, must be at most X,
//         expected a whole number     a number outside its NumberRange
//   PATH: expected "a", "b" or "c", got "d"        one of a list of names
//   PATH: unknown key 'k' (known: a, b, c)         knownKeys
//
// llvm::json::Path is not used: its messages read "expected string at
// (root).buffers[3]" and take only string literals, while these carry
// numbers ("device 5 does not exist (the plan has 2 devices)").
//
// The reads that succeed are inline, so that a reader of a large file (the
// plan of 405B on 64 devices has about a million keys) pays no call per
// field; building a message is out of line.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_SUPPORT_JSONFIELDREADER_H
#define STRATA_IR_SUPPORT_JSONFIELDREADER_H

#include "ir/support/JSONDocument.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata {

/// The largest integer a reader accepts. The parser, as LLVM 14's
/// json::parse, turns any larger integer into INT64_MAX without an error, so
/// INT64_MAX itself is ambiguous and refused.
constexpr uint64_t MaxExactJSONInteger = uint64_t(INT64_MAX) - 1;

/// Parses Text, the contents of File, as parseJSONDocument does (nesting
/// bounded at MaxJSONNesting levels). A syntax error reads
/// "FILE:LINE:COL: invalid JSON: MESSAGE", the form editors jump to.
llvm::Expected<std::unique_ptr<JSONDocument>>
readJSONDocument(llvm::StringRef Text, llvm::StringRef File);

/// Where a value sits in a document, e.g. buffers[3].device. A chain of
/// stack frames, formatted only when a problem is reported, so that a valid
/// file costs no string building. Keep every link as a named local: a
/// temporary would leave its children dangling.
class FieldPath {
public:
  FieldPath() = default; ///< The document itself.
  FieldPath field(llvm::StringRef Key) const {
    return FieldPath(this, Key, 0, false);
  }
  FieldPath index(size_t I) const { return FieldPath(this, "", I, true); }

  bool isRoot() const { return !Parent; }
  void print(llvm::raw_ostream &OS) const;
  std::string str() const;

private:
  FieldPath(const FieldPath *Parent, llvm::StringRef Key, size_t Index,
            bool IsIndex)
      : Parent(Parent), Key(Key), Index(Index), IsIndex(IsIndex) {}

  const FieldPath *Parent = nullptr;
  llvm::StringRef Key;
  size_t Index = 0;
  bool IsIndex = false;
};

/// What number() accepts beyond being a number: never negative, and above
/// zero, at most Max and whole when asked.
struct NumberRange {
  bool Positive = false;
  double Max = std::numeric_limits<double>::infinity();
  bool Whole = false;
};

/// The index of S among Names, if any. Empty names never match (they stand
/// for values that have no spelling).
std::optional<size_t> findSpelling(llvm::ArrayRef<llvm::StringLiteral> Names,
                                   llvm::StringRef S, bool IgnoreCase = false);

/// The reads of one document (see the file comment).
class JSONFieldReader {
public:
  /// File names the document at the start of every message.
  explicit JSONFieldReader(llvm::StringRef File) : File(File) {}

  //===--------------------------------------------------------------------===//
  // Problems
  //===--------------------------------------------------------------------===//

  /// Records "PATH: MESSAGE" unless a problem is recorded already; false.
  bool fail(const FieldPath &At, const llvm::Twine &Message);
  /// fail(At, "expected WHAT, got VALUE").
  bool expected(const FieldPath &At, llvm::StringRef What,
                const JSONValue &Got);
  bool failed() const { return Failed; }
  /// "FILE: PATH", or FILE for the document itself: how messages begin.
  std::string where(const FieldPath &At) const;
  /// The first problem as "FILE: PATH: MESSAGE", or success.
  llvm::Error takeError();

  /// V as a message shows it: a scalar as written when short (5, "gpu",
  /// null), else by its kind ("a string", "an empty array", "an object").
  static std::string describe(const JSONValue &V);

  //===--------------------------------------------------------------------===//
  // Values, at At
  //===--------------------------------------------------------------------===//

  const JSONObject *object(const JSONValue &V, const FieldPath &At) {
    if (const JSONObject *O = V.getAsObject())
      return O;
    expected(At, "an object", V);
    return nullptr;
  }
  const JSONArray *array(const JSONValue &V, const FieldPath &At) {
    if (const JSONArray *A = V.getAsArray())
      return A;
    expected(At, "an array", V);
    return nullptr;
  }
  bool string(const JSONValue &V, const FieldPath &At, llvm::StringRef &Out) {
    if (llvm::Optional<llvm::StringRef> S = V.getAsString()) {
      Out = *S;
      return true;
    }
    return expected(At, "a string", V);
  }
  bool string(const JSONValue &V, const FieldPath &At, std::string &Out) {
    llvm::StringRef S;
    if (!string(V, At, S))
      return false;
    Out.assign(S.data(), S.size());
    return true;
  }
  bool boolean(const JSONValue &V, const FieldPath &At, bool &Out) {
    if (llvm::Optional<bool> B = V.getAsBoolean()) {
      Out = *B;
      return true;
    }
    return expected(At, "true or false", V);
  }
  /// A non-negative integer written as one (1.0 or 1e3 hint at a writer
  /// that went through doubles) that fits T, at most MaxExactJSONInteger.
  template <typename T>
  bool integer(const JSONValue &V, const FieldPath &At, T &Out) {
    static_assert(std::is_integral_v<T>, "integer() reads integers");
    constexpr uint64_t Max = std::min<uint64_t>(
        uint64_t(std::numeric_limits<T>::max()), MaxExactJSONInteger);
    llvm::Optional<uint64_t> N = V.getAsUINT64();
    if (N && *N <= Max) {
      Out = static_cast<T>(*N);
      return true;
    }
    return N ? outOfRange(At, Max) : expected(At, "a non-negative integer", V);
  }
  /// Any integer that fits int64, also written as a whole number with a
  /// fraction or exponent (4096.0): json::Value::getAsInteger's rule,
  /// without its overflow at 2^63.
  bool signedInteger(const JSONValue &V, const FieldPath &At, int64_t &Out) {
    if (llvm::Optional<int64_t> I = V.getAsInteger()) {
      Out = *I;
      return true;
    }
    return expected(At, "an integer", V);
  }
  bool number(const JSONValue &V, const FieldPath &At, double &Out) {
    if (llvm::Optional<double> D = V.getAsNumber()) {
      Out = *D;
      return true;
    }
    return expected(At, "a number", V);
  }
  bool number(const JSONValue &V, const FieldPath &At, double &Out,
              const NumberRange &Range);
  /// The index of V's spelling among Names; anything else is
  /// 'expected "a", "b" or "c", got ...'.
  std::optional<size_t> oneOf(const JSONValue &V, const FieldPath &At,
                              llvm::ArrayRef<llvm::StringLiteral> Names) {
    if (llvm::Optional<llvm::StringRef> S = V.getAsString())
      if (std::optional<size_t> I = findSpelling(Names, *S))
        return I;
    notOneOf(At, Names, V);
    return std::nullopt;
  }

  //===--------------------------------------------------------------------===//
  // Fields: O[Key], at At.Key
  //===--------------------------------------------------------------------===//

  /// The value of a required field. An optional field is one read only
  /// when O.get(Key) finds it.
  const JSONValue *required(const JSONObject &O, const FieldPath &At,
                            llvm::StringRef Key) {
    if (const JSONValue *V = O.get(Key))
      return V;
    missing(At, Key);
    return nullptr;
  }
  /// Fails on the first key (in sorted order) that is not in Known, so that
  /// a misspelt optional key is not silently ignored.
  bool knownKeys(const JSONObject &O, const FieldPath &At,
                 llvm::ArrayRef<llvm::StringLiteral> Known);

  /// Reads the required field Key with Read(value, its path).
  template <typename Fn>
  bool field(const JSONObject &O, const FieldPath &At, llvm::StringRef Key,
             Fn Read) {
    const JSONValue *V = required(O, At, Key);
    if (!V)
      return false;
    FieldPath Here = At.field(Key);
    return Read(*V, Here);
  }

  const JSONObject *object(const JSONObject &O, const FieldPath &At,
                           llvm::StringRef Key) {
    const JSONValue *V = required(O, At, Key);
    FieldPath Here = At.field(Key);
    return V ? object(*V, Here) : nullptr;
  }
  const JSONArray *array(const JSONObject &O, const FieldPath &At,
                         llvm::StringRef Key) {
    const JSONValue *V = required(O, At, Key);
    FieldPath Here = At.field(Key);
    return V ? array(*V, Here) : nullptr;
  }
  bool string(const JSONObject &O, const FieldPath &At, llvm::StringRef Key,
              std::string &Out) {
    return field(O, At, Key, [&](const JSONValue &V, const FieldPath &Here) {
      return string(V, Here, Out);
    });
  }
  bool boolean(const JSONObject &O, const FieldPath &At, llvm::StringRef Key,
               bool &Out) {
    return field(O, At, Key, [&](const JSONValue &V, const FieldPath &Here) {
      return boolean(V, Here, Out);
    });
  }
  template <typename T>
  bool integer(const JSONObject &O, const FieldPath &At, llvm::StringRef Key,
               T &Out) {
    return field(O, At, Key, [&](const JSONValue &V, const FieldPath &Here) {
      return integer(V, Here, Out);
    });
  }
  std::optional<size_t> oneOf(const JSONObject &O, const FieldPath &At,
                              llvm::StringRef Key,
                              llvm::ArrayRef<llvm::StringLiteral> Names) {
    const JSONValue *V = required(O, At, Key);
    if (!V)
      return std::nullopt;
    FieldPath Here = At.field(Key);
    return oneOf(*V, Here, Names);
  }

private:
  bool missing(const FieldPath &At, llvm::StringRef Key);
  bool outOfRange(const FieldPath &At, uint64_t Max);
  bool notOneOf(const FieldPath &At, llvm::ArrayRef<llvm::StringLiteral> Names,
                const JSONValue &Got);

  llvm::StringRef File;
  bool Failed = false;
  std::string Problem; ///< The first one, without the file name.
};

} // namespace strata

#endif // STRATA_IR_SUPPORT_JSONFIELDREADER_H
