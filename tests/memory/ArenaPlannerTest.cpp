//===- ArenaPlannerTest.cpp - Arena planner offsets and bounds ------------===//
//
// Hand-drawn cases with exact offsets (space up, time across, as XLA's heap
// simulator tests draw them), bad input, and random programs checked by a
// verifier written here: a pairwise overlap check, an O(n^2) lower bound,
// and a plain best fit that scans every placed buffer, which the planner's
// time-block index must match offset for offset.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/ArenaPlanner.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <tuple>

using namespace strata::memory;

namespace {

ArenaAssignment plan(llvm::ArrayRef<LiveInterval> Buffers,
                     uint64_t Alignment = 1, ArenaSearch Search = {}) {
  auto A = planArena(Buffers, Alignment, Search);
  if (!A) {
    ADD_FAILURE() << llvm::toString(A.takeError());
    return {};
  }
  return std::move(*A);
}

std::string errorOf(llvm::ArrayRef<LiveInterval> Buffers, uint64_t Alignment) {
  auto A = planArena(Buffers, Alignment);
  if (A)
    return "no error";
  return llvm::toString(A.takeError());
}

uint64_t aligned(uint64_t Bytes, uint64_t Alignment) {
  return (Bytes + Alignment - 1) / Alignment * Alignment;
}

//===----------------------------------------------------------------------===//
// The verifier: shares no code with the planner.
//===----------------------------------------------------------------------===//

bool shareAStep(const LiveInterval &A, const LiveInterval &B) {
  return A.First <= B.Last && B.First <= A.Last;
}

/// Most aligned bytes live at one step: the peak is at some buffer's start.
uint64_t bruteForceLowerBound(llvm::ArrayRef<LiveInterval> Buffers,
                              uint64_t Alignment) {
  uint64_t Peak = 0;
  for (const LiveInterval &At : Buffers) {
    uint64_t Live = 0;
    for (const LiveInterval &B : Buffers)
      if (B.First <= At.First && At.First <= B.Last)
        Live += aligned(B.Bytes, Alignment);
    Peak = std::max(Peak, Live);
  }
  return Peak;
}

/// Checks every property a plan must have; returns the first violation.
testing::AssertionResult isValidPlan(llvm::ArrayRef<LiveInterval> Buffers,
                                     uint64_t Alignment,
                                     const ArenaAssignment &A) {
  if (A.Offsets.size() != Buffers.size())
    return testing::AssertionFailure() << A.Offsets.size() << " offsets for "
                                       << Buffers.size() << " buffers";
  uint64_t Top = 0;
  for (size_t I = 0; I < Buffers.size(); ++I) {
    if (A.Offsets[I] % Alignment != 0)
      return testing::AssertionFailure()
             << "buffer " << I << " at unaligned offset " << A.Offsets[I];
    if (Buffers[I].Bytes == 0 && A.Offsets[I] != 0)
      return testing::AssertionFailure()
             << "zero-byte buffer " << I << " at offset " << A.Offsets[I];
    if (Buffers[I].Bytes != 0)
      Top = std::max(Top, A.Offsets[I] + aligned(Buffers[I].Bytes, Alignment));
  }
  if (A.Size != Top)
    return testing::AssertionFailure()
           << "size " << A.Size << " but the buffers reach " << Top;
  for (size_t I = 0; I < Buffers.size(); ++I) {
    for (size_t K = I + 1; K < Buffers.size(); ++K) {
      const LiveInterval &X = Buffers[I], &Y = Buffers[K];
      if (X.Bytes == 0 || Y.Bytes == 0 || !shareAStep(X, Y))
        continue;
      uint64_t XEnd = A.Offsets[I] + X.Bytes, YEnd = A.Offsets[K] + Y.Bytes;
      if (A.Offsets[I] < YEnd && A.Offsets[K] < XEnd)
        return testing::AssertionFailure()
               << "buffers " << I << " [" << A.Offsets[I] << ", " << XEnd
               << ") and " << K << " [" << A.Offsets[K] << ", " << YEnd
               << ") overlap and share a step";
    }
  }
  uint64_t Bound = bruteForceLowerBound(Buffers, Alignment);
  if (A.LowerBound != Bound)
    return testing::AssertionFailure()
           << "lower bound " << A.LowerBound << ", expected " << Bound;
  if (A.Size < Bound)
    return testing::AssertionFailure()
           << "size " << A.Size << " below the lower bound " << Bound;
  return testing::AssertionSuccess();
}

//===----------------------------------------------------------------------===//
// A plain best fit, as the header specifies it, to compare with.
//===----------------------------------------------------------------------===//

struct Reference {
  uint64_t Size = 0;
  std::string Ordering;
  std::vector<uint64_t> Offsets;
};

/// Best fit in the given order, every placed buffer scanned for each one.
Reference bestFitInOrder(llvm::ArrayRef<LiveInterval> Buffers,
                         uint64_t Alignment, const std::vector<size_t> &Order) {
  Reference R;
  R.Offsets.assign(Buffers.size(), 0);
  std::vector<size_t> Placed;
  for (size_t I : Order) {
    uint64_t Size = aligned(Buffers[I].Bytes, Alignment);
    std::vector<std::pair<uint64_t, uint64_t>> Busy; // [offset, end)
    for (size_t P : Placed)
      if (shareAStep(Buffers[P], Buffers[I]))
        Busy.push_back({R.Offsets[P],
                        R.Offsets[P] + aligned(Buffers[P].Bytes, Alignment)});
    std::sort(Busy.begin(), Busy.end());
    uint64_t Covered = 0, Best = 0, BestGap = 0;
    bool Found = false;
    for (const auto &[Offset, End] : Busy) {
      if (Offset > Covered) {
        uint64_t Gap = Offset - Covered;
        if (Gap >= Size && (!Found || Gap < BestGap)) {
          Found = true;
          Best = Covered;
          BestGap = Gap;
        }
      }
      Covered = std::max(Covered, End);
    }
    R.Offsets[I] = Found ? Best : Covered;
    R.Size = std::max(R.Size, R.Offsets[I] + Size);
    Placed.push_back(I);
  }
  return R;
}

/// The planner's result as the documented orderings define it: each
/// ordering's best fit, the smallest arena, the earliest ordering on ties;
/// then up to Squeaky squeaky rounds.
Reference referencePlan(llvm::ArrayRef<LiveInterval> Buffers,
                        uint64_t Alignment, unsigned Squeaky) {
  const size_t N = Buffers.size();
  auto Size = [&](size_t I) { return aligned(Buffers[I].Bytes, Alignment); };
  auto Length = [&](size_t I) {
    return uint64_t(Buffers[I].Last) - Buffers[I].First;
  };
  // Pressure: the most bytes live at one step of a buffer's life, which is
  // at one of the steps where a buffer starts.
  std::vector<uint64_t> LiveAtStart(N, 0), Pressure(N, 0);
  for (size_t I = 0; I < N; ++I)
    for (size_t K = 0; K < N; ++K)
      if (Buffers[K].First <= Buffers[I].First &&
          Buffers[I].First <= Buffers[K].Last)
        LiveAtStart[I] += Size(K);
  for (size_t I = 0; I < N; ++I)
    for (size_t K = 0; K < N; ++K)
      if (Buffers[K].Bytes != 0 && Buffers[I].First <= Buffers[K].First &&
          Buffers[K].First <= Buffers[I].Last)
        Pressure[I] = std::max(Pressure[I], LiveAtStart[K]);
  // Sort keys, ascending; descending parts negated.
  using Key = std::tuple<double, double, double, uint32_t, size_t>;
  auto Ties = [&](size_t I) { return std::make_pair(Buffers[I].First, I); };
  auto Make = [&](double A, double B, double C, size_t I) {
    return Key{A, B, C, Ties(I).first, Ties(I).second};
  };
  const std::pair<const char *, std::function<Key(size_t)>> Orderings[] = {
      {"pressure",
       [&](size_t I) {
         return Make(-double(Pressure[I]), -double(Length(I)), 0, I);
       }},
      {"size",
       [&](size_t I) {
         return Make(-double(Size(I)), -double(Length(I)), 0, I);
       }},
      {"pressure-time",
       [&](size_t I) { return Make(-double(Pressure[I]), 0, 0, I); }},
      {"length",
       [&](size_t I) {
         return Make(-double(Length(I)), -double(Size(I)), 0, I);
       }},
      {"area",
       [&](size_t I) {
         unsigned __int128 Area = (unsigned __int128)Size(I) * (Length(I) + 1);
         return Make(-double(std::min<unsigned __int128>(Area, ~uint64_t(0))),
                     0, 0, I);
       }},
  };
  Reference Best;
  std::vector<size_t> BestOrder;
  for (const auto &[Name, KeyOf] : Orderings) {
    std::vector<size_t> Order;
    for (size_t I = 0; I < N; ++I)
      if (Buffers[I].Bytes != 0)
        Order.push_back(I);
    std::sort(Order.begin(), Order.end(),
              [&](size_t A, size_t B) { return KeyOf(A) < KeyOf(B); });
    Reference R = bestFitInOrder(Buffers, Alignment, Order);
    R.Ordering = Name;
    if (Best.Ordering.empty() || R.Size < Best.Size) {
      Best = std::move(R);
      BestOrder = Order;
    }
  }
  // Squeaky rounds: the buffers that ended above the lower bound go first,
  // starting from the best ordering's result, then from each round's own.
  const uint64_t Bound = bruteForceLowerBound(Buffers, Alignment);
  std::vector<uint64_t> Last = Best.Offsets;
  for (unsigned Round = 0; Round < Squeaky && Best.Size != Bound; ++Round) {
    std::stable_partition(BestOrder.begin(), BestOrder.end(), [&](size_t I) {
      return Last[I] + aligned(Buffers[I].Bytes, Alignment) > Bound;
    });
    Reference R = bestFitInOrder(Buffers, Alignment, BestOrder);
    R.Ordering = "squeaky-" + std::to_string(Round);
    Last = R.Offsets;
    if (R.Size < Best.Size)
      Best = std::move(R);
  }
  return Best;
}

//===----------------------------------------------------------------------===//
// Random programs.
//===----------------------------------------------------------------------===//

/// Buffers with random sizes and lifetimes, steps drawn from [0, Steps).
std::vector<LiveInterval> randomIntervals(std::mt19937_64 &Rng, size_t N,
                                          uint32_t Steps, uint32_t MaxLength,
                                          uint64_t MaxBytes) {
  std::vector<LiveInterval> Buffers;
  for (size_t I = 0; I < N; ++I) {
    uint32_t First = Rng() % Steps;
    uint32_t Length = Rng() % MaxLength;
    uint32_t Last = Length > Steps - 1 - First ? Steps - 1 : First + Length;
    uint64_t Bytes = Rng() % 8 == 0 ? 0 : 1 + Rng() % MaxBytes;
    Buffers.push_back({Bytes, First, Last});
  }
  return Buffers;
}

/// A random DAG of N ops, each reading one to three earlier values (most
/// from the last few, some from anywhere), run in a random topological
/// order; each value lives from its op to its last reader.
std::vector<LiveInterval> randomDAGProgram(std::mt19937_64 &Rng, size_t N) {
  std::vector<std::vector<size_t>> Readers(N);
  std::vector<size_t> Unread(N, 0);
  for (size_t V = 1; V < N; ++V) {
    size_t Count = 1 + Rng() % 3;
    for (size_t K = 0; K < Count; ++K) {
      size_t From =
          Rng() % 4 ? V - 1 - Rng() % std::min<size_t>(V, 6) : Rng() % V;
      Readers[From].push_back(V);
      ++Unread[V];
    }
  }
  std::vector<size_t> Ready{0}, StepOf(N);
  for (size_t Step = 0; Step < N; ++Step) {
    std::swap(Ready[Rng() % Ready.size()], Ready.back());
    size_t V = Ready.back();
    Ready.pop_back();
    StepOf[V] = Step;
    for (size_t R : Readers[V])
      if (--Unread[R] == 0)
        Ready.push_back(R);
  }
  // Sizes as tensors have them: a few shapes, from 1 KiB to 4 MiB.
  std::vector<uint64_t> Shapes;
  for (int S = 0; S < 6; ++S)
    Shapes.push_back(uint64_t(1024) << (Rng() % 13));
  std::vector<LiveInterval> Buffers(N);
  for (size_t V = 0; V < N; ++V) {
    uint32_t First = StepOf[V], Last = First;
    for (size_t R : Readers[V])
      Last = std::max<uint32_t>(Last, StepOf[R]);
    Buffers[StepOf[V]] = {Shapes[Rng() % Shapes.size()], First, Last};
  }
  return Buffers;
}

/// Decoder layers over a residual stream of D bytes: each layer makes a
/// norm, q/k/v, attention scores, attention output, a projection and a
/// residual add, then a norm, gate and up projections, their product, a
/// down projection and a second residual add.
std::vector<LiveInterval> transformerChain(int Layers, uint64_t D, uint64_t FFN,
                                           uint64_t Scores) {
  std::vector<LiveInterval> Buffers;
  auto Op = [&](uint64_t Bytes, std::initializer_list<uint32_t> Reads) {
    uint32_t Step = Buffers.size();
    for (uint32_t R : Reads)
      Buffers[R].Last = Step;
    Buffers.push_back({Bytes, Step, Step});
    return Step;
  };
  uint32_t X = Op(D, {});
  for (int L = 0; L < Layers; ++L) {
    uint32_t H = Op(D, {X});
    uint32_t Q = Op(D, {H}), K = Op(D / 4, {H}), V = Op(D / 4, {H});
    uint32_t S = Op(Scores, {Q, K});
    uint32_t A = Op(D, {S, V});
    uint32_t R = Op(D, {X, Op(D, {A})});
    uint32_t G = Op(D, {R});
    uint32_t Act = Op(FFN, {Op(FFN, {G}), Op(FFN, {G})});
    X = Op(D, {R, Op(D, {Act})});
  }
  Op(D, {X});
  return Buffers;
}

//===----------------------------------------------------------------------===//
// Hand-drawn cases.
//===----------------------------------------------------------------------===//

TEST(ArenaPlannerTest, Empty) {
  ArenaAssignment A = plan({});
  EXPECT_TRUE(A.Offsets.empty());
  EXPECT_EQ(A.Size, 0u);
  EXPECT_EQ(A.LowerBound, 0u);
}

TEST(ArenaPlannerTest, BestFitTakesTheSmallestGap) {
  // The "pressure" ordering places the five buffers live at step 3, where
  // 360 bytes are live, longest first: D, E, C, F, A. B comes last and fits
  // both gaps left at steps 4-5 by D, E and F; best fit takes the 80 bytes
  // F leaves, not the 140 below C.
  //
  //  360             +-------+
  //                  |   A   |
  //  290         +---+---+---+
  //              |   F   |
  //  240         |       +-------+
  //              |       |   B   |
  //  210         +-------+-------+
  //              |       C       |
  //  140 +-------+-------+-------+
  //      |       E       |
  //  100 +---------------+
  //      |       D       |
  //    0 +---------------+
  //      0   1   2   3   4   5   6  step
  std::vector<LiveInterval> Buffers = {
      {70, 3, 4}, {30, 4, 5}, {70, 2, 5}, {100, 0, 3}, {40, 0, 3}, {80, 2, 3},
  };
  ArenaAssignment A = plan(Buffers);
  EXPECT_EQ(A.Offsets, (std::vector<uint64_t>{290, 210, 140, 0, 100, 210}));
  EXPECT_EQ(A.Size, 360u);
  EXPECT_EQ(A.LowerBound, 360u);
  EXPECT_EQ(A.Ordering, "pressure");
  EXPECT_TRUE(isValidPlan(Buffers, 1, A));
}

TEST(ArenaPlannerTest, ReusesBytesOfDeadBuffers) {
  // A chain: each buffer is read by the next step only, so two suffice.
  //
  //  8 +---+---+---+---+
  //    |   | B |   | D |
  //  4 +---+---+---+---+
  //    | A |   | C |
  //  0 +---+---+---+
  //    0   1   2   3   4  step
  std::vector<LiveInterval> Buffers = {
      {4, 0, 1}, {4, 1, 2}, {4, 2, 3}, {4, 3, 4}};
  ArenaAssignment A = plan(Buffers);
  EXPECT_EQ(A.Offsets, (std::vector<uint64_t>{0, 4, 0, 4}));
  EXPECT_EQ(A.Size, 8u);
  EXPECT_TRUE(isValidPlan(Buffers, 1, A));
}

TEST(ArenaPlannerTest, AlignmentRoundsSizesForPacking) {
  // With 64-byte alignment A takes 128 bytes, B and C 64 each; the reported
  // arena counts the rounded sizes.
  //
  //  256 +-------+-------+
  //      |       |   C   |
  //  192 +-------+-------+
  //      |   B   |
  //  128 +-------+-------+
  //      |   A   |
  //    0 +-------+
  //      0       1       2  step
  std::vector<LiveInterval> Buffers = {{100, 0, 1}, {1, 0, 1}, {64, 1, 2}};
  ArenaAssignment A = plan(Buffers, 64);
  EXPECT_EQ(A.Offsets, (std::vector<uint64_t>{0, 128, 192}));
  EXPECT_EQ(A.Size, 256u);
  EXPECT_EQ(A.LowerBound, 256u);
  EXPECT_EQ(arenaLowerBound(Buffers, 64), 256u);
  EXPECT_EQ(arenaLowerBound(Buffers, 1), 165u);
  EXPECT_TRUE(isValidPlan(Buffers, 64, A));
}

TEST(ArenaPlannerTest, ZeroByteBuffersConflictWithNothing) {
  std::vector<LiveInterval> Buffers = {{0, 0, 9}, {8, 0, 9}, {0, 3, 3}};
  ArenaAssignment A = plan(Buffers, 8);
  EXPECT_EQ(A.Offsets, (std::vector<uint64_t>{0, 0, 0}));
  EXPECT_EQ(A.Size, 8u);
  EXPECT_EQ(A.LowerBound, 8u);
}

TEST(ArenaPlannerTest, StepsAtTheEndsOfTheRange) {
  const uint32_t Max = ~uint32_t(0);
  std::vector<LiveInterval> Buffers = {
      {16, 0, Max}, {16, Max, Max}, {16, 0, 0}, {32, Max - 1, Max - 1}};
  ArenaAssignment A = plan(Buffers, 16);
  EXPECT_EQ(A.Offsets, (std::vector<uint64_t>{0, 16, 16, 16}));
  EXPECT_EQ(A.Size, 48u);
  EXPECT_EQ(A.LowerBound, 48u);
  EXPECT_TRUE(isValidPlan(Buffers, 16, A));
}

TEST(ArenaPlannerTest, LowerBoundCountsBuffersLiveAtTheSameStep) {
  // Live bytes per step: 0: 10, 1: 10+20, 2: 20+5, 3: 5. A buffer whose
  // last step is 1 is gone at step 2.
  std::vector<LiveInterval> Buffers = {{10, 0, 1}, {20, 1, 2}, {5, 2, 3}};
  EXPECT_EQ(arenaLowerBound(Buffers, 1), 30u);
  EXPECT_EQ(arenaLowerBound(Buffers, 32), 64u);
  EXPECT_EQ(arenaLowerBound({}, 1), 0u);
}

//===----------------------------------------------------------------------===//
// Bad input.
//===----------------------------------------------------------------------===//

TEST(ArenaPlannerTest, RejectsABufferThatEndsBeforeItStarts) {
  EXPECT_EQ(errorOf({{8, 0, 1}, {8, 5, 3}}, 8),
            "buffer 1: first step 5 is after last step 3");
}

TEST(ArenaPlannerTest, RejectsAnAlignmentThatIsNotAPowerOfTwo) {
  EXPECT_EQ(errorOf({{8, 0, 1}}, 0), "arena alignment 0 is not a power of two");
  EXPECT_EQ(errorOf({{8, 0, 1}}, 24),
            "arena alignment 24 is not a power of two");
}

TEST(ArenaPlannerTest, RejectsSizesThatOverflow) {
  const uint64_t Max = ~uint64_t(0);
  EXPECT_EQ(errorOf({{Max, 0, 1}}, 1),
            "buffer 0: 18446744073709551615 bytes take the aligned total "
            "past 2^63 - 1");
  EXPECT_EQ(errorOf({{Max / 2, 0, 1}, {1, 0, 0}}, 1),
            "buffer 1: 1 bytes take the aligned total past 2^63 - 1");
  // Rounding up to the alignment can overflow on its own.
  EXPECT_EQ(errorOf({{(Max >> 1) - 2, 0, 1}}, 8),
            "buffer 0: 9223372036854775805 bytes take the aligned total past "
            "2^63 - 1");
  // Just fits.
  EXPECT_TRUE(bool(planArena({{Max / 2, 0, 1}}, 1)));
}

//===----------------------------------------------------------------------===//
// Random programs.
//===----------------------------------------------------------------------===//

// The fixed orderings and squeaky rounds (no jittered rounds) must place
// every buffer exactly where a plain best fit in the documented orders does.
ArenaSearch noJitter() {
  ArenaSearch S;
  S.JitterRounds = 0;
  return S;
}
const ArenaSearch NoJitter = noJitter();

TEST(ArenaPlannerTest, RandomIntervalsMatchThePlainBestFit) {
  std::mt19937_64 Rng(1);
  for (int Case = 0; Case < 1500; ++Case) {
    size_t N = 1 + Rng() % (Case < 1000 ? 40 : 400);
    uint32_t Steps = 1 + Rng() % (Case % 3 == 0 ? 8 : 300);
    uint32_t MaxLength = 1 + Rng() % Steps;
    uint64_t MaxBytes = Case % 2 ? 64 : 1 << 20;
    uint64_t Alignment = uint64_t(1) << (Rng() % 8);
    auto Buffers = randomIntervals(Rng, N, Steps, MaxLength, MaxBytes);
    ArenaAssignment A = plan(Buffers, Alignment, NoJitter);
    ASSERT_TRUE(isValidPlan(Buffers, Alignment, A)) << "case " << Case;
    Reference R = referencePlan(Buffers, Alignment, NoJitter.SqueakyRounds);
    ASSERT_EQ(A.Size, R.Size) << "case " << Case;
    ASSERT_EQ(A.Ordering, R.Ordering) << "case " << Case;
    ASSERT_EQ(A.Offsets, R.Offsets) << "case " << Case;
  }
}

TEST(ArenaPlannerTest, LongBuffersOverManyTimeBlocksMatchThePlainBestFit) {
  // Thousands of buffers cut time into many blocks; some live across most
  // of them, some across a few, most within one.
  std::mt19937_64 Rng(2);
  for (int Case = 0; Case < 12; ++Case) {
    size_t N = 500 + Rng() % 2500;
    uint32_t Steps = N / (1 + Rng() % 3);
    std::vector<LiveInterval> Buffers;
    for (size_t I = 0; I < N; ++I) {
      uint32_t First = Rng() % Steps;
      uint32_t Length = Rng() % 10 == 0  ? Rng() % Steps
                        : Rng() % 4 == 0 ? Rng() % 100
                                         : Rng() % 6;
      uint32_t Last = std::min(Steps - 1, First + Length);
      Buffers.push_back({1 + Rng() % 5000, First, Last});
    }
    ArenaAssignment A = plan(Buffers, 16, NoJitter);
    ASSERT_TRUE(isValidPlan(Buffers, 16, A)) << "case " << Case;
    Reference R = referencePlan(Buffers, 16, NoJitter.SqueakyRounds);
    ASSERT_EQ(A.Size, R.Size) << "case " << Case;
    ASSERT_EQ(A.Ordering, R.Ordering) << "case " << Case;
    ASSERT_EQ(A.Offsets, R.Offsets) << "case " << Case;
  }
}

TEST(ArenaPlannerTest, JitteredRoundsOnlyEverShrinkTheArena) {
  std::mt19937_64 Rng(4);
  int Shrunk = 0;
  for (int Case = 0; Case < 400; ++Case) {
    auto Buffers = randomIntervals(Rng, 1 + Rng() % 120, 1 + Rng() % 60,
                                   1 + Rng() % 20, 1 << 16);
    ArenaAssignment Fixed = plan(Buffers, 64, NoJitter);
    ArenaAssignment A = plan(Buffers, 64);
    ASSERT_TRUE(isValidPlan(Buffers, 64, A)) << "case " << Case;
    ASSERT_LE(A.Size, Fixed.Size) << "case " << Case;
    if (A.Size < Fixed.Size) {
      ++Shrunk;
      EXPECT_EQ(A.Ordering.rfind("jitter-", 0), 0u) << A.Ordering;
    }
    // Deterministic: the same input gives the same plan.
    ArenaAssignment Again = plan(Buffers, 64);
    ASSERT_EQ(A.Offsets, Again.Offsets) << "case " << Case;
    ASSERT_EQ(A.Ordering, Again.Ordering) << "case " << Case;
  }
  // The rounds are there because they pay off on programs like these.
  EXPECT_GT(Shrunk, 40);
}

TEST(ArenaPlannerTest, PlacementBudgetBoundsTheOrderingsTried) {
  std::mt19937_64 Rng(5);
  for (int Case = 0; Case < 200; ++Case) {
    auto Buffers = randomIntervals(Rng, 2 + Rng() % 100, 1 + Rng() % 50,
                                   1 + Rng() % 20, 1 << 16);
    size_t N = 0;
    for (const LiveInterval &B : Buffers)
      N += B.Bytes != 0;
    ArenaSearch One;
    One.MaxPlacements = 0;
    One.JitterRounds = 0;
    ArenaSearch Two = One;
    Two.MaxPlacements = 2 * N;
    ArenaAssignment A1 = plan(Buffers, 8, One), A2 = plan(Buffers, 8, Two),
                    All = plan(Buffers, 8, NoJitter);
    ASSERT_TRUE(isValidPlan(Buffers, 8, A1)) << "case " << Case;
    EXPECT_EQ(A1.Ordering, "pressure") << "case " << Case;
    EXPECT_TRUE(A2.Ordering == "pressure" || A2.Ordering == "size")
        << "case " << Case << ": " << A2.Ordering;
    EXPECT_LE(A2.Size, A1.Size) << "case " << Case;
    EXPECT_LE(All.Size, A2.Size) << "case " << Case;
  }
}

/// Arena / lower bound for Cases random DAG programs of MinN to MaxN ops:
/// every plan is checked, and the ratios are returned sorted.
std::vector<double> dagRatios(uint64_t Seed, int Cases, size_t MinN,
                              size_t MaxN) {
  std::mt19937_64 Rng(Seed);
  std::vector<double> Ratios;
  for (int Case = 0; Case < Cases; ++Case) {
    auto Buffers = randomDAGProgram(Rng, MinN + Rng() % (MaxN - MinN + 1));
    ArenaAssignment A = plan(Buffers, 256);
    EXPECT_TRUE(isValidPlan(Buffers, 256, A)) << "case " << Case;
    Ratios.push_back(double(A.Size) / double(A.LowerBound));
  }
  std::sort(Ratios.begin(), Ratios.end());
  return Ratios;
}

TEST(ArenaPlannerTest, RandomDAGProgramsStayWithinFivePercentOfTheBound) {
  // Programs of a thousand ops and more: every one within 5 %.
  std::vector<double> Ratios = dagRatios(3, 12, 1000, 3000);
  EXPECT_LE(Ratios.back(), 1.05);
  RecordProperty("worst_ratio", std::to_string(Ratios.back()));
}

TEST(ArenaPlannerTest, SmallRandomDAGProgramsMostlyStayWithinFivePercent) {
  // With a few hundred ops or fewer, one step where several large buffers
  // meet can cost a large share of the arena, and a few programs in a
  // thousand end above 5 % (up to 9 % seen), some of them where 200,000
  // random orders of best fit do too. Hold 99 % to 5 % and bound the tail.
  for (auto [MinN, MaxN, Cases] :
       {std::tuple<size_t, size_t, int>{2, 100, 1000}, {100, 1000, 200}}) {
    std::vector<double> Ratios = dagRatios(MinN, Cases, MinN, MaxN);
    double Mean = 0;
    for (double R : Ratios)
      Mean += R / Ratios.size();
    EXPECT_LE(Ratios[Ratios.size() * 99 / 100], 1.05) << MinN << "-" << MaxN;
    EXPECT_LE(Ratios.back(), 1.12) << MinN << "-" << MaxN;
    EXPECT_LE(Mean, 1.01) << MinN << "-" << MaxN;
  }
}

TEST(ArenaPlannerTest, TransformerChainsMeetTheBound) {
  for (int Layers : {1, 4, 32}) {
    for (uint64_t Tokens : {1, 16, 512, 4096}) {
      uint64_t D = 4096 * 2 * Tokens;
      auto Buffers = transformerChain(Layers, D, 14336 * 2 * Tokens,
                                      32 * Tokens * Tokens * 2);
      ArenaAssignment A = plan(Buffers, 256);
      ASSERT_TRUE(isValidPlan(Buffers, 256, A));
      EXPECT_LE(double(A.Size), 1.02 * double(A.LowerBound))
          << Layers << " layers, " << Tokens << " tokens";
    }
  }
}

TEST(ArenaPlannerTest, SqueakyRoundsFitALastLayerThatDiffers) {
  // The live ranges of a tensor-parallel prefill schedule (llama3-8b on 8
  // GPUs), one layer every 152 steps: hidden-size H buffers, FFN shares F,
  // attention shares Q and K. Each layer's output is the next one's
  // residual, except the last's, which lives only until the final norm.
  // Every fixed ordering then leaves the last FFN activation no gap.
  const uint64_t H = 4096, F = 1792, Q = 512, K = 128;
  const std::tuple<uint64_t, uint32_t, uint32_t> Layer[] = {
      {H, 16, 40},   {Q, 24, 48},   {K, 32, 56},   {K, 40, 72},
      {Q, 48, 80},   {K, 56, 64},   {Q, 80, 88},   {H, 88, 104},
      {H, 104, 160}, {H, 112, 128}, {F, 120, 136}, {F, 128, 136},
      {F, 136, 144}, {H, 144, 160}, {H, 160, 256}};
  for (uint32_t Layers : {2u, 3u, 32u}) {
    std::vector<LiveInterval> Buffers{{H, 0, 104}}; // the embedding
    for (uint32_t L = 0; L < Layers; ++L)
      for (auto [Bytes, First, Last] : Layer)
        Buffers.push_back(
            {Bytes, 152 * L + First,
             152 * L + (L + 1 == Layers && Last == 256 ? 168 : Last)});
    Buffers.push_back({64, 152 * Layers + 8, 152 * Layers + 16});

    ArenaSearch FixedOnly;
    FixedOnly.SqueakyRounds = 0;
    FixedOnly.JitterRounds = 0;
    ArenaAssignment Fixed = plan(Buffers, 1, FixedOnly);
    EXPECT_GT(Fixed.Size, Fixed.LowerBound) << Layers << " layers";

    ArenaSearch SqueakyOnly = FixedOnly;
    SqueakyOnly.SqueakyRounds = 8;
    ArenaAssignment A = plan(Buffers, 1, SqueakyOnly);
    ASSERT_TRUE(isValidPlan(Buffers, 1, A));
    EXPECT_EQ(A.Size, A.LowerBound) << Layers << " layers";
    EXPECT_EQ(A.Ordering.rfind("squeaky-", 0), 0u) << A.Ordering;
  }
}

} // namespace
