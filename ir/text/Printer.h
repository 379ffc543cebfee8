//===- Printer.h - Write the .sir text form ---------------------*- C++ -*-===//
//
// Prints a Graph in its canonical text form: shared values in declaration
// order, then each program's inputs, ops in stored order and outputs;
// attributes sorted by key. Parsing the printed text and printing it again
// gives the same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_TEXT_PRINTER_H
#define STRATA_IR_TEXT_PRINTER_H

#include "ir/Graph.h"

#include <string>

namespace strata::ir::text {

void printGraph(const Graph &G, llvm::raw_ostream &OS);
std::string printGraphToString(const Graph &G);

} // namespace strata::ir::text

#endif // STRATA_IR_TEXT_PRINTER_H
