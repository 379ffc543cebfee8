//===- CpuContext.cpp - What a CPU kernel may use besides its operands ----===//

#include "kernels/cpu/CpuContext.h"

namespace strata::kernels::cpu {

// Anchors the vtable in one object file.
ParallelFor::~ParallelFor() = default;

} // namespace strata::kernels::cpu
