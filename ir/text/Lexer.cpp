//===- Lexer.cpp - Tokens of the .sir text form ---------------------------===//

#include "ir/text/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::ir::text {

bool isBareNameChar(char C) {
  return llvm::isAlnum(C) || C == '_' || C == '.' || C == '-' || C == '$';
}

static bool isIdentStart(char C) { return llvm::isAlpha(C) || C == '_'; }
static bool isIdentChar(char C) { return llvm::isAlnum(C) || C == '_'; }

void printQuoted(llvm::raw_ostream &OS, llvm::StringRef S) {
  OS << '"';
  for (unsigned char C : S) {
    if (C == '"' || C == '\\' || C < 0x20 || C >= 0x7f)
      OS << '\\' << llvm::hexdigit(C >> 4, /*LowerCase=*/true)
         << llvm::hexdigit(C & 15, /*LowerCase=*/true);
    else
      OS << C;
  }
  OS << '"';
}

void printName(llvm::raw_ostream &OS, llvm::StringRef Name) {
  if (!Name.empty() && llvm::all_of(Name, isBareNameChar))
    OS << Name;
  else
    printQuoted(OS, Name);
}

Token Lexer::make(Token::Kind K, const char *Start) {
  Token T;
  T.K = K;
  T.Spelling = llvm::StringRef(Start, Cur - Start);
  return T;
}

Token Lexer::error(const char *Start, std::string Why) {
  Token T = make(Token::Error, Start);
  T.Text = std::move(Why);
  return T;
}

void Lexer::skipSpaceAndComments() {
  while (Cur != Buf.end()) {
    if (llvm::isSpace(*Cur)) {
      ++Cur;
    } else if (*Cur == '/' && Cur + 1 != Buf.end() && Cur[1] == '/') {
      while (Cur != Buf.end() && *Cur != '\n')
        ++Cur;
    } else {
      return;
    }
  }
}

bool Lexer::lexQuoted(std::string &Out, std::string &Why) {
  ++Cur; // The opening quote.
  while (true) {
    if (Cur == Buf.end() || *Cur == '\n') {
      Why = "unterminated string";
      return false;
    }
    char C = *Cur++;
    if (C == '"')
      return true;
    if (C != '\\') {
      Out.push_back(C);
      continue;
    }
    // The only escape is \hh, two hex digits: it covers every byte.
    if (Buf.end() - Cur < 2 || !llvm::isHexDigit(Cur[0]) ||
        !llvm::isHexDigit(Cur[1])) {
      Why = "a backslash in a string must be followed by two hex digits";
      return false;
    }
    Out.push_back(static_cast<char>(llvm::hexFromNibbles(Cur[0], Cur[1])));
    Cur += 2;
  }
}

Token Lexer::lexName(Token::Kind K, const char *Start) {
  // Cur is just after the sigil.
  std::string Text;
  if (Cur != Buf.end() && *Cur == '"') {
    std::string Why;
    if (!lexQuoted(Text, Why))
      return error(Start, Why);
    if (Text.empty())
      return error(Start, "a name cannot be empty");
  } else {
    const char *NameStart = Cur;
    while (Cur != Buf.end() && isBareNameChar(*Cur))
      ++Cur;
    if (Cur == NameStart)
      return error(Start,
                   std::string("expected a name after '") + *Start + "'");
    Text.assign(NameStart, Cur);
  }
  Token T = make(K, Start);
  T.Text = std::move(Text);
  return T;
}

Token Lexer::lexNumber(const char *Start) {
  // Cur is on the first character (a digit or '-').
  if (*Cur == '-')
    ++Cur;
  if (Cur == Buf.end() || !llvm::isDigit(*Cur))
    return error(Start, "expected a digit after '-'");
  bool IsFloat = false;
  while (Cur != Buf.end() && llvm::isDigit(*Cur))
    ++Cur;
  if (Cur != Buf.end() && *Cur == '.') {
    IsFloat = true;
    ++Cur;
    while (Cur != Buf.end() && llvm::isDigit(*Cur))
      ++Cur;
  }
  if (Cur != Buf.end() && (*Cur == 'e' || *Cur == 'E')) {
    IsFloat = true;
    ++Cur;
    if (Cur != Buf.end() && (*Cur == '+' || *Cur == '-'))
      ++Cur;
    if (Cur == Buf.end() || !llvm::isDigit(*Cur))
      return error(Start, "expected a digit in the exponent");
    while (Cur != Buf.end() && llvm::isDigit(*Cur))
      ++Cur;
  }
  if (Cur != Buf.end() && isIdentChar(*Cur))
    return error(Start, "unexpected character '" + std::string(1, *Cur) +
                            "' in a number");
  return make(IsFloat ? Token::Float : Token::Integer, Start);
}

Token Lexer::next() {
  skipSpaceAndComments();
  const char *Start = Cur;
  if (Cur == Buf.end())
    return make(Token::Eof, Start);
  char C = *Cur;
  switch (C) {
  case '{':
    ++Cur;
    return make(Token::LBrace, Start);
  case '}':
    ++Cur;
    return make(Token::RBrace, Start);
  case '[':
    ++Cur;
    return make(Token::LSquare, Start);
  case ']':
    ++Cur;
    return make(Token::RSquare, Start);
  case ',':
    ++Cur;
    return make(Token::Comma, Start);
  case ':':
    ++Cur;
    return make(Token::Colon, Start);
  case '=':
    ++Cur;
    return make(Token::Equal, Start);
  case '%':
    ++Cur;
    return lexName(Token::ValueName, Start);
  case '@':
    ++Cur;
    return lexName(Token::SymbolName, Start);
  case '"': {
    std::string Text, Why;
    if (!lexQuoted(Text, Why))
      return error(Start, Why);
    Token T = make(Token::String, Start);
    T.Text = std::move(Text);
    return T;
  }
  default:
    break;
  }
  if (llvm::isDigit(C) || C == '-')
    return lexNumber(Start);
  if (isIdentStart(C)) {
    while (Cur != Buf.end() && isIdentChar(*Cur))
      ++Cur;
    return make(Token::BareIdent, Start);
  }
  ++Cur;
  if (llvm::isPrint(C))
    return error(Start, std::string("unexpected character '") + C + "'");
  return error(Start, "unexpected byte 0x" +
                          llvm::utohexstr(static_cast<unsigned char>(C)));
}

} // namespace strata::ir::text
