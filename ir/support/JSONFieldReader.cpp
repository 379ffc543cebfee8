//===- JSONFieldReader.cpp - Validating reads of a JSON document ----------===//

#include "ir/support/JSONFieldReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace llvm;

namespace strata {

/// json::ParseError keeps its line and column private and logs them as
/// "[3:7, byte=20]: Expected ..." (parseJSONDocument's nesting error is
/// written the same way). They are moved to the front. The column is the
/// offset just past the character the parser stopped on, i.e. that
/// character's 1-based column, or 0 when it stopped at the start of a line
/// (an empty file): that one is shown as column 1.
static Error locatedParseError(StringRef File, Error E) {
  std::string Log = toString(std::move(E));
  unsigned Line = 0, Column = 0, Byte = 0;
  int Consumed = 0;
  if (std::sscanf(Log.c_str(), "[%u:%u, byte=%u]: %n", &Line, &Column, &Byte,
                  &Consumed) == 3 &&
      Consumed > 0)
    return createStringError(inconvertibleErrorCode(),
                             formatv("{0}:{1}:{2}: invalid JSON: {3}", File,
                                     Line, std::max(Column, 1u),
                                     StringRef(Log).substr(Consumed)));
  return createStringError(inconvertibleErrorCode(),
                           File + ": invalid JSON: " + Log);
}

Expected<std::unique_ptr<JSONDocument>> readJSONDocument(StringRef Text,
                                                         StringRef File) {
  Expected<std::unique_ptr<JSONDocument>> Doc = parseJSONDocument(Text);
  if (!Doc)
    return locatedParseError(File, Doc.takeError());
  return Doc;
}

void FieldPath::print(raw_ostream &OS) const {
  if (!Parent)
    return;
  Parent->print(OS);
  if (IsIndex)
    OS << '[' << Index << ']';
  else
    OS << (Parent->Parent ? "." : "") << Key;
}

std::string FieldPath::str() const {
  std::string S;
  raw_string_ostream OS(S);
  print(OS);
  return S;
}

std::optional<size_t> findSpelling(ArrayRef<StringLiteral> Names, StringRef S,
                                   bool IgnoreCase) {
  for (size_t I = 0; I < Names.size(); ++I)
    if (!Names[I].empty() &&
        (IgnoreCase ? Names[I].equals_insensitive(S) : Names[I] == S))
      return I;
  return std::nullopt;
}

bool JSONFieldReader::fail(const FieldPath &At, const Twine &Message) {
  if (Failed)
    return false;
  Failed = true;
  raw_string_ostream OS(Problem);
  At.print(OS);
  if (!At.isRoot())
    OS << ": ";
  OS << Message;
  return false;
}

/// The shortest text that reads back as D, marked as a double when it
/// looks like an integer: "expected an integer, got 4.0", not "got 4".
static std::string doubleText(double D) {
  char Buf[64];
  for (int Digits = 15; Digits <= 17; ++Digits) {
    std::snprintf(Buf, sizeof(Buf), "%.*g", Digits, D);
    if (!std::isfinite(D) || std::strtod(Buf, nullptr) == D)
      break;
  }
  std::string Text = Buf;
  if (std::isfinite(D) && Text.find_first_of(".e") == std::string::npos)
    Text += ".0";
  return Text;
}

std::string JSONFieldReader::describe(const JSONValue &V) {
  switch (V.kind()) {
  case JSONValue::Double: {
    std::string Text = doubleText(*V.getAsNumber());
    return Text.size() <= 40 ? Text : "a number";
  }
  case JSONValue::Array:
    return V.getAsArray()->empty() ? "an empty array" : "an array";
  case JSONValue::Object:
    return V.getAsObject()->empty() ? "an empty object" : "an object";
  default: {
    std::string Text = formatv("{0}", V).str();
    if (Text.size() <= 40)
      return Text;
    return V.kind() == JSONValue::String ? "a string" : "a number";
  }
  }
}

bool JSONFieldReader::expected(const FieldPath &At, StringRef What,
                               const JSONValue &Got) {
  if (Failed)
    return false;
  return fail(At, "expected " + What + ", got " + describe(Got));
}

std::string JSONFieldReader::where(const FieldPath &At) const {
  if (At.isRoot())
    return File.str();
  return File.str() + ": " + At.str();
}

Error JSONFieldReader::takeError() {
  if (!Failed)
    return Error::success();
  std::string Message = File.str() + ": " + Problem;
  Failed = false;
  Problem.clear();
  return createStringError(inconvertibleErrorCode(), Message);
}

bool JSONFieldReader::missing(const FieldPath &At, StringRef Key) {
  FieldPath Here = At.field(Key);
  return fail(Here, "required field is missing");
}

bool JSONFieldReader::outOfRange(const FieldPath &At, uint64_t Max) {
  return fail(At, formatv("out of range (at most {0})", Max));
}

bool JSONFieldReader::notOneOf(const FieldPath &At,
                               ArrayRef<StringLiteral> Names,
                               const JSONValue &Got) {
  if (Failed)
    return false;
  std::vector<StringRef> Spelt;
  for (StringRef N : Names)
    if (!N.empty())
      Spelt.push_back(N);
  std::string Allowed;
  for (size_t I = 0; I < Spelt.size(); ++I) {
    if (I)
      Allowed += I + 1 == Spelt.size() ? " or " : ", ";
    Allowed += "\"" + Spelt[I].str() + "\"";
  }
  // A string is shown whole: a misspelt name is what the message is about.
  Optional<StringRef> S = Got.getAsString();
  std::string Value = S ? "\"" + S->str() + "\"" : describe(Got);
  return fail(At, "expected " + Allowed + ", got " + Value);
}

bool JSONFieldReader::number(const JSONValue &V, const FieldPath &At,
                             double &Out, const NumberRange &Range) {
  double D = 0;
  if (!number(V, At, D))
    return false;
  if (Range.Positive && !(D > 0))
    return fail(At, "must be positive");
  if (!Range.Positive && D < 0)
    return fail(At, "must not be negative");
  if (!(D <= Range.Max)) {
    char Max[64];
    std::snprintf(Max, sizeof(Max), "%.15g", Range.Max);
    return fail(At, Twine("must be at most ") + Max);
  }
  if (Range.Whole && std::floor(D) != D)
    return fail(At, "expected a whole number");
  Out = D;
  return true;
}

bool JSONFieldReader::knownKeys(const JSONObject &O, const FieldPath &At,
                                ArrayRef<StringLiteral> Known) {
  std::vector<StringRef> Keys;
  for (const JSONMember &M : O)
    Keys.push_back(M.Key);
  llvm::sort(Keys);
  for (StringRef K : Keys)
    if (!llvm::is_contained(Known, K)) {
      std::vector<StringRef> Names(Known.begin(), Known.end());
      llvm::sort(Names);
      return fail(At, "unknown key '" + K +
                          "' (known: " + llvm::join(Names, ", ") + ")");
    }
  return true;
}

} // namespace strata
