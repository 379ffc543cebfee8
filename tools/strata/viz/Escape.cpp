//===- Escape.cpp - Quoting plan text for the output formats --------------===//

#include "tools/strata/viz/Escape.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::viz {

void writeJSONString(llvm::raw_ostream &OS, llvm::StringRef S) {
  OS << '"';
  for (unsigned char C : S) {
    switch (C) {
    case '"':
      OS << "\\\"";
      break;
    case '\\':
      OS << "\\\\";
      break;
    case '\n':
      OS << "\\n";
      break;
    case '\t':
      OS << "\\t";
      break;
    case '<':
    case '>':
    case '&':
      OS << llvm::format("\\u%04x", C);
      break;
    default:
      if (C < 0x20)
        OS << llvm::format("\\u%04x", C);
      else
        OS << static_cast<char>(C);
    }
  }
  OS << '"';
}

void writeHTMLText(llvm::raw_ostream &OS, llvm::StringRef S) {
  for (char C : S) {
    switch (C) {
    case '&':
      OS << "&amp;";
      break;
    case '<':
      OS << "&lt;";
      break;
    case '>':
      OS << "&gt;";
      break;
    case '"':
      OS << "&quot;";
      break;
    case '\'':
      OS << "&#39;";
      break;
    default:
      OS << C;
    }
  }
}

void writeDotText(llvm::raw_ostream &OS, llvm::StringRef S) {
  for (unsigned char C : S) {
    if (C == '"' || C == '\\')
      OS << '\\' << static_cast<char>(C);
    else if (C == '\n')
      OS << "\\n";
    else if (C < 0x20)
      OS << ' ';
    else
      OS << static_cast<char>(C);
  }
}

} // namespace strata::viz
