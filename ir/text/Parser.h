//===- Parser.h - Read the .sir text form -----------------------*- C++ -*-===//
//
// Builds a Graph from its text form (docs/ir.md). Errors name the buffer,
// line and column, show the line with a caret, and stop the parse: a syntax
// error at the first one, name errors (undefined or redefined values) all
// together once the whole buffer is read. Nothing is allocated from sizes
// read in the text, so any input is safe to parse.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_TEXT_PARSER_H
#define STRATA_IR_TEXT_PARSER_H

#include "ir/Graph.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace strata::ir::text {

/// Parses buffer BufferId of SM. Source locations in the graph refer to it.
llvm::Expected<Graph> parseGraph(llvm::SourceMgr &SM, unsigned BufferId);

/// Parses Text, naming it BufferName in errors.
llvm::Expected<Graph> parseGraph(llvm::StringRef Text,
                                 llvm::StringRef BufferName = "<string>");

} // namespace strata::ir::text

#endif // STRATA_IR_TEXT_PARSER_H
