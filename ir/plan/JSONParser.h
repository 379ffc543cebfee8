//===- JSONParser.h - JSON text to llvm::json::Value in linear time -*- C++
//-*-===//
//
// The same grammar, values and errors as llvm::json::parse, without its cost
// on long arrays. LLVM 14's parser appends each element to a std::vector of
// json::Value, whose move constructor is not noexcept, so every time the
// vector grows it deep-copies the elements already read: reading a 35 MB
// plan (405B on 64 devices) spent 69% of its time copying them. This parser
// gathers elements in a reused scratch vector (LLVM's SmallVector moves when
// it grows) and moves them into an array reserved to size.
//
// Errors are json::ParseError, with json::parse's messages, lines and
// columns, so that callers report them as before; tests/unit/JSONParserTest
// and fuzz/FuzzJSON compare the two parsers on every input.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_PLAN_JSONPARSER_H
#define STRATA_IR_PLAN_JSONPARSER_H

#include "ir/plan/JSONNesting.h"

#include "llvm/Support/JSON.h"

namespace strata {

/// Parses Text as llvm::json::parse does. Arrays and objects nested deeper
/// than MaxDepth are an error (json::parse would recurse without a bound).
llvm::Expected<llvm::json::Value> parseJSON(llvm::StringRef Text,
                                            unsigned MaxDepth = MaxJSONNesting);

} // namespace strata

#endif // STRATA_IR_PLAN_JSONPARSER_H
