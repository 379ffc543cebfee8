//===- Attribute.h - Constant attributes of ops and values ------*- C++ -*-===//
//
// An attribute is a constant: a boolean, a 64-bit integer, a double, a string
// or a list of integers. An AttrDict keeps them sorted by key, so that text
// and plans print them in one order whatever order they were set in.
//
// Keys with a meaning across the pipeline (layer, device, offset) are listed
// in AttrKeys; the verifier checks their types.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_ATTRIBUTE_H
#define STRATA_IR_ATTRIBUTE_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::ir {

namespace AttrKeys {
/// The decoder layer a value or op belongs to (absent outside layers).
inline constexpr llvm::StringLiteral Layer = "layer";
/// The device index placement assigned (filled in by placement passes).
inline constexpr llvm::StringLiteral Device = "device";
/// Byte offset in the device's region (filled in by memory planning).
inline constexpr llvm::StringLiteral Offset = "offset";
} // namespace AttrKeys

class Attribute {
public:
  using IntList = std::vector<int64_t>;
  enum class Kind : uint8_t { Bool, Int, Float, String, IntList };

  Attribute(bool B) : V(B) {}
  Attribute(int64_t I) : V(I) {}
  Attribute(int I) : V(int64_t(I)) {}
  Attribute(double D) : V(D) {}
  Attribute(std::string S) : V(std::move(S)) {}
  Attribute(const char *S) : V(std::string(S)) {}
  Attribute(IntList L) : V(std::move(L)) {}

  Kind kind() const { return static_cast<Kind>(V.index()); }
  static llvm::StringRef kindName(Kind K);

  bool isBool() const { return kind() == Kind::Bool; }
  bool isInt() const { return kind() == Kind::Int; }
  bool isFloat() const { return kind() == Kind::Float; }
  bool isString() const { return kind() == Kind::String; }
  bool isIntList() const { return kind() == Kind::IntList; }

  bool getBool() const { return std::get<bool>(V); }
  int64_t getInt() const { return std::get<int64_t>(V); }
  double getFloat() const { return std::get<double>(V); }
  const std::string &getString() const { return std::get<std::string>(V); }
  const IntList &getIntList() const { return std::get<IntList>(V); }

  bool operator==(const Attribute &O) const { return V == O.V; }

  /// Prints the text form; floats in the shortest form that reads back to
  /// the same double, always with a '.' or an exponent.
  void print(llvm::raw_ostream &OS) const;

private:
  std::variant<bool, int64_t, double, std::string, IntList> V;
};

/// Attributes sorted by key. Most ops and values have one to three, so a
/// small sorted vector beats a tree: no allocation per entry, which matters
/// for graphs of hundreds of thousands of values.
class AttrDict {
public:
  using Entry = std::pair<std::string, Attribute>;
  using Storage = llvm::SmallVector<Entry, 2>;

  void set(llvm::StringRef Key, Attribute A);
  bool erase(llvm::StringRef Key);
  const Attribute *get(llvm::StringRef Key) const;
  std::optional<int64_t> getInt(llvm::StringRef Key) const;
  std::optional<double> getFloat(llvm::StringRef Key) const;
  std::optional<llvm::StringRef> getString(llvm::StringRef Key) const;

  bool empty() const { return Entries.empty(); }
  size_t size() const { return Entries.size(); }
  Storage::const_iterator begin() const { return Entries.begin(); }
  Storage::const_iterator end() const { return Entries.end(); }
  bool operator==(const AttrDict &O) const { return Entries == O.Entries; }

  /// Prints ` {a = 1, b = "x"}`, or nothing when empty.
  void print(llvm::raw_ostream &OS) const;

private:
  Storage::iterator find(llvm::StringRef Key);
  Storage::const_iterator find(llvm::StringRef Key) const;

  Storage Entries;
};

} // namespace strata::ir

#endif // STRATA_IR_ATTRIBUTE_H
