//===- KernelError.h - Errors kernels return --------------------*- C++ -*-===//
//
// Kernels report what they cannot trust (token ids, positions, sizes) as an
// llvm::Error naming the kernel, the value and the allowed range, e.g.
// "embedding: token id 70000 at index 3 is outside [0, 32000)".
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_KERNELERROR_H
#define STRATA_KERNELS_KERNELERROR_H

#include "llvm/Support/Error.h"

namespace strata::kernels {

/// printf-style; the arguments follow createStringError's rules.
template <typename... Ts>
llvm::Error kernelError(const char *Fmt, const Ts &...Vals) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Fmt, Vals...);
}

} // namespace strata::kernels

#endif // STRATA_KERNELS_KERNELERROR_H
