//===- ThreadPoolTest.cpp - The pool behind ParallelFor -------------------===//

#include "kernels/cpu/ThreadPool.h"

#include "gtest/gtest.h"

#include <atomic>
#include <thread>
#include <vector>

using namespace strata::kernels::cpu;

namespace {

/// Runs Pool over N items and checks that every item was visited exactly
/// once, by ranges that are contiguous and non-empty.
void checkCoverage(ThreadPool &Pool, size_t N) {
  std::vector<std::atomic<int>> Seen(N);
  std::atomic<size_t> Calls{0};
  Pool.run(N, [&](size_t Begin, size_t End) {
    EXPECT_LT(Begin, End);
    EXPECT_LE(End, N);
    for (size_t I = Begin; I < End; ++I)
      Seen[I].fetch_add(1, std::memory_order_relaxed);
    Calls.fetch_add(1, std::memory_order_relaxed);
  });
  for (size_t I = 0; I < N; ++I)
    ASSERT_EQ(Seen[I].load(), 1) << "item " << I << " of " << N;
  EXPECT_LE(Calls.load(), std::min<size_t>(N, Pool.getConcurrency()));
}

} // namespace

TEST(ThreadPool, CoversEveryItemOnce) {
  for (unsigned Threads : {1u, 2u, 3u, 5u}) {
    ThreadPool Pool(Threads);
    EXPECT_EQ(Pool.getConcurrency(), Threads);
    for (size_t N : {0, 1, 2, 3, 4, 7, 64, 1001})
      checkCoverage(Pool, N);
  }
}

TEST(ThreadPool, SplitsWorkAcrossThreads) {
  ThreadPool Pool(3);
  // Each range blocks until all three have started: only possible if they
  // run at the same time on three threads.
  std::atomic<int> Started{0};
  std::vector<std::thread::id> Ids(3);
  Pool.run(3, [&](size_t Begin, size_t) {
    Ids[Begin] = std::this_thread::get_id();
    Started.fetch_add(1);
    while (Started.load() < 3)
      std::this_thread::yield();
  });
  EXPECT_NE(Ids[0], Ids[1]);
  EXPECT_NE(Ids[1], Ids[2]);
  EXPECT_NE(Ids[0], Ids[2]);
}

TEST(ThreadPool, ManyShortRunsAndConcurrentCallers) {
  ThreadPool Pool(4);
  // Back-to-back runs: a late worker must never see a finished job.
  for (int R = 0; R < 2000; ++R) {
    std::atomic<size_t> Sum{0};
    Pool.run(4, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I)
        Sum.fetch_add(I + 1);
    });
    ASSERT_EQ(Sum.load(), 10u);
  }
  // Several threads sharing one pool are served one run at a time.
  std::vector<std::thread> Callers;
  std::atomic<int> Failures{0};
  for (int C = 0; C < 3; ++C)
    Callers.emplace_back([&] {
      for (int R = 0; R < 200; ++R) {
        std::vector<int> Hit(37, 0);
        Pool.run(37, [&](size_t Begin, size_t End) {
          for (size_t I = Begin; I < End; ++I)
            ++Hit[I];
        });
        for (int H : Hit)
          if (H != 1)
            Failures.fetch_add(1);
      }
    });
  for (std::thread &T : Callers)
    T.join();
  EXPECT_EQ(Failures.load(), 0);
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool Pool(1);
  std::thread::id Caller = std::this_thread::get_id(), Ran;
  Pool.run(5, [&](size_t Begin, size_t End) {
    EXPECT_EQ(Begin, 0u);
    EXPECT_EQ(End, 5u);
    Ran = std::this_thread::get_id();
  });
  EXPECT_EQ(Ran, Caller);
}
