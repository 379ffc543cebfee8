//===- ThreadPool.cpp - A small persistent pool behind ParallelFor --------===//

#include "kernels/cpu/ThreadPool.h"

#include <algorithm>
#include <cassert>

namespace strata::kernels::cpu {

/// Tells the processor this is a spin loop (saves power, frees the sibling
/// hyper-thread).
static inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

ThreadPool::ThreadPool(unsigned Threads, std::chrono::microseconds SpinTime)
    : SpinTime(SpinTime) {
  for (unsigned I = 1; I < Threads; ++I)
    Workers.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Stopping = true;
  }
  WorkReady.notify_all();
  for (std::thread &T : Workers)
    T.join();
}

void ThreadPool::drain(std::unique_lock<std::mutex> &Lock) {
  while (NextPart < Parts) {
    size_t P = NextPart++;
    // Part P of Parts: the first JobSize % Parts parts get one more item.
    size_t Base = JobSize / Parts, Extra = JobSize % Parts;
    size_t Begin = P * Base + std::min(P, Extra);
    size_t End = Begin + Base + (P < Extra ? 1 : 0);
    auto Body = Job;
    Lock.unlock();
    Body(Begin, End);
    Lock.lock();
    if (++DoneParts == Parts)
      WorkDone.notify_all();
  }
}

void ThreadPool::workerLoop() {
  uint64_t Seen = 0;
  for (;;) {
    // Spin a while for the next job before paying for a sleep and a wake.
    auto Deadline = std::chrono::steady_clock::now() + SpinTime;
    for (unsigned I = 1; Epoch.load(std::memory_order_acquire) == Seen &&
                         !Stopping.load(std::memory_order_relaxed);
         ++I) {
      cpuRelax();
      if (I % 64 == 0 && std::chrono::steady_clock::now() >= Deadline)
        break;
    }
    std::unique_lock<std::mutex> Lock(Mutex);
    ++Sleepers;
    WorkReady.wait(Lock, [&] { return Stopping || Epoch != Seen; });
    --Sleepers;
    if (Stopping)
      return;
    Seen = Epoch;
    drain(Lock);
  }
}

void ThreadPool::run(size_t N,
                     llvm::function_ref<void(size_t Begin, size_t End)> Body) {
  if (N == 0)
    return;
  size_t Split = std::min<size_t>(N, getConcurrency());
  if (Split == 1) {
    Body(0, N);
    return;
  }
  std::lock_guard<std::mutex> Serial(RunMutex);
  std::unique_lock<std::mutex> Lock(Mutex);
  assert(NextPart == Parts && DoneParts == Parts && "run() is not reentrant");
  Job = Body;
  JobSize = N;
  Parts = Split;
  NextPart = DoneParts = 0;
  Epoch.fetch_add(1, std::memory_order_release);
  // Spinning workers see the epoch; sleeping ones need the signal, and
  // no more of them than there are ranges beyond the caller's.
  for (size_t I = 0; I < std::min<size_t>(Sleepers, Split - 1); ++I)
    WorkReady.notify_one();
  drain(Lock);
  WorkDone.wait(Lock, [this] { return DoneParts == Parts; });
  // Leave no dangling callable behind for a late worker to see.
  Job = nullptr;
}

} // namespace strata::kernels::cpu
