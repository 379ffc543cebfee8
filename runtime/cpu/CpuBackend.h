//===- CpuBackend.h - Plans run on CPU virtual devices ----------*- C++ -*-===//
//
// Each virtual device is a memory cap and a worker thread that runs the
// steps of all its streams (as many as the plan gives the device) in
// program order, which keeps every dependency since every wait points
// back. Events are real cross-thread synchronisation (an atomic per event
// holding the run that recorded it, waited on with C++20 atomic wait);
// collectives are rendezvous of their member streams. A device cannot allocate
// beyond its cap. Kernels come from kernels/cpu, each device with its own pool
// of kernel threads.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_CPU_CPUBACKEND_H
#define STRATA_RUNTIME_CPU_CPUBACKEND_H

#include "runtime/Backend.h"

#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace strata::kernels::cpu {
class ThreadPool;
} // namespace strata::kernels::cpu

namespace strata::runtime {

class CpuStreams;

class CpuBackend final : public Backend {
public:
  struct Options {
    /// Kernel threads per device (the stream's own thread included); 0:
    /// this machine's cores shared among the devices.
    unsigned ThreadsPerDevice = 0;
    /// Run every step's synchronisation but no kernel: what the executor
    /// itself costs per step (benchmarks only).
    bool SkipKernels = false;
    /// Called before each step, from the device's worker thread; an error
    /// fails the run as a failing kernel does: the other devices stop at
    /// their next wait or collective. Tests inject faults with it; must be
    /// thread-safe.
    std::function<llvm::Error(const BoundStep &)> BeforeStep;
  };
  /// One virtual device per entry of Caps, each able to allocate that many
  /// bytes.
  CpuBackend(std::vector<uint64_t> Caps, Options O);
  ~CpuBackend() override;

  llvm::StringRef getName() const override { return "cpu"; }
  plan::DeviceKind getDeviceKind() const override {
    return plan::DeviceKind::CPU;
  }
  unsigned getNumDevices() const override { return Caps.size(); }
  llvm::Expected<void *> allocate(unsigned D, uint64_t Bytes,
                                  llvm::StringRef What) override;
  void deallocate(unsigned D, void *P) override;
  uint64_t getAllocatedBytes(unsigned D) const override;
  std::optional<unsigned> findDevice(const void *P) const override;
  llvm::Error copyToDevice(unsigned D, void *Dst, const void *Src,
                           uint64_t Bytes) override;
  llvm::Error copyFromDevice(unsigned D, void *Dst, const void *Src,
                             uint64_t Bytes) override;
  llvm::Error readF32(unsigned D, const TensorView &T, float *Out) override;
  llvm::Expected<std::unique_ptr<PreparedProgram>>
  prepare(BoundProgram P) override;
  llvm::Error run(PreparedProgram &P) override;
  void synchronize() override {}
  uint64_t releaseTail(unsigned D, void *Region, uint64_t Keep,
                       uint64_t Size) override;

  /// Bytes of device D's allocations that are in physical memory now
  /// (whole pages, as the kernel reports them): what releaseTail hands
  /// back shows here.
  uint64_t getResidentBytes(unsigned D) const;

private:
  /// One device's steps of one run of P, on that device's worker thread.
  void runDevice(PreparedProgram &P, unsigned Device, uint64_t Gen);

  std::vector<uint64_t> Caps;
  Options Opts;
  std::vector<uint64_t> Used;
  mutable std::mutex AllocMutex;
  /// Start address -> (end, device) of every allocation.
  std::map<uintptr_t, std::pair<uintptr_t, unsigned>> Allocations;
  std::vector<std::unique_ptr<kernels::cpu::ThreadPool>> Pools;
  std::unique_ptr<CpuStreams> Streams;
};

} // namespace strata::runtime

#endif // STRATA_RUNTIME_CPU_CPUBACKEND_H
