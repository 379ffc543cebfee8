//===- JSONNesting.h - The bound on the nesting of JSON ---------*- C++ -*-===//
//
// LLVM 14's json::parse (and json::Value's destructor) recurse once per
// level of arrays and objects, with no limit, so a file of a few megabytes
// of '[' overflows the stack: `strata verify` of such a plan crashed with
// SIGSEGV (found by fuzz/FuzzPlan). parseJSONDocument and parseJSON refuse
// a level beyond MaxJSONNesting and say where it opens. findJSONNestingBeyond
// finds the same place without parsing, in constant stack: the safetensors
// readers check with it before parsing, and fuzz/FuzzJSON before handing a
// text to json::parse.
//
// It is header-only and uses nothing but LLVM's StringRef.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_SUPPORT_JSONNESTING_H
#define STRATA_IR_SUPPORT_JSONNESTING_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <optional>

namespace strata {

/// Far deeper than any file Strata reads (plans nest 5 levels) and far
/// shallower than what exhausts a thread's stack.
constexpr unsigned MaxJSONNesting = 256;

/// The byte offset of the first '[' or '{' (outside strings) that opens a
/// level beyond MaxDepth, or nullopt when Text nests no deeper. Text need
/// not be valid JSON: the parser reports everything else.
inline std::optional<size_t> findJSONNestingBeyond(llvm::StringRef Text,
                                                   unsigned MaxDepth) {
  unsigned Depth = 0;
  bool InString = false;
  for (size_t I = 0; I < Text.size(); ++I) {
    char C = Text[I];
    if (InString) {
      if (C == '\\')
        ++I; // the escaped character cannot end the string
      else if (C == '"')
        InString = false;
      continue;
    }
    switch (C) {
    case '"':
      InString = true;
      break;
    case '[':
    case '{':
      if (++Depth > MaxDepth)
        return I;
      break;
    case ']':
    case '}':
      if (Depth > 0)
        --Depth;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

} // namespace strata

#endif // STRATA_IR_SUPPORT_JSONNESTING_H
