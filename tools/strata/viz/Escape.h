//===- Escape.h - Quoting plan text for the output formats ------*- C++ -*-===//
//
// Names in a plan come from model files, so any of them may hold quotes,
// backslashes, "</script>" or control characters. Every format quotes them
// through these.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_ESCAPE_H
#define STRATA_TOOLS_VIZ_ESCAPE_H

#include "llvm/ADT/StringRef.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::viz {

/// A JSON string with its quotes. '<', '>' and '&' are written as \u escapes
/// too, so that the text is also safe inside an HTML <script> element.
void writeJSONString(llvm::raw_ostream &OS, llvm::StringRef S);
/// Text for HTML element content or a quoted attribute.
void writeHTMLText(llvm::raw_ostream &OS, llvm::StringRef S);
/// The inside of a Graphviz double-quoted string ("\n" becomes a line
/// break in labels; other control characters become spaces).
void writeDotText(llvm::raw_ostream &OS, llvm::StringRef S);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_ESCAPE_H
