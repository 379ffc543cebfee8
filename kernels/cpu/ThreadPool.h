//===- ThreadPool.h - A small pool behind ParallelFor -----------*- C++ -*-===//
//
// Threads - 1 workers wait for work; run() splits [0, N) into at most
// Threads ranges, publishes them, works on ranges itself and waits for the
// rest. Ranges are claimed under the lock, so a worker that wakes late finds
// nothing left: no call ever sees another call's job, and the caller never
// waits for a worker that has not started (it takes the range itself).
//
// Waking a sleeping thread costs microseconds on bare metal and can cost
// a hundred on a busy virtual machine, while a decode step runs kernels back
// to back. So a worker that finishes spins for SpinTime on an atomic counter
// before it sleeps on the condition variable, and run() signals the
// condition variable only when some worker sleeps.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_THREADPOOL_H
#define STRATA_KERNELS_CPU_THREADPOOL_H

#include "kernels/cpu/CpuContext.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace strata::kernels::cpu {

class ThreadPool final : public ParallelFor {
public:
  /// Threads counts the caller of run(): ThreadPool(1) starts no thread.
  explicit ThreadPool(unsigned Threads, std::chrono::microseconds SpinTime =
                                            std::chrono::microseconds(50));
  ~ThreadPool() override;
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Safe to call from several threads; calls are served one at a time.
  void run(size_t N,
           llvm::function_ref<void(size_t Begin, size_t End)> Body) override;
  unsigned getConcurrency() const override { return Workers.size() + 1; }

private:
  void workerLoop();
  /// Runs claimed ranges until none is left; called with Lock held.
  void drain(std::unique_lock<std::mutex> &Lock);

  const std::chrono::microseconds SpinTime;
  std::vector<std::thread> Workers;
  std::mutex RunMutex; ///< One run() at a time.
  std::mutex Mutex;    ///< Guards the job and the counts below.
  std::condition_variable WorkReady, WorkDone;
  /// Bumped (under Mutex) for every job, so that spinning workers see it.
  std::atomic<uint64_t> Epoch{0};
  std::atomic<bool> Stopping{false};
  llvm::function_ref<void(size_t, size_t)> Job;
  size_t JobSize = 0;
  size_t Parts = 0, NextPart = 0, DoneParts = 0;
  unsigned Sleepers = 0;
};

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_THREADPOOL_H
