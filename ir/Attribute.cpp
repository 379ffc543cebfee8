//===- Attribute.cpp - Constant attributes of ops and values --------------===//

#include "ir/Attribute.h"

#include "ir/text/Lexer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>
#include <cmath>

namespace strata::ir {

llvm::StringRef Attribute::kindName(Kind K) {
  switch (K) {
  case Kind::Bool:
    return "bool";
  case Kind::Int:
    return "integer";
  case Kind::Float:
    return "float";
  case Kind::String:
    return "string";
  case Kind::IntList:
    return "integer list";
  }
  llvm_unreachable("unknown attribute kind");
}

static void printFloat(llvm::raw_ostream &OS, double D) {
  // Shortest digits that read back to the same double: positional for
  // everyday magnitudes (500000.0, 0.125), scientific for tiny and huge ones
  // (1e-05, 1e+300).
  double Mag = std::fabs(D);
  bool Positional = Mag == 0 || (Mag >= 1e-4 && Mag < 1e15);
  char Buf[400]; // Positional form of a double below 1e15 fits easily.
  auto [End, Ec] = std::to_chars(Buf, Buf + sizeof(Buf), D,
                                 Positional ? std::chars_format::fixed
                                            : std::chars_format::scientific);
  (void)Ec;
  llvm::StringRef S(Buf, End - Buf);
  OS << S;
  // Keep floats distinguishable from integers when read back.
  if (S.find_first_of(".eEn") == llvm::StringRef::npos)
    OS << ".0";
}

void Attribute::print(llvm::raw_ostream &OS) const {
  switch (kind()) {
  case Kind::Bool:
    OS << (getBool() ? "true" : "false");
    return;
  case Kind::Int:
    OS << getInt();
    return;
  case Kind::Float:
    printFloat(OS, getFloat());
    return;
  case Kind::String:
    text::printQuoted(OS, getString());
    return;
  case Kind::IntList:
    OS << '[';
    llvm::interleave(getIntList(), OS, ", ");
    OS << ']';
    return;
  }
}

AttrDict::Storage::iterator AttrDict::find(llvm::StringRef Key) {
  return llvm::partition_point(
      Entries, [&](const Entry &E) { return llvm::StringRef(E.first) < Key; });
}

AttrDict::Storage::const_iterator AttrDict::find(llvm::StringRef Key) const {
  return llvm::partition_point(
      Entries, [&](const Entry &E) { return llvm::StringRef(E.first) < Key; });
}

void AttrDict::set(llvm::StringRef Key, Attribute A) {
  auto It = find(Key);
  if (It != Entries.end() && It->first == Key)
    It->second = std::move(A);
  else
    Entries.insert(It, Entry(Key.str(), std::move(A)));
}

bool AttrDict::erase(llvm::StringRef Key) {
  auto It = find(Key);
  if (It == Entries.end() || It->first != Key)
    return false;
  Entries.erase(It);
  return true;
}

const Attribute *AttrDict::get(llvm::StringRef Key) const {
  auto It = find(Key);
  return It == Entries.end() || It->first != Key ? nullptr : &It->second;
}

std::optional<int64_t> AttrDict::getInt(llvm::StringRef Key) const {
  const Attribute *A = get(Key);
  if (!A || !A->isInt())
    return std::nullopt;
  return A->getInt();
}

std::optional<double> AttrDict::getFloat(llvm::StringRef Key) const {
  const Attribute *A = get(Key);
  if (!A || !A->isFloat())
    return std::nullopt;
  return A->getFloat();
}

std::optional<llvm::StringRef> AttrDict::getString(llvm::StringRef Key) const {
  const Attribute *A = get(Key);
  if (!A || !A->isString())
    return std::nullopt;
  return llvm::StringRef(A->getString());
}

void AttrDict::print(llvm::raw_ostream &OS) const {
  if (Entries.empty())
    return;
  OS << " {";
  llvm::interleaveComma(Entries, OS, [&](const auto &E) {
    OS << E.first << " = ";
    E.second.print(OS);
  });
  OS << '}';
}

} // namespace strata::ir
