//===- Printer.cpp - Write the .sir text form -----------------------------===//

#include "ir/text/Printer.h"

#include "ir/text/Lexer.h"

#include "llvm/Support/raw_ostream.h"

namespace strata::ir::text {

static void printValueName(llvm::raw_ostream &OS, const Graph &G, ValueId V) {
  OS << '%';
  printName(OS, G.getValue(V).Name);
}

static void printDeclaration(llvm::raw_ostream &OS, const Graph &G,
                             llvm::StringRef Keyword, ValueId V,
                             llvm::StringRef Indent) {
  const Value &Val = G.getValue(V);
  OS << Indent << Keyword << ' ';
  printValueName(OS, G, V);
  OS << " : " << Val.Type;
  Val.Attrs.print(OS);
  OS << '\n';
}

static void printOp(llvm::raw_ostream &OS, const Graph &G, OpId Id) {
  const Op &O = G.getOp(Id);
  OS << "    ";
  printValueName(OS, G, O.Result);
  OS << " = " << getOpName(O.Kind);
  for (size_t I = 0; I < O.Operands.size(); ++I) {
    ValueId V = O.Operands[I];
    OS << (I == 0 ? " " : ", ");
    printValueName(OS, G, V);
  }
  O.Attrs.print(OS);
  OS << " : " << G.getValue(O.Result).Type << '\n';
}

void printGraph(const Graph &G, llvm::raw_ostream &OS) {
  OS << "graph @";
  printName(OS, G.getName());
  OS << " {\n";
  for (ValueId V : G.sharedValues())
    printDeclaration(
        OS, G, G.getValue(V).Kind == ValueKind::Weight ? "weight" : "kv_cache",
        V, "  ");
  bool First = G.sharedValues().empty();
  for (const Program &P : G.programs()) {
    if (!First)
      OS << '\n';
    First = false;
    OS << "  program @";
    printName(OS, P.Name);
    OS << " {\n";
    for (ValueId V : P.Inputs)
      printDeclaration(OS, G, "input", V, "    ");
    for (OpId O : P.Body)
      printOp(OS, G, O);
    for (ValueId V : P.Outputs) {
      OS << "    output ";
      printValueName(OS, G, V);
      OS << '\n';
    }
    OS << "  }\n";
  }
  OS << "}\n";
}

std::string printGraphToString(const Graph &G) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printGraph(G, OS);
  return S;
}

} // namespace strata::ir::text
