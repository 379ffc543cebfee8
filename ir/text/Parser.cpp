//===- Parser.cpp - Read the .sir text form -------------------------------===//

#include "ir/text/Parser.h"

#include "ir/text/Lexer.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <deque>

namespace strata::ir::text {
namespace {

/// Name errors beyond this many are counted, not listed.
constexpr unsigned MaxListedErrors = 20;

class Parser {
public:
  Parser(llvm::SourceMgr &SM, unsigned BufferId)
      : SM(SM), BufferId(BufferId),
        Lex(SM.getMemoryBuffer(BufferId)->getBuffer()) {
    G.setSourceName(SM.getMemoryBuffer(BufferId)->getBufferIdentifier().str());
    consume();
  }

  llvm::Expected<Graph> parse();

private:
  // A use of a name, resolved once the whole buffer is read, since the text
  // may use a value before its definition.
  struct NameUse {
    std::string Name;
    llvm::SMLoc Loc;
  };
  struct PendingOp {
    OpId Op;
    llvm::SmallVector<NameUse, 4> Operands;
  };
  struct PendingOutput {
    ProgramId Program;
    NameUse Use;
  };

  void consume() { Tok = Lex.next(); }
  llvm::SMLoc loc() const {
    return llvm::SMLoc::getFromPointer(Tok.Spelling.data());
  }
  SourceLoc sourceLoc(llvm::SMLoc L) const {
    auto [Line, Col] = SM.getLineAndColumn(L, BufferId);
    return {Line, Col};
  }

  /// Records an error at L; returns false so that callers can `return
  /// error(...)`.
  bool error(llvm::SMLoc L, const llvm::Twine &Msg);
  bool errorHere(const llvm::Twine &Msg) {
    if (Tok.is(Token::Error))
      return error(loc(), Tok.Text);
    return error(loc(), Msg);
  }
  bool expect(Token::Kind K, llvm::StringRef What);
  bool expectKeyword(llvm::StringRef Word);

  bool parseGraphBody();
  bool parseSharedDecl(ValueKind K);
  bool parseProgram();
  bool parseInput(ProgramId P);
  bool parseOutput(ProgramId P);
  bool parseOpStatement(ProgramId P);
  bool parseType(TensorType &T);
  bool parseAttrDict(AttrDict &Attrs);
  bool parseAttrValue(std::optional<Attribute> &A);
  bool parseInteger(int64_t &V);
  bool resolveNames();

