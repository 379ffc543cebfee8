//===- CpuKernels.h - A plan step as a call of a CPU kernel -----*- C++ -*-===//
//
// Maps each decoded step (StepDecoder.h) onto kernels/cpu through a table
// with one entry per plan::StepOp. Bound once when a program is prepared,
// so that running is only calls.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_CPU_CPUKERNELS_H
#define STRATA_RUNTIME_CPU_CPUKERNELS_H

#include "runtime/Backend.h"

#include "kernels/cpu/CpuContext.h"

#include <functional>

namespace strata::runtime {

/// Runs one bound step on the calling thread.
using CpuKernel = std::function<llvm::Error(const kernels::cpu::CpuContext &)>;

/// The kernel call for S; an error naming the step for an op the CPU
/// kernels do not cover, or a step the decoder refuses. Collectives are not
/// kernels (the backend runs them) and are refused here.
llvm::Expected<CpuKernel> bindCpuKernel(const BoundStep &S);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_CPU_CPUKERNELS_H
