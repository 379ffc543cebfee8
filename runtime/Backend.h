//===- Backend.h - What the executor needs of a device backend --*- C++ -*-===//
//
// A backend owns devices: their memory, their streams and events, their
// collectives and their kernels. The executor (Executor.h) reads the plan,
// allocates each region through the backend, loads weights, binds every
// step to the bytes it reads and writes, and hands each program to the
// backend to prepare once (a CUDA graph, or per-stream work lists on the
// CPU) and run many times. The CPU backend (cpu/CpuBackend.h) runs every
// plan on any machine; a CUDA backend implements the same interface.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_BACKEND_H
#define STRATA_RUNTIME_BACKEND_H

#include "ir/plan/Plan.h"
#include "kernels/ElementType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>

namespace strata::runtime {

/// A tensor as a kernel sees it: its bytes, element type and shape.
struct TensorView {
  void *Data = nullptr;
  kernels::ElementType Type = kernels::ElementType::F32;
  llvm::SmallVector<int64_t, 4> Shape;
  uint64_t Bytes = 0;

  int64_t numElements() const {
    int64_t N = 1;
    for (int64_t D : Shape)
      N *= D;
    return N;
  }
};

/// A step of the plan with its buffers resolved to bytes.
struct BoundStep {
  const plan::Step *Step = nullptr;
  unsigned Index = 0;  ///< Position in the program.
  unsigned Device = 0; ///< The device whose stream runs it.
  llvm::SmallVector<TensorView, 4> Inputs;
  llvm::SmallVector<TensorView, 2> Outputs;
};

struct BoundProgram {
  const plan::ProgramSchedule *Schedule = nullptr;
  std::vector<BoundStep> Steps;
  unsigned NumStreams = 0;
};

/// A program made ready to run: the backend's own form of it.
class PreparedProgram {
public:
  virtual ~PreparedProgram();
};

class Backend {
public:
  virtual ~Backend();

  virtual llvm::StringRef getName() const = 0;
  /// The kind of plan device it runs.
  virtual plan::DeviceKind getDeviceKind() const = 0;
  virtual unsigned getNumDevices() const = 0;

  /// Reserves Bytes on device D for What ("arena", "weights", ...). Fails,
  /// naming the device and the bytes, beyond what the device may use.
  virtual llvm::Expected<void *> allocate(unsigned D, uint64_t Bytes,
                                          llvm::StringRef What) = 0;
  virtual void deallocate(unsigned D, void *P) = 0;
  virtual uint64_t getAllocatedBytes(unsigned D) const = 0;
  /// The device whose memory holds P, found from the allocations
  /// themselves, not from the plan: loading is verified with it.
  virtual std::optional<unsigned> findDevice(const void *P) const = 0;

  /// Host memory to device memory and back (loading, inputs, outputs).
  virtual llvm::Error copyToDevice(unsigned D, void *Dst, const void *Src,
                                   uint64_t Bytes) = 0;
  virtual llvm::Error copyFromDevice(unsigned D, void *Dst, const void *Src,
                                     uint64_t Bytes) = 0;

  /// Prepares a program to run many times; fails on a step it cannot run.
  virtual llvm::Expected<std::unique_ptr<PreparedProgram>>
  prepare(BoundProgram P) = 0;
  /// Runs a prepared program to completion on every stream. A failing step
  /// stops every stream and the error names it.
  virtual llvm::Error run(PreparedProgram &P) = 0;
  /// Waits until every stream of every device is idle.
  virtual void synchronize() = 0;
  /// Hands back to the system the bytes of Region (Size bytes, allocated on
  /// device D) from Keep on, which nothing needs until they are written
  /// again: the arena bytes only prefill uses, at the end of prefill. A
  /// backend that cannot does nothing.
  virtual void releaseTail(unsigned D, void *Region, uint64_t Keep,
                           uint64_t Size) {
    (void)D, (void)Region, (void)Keep, (void)Size;
  }
};

/// The kernels' element type for a plan's dtype name; an error for types
/// the runtime has no kernels for.
llvm::Expected<kernels::ElementType> getElementType(llvm::StringRef DType);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_BACKEND_H
