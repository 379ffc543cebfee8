//===- Backend.h - What the executor needs of a device backend --*- C++ -*-===//
//
// A backend owns devices: their memory, their streams and events, their
// collectives and their kernels. The executor (Executor.h) reads the plan,
// allocates each region through the backend, loads weights, binds every
// step to the bytes it reads and writes, and hands each program to the
// backend to prepare once (a CUDA graph, or per-device work lists on the
// CPU) and run many times. The CPU backend (cpu/CpuBackend.h) runs every
// plan on any machine; a CUDA backend implements the same interface.
//
// The interface is the calls every backend must make (pure virtual) and a
// few optional ones with defaults that suit a backend whose device memory
// is host memory. Devices are the backend's own, numbered from 0; the
// executor maps the plan's devices onto them (`strata run --devices`).
// Steps are decoded into kernel parameters by StepDecoder.h, which every
// backend shares.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_BACKEND_H
#define STRATA_RUNTIME_BACKEND_H

#include "ir/plan/Plan.h"
#include "kernels/ElementType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <chrono>
#include <functional>
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
  unsigned Device = 0; ///< The backend device whose stream runs it.
  llvm::SmallVector<TensorView, 4> Inputs;
  llvm::SmallVector<TensorView, 2> Outputs;
};

/// One of the plan's streams (plan::Stream), on the backend device its
/// plan device is mapped to.
struct BoundStream {
  unsigned Device = 0;
  plan::StreamKind Kind = plan::StreamKind::Compute;
};

struct BoundProgram {
  const plan::ProgramSchedule *Schedule = nullptr;
  /// Indexed by plan::Step::Stream: any number of streams per device.
  std::vector<BoundStream> Streams;
  std::vector<BoundStep> Steps;
};

/// A program made ready to run: the backend's own form of it.
class PreparedProgram {
public:
  virtual ~PreparedProgram();
};

/// Told of every step a backend ran: when it began and how long it took
/// (a collective's time includes waiting for its other members).
using StepObserver = std::function<void(
    const BoundStep &S, std::chrono::steady_clock::time_point Begin,
    double Seconds)>;

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
  /// T's elements (on device D, of a float or block type) as f32 in host
  /// memory Out (T.numElements() of them): the logits read back.
  virtual llvm::Error readF32(unsigned D, const TensorView &T, float *Out) = 0;

  /// Prepares a program to run many times; fails on a step it cannot run.
  virtual llvm::Expected<std::unique_ptr<PreparedProgram>>
  prepare(BoundProgram P) = 0;
  /// Runs a prepared program to completion on every stream. A failing step
  /// stops every stream and the error names it.
  virtual llvm::Error run(PreparedProgram &P) = 0;
  /// Waits until every stream of every device is idle.
  virtual void synchronize() = 0;

  // Optional: the defaults suit a backend whose devices are host memory.

  /// Hands back to the system the bytes of Region (Size bytes, allocated on
  /// device D) from Keep on, which nothing needs until they are written
  /// again: the arena bytes only prefill uses, at the end of prefill.
  /// Returns the bytes handed back; a backend that cannot returns 0.
  virtual uint64_t releaseTail(unsigned D, void *Region, uint64_t Keep,
                               uint64_t Size) {
    (void)D, (void)Region, (void)Keep, (void)Size;
    return 0;
  }
  /// Host memory that steps read directly (host-offloaded weights):
  /// pinned memory on a GPU; plain memory here.
  virtual llvm::Expected<void *> allocateHost(uint64_t Bytes,
                                              llvm::StringRef What);
  virtual void deallocateHost(void *P);
  /// Called for every step of every run, from any thread, once the step is
  /// done (a GPU backend may call it when the run ends); must be
  /// thread-safe. Set it before running; null: no timing.
  virtual void setStepObserver(StepObserver O) { Observer = std::move(O); }

protected:
  const StepObserver &getStepObserver() const { return Observer; }

private:
  StepObserver Observer;
};

/// The kernels' element type for a plan's dtype name; an error for types
/// the runtime has no kernels for.
llvm::Expected<kernels::ElementType> getElementType(llvm::StringRef DType);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_BACKEND_H
