//===- Lexer.h - Tokens of the .sir text form -------------------*- C++ -*-===//
//
// Splits a .sir buffer into tokens. Every token keeps a pointer into the
// buffer, so that the parser can report file:line:col through SourceMgr.
// The lexer never fails: a malformed token is returned as Error with the
// reason, and the parser reports it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_TEXT_LEXER_H
#define STRATA_IR_TEXT_LEXER_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::ir::text {

struct Token {
  enum Kind {
    Eof,
    Error,      ///< Spelling holds the reason.
    BareIdent,  ///< graph, program, weight, f32, rms_norm, eps, true ...
    ValueName,  ///< %name or %"quoted name"
    SymbolName, ///< @name or @"quoted name"
    Integer,    ///< 42, -7
    Float,      ///< 1.0, -2.5e-3, 1e5
    String,     ///< "text"
    LBrace,
    RBrace,
    LSquare,
    RSquare,
    Comma,
    Colon,
    Equal,
  };
  Kind K = Eof;
  llvm::StringRef Spelling; ///< The token's characters in the buffer.
  /// For names and strings, the text with quotes and escapes removed; for an
  /// Error, the reason.
  std::string Text;

  bool is(Kind Other) const { return K == Other; }
  bool isKeyword(llvm::StringRef Word) const {
    return K == BareIdent && Spelling == Word;
  }
};

class Lexer {
public:
  explicit Lexer(llvm::StringRef Buffer) : Buf(Buffer), Cur(Buffer.begin()) {}
  Token next();

private:
  Token make(Token::Kind K, const char *Start);
  Token error(const char *Start, std::string Why);
  Token lexNumber(const char *Start);
  Token lexName(Token::Kind K, const char *Start);
  /// Reads a "..." string starting at Cur (on the quote) into Out.
  bool lexQuoted(std::string &Out, std::string &Why);
  void skipSpaceAndComments();

  llvm::StringRef Buf;
  const char *Cur;
};

/// Characters a bare name may hold after % or @; anything else is quoted.
bool isBareNameChar(char C);
/// Prints S as a "..." string: quote, backslash and bytes outside printable
/// ASCII as \hh, so any byte string reads back unchanged.
void printQuoted(llvm::raw_ostream &OS, llvm::StringRef S);
/// Prints a value or symbol name after its sigil: bare when it can be,
/// quoted otherwise.
void printName(llvm::raw_ostream &OS, llvm::StringRef Name);

} // namespace strata::ir::text

#endif // STRATA_IR_TEXT_LEXER_H
