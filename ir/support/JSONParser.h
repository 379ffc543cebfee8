//===- JSONParser.h - JSON text to json::Value in linear time --*- C++ -*-===//
//
// The same grammar, values and errors as llvm::json::parse, without its cost
// on long arrays. LLVM 14's parser appends each element to a std::vector of
// json::Value, whose move constructor is not noexcept, so every time the
// vector grows it deep-copies the elements already read: reading a 35 MB
// plan (405B on 64 devices) spent 69% of its time copying them. parseJSON
// reads the text into a JSONDocument (JSONDocument.h: the plan reader uses
// that directly) and converts it, each array reserved to its size.
//
// Errors are json::ParseError, with json::parse's messages, lines and
// columns, so that callers report them as before; tests/unit/JSONParserTest
// and fuzz/FuzzJSON compare the two parsers on every input.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_SUPPORT_JSONPARSER_H
#define STRATA_IR_SUPPORT_JSONPARSER_H

#include "ir/support/JSONNesting.h"

#include "llvm/Support/JSON.h"

#include <cstdint>

namespace strata {

/// Parses Text as llvm::json::parse does. Arrays and objects nested deeper
/// than MaxDepth are an error (json::parse would recurse without a bound).
llvm::Expected<llvm::json::Value> parseJSON(llvm::StringRef Text,
                                            unsigned MaxDepth = MaxJSONNesting);

/// V.getAsInteger() without its overflow: LLVM 14 accepts a double up to
/// double(INT64_MAX), which is 2^63, then converts it to int64, which is
/// undefined (UBSan stops there). Here 2^63 is no int64, as in JSONValue.
inline llvm::Optional<int64_t> getAsInt64(const llvm::json::Value &V) {
  if (llvm::Optional<uint64_t> U = V.getAsUINT64()) // an integer, not a double
    return *U <= uint64_t(INT64_MAX) ? llvm::Optional<int64_t>(int64_t(*U))
                                     : llvm::None;
  llvm::Optional<double> D = V.getAsNumber();
  if (D && *D >= 0x1p63)
    return llvm::None;
  return V.getAsInteger();
}

} // namespace strata

#endif // STRATA_IR_SUPPORT_JSONPARSER_H