  llvm::SourceMgr &SM;
  unsigned BufferId;
  Lexer Lex;
  Token Tok;
  Graph G;
  std::deque<PendingOp> PendingOps; // Deque: growing it moves nothing.
  std::vector<PendingOutput> PendingOutputs;
  std::string Errors;
  unsigned NumErrors = 0;
};

} // namespace

bool Parser::error(llvm::SMLoc L, const llvm::Twine &Msg) {
  if (NumErrors++ < MaxListedErrors) {
    llvm::raw_string_ostream OS(Errors);
    SM.PrintMessage(OS, L, llvm::SourceMgr::DK_Error, Msg);
  }
  return false;
}

bool Parser::expect(Token::Kind K, llvm::StringRef What) {
  if (!Tok.is(K))
    return errorHere("expected " + What);
  consume();
  return true;
}

bool Parser::expectKeyword(llvm::StringRef Word) {
  if (!Tok.isKeyword(Word))
    return errorHere("expected '" + Word + "'");
  consume();
  return true;
}

llvm::Expected<Graph> Parser::parse() {
  if (parseGraphBody() && resolveNames() && NumErrors == 0)
    return std::move(G);
  if (NumErrors > MaxListedErrors)
    Errors += std::to_string(NumErrors - MaxListedErrors) +
              " more errors not shown\n";
  llvm::StringRef Msg = llvm::StringRef(Errors).rtrim('\n');
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

// graph ::= 'graph' @name '{' (shared-decl | program)* '}'
bool Parser::parseGraphBody() {
  if (!expectKeyword("graph"))
    return false;
  if (!Tok.is(Token::SymbolName))
    return errorHere("expected the graph's name, as @name");
  G.setName(Tok.Text);
  consume();
  if (!expect(Token::LBrace, "'{'"))
    return false;
  while (!Tok.is(Token::RBrace)) {
    bool Ok;
    if (Tok.isKeyword("weight"))
      Ok = parseSharedDecl(ValueKind::Weight);
    else if (Tok.isKeyword("kv_cache"))
      Ok = parseSharedDecl(ValueKind::KVCache);
    else if (Tok.isKeyword("program"))
      Ok = parseProgram();
    else
      return errorHere("expected 'weight', 'kv_cache', 'program' or '}'");
    if (!Ok)
      return false;
  }
  consume();
  if (!Tok.is(Token::Eof))
    return errorHere("expected the end of the file after the graph");
  return true;
}

// shared-decl ::= ('weight' | 'kv_cache') %name ':' type attr-dict?
bool Parser::parseSharedDecl(ValueKind K) {
  consume();
  if (!Tok.is(Token::ValueName))
    return errorHere("expected a value name, as %name");
  std::string Name = Tok.Text;
  llvm::SMLoc NameLoc = loc();
  consume();
  TensorType T;
  AttrDict Attrs;
  if (!expect(Token::Colon, "':' and a type") || !parseType(T) ||
      !parseAttrDict(Attrs))
    return false;
  auto V = K == ValueKind::Weight
               ? G.addWeight(Name, std::move(T), std::move(Attrs),
                             sourceLoc(NameLoc))
               : G.addKVCache(Name, std::move(T), std::move(Attrs),
                              sourceLoc(NameLoc));
  if (!V)
    return error(NameLoc, llvm::toString(V.takeError()));
  return true;
}

// program ::= 'program' @name '{' (input | op | output)* '}'
bool Parser::parseProgram() {
  consume();
  if (!Tok.is(Token::SymbolName))
    return errorHere("expected the program's name, as @name");
  llvm::SMLoc NameLoc = loc();
  auto P = G.addProgram(Tok.Text, sourceLoc(NameLoc));
  if (!P)
    return error(NameLoc, llvm::toString(P.takeError()));
  consume();
  if (!expect(Token::LBrace, "'{'"))
    return false;
  while (!Tok.is(Token::RBrace)) {
    bool Ok;
    if (Tok.isKeyword("input"))
      Ok = parseInput(*P);
    else if (Tok.isKeyword("output"))
      Ok = parseOutput(*P);
    else if (Tok.is(Token::ValueName))
      Ok = parseOpStatement(*P);
    else
      return errorHere("expected 'input', 'output', an op as '%name = op "
                       "...', or '}'");
    if (!Ok)
      return false;
  }
  consume();
  return true;
}

// input ::= 'input' %name ':' type attr-dict?
bool Parser::parseInput(ProgramId P) {
  consume();
  if (!Tok.is(Token::ValueName))
    return errorHere("expected a value name, as %name");
  std::string Name = Tok.Text;
  llvm::SMLoc NameLoc = loc();
  consume();
  TensorType T;
  AttrDict Attrs;
  if (!expect(Token::Colon, "':' and a type") || !parseType(T) ||
      !parseAttrDict(Attrs))
    return false;
  auto V =
      G.addInput(P, Name, std::move(T), std::move(Attrs), sourceLoc(NameLoc));
  if (!V)
    return error(NameLoc, llvm::toString(V.takeError()));
  return true;
}

// output ::= 'output' %name
bool Parser::parseOutput(ProgramId P) {
  consume();
  if (!Tok.is(Token::ValueName))
    return errorHere("expected a value name, as %name");
  PendingOutputs.push_back({P, {Tok.Text, loc()}});
  consume();
  return true;
}

// op ::= %name '=' op-name (%operand (',' %operand)*)? attr-dict? ':' type
bool Parser::parseOpStatement(ProgramId P) {
  std::string Name = Tok.Text;
  llvm::SMLoc NameLoc = loc();
  consume();
  if (!expect(Token::Equal, "'='"))
    return false;
  if (!Tok.is(Token::BareIdent))
    return errorHere("expected an op name");
  std::optional<OpKind> K = parseOpKind(Tok.Spelling);
  if (!K)
    return errorHere("unknown op '" + Tok.Spelling +
                     "' (docs/ir.md lists the ops)");
  llvm::SMLoc OpLoc = loc();
  consume();

  PendingOp Pending;
  if (Tok.is(Token::ValueName)) {
    while (true) {
      if (!Tok.is(Token::ValueName))
        return errorHere("expected an operand, as %name");
      Pending.Operands.push_back({Tok.Text, loc()});
      consume();
      if (!Tok.is(Token::Comma))
        break;
      consume();
    }
  }
  if (std::optional<std::string> Why = checkArity(*K, Pending.Operands.size()))
    return error(OpLoc, *Why);
  AttrDict Attrs;
  TensorType T;
  if (!parseAttrDict(Attrs) ||
      !expect(Token::Colon, "':' and the result type") || !parseType(T))
    return false;
  auto O = G.addOp(P, *K, {}, Name, std::move(T), std::move(Attrs),
                   sourceLoc(NameLoc));
  if (!O)
    return error(NameLoc, llvm::toString(O.takeError()));
  Pending.Op = *O;
  PendingOps.push_back(std::move(Pending));
  return true;
}

bool Parser::parseInteger(int64_t &V) {
  if (!Tok.is(Token::Integer))
    return errorHere("expected an integer");
  if (Tok.Spelling.getAsInteger(10, V))
    return errorHere("integer '" + Tok.Spelling + "' does not fit in 64 bits");
  consume();
  return true;
}

// type ::= dtype '[' (int (',' int)*)? ']'
bool Parser::parseType(TensorType &T) {
  if (!Tok.is(Token::BareIdent))
    return errorHere("expected a type, as f32[4, 8]");
  std::optional<DType> D = parseDType(Tok.Spelling);
  if (!D)
    return errorHere("unknown element type '" + Tok.Spelling + "'");
  llvm::SMLoc TypeLoc = loc();
  consume();
  if (!expect(Token::LSquare, "'[' and the shape"))
    return false;
  llvm::SmallVector<int64_t, 4> Dims;
  if (!Tok.is(Token::RSquare)) {
    while (true) {
      if (Dims.size() == Shape::MaxRank)
        return errorHere("more than " + llvm::Twine(Shape::MaxRank) +
                         " dimensions");
      int64_t Dim = 0;
      if (!parseInteger(Dim))
        return false;
      Dims.push_back(Dim);
      if (!Tok.is(Token::Comma))
        break;
      consume();
    }
  }
  if (!expect(Token::RSquare, "',' or ']'"))
    return false;
  auto S = Shape::get(Dims);
  if (!S)
    return error(TypeLoc, "invalid shape: " + llvm::toString(S.takeError()));
  T.Elem = *D;
  T.Dims = std::move(*S);
  if (auto Bytes = T.getByteSize(); !Bytes)
    return error(TypeLoc, llvm::toString(Bytes.takeError()));
  return true;
}

// attr-dict ::= ('{' (key '=' value (',' key '=' value)*)? '}')?
bool Parser::parseAttrDict(AttrDict &Attrs) {
  if (!Tok.is(Token::LBrace))
    return true;
  consume();
  llvm::StringSet<> Seen;
  while (!Tok.is(Token::RBrace)) {
    if (!Tok.is(Token::BareIdent))
      return errorHere("expected an attribute name");
    std::string Key = Tok.Spelling.str();
    if (!Seen.insert(Key).second)
      return errorHere("attribute '" + Key + "' is given twice");
    consume();
    std::optional<Attribute> A;
    if (!expect(Token::Equal, "'='") || !parseAttrValue(A))
      return false;
    Attrs.set(Key, std::move(*A));
    if (Tok.is(Token::Comma)) {
      consume();
      if (Tok.is(Token::RBrace))
        return errorHere("expected an attribute name after ','");
    } else if (!Tok.is(Token::RBrace)) {
      return errorHere("expected ',' or '}'");
    }
  }
  consume();
  return true;
}

bool Parser::parseAttrValue(std::optional<Attribute> &A) {
  switch (Tok.K) {
  case Token::Integer: {
    int64_t V = 0;
    if (!parseInteger(V))
      return false;
    A.emplace(V);
    return true;
  }
  case Token::Float: {
    double D;
    if (Tok.Spelling.getAsDouble(D) || !std::isfinite(D))
      return errorHere("float '" + Tok.Spelling + "' is out of range");
    A.emplace(D);
    consume();
    return true;
  }
  case Token::String:
    A.emplace(Tok.Text);
    consume();
    return true;
  case Token::LSquare: {
    consume();
    Attribute::IntList L;
    while (!Tok.is(Token::RSquare)) {
      int64_t V = 0;
      if (!parseInteger(V))
        return false;
      L.push_back(V);
      if (Tok.is(Token::Comma))
        consume();
      else if (!Tok.is(Token::RSquare))
        return errorHere("expected ',' or ']'");
    }
    consume();
    A.emplace(std::move(L));
    return true;
  }
  case Token::BareIdent:
    if (Tok.Spelling == "true" || Tok.Spelling == "false") {
      A.emplace(Tok.Spelling == "true");
      consume();
      return true;
    }
    break;
  default:
    break;
  }
  return errorHere("expected an attribute value: an integer, a float, a "
                   "string, true, false or [integers]");
}

bool Parser::resolveNames() {
  for (PendingOp &Pending : PendingOps) {
    ProgramId P = G.getOp(Pending.Op).Program;
    llvm::SmallVector<ValueId, 4> Operands;
    for (NameUse &Use : Pending.Operands) {
      std::optional<ValueId> V = G.lookup(P, Use.Name);
      if (!V) {
        error(Use.Loc, "use of undefined value %" + Use.Name);
        continue;
      }
      Operands.push_back(*V);
    }
    if (Operands.size() == Pending.Operands.size())
      G.setOperands(Pending.Op, Operands);
  }
  for (PendingOutput &Out : PendingOutputs) {
    std::optional<ValueId> V = G.lookup(Out.Program, Out.Use.Name);
    if (!V) {
      error(Out.Use.Loc, "output of undefined value %" + Out.Use.Name);
      continue;
    }
    if (llvm::Error E = G.addOutput(Out.Program, *V))
      error(Out.Use.Loc, llvm::toString(std::move(E)));
  }
  return NumErrors == 0;
}

llvm::Expected<Graph> parseGraph(llvm::SourceMgr &SM, unsigned BufferId) {
  return Parser(SM, BufferId).parse();
}

llvm::Expected<Graph> parseGraph(llvm::StringRef Text,
                                 llvm::StringRef BufferName) {
  llvm::SourceMgr SM;
  unsigned Id = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(Text, BufferName), llvm::SMLoc());
  return parseGraph(SM, Id);
}

} // namespace strata::ir::text
