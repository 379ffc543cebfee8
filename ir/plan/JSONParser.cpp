//===- JSONParser.cpp - JSON text to llvm::json::Value in linear time -----===//

#include "ir/plan/JSONParser.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"

#include <cctype>
#include <cstdlib>
#include <deque>

namespace strata {
namespace {

using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

/// A recursive-descent parser. Every parse function returns false after
/// recording the first problem at the current position; the messages and
/// positions are json::parse's (see the header).
class Parser {
public:
  Parser(llvm::StringRef Text, unsigned MaxDepth)
      : Begin(Text.begin()), Cur(Text.begin()), End(Text.end()),
        MaxDepth(MaxDepth) {}

  llvm::Expected<Value> parseDocument();

private:
  bool value(Value &Out, unsigned Depth);
  bool array(Value &Out, unsigned Depth);
  bool object(Value &Out, unsigned Depth);
  bool literal(llvm::StringRef Rest, const char *Message);
  bool number(char First, Value &Out);
  bool string(std::string &Out);
  bool unicodeEscape(std::string &Out);
  bool hex4(uint16_t &Unit);

  bool fail(const char *Message) {
    Problem = Message;
    return false;
  }
  llvm::Error takeError();

  char take() { return Cur == End ? 0 : *Cur++; }
  char peek() const { return Cur == End ? 0 : *Cur; }
  void skipSpace() {
    while (Cur != End &&
           (*Cur == ' ' || *Cur == '\n' || *Cur == '\r' || *Cur == '\t'))
      ++Cur;
  }
  static bool isNumberChar(char C) {
    return (C >= '0' && C <= '9') || C == '-' || C == '+' || C == '.' ||
           C == 'e' || C == 'E';
  }

