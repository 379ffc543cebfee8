//===- JSONParser.cpp - JSON text to a JSONDocument, in linear time -------===//

#include "ir/support/JSONParser.h"
#include "ir/support/JSONDocument.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"

#include <cctype>
#include <cstdlib>
#include <deque>
#include <memory>

namespace strata {

/// A recursive-descent parser that builds a JSONDocument. Every parse
/// function returns false after recording the first problem at the current
/// position; the messages and positions are json::parse's (see the header).
class JSONDocumentBuilder {
public:
  JSONDocumentBuilder(llvm::StringRef Text, unsigned MaxDepth)
      : Begin(Text.begin()), Cur(Text.begin()), End(Text.end()),
        MaxDepth(MaxDepth) {}

  llvm::Expected<std::unique_ptr<JSONDocument>> parse();

private:
  bool value(JSONValue &Out, unsigned Depth);
  bool array(JSONValue &Out, unsigned Depth);
  bool object(JSONValue &Out, unsigned Depth);
  bool literal(llvm::StringRef Rest, const char *Message);
  bool number(char First, JSONValue &Out);
  bool string(llvm::StringRef &Out);
  bool escapedString(const char *Start, llvm::StringRef &Out);
  bool unicodeEscape(std::string &Out);
  bool hex4(uint16_t &Unit);
  /// A copy of Items in the document's arena.
  template <typename T> const T *keep(llvm::ArrayRef<T> Items) {
    T *Data = Doc->Arena.Allocate<T>(Items.size());
    std::uninitialized_copy(Items.begin(), Items.end(), Data);
    return Data;
  }

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
  /// Past the string characters that need no care: not a quote, a
  /// backslash or a control character.
  void skipPlain() {
    while (Cur != End && *Cur != '"' && *Cur != '\\' &&
           static_cast<unsigned char>(*Cur) >= 0x20)
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
  std::unique_ptr<JSONDocument> Doc = std::make_unique<JSONDocument>();
  /// What an object being read holds so far.
  struct ObjectScratch {
    llvm::SmallVector<JSONMember, 0> Members;
    /// Where each key sits in Members, once there are IndexFrom of them,
    /// so that finding a repeated key does not take quadratic time.
    llvm::DenseMap<llvm::StringRef, unsigned> Index;
    void clear() {
      Members.clear();
      Index.clear();
    }
  };
  static constexpr unsigned IndexFrom = 16;
  /// The elements, and the members, of the array or object being read at
  /// each depth. Reused from one to the next, so that reading one allocates
  /// only its result in the arena; deques, so that opening a deeper level
  /// leaves these in place.
  std::deque<llvm::SmallVector<JSONValue, 0>> Elements;
  std::deque<ObjectScratch> Objects;
  /// The scratch of nesting level Depth (from 1), emptied.
  template <typename T> static T &level(std::deque<T> &Levels, unsigned Depth) {
    if (Levels.size() < Depth)
      Levels.resize(Depth);
    T &Level = Levels[Depth - 1];
    Level.clear();
    return Level;
  }
};

llvm::Expected<std::unique_ptr<JSONDocument>> JSONDocumentBuilder::parse() {
  size_t BadByte = 0;
  if (!llvm::json::isUTF8(llvm::StringRef(Begin, End - Begin), &BadByte)) {
    Cur = Begin + BadByte;
    fail("Invalid UTF-8 sequence");
  } else if (value(Doc->Root, 0)) {
    skipSpace();
    if (Cur == End)
      return std::move(Doc);
    fail("Text after end of document");
  }
  return takeError();
}

llvm::Error JSONDocumentBuilder::takeError() {
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

bool JSONDocumentBuilder::value(JSONValue &Out, unsigned Depth) {
  skipSpace();
  if (Cur == End)
    return fail("Unexpected EOF");
  char C = take();
  switch (C) {
  case 'n':
    Out.K = JSONValue::Null;
    return literal("ull", "Invalid JSON value (null?)");
  case 't':
    Out.K = JSONValue::Boolean;
    Out.B = true;
    return literal("rue", "Invalid JSON value (true?)");
  case 'f':
    Out.K = JSONValue::Boolean;
    Out.B = false;
    return literal("alse", "Invalid JSON value (false?)");
  case '"':
    Out.K = JSONValue::String;
    Out.S = llvm::StringRef();
    return string(Out.S);
  case '[':
  case '{':
    if (Depth + 1 > MaxDepth) {
      TooDeep = true;
      return false;
    }
    return C == '[' ? array(Out, Depth + 1) : object(Out, Depth + 1);
  default:
    if (isNumberChar(C))
      return number(C, Out);
    return fail("Invalid JSON value");
  }
}

/// The rest of a keyword, up to and including the first character that
/// differs.
bool JSONDocumentBuilder::literal(llvm::StringRef Rest, const char *Message) {
  for (char Expected : Rest)
    if (take() != Expected)
      return fail(Message);
  return true;
}

bool JSONDocumentBuilder::array(JSONValue &Out, unsigned Depth) {
  llvm::SmallVector<JSONValue, 0> &Read = level(Elements, Depth);
  Out.K = JSONValue::Array;
  Out.A = JSONArray();
  skipSpace();
  if (peek() == ']') {
    ++Cur;
    return true;
  }
  for (;;) {
    Read.emplace_back();
    if (!value(Read.back(), Depth))
      return false;
    skipSpace();
    switch (take()) {
    case ',':
      skipSpace();
      continue;
    case ']':
      Out.A.Data = keep<JSONValue>(Read);
      Out.A.Size = Read.size();
      return true;
    default:
      return fail("Expected , or ] after array element");
    }
  }
}

bool JSONDocumentBuilder::object(JSONValue &Out, unsigned Depth) {
  ObjectScratch &Scratch = level(Objects, Depth);
  llvm::SmallVector<JSONMember, 0> &Read = Scratch.Members;
  llvm::DenseMap<llvm::StringRef, unsigned> &Index = Scratch.Index;
  Out.K = JSONValue::Object;
  Out.O = JSONObject();
  skipSpace();
  if (peek() == '}') {
    ++Cur;
    return true;
  }
  for (;;) {
    if (take() != '"')
      return fail("Expected object key");
    llvm::StringRef Key;
    if (!string(Key))
      return false;
    skipSpace();
    if (take() != ':')
      return fail("Expected : after object key");
    skipSpace();
    // A repeated key keeps its last value, as with json::parse.
    unsigned At = Read.size();
    if (Read.size() < IndexFrom) {
      for (unsigned M = 0; M < Read.size(); ++M)
        if (Read[M].Key == Key)
          At = M;
    } else {
      if (Index.empty())
        for (unsigned M = 0; M < Read.size(); ++M)
          Index[Read[M].Key] = M;
      At = Index.try_emplace(Key, At).first->second;
    }
    if (At == Read.size())
      Read.push_back({Key, JSONValue()});
    if (!value(Read[At].Value, Depth))
      return false;
    skipSpace();
    switch (take()) {
    case ',':
      skipSpace();
      continue;
    case '}':
      Out.O.Data = keep<JSONMember>(Read);
      Out.O.Size = Read.size();
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
bool JSONDocumentBuilder::number(char First, JSONValue &Out) {
  llvm::SmallString<32> Text;
  Text.push_back(First);
  while (Cur != End && isNumberChar(*Cur))
    Text.push_back(*Cur++);
  const char *S = Text.c_str();
  const char *Whole = S + Text.size();
  char *Stop = nullptr;
  long long I = std::strtoll(S, &Stop, 10);
  if (Stop == Whole) {
    Out.K = JSONValue::Integer;
    Out.I = I;
    return true;
  }
  Out.K = JSONValue::Double;
  Out.D = std::strtod(S, &Stop);
  return Stop == Whole || fail("Invalid JSON value (number?)");
}

/// A string's contents after its opening quote: a slice of the text when
/// it holds no escape, else a copy in the arena. A string that reaches the
/// end of the text is unterminated even when its last character was read.
bool JSONDocumentBuilder::string(llvm::StringRef &Out) {
  const char *Start = Cur;
  skipPlain();
  if (Cur != End && *Cur == '"') {
    Out = llvm::StringRef(Start, Cur - Start);
    ++Cur;
    return true;
  }
  return escapedString(Start, Out);
}

/// The rest of a string from Cur, its plain start [Start, Cur) read.
bool JSONDocumentBuilder::escapedString(const char *Start,
                                        llvm::StringRef &Out) {
  std::string Text(Start, Cur);
  for (;;) {
    const char *Run = Cur;
    skipPlain();
    Text.append(Run, Cur);
    if (Cur == End)
      return fail("Unterminated string");
    char C = *Cur++;
    if (C == '"') {
      char *Copy = Doc->Arena.Allocate<char>(Text.size());
      std::copy(Text.begin(), Text.end(), Copy);
      Out = llvm::StringRef(Copy, Text.size());
      return true;
    }
    if (Cur == End)
      return fail("Unterminated string");
    if (C != '\\')
      return fail("Control character in string");
    switch (char E = take()) {
    case '"':
    case '\\':
    case '/':
      Text.push_back(E);
      break;
    case 'b':
      Text.push_back('\b');
      break;
    case 'f':
      Text.push_back('\f');
      break;
    case 'n':
      Text.push_back('\n');
      break;
    case 'r':
      Text.push_back('\r');
      break;
    case 't':
      Text.push_back('\t');
      break;
    case 'u':
      if (!unicodeEscape(Text))
        return false;
      break;
    default:
      return fail("Invalid escape sequence");
    }
  }
}

/// Four hex digits, all read before any is checked.
bool JSONDocumentBuilder::hex4(uint16_t &Unit) {
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
bool JSONDocumentBuilder::unicodeEscape(std::string &Out) {
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

llvm::Expected<std::unique_ptr<JSONDocument>>
parseJSONDocument(llvm::StringRef Text, unsigned MaxDepth) {
  return JSONDocumentBuilder(Text, MaxDepth).parse();
}

llvm::Expected<llvm::json::Value> parseJSON(llvm::StringRef Text,
                                            unsigned MaxDepth) {
  llvm::Expected<std::unique_ptr<JSONDocument>> Doc =
      parseJSONDocument(Text, MaxDepth);
  if (!Doc)
    return Doc.takeError();
  return (*Doc)->root().toLLVM();
}

} // namespace strata
