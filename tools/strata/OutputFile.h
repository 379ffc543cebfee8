//===- OutputFile.h - Write outputs whole or not at all ---------*- C++ -*-===//

#ifndef STRATA_TOOLS_OUTPUTFILE_H
#define STRATA_TOOLS_OUTPUTFILE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::tool {

/// Writes Path through Write: to stdout for "-", otherwise to a temporary
/// file beside Path that is renamed over it only once everything is
/// written, so that a failure never leaves a partial file behind.
llvm::Error
writeOutputFile(llvm::StringRef Path,
                llvm::function_ref<llvm::Error(llvm::raw_ostream &)> Write);

} // namespace strata::tool

#endif // STRATA_TOOLS_OUTPUTFILE_H