  const char *Begin, *Cur, *End;
  unsigned MaxDepth;
  const char *Problem = nullptr;
  bool TooDeep = false;
  /// The elements of the array being read at each depth. Reused from one
  /// array to the next, so that reading an array allocates only its result;
  /// a deque, so that opening a deeper level leaves these in place.
  std::deque<llvm::SmallVector<Value, 0>> Elements;
};

llvm::Expected<Value> Parser::parseDocument() {
  size_t BadByte = 0;
  Value Root = nullptr;
  if (!llvm::json::isUTF8(llvm::StringRef(Begin, End - Begin), &BadByte)) {
    Cur = Begin + BadByte;
    fail("Invalid UTF-8 sequence");
  } else if (value(Root, 0)) {
    skipSpace();
    if (Cur == End)
      return Root;
    fail("Text after end of document");
  }
  return takeError();
}

llvm::Error Parser::takeError() {
  unsigned Line = 1;
  const char *LineStart = Begin;
  for (const char *C = Begin; C < Cur; ++C)
    if (*C == '\n') {
      ++Line;
      LineStart = C + 1;
    }
  unsigned Column = Cur - LineStart, Offset = Cur - Begin;
  if (TooDeep)
    // ParseError keeps a pointer to a fixed message, so this one, which
    // names the limit, is a string error written the way ParseError is.
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("[{0}:{1}, byte={2}]: arrays and objects nest deeper "
                      "than {3} levels",
                      Line, Column, Offset, MaxDepth));
  return llvm::make_error<llvm::json::ParseError>(Problem, Line, Column,
                                                  Offset);
}

bool Parser::value(Value &Out, unsigned Depth) {
  skipSpace();
  if (Cur == End)
    return fail("Unexpected EOF");
  char C = take();
  switch (C) {
  case 'n':
    Out = nullptr;
    return literal("ull", "Invalid JSON value (null?)");
  case 't':
    Out = true;
    return literal("rue", "Invalid JSON value (true?)");
  case 'f':
    Out = false;
    return literal("alse", "Invalid JSON value (false?)");
  case '"': {
    std::string S;
    if (!string(S))
      return false;
    Out = std::move(S);
    return true;
  }
  case '[':
    return array(Out, Depth + 1);
  case '{':
    return object(Out, Depth + 1);
  default:
    if (isNumberChar(C))
      return number(C, Out);
    return fail("Invalid JSON value");
  }
}

/// The rest of a keyword, up to and including the first character that
/// differs.
bool Parser::literal(llvm::StringRef Rest, const char *Message) {
  for (char Expected : Rest)
    if (take() != Expected)
      return fail(Message);
  return true;
}

bool Parser::array(Value &Out, unsigned Depth) {
  if (Depth > MaxDepth) {
    TooDeep = true;
    return false;
  }
  if (Elements.size() < Depth)
    Elements.resize(Depth);
  llvm::SmallVector<Value, 0> &Read = Elements[Depth - 1];
  Read.clear();
  skipSpace();
  if (peek() == ']') {
    ++Cur;
    Out = Array();
    return true;
  }
  for (;;) {
    Read.emplace_back(nullptr);
    if (!value(Read.back(), Depth))
      return false;
    skipSpace();
    switch (take()) {
    case ',':
      skipSpace();
      continue;
    case ']': {
      Array A;
      A.reserve(Read.size());
      for (Value &V : Read)
        A.push_back(std::move(V));
      Read.clear();
      Out = std::move(A);
      return true;
    }
    default:
      return fail("Expected , or ] after array element");
    }
  }
}

bool Parser::object(Value &Out, unsigned Depth) {
  if (Depth > MaxDepth) {
    TooDeep = true;
    return false;
  }
  Object O;
  skipSpace();
  if (peek() == '}') {
    ++Cur;
    Out = std::move(O);
    return true;
  }
  for (;;) {
    if (take() != '"')
      return fail("Expected object key");
    std::string Key;
    if (!string(Key))
      return false;
    skipSpace();
    if (take() != ':')
      return fail("Expected : after object key");
    skipSpace();
    // A repeated key keeps its last value, as with json::parse.
    if (!value(O[std::move(Key)], Depth))
      return false;
    skipSpace();
    switch (take()) {
    case ',':
      skipSpace();
      continue;
    case '}':
      Out = std::move(O);
      return true;
    default:
      return fail("Expected , or } after object property");
    }
  }
}

/// The longest run of characters that may form a number: an int64 when
/// strtoll reads all of it, else a double. As in LLVM 14's parser, an
/// integer beyond the int64 range is clamped to INT64_MIN or INT64_MAX,
/// never read as a uint64 (plan readers refuse INT64_MAX for that reason).
bool Parser::number(char First, Value &Out) {
  llvm::SmallString<32> Text;
  Text.push_back(First);
  while (Cur != End && isNumberChar(*Cur))
    Text.push_back(*Cur++);
  const char *S = Text.c_str();
  const char *Whole = S + Text.size();
  char *Stop = nullptr;
  long long I = std::strtoll(S, &Stop, 10);
  if (Stop == Whole) {
    Out = int64_t(I);
    return true;
  }
  Out = std::strtod(S, &Stop);
  return Stop == Whole || fail("Invalid JSON value (number?)");
}

/// A string's contents after its opening quote. A string that reaches the
/// end of the text is unterminated even when its last character was read.
bool Parser::string(std::string &Out) {
  for (;;) {
    const char *Run = Cur;
    while (Cur != End && *Cur != '"' && *Cur != '\\' &&
           static_cast<unsigned char>(*Cur) >= 0x20)
      ++Cur;
    Out.append(Run, Cur);
    if (Cur == End)
      return fail("Unterminated string");
    char C = *Cur++;
    if (C == '"')
      return true;
    if (Cur == End)
      return fail("Unterminated string");
    if (C != '\\')
      return fail("Control character in string");
    switch (char E = take()) {
    case '"':
    case '\\':
    case '/':
      Out.push_back(E);
      break;
    case 'b':
      Out.push_back('\b');
      break;
    case 'f':
      Out.push_back('\f');
      break;
    case 'n':
      Out.push_back('\n');
      break;
    case 'r':
      Out.push_back('\r');
      break;
    case 't':
      Out.push_back('\t');
      break;
    case 'u':
      if (!unicodeEscape(Out))
        return false;
      break;
    default:
      return fail("Invalid escape sequence");
    }
  }
}

/// Four hex digits, all read before any is checked.
bool Parser::hex4(uint16_t &Unit) {
  char Digits[4];
  for (char &D : Digits)
    D = take();
  Unit = 0;
  for (char D : Digits) {
    unsigned char U = static_cast<unsigned char>(D);
    if (!std::isxdigit(U))
      return fail("Invalid \\u escape sequence");
    Unit = Unit << 4 | (U <= '9' ? U - '0' : (U | 0x20) - 'a' + 10);
  }
  return true;
}

/// \uXXXX after its "\u", with a second escape for a surrogate pair. An
/// unpaired surrogate is valid JSON but not Unicode: it becomes U+FFFD.
bool Parser::unicodeEscape(std::string &Out) {
  auto Append = [&](unsigned CodePoint) {
    char Bytes[UNI_MAX_UTF8_BYTES_PER_CODE_POINT];
    char *Next = Bytes;
    llvm::ConvertCodePointToUTF8(CodePoint, Next);
    Out.append(Bytes, Next);
  };
  uint16_t Unit;
  if (!hex4(Unit))
    return false;
  for (;;) {
    if (Unit < 0xD800 || Unit >= 0xE000) {
      Append(Unit);
      return true;
    }
    if (Unit >= 0xDC00 || End - Cur < 2 || Cur[0] != '\\' || Cur[1] != 'u') {
      Append(0xFFFD); // a trailing surrogate, or a leading one alone
      return true;
    }
    Cur += 2;
    uint16_t Low;
    if (!hex4(Low))
      return false;
    if (Low >= 0xDC00 && Low < 0xE000) {
      Append(0x10000 + ((Unit - 0xD800) << 10) + (Low - 0xDC00));
      return true;
    }
    Append(0xFFFD); // the leading surrogate was alone; Low is read anew
    Unit = Low;
  }
}

} // namespace

llvm::Expected<llvm::json::Value> parseJSON(llvm::StringRef Text,
                                            unsigned MaxDepth) {
  return Parser(Text, MaxDepth).parseDocument();
}

} // namespace strata
