//===- ArenaPlanner.cpp - Byte offsets for buffers in one arena -----------===//
//
// Best fit: buffers are placed one at a time in a chosen order; each goes
// into the smallest gap left between the placed buffers it shares a step
// with, or on top of them if no gap is large enough. Five fixed orderings
// are tried, within a budget of placements, then squeaky-wheel rounds that
// put first the buffers left above the lower bound, and then, on small
// programs, orderings with jittered keys; the smallest arena is kept. A
// fixed or jittered ordering is dropped as soon as its arena reaches the
// best one so far, and the search stops at the lower bound.
//
// Finding those buffers must not mean scanning every placed one, which makes
// a million buffers take hours. Time is cut into blocks of a few dozen
// buffer starts, and each block lists, sorted by offset, the placed buffers
// that start in it and those that cross into it. The free spans of each
// list come out of one pass in offset order; a buffer's free spans are those
// of its first block's two lists and of each later block's starting list,
// intersected. No sort is needed per buffer, so a program whose live set is
// bounded is packed in time linear in its size, after the radix sorts that
// set the orders. All blocks share one flat array whose slices are sized
// before packing, and the jobs of an ordering run in an order that walks
// along time while placing each exactly where the ordering would (see
// BlockQueues): at a million buffers, waiting for memory, and the page
// faults of fresh memory, cost more than the arithmetic.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/ArenaPlanner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>

namespace strata::memory {

namespace {

constexpr uint64_t NoLimit = std::numeric_limits<uint64_t>::max();

/// Aligned sizes must add up to at most this, so that no end offset, and no
/// sum of live bytes, can overflow.
constexpr uint64_t MaxTotalBytes = std::numeric_limits<int64_t>::max();

/// A buffer of nonzero size as the packer sees it. Jobs are kept sorted by
/// First, then input index; every ordering falls back on that order on
/// ties, and it keeps the jobs of one time block together in memory.
struct Job {
  uint64_t Size; ///< Rounded up to the alignment.
  uint32_t First;
  uint32_t Last;
  uint32_t Index;        ///< Position in the input.
  uint32_t SizeRank;     ///< Among the distinct sizes, 0 for the smallest.
  uint32_t PressureRank; ///< Likewise for the pressure (see below).
  uint32_t FirstBlock;
  uint32_t LastBlock;
};

/// A placed buffer as the time blocks list it.
struct Placed {
  uint64_t Offset;
  uint64_t End;
  uint32_t First;
  uint32_t Last;
};

/// Free bytes [Lo, Hi); a list of them ends with [top, NoLimit).
struct Span {
  uint64_t Lo;
  uint64_t Hi;
};

/// A sort key and the position of its job.
struct Keyed {
  uint64_t Key;
  uint32_t Pos;
};

/// Sorts by Key, equal keys keeping their order: an LSD radix sort with one
/// pass per byte in which the keys differ. Several times faster than
/// std::sort on a million keys, and stable, so ties fall back to the job
/// order.
void radixSort(std::vector<Keyed> &Items, std::vector<Keyed> &Scratch) {
  std::array<std::array<uint32_t, 256>, 8> Counts{};
  for (const Keyed &K : Items)
    for (unsigned D = 0; D < 8; ++D)
      ++Counts[D][(K.Key >> (8 * D)) & 255];
  Scratch.resize(Items.size());
  for (unsigned D = 0; D < 8; ++D) {
    std::array<uint32_t, 256> &Next = Counts[D];
    if (llvm::is_contained(Next, Items.size()))
      continue; // every key has the same byte here
    uint32_t Sum = 0;
    for (uint32_t &C : Next)
      Sum += std::exchange(C, Sum);
    for (const Keyed &K : Items)
      Scratch[Next[(K.Key >> (8 * D)) & 255]++] = K;
    std::swap(Items, Scratch);
  }
}

/// Sets Sorted to the positions 0..N-1 sorted by Key(position), ties by
/// position.
template <typename KeyT>
void sortPositions(size_t N, KeyT Key, std::vector<Keyed> &Sorted,
                   std::vector<Keyed> &Scratch) {
  Sorted.resize(N);
  for (uint32_t P = 0; P < N; ++P)
    Sorted[P] = {Key(P), P};
  radixSort(Sorted, Scratch);
}

/// Calls Set(position, rank) for each item of Sorted, ranks counting the
/// distinct keys from 0.
template <typename SetT> void setRanks(llvm::ArrayRef<Keyed> Sorted, SetT Set) {
  uint32_t Rank = 0;
  for (size_t I = 0; I < Sorted.size(); ++I) {
    if (I > 0 && Sorted[I].Key != Sorted[I - 1].Key)
      ++Rank;
    Set(Sorted[I].Pos, Rank);
  }
}

/// The bytes live at each step where a buffer starts: the live bytes only
/// grow at such steps, so the largest over any range of steps is the largest
/// over the starts in it.
struct LiveProfile {
  std::vector<uint32_t> Steps;   ///< Distinct first steps, ascending.
  std::vector<uint64_t> Bytes;   ///< Live at each, in 128 bits clamped to 64.
  std::vector<uint32_t> StartOf; ///< Per job, the index of its First.
  uint64_t Peak = 0;
};

/// The profile of jobs sorted by First, given their positions by Last.
LiveProfile liveProfile(llvm::ArrayRef<Job> Jobs,
                        llvm::ArrayRef<Keyed> ByLast) {
  LiveProfile P;
  P.Steps.reserve(Jobs.size());
  P.Bytes.reserve(Jobs.size());
  P.StartOf.resize(Jobs.size());
  unsigned __int128 Live = 0;
  size_t Ended = 0;
  for (size_t I = 0; I < Jobs.size(); ++I) {
    uint32_t Step = Jobs[I].First;
    if (P.Steps.empty() || P.Steps.back() != Step) {
      // A buffer last live before this step is gone when this one starts.
      while (Ended < ByLast.size() && ByLast[Ended].Key < Step)
        Live -= Jobs[ByLast[Ended++].Pos].Size;
      P.Steps.push_back(Step);
      P.Bytes.push_back(0);
    }
    Live += Jobs[I].Size;
    P.Bytes.back() = Live > NoLimit ? NoLimit : uint64_t(Live);
    P.Peak = std::max(P.Peak, P.Bytes.back());
    P.StartOf[I] = P.Steps.size() - 1;
  }
  return P;
}

/// The largest value over index ranges of a fixed array. Each block of 32
/// values keeps its largest and a sparse table over those answers whole
/// blocks, so memory stays near one word per value, not log n words.
class RangeMax {
public:
  explicit RangeMax(llvm::ArrayRef<uint64_t> Values) : Values(Values) {
    size_t NumBlocks = (Values.size() + Width - 1) / Width;
    Table.emplace_back(NumBlocks, 0);
    for (size_t I = 0; I < Values.size(); ++I)
      Table[0][I / Width] = std::max(Table[0][I / Width], Values[I]);
    for (size_t Span = 2; Span <= NumBlocks; Span *= 2) {
      const std::vector<uint64_t> &Half = Table.back();
      std::vector<uint64_t> Level(NumBlocks - Span + 1);
      for (size_t B = 0; B < Level.size(); ++B)
        Level[B] = std::max(Half[B], Half[B + Span / 2]);
      Table.push_back(std::move(Level));
    }
  }

  /// The largest of Values[Lo..Hi], both included.
  uint64_t max(size_t Lo, size_t Hi) const {
    size_t First = Lo / Width, Last = Hi / Width;
    if (Last - First <= 1)
      return scan(Lo, Hi);
    uint64_t Ends =
        std::max(scan(Lo, First * Width + Width - 1), scan(Last * Width, Hi));
    unsigned Level = llvm::Log2_64(Last - First - 1);
    return std::max({Ends, Table[Level][First + 1],
                     Table[Level][Last - (size_t(1) << Level)]});
  }

private:
  static constexpr size_t Width = 32;

  uint64_t scan(size_t Lo, size_t Hi) const {
    return *std::max_element(Values.begin() + Lo, Values.begin() + Hi + 1);
  }

  llvm::ArrayRef<uint64_t> Values;
  std::vector<std::vector<uint64_t>> Table; ///< Level k: 2^k blocks.
};

/// Sets each job's PressureRank from its pressure: the most bytes live at
/// any one step of its life. Buffers live at the peak have the most and go
/// first in the pressure orderings, which stacks them without gaps.
/// Returns the pressures by position if Keep, else nothing.
std::vector<uint64_t> rankPressures(llvm::MutableArrayRef<Job> Jobs,
                                    const LiveProfile &P,
                                    llvm::ArrayRef<Keyed> ByLast, bool Keep,
                                    std::vector<Keyed> &Sorted,
                                    std::vector<Keyed> &Scratch) {
  RangeMax Max(P.Bytes);
  Sorted.resize(Jobs.size());
  size_t LastStart = 0; // the last start at or before the job's Last
  for (const Keyed &K : ByLast) {
    while (LastStart + 1 < P.Steps.size() && P.Steps[LastStart + 1] <= K.Key)
      ++LastStart;
    Sorted[K.Pos] = {Max.max(P.StartOf[K.Pos], LastStart), K.Pos};
  }
  std::vector<uint64_t> Pressure;
  if (Keep)
    for (const Keyed &K : Sorted)
      Pressure.push_back(K.Key);
  radixSort(Sorted, Scratch);
  setRanks(Sorted,
           [&](uint32_t Pos, uint32_t Rank) { Jobs[Pos].PressureRank = Rank; });
  return Pressure;
}

/// A block ends once it holds this many starts, at a step boundary...
constexpr size_t BlockStarts = 32;
/// ...and the buffers crossing into the next one are at most as many as
/// the starts in it, which keeps the copies of crossing buffers within n
/// however long the buffers live.
constexpr size_t CrossingPerStart = 1;

/// Cuts time into blocks and sets each job's FirstBlock and LastBlock.
/// Returns the number of blocks.
uint32_t cutTimeBlocks(llvm::MutableArrayRef<Job> Jobs,
                       llvm::ArrayRef<Keyed> ByLast) {
  // Block 0 starts at step 0, so every step falls in a block.
  std::vector<uint32_t> Starts{0};
  size_t InBlock = 0, Ended = 0;
  for (size_t I = 0; I < Jobs.size(); ++I) {
    uint32_t Step = Jobs[I].First;
    if (I > 0 && Step != Jobs[I - 1].First && InBlock >= BlockStarts) {
      // Of the I buffers started so far, those still live at Step cross.
      while (Ended < ByLast.size() && ByLast[Ended].Key < Step)
        ++Ended;
      if (I - Ended <= CrossingPerStart * InBlock) {
        Starts.push_back(Step);
        InBlock = 0;
      }
    }
    Jobs[I].FirstBlock = Starts.size() - 1;
    ++InBlock;
  }
  uint32_t Block = 0;
  for (const Keyed &K : ByLast) {
    while (Block + 1 < Starts.size() && Starts[Block + 1] <= K.Key)
      ++Block;
    Jobs[K.Pos].LastBlock = Block;
  }
  return Starts.size();
}

/// The placed buffers of each time block, in two lists sorted by offset:
/// those that cross into the block (started in an earlier one) and those
/// that start in it. A buffer spanning blocks F..L meets each placed buffer
/// it shares a step with exactly once: in F's lists or in a later block's
/// starting list. All lists are slices of one array, sized from the jobs.
class BlockLists {
public:
  BlockLists(llvm::ArrayRef<Job> Jobs, uint32_t NumBlocks)
      : Blocks(NumBlocks + 1) {
    for (const Job &J : Jobs) {
      ++Blocks[J.FirstBlock].StartingCap;
      if (J.FirstBlock != J.LastBlock) {
        ++Blocks[J.FirstBlock + 1].CrossingCap; // a difference array,
        --Blocks[J.LastBlock + 1].CrossingCap;  // summed below
      }
    }
    uint64_t Base = 0;
    uint32_t Crossing = 0;
    for (Block &B : Blocks) {
      Crossing += B.CrossingCap;
      B.CrossingCap = Crossing;
      B.Base = Base;
      Base += B.CrossingCap + B.StartingCap;
    }
    // The last record, past the last block, only marks where its lists end.
    Entries.resize(Base);
  }

  void clear() {
    for (Block &B : Blocks)
      B.Crossing = B.Starting = 0;
  }

  size_t numBlocks() const { return Blocks.size() - 1; }
  size_t numSlots() const { return Entries.size(); }
  /// Where block B's slots start, one per job that touches B.
  uint64_t base(uint32_t B) const { return Blocks[B].Base; }
  uint32_t touching(uint32_t B) const {
    return Blocks[B].CrossingCap + Blocks[B].StartingCap;
  }

  llvm::ArrayRef<Placed> crossing(uint32_t B) const {
    return {Entries.data() + Blocks[B].Base, Blocks[B].Crossing};
  }
  llvm::ArrayRef<Placed> starting(uint32_t B) const {
    const Block &K = Blocks[B];
    return {Entries.data() + K.Base + K.CrossingCap, K.Starting};
  }

  void add(const Job &J, const Placed &P) {
    Block &F = Blocks[J.FirstBlock];
    insert(F.Base + F.CrossingCap, F.Starting, P);
    assert(F.Starting <= F.StartingCap && "starting list sized too small");
    for (uint32_t B = J.FirstBlock + 1; B <= J.LastBlock; ++B) {
      insert(Blocks[B].Base, Blocks[B].Crossing, P);
      assert(Blocks[B].Crossing <= Blocks[B].CrossingCap &&
             "crossing list sized too small");
    }
  }

private:
  struct Block {
    uint64_t Base = 0;        ///< Where the crossing list starts in Entries.
    uint32_t CrossingCap = 0; ///< Followed by the starting list.
    uint32_t StartingCap = 0;
    uint32_t Crossing = 0; ///< Entries filled in each list.
    uint32_t Starting = 0;
  };

  /// Puts P into the Size-long sorted list at Begin, after equal offsets.
  void insert(uint64_t Begin, uint32_t &Size, const Placed &P) {
    Placed *First = Entries.data() + Begin, *At = First + Size;
    for (; At != First && At[-1].Offset > P.Offset; --At)
      *At = At[-1];
    *At = P;
    ++Size;
  }

  std::vector<Block> Blocks;
  std::vector<Placed> Entries;
};

/// Free spans [Lo, Hi), sorted and disjoint, the last one unbounded. The
/// storage only grows, so packing does not allocate once warm.
class SpanList {
public:
  llvm::ArrayRef<Span> spans() const { return {Storage.data(), Size}; }
  uint64_t top() const { return Storage[Size - 1].Lo; }

  /// Sets the list to the gaps below the buffers in List that share a step
  /// with [First, Last], then the span above them. No branch depends on the
  /// data: every candidate gap is written and kept or overwritten.
  void setFree(llvm::ArrayRef<Placed> List, uint32_t First, uint32_t Last) {
    Span *Out = reserve(List.size() + 1);
    size_t N = 0;
    uint64_t Covered = 0;
    for (const Placed &P : List) {
      bool Shares = (P.Last >= First) & (P.First <= Last);
      Out[N] = {Covered, P.Offset};
      N += Shares & (P.Offset > Covered);
      Covered = Shares ? std::max(Covered, P.End) : Covered;
    }
    Out[N++] = {Covered, NoLimit};
    Size = N;
  }

  /// Sets the list to the bytes free in both X and Y.
  void setIntersection(const SpanList &X, const SpanList &Y) {
    llvm::ArrayRef<Span> A = X.spans(), B = Y.spans();
    Span *Out = reserve(A.size() + B.size());
    size_t N = 0;
    for (size_t I = 0, K = 0; I < A.size() && K < B.size();) {
      uint64_t Lo = std::max(A[I].Lo, B[K].Lo);
      uint64_t Hi = std::min(A[I].Hi, B[K].Hi);
      Out[N] = {Lo, Hi};
      N += Lo < Hi;
      bool NextA = A[I].Hi < B[K].Hi;
      I += NextA;
      K += !NextA;
    }
    Size = N;
  }

  /// The lowest of the smallest bounded spans that hold Size bytes, or the
  /// unbounded one's start.
  uint64_t bestFit(uint64_t Bytes) const {
    uint64_t Best = top(), BestLength = NoLimit;
    for (const Span &S : spans().drop_back()) {
      uint64_t Length = S.Hi - S.Lo;
      if (Length >= Bytes && Length < BestLength) {
        Best = S.Lo;
        BestLength = Length;
      }
    }
    return Best;
  }

private:
  Span *reserve(size_t N) {
    if (Storage.size() < N)
      Storage.resize(std::max(N, 2 * Storage.size()));
    return Storage.data();
  }

  std::vector<Span> Storage;
  size_t Size = 0;
};

/// The jobs of an ordering, run in an order that visits memory along time
/// yet places every job exactly where the ordering would. A job's place
/// depends only on the jobs ranked before it that share a time block with
/// it, so any run in which each block sees its jobs in rank order gives the
/// same offsets. Each block queues the jobs that touch it by rank; a job may
/// run once it heads the queue of every block it spans, and running it moves
/// the next job of each of those queues up. Taking the newest runnable job
/// first keeps the work on the blocks just touched, which are in the cache:
/// the ranked order itself jumps across time at every job, and waiting for
/// memory made up most of the packing time.
class BlockQueues {
public:
  explicit BlockQueues(const BlockLists &Lists)
      : Lists(Lists), Slots(Lists.numSlots()), Head(Lists.numBlocks()) {}

  void start(llvm::ArrayRef<Job> Jobs, llvm::ArrayRef<Keyed> Order) {
    Waiting.resize(Jobs.size());
    std::fill(Head.begin(), Head.end(), 0);
    for (size_t I = 0; I < Order.size(); ++I) {
      // The jobs come in no particular order of position.
      if (I + 16 < Order.size())
        __builtin_prefetch(&Jobs[Order[I + 16].Pos]);
      const Keyed &K = Order[I];
      const Job &J = Jobs[K.Pos];
      Waiting[K.Pos] = J.LastBlock - J.FirstBlock + 1;
      for (uint32_t B = J.FirstBlock; B <= J.LastBlock; ++B)
        Slots[Lists.base(B) + Head[B]++] = K.Pos;
    }
    std::fill(Head.begin(), Head.end(), 0);
    Runnable.clear();
    for (uint32_t B = 0; B < Head.size(); ++B)
      if (Lists.touching(B) != 0)
        arrive(Slots[Lists.base(B)]);
  }

  /// Sets Pos to a job that may run now; false once all have run.
  bool next(uint32_t &Pos) {
    if (Runnable.empty())
      return false;
    Pos = Runnable.back();
    Runnable.pop_back();
    return true;
  }

  /// Records that J has run.
  void done(const Job &J) {
    for (uint32_t B = J.FirstBlock; B <= J.LastBlock; ++B)
      if (++Head[B] < Lists.touching(B))
        arrive(Slots[Lists.base(B) + Head[B]]);
  }

private:
  /// The job at Pos now heads one more of its queues.
  void arrive(uint32_t Pos) {
    if (--Waiting[Pos] == 0)
      Runnable.push_back(Pos);
  }

  const BlockLists &Lists;
  std::vector<uint32_t> Slots;   ///< Per block, the jobs touching it by rank.
  std::vector<uint32_t> Head;    ///< Per block, its first job yet to run.
  std::vector<uint32_t> Waiting; ///< Per job, the queues it does not head.
  std::vector<uint32_t> Runnable;
};

/// Best fit in a given order, with the placed buffers kept in BlockLists.
class BestFitPacker {
public:
  BestFitPacker(llvm::ArrayRef<Job> Jobs, uint32_t NumBlocks)
      : Jobs(Jobs), Lists(Jobs, NumBlocks), Queues(Lists) {}

  /// Places the jobs as they come in Order (positions in Jobs) and writes
  /// their offsets. Returns the arena size, or, as soon as the arena reaches
  /// Bound, a size at least Bound, leaving the offsets unfinished.
  uint64_t pack(llvm::ArrayRef<Keyed> Order,
                llvm::MutableArrayRef<uint64_t> Offsets, uint64_t Bound) {
    Lists.clear();
    Queues.start(Jobs, Order);
    Placements = 0;
    uint64_t Arena = 0;
    for (uint32_t Pos; Arena < Bound && Queues.next(Pos);) {
      const Job &J = Jobs[Pos];
      uint64_t Offset = bestFit(J);
      Placed P{Offset, Offset + J.Size, J.First, J.Last};
      Lists.add(J, P);
      Offsets[J.Index] = Offset;
      Arena = std::max(Arena, P.End);
      Queues.done(J);
      ++Placements;
    }
    return Arena;
  }

  /// How many jobs the last pack placed.
  size_t placed() const { return Placements; }

private:
  /// The bytes free at every step of J: those free around the first
  /// block's crossing list, and its starting list, and each later block's
  /// starting list. Then best fit among them.
  uint64_t bestFit(const Job &J) {
    Free.setFree(Lists.crossing(J.FirstBlock), J.First, J.Last);
    for (uint32_t B = J.FirstBlock; B <= J.LastBlock; ++B) {
      llvm::ArrayRef<Placed> Starting = Lists.starting(B);
      if (Starting.empty())
        continue;
      Other.setFree(Starting, J.First, J.Last);
      Next.setIntersection(Free, Other);
      std::swap(Free, Next);
    }
    return Free.bestFit(J.Size);
  }

  llvm::ArrayRef<Job> Jobs;
  BlockLists Lists;
  BlockQueues Queues;
  size_t Placements = 0;
  SpanList Free, Other, Next;
};

/// Jittered orderings run only while their placements stay within this
/// many, so that they cost little next to the fixed ones at any size.
constexpr size_t MaxJitterPlacements = 64'000;

/// Round R's key for a job of the given size and pressure: the size (even
/// rounds) or the pressure (odd ones), descending, scaled by 1 + e * u with
/// e from 0.1 to 0.4 and u in [0, 1) hashed from the input index and R.
/// Large buffers and those at the peak still tend to come first, in an
/// order that differs each round. On small programs one unlucky choice
/// costs a large share of the arena; there these rounds often find a
/// smaller one (on random DAGs of up to 200 ops they cut the programs more
/// than 5 % above the bound from about 4 % to about 1 %).
uint64_t jitterKey(unsigned Round, uint32_t Index, uint64_t Size,
                   uint64_t Pressure) {
  uint64_t X = Index + (Round + 1) * 0x9E3779B97F4A7C15ull; // SplitMix64
  X = (X ^ (X >> 30)) * 0xBF58476D1CE4E5B9ull;
  X = (X ^ (X >> 27)) * 0x94D049BB133111EBull;
  X ^= X >> 31;
  double U = double(X >> 11) / double(uint64_t(1) << 53);
  double Spread = 0.1 * (1 + (Round / 2) % 4);
  double Value = double(Round % 2 ? Pressure : Size) * (1 + Spread * U);
  // Non-negative doubles order as their bit patterns do.
  uint64_t Bits;
  std::memcpy(&Bits, &Value, sizeof(Bits));
  return ~Bits;
}

/// An order to place buffers in: ascending by Key, then by the job order
/// (First, then input index). Keys are complemented where the order is
/// descending; the length of a job is Last - First, which fits 32 bits.
struct Ordering {
  const char *Name;
  uint64_t (*Key)(const Job &);
};

// Tried in this order; on equal arenas the earlier one wins. Which to try
// was measured on random DAG programs (see the tests): pressure is the best
// single ordering and size the best second one; pressure-time and length
// each save a few programs both miss, and area a rare one.
const Ordering Orderings[] = {
    // Buffers live where the most bytes are live first, long-lived ones
    // first among equals: those at the peak are stacked without gaps.
    {"pressure",
     [](const Job &J) -> uint64_t {
       return (uint64_t(~J.PressureRank) << 32) | ~(J.Last - J.First);
     }},
    // Large buffers first, long-lived ones first among equals: small
    // buffers fill the gaps that large ones leave (TFLite's greedy by size,
    // XLA's GlobalDecreasingSizeBestFitHeap).
    {"size",
     [](const Job &J) -> uint64_t {
       return (uint64_t(~J.SizeRank) << 32) | ~(J.Last - J.First);
     }},
    // As above, in program order among equals.
    {"pressure-time",
     [](const Job &J) -> uint64_t { return uint64_t(~J.PressureRank) << 32; }},
    // Long-lived buffers first: the floor the short-lived ones stack on.
    {"length",
     [](const Job &J) -> uint64_t {
       return (uint64_t(~(J.Last - J.First)) << 32) | ~J.SizeRank;
     }},
    // The largest rectangles in space x time first.
    {"area",
     [](const Job &J) -> uint64_t {
       return ~llvm::SaturatingMultiply(J.Size, uint64_t(J.Last - J.First) + 1);
     }},
};

/// Checks the buffers; returns the error planArena reports, if any.
llvm::Error checkBuffers(llvm::ArrayRef<LiveInterval> Buffers,
                         uint64_t Alignment) {
  auto Invalid = [](const llvm::Twine &Message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), Message);
  };
  if (!llvm::isPowerOf2_64(Alignment))
    return Invalid("arena alignment " + llvm::Twine(Alignment) +
                   " is not a power of two");
  if (Buffers.size() >= std::numeric_limits<uint32_t>::max())
    return Invalid("arena planner takes fewer than 2^32 - 1 buffers, got " +
                   llvm::Twine(Buffers.size()));
  uint64_t Total = 0;
  for (size_t I = 0; I < Buffers.size(); ++I) {
    const LiveInterval &B = Buffers[I];
    if (B.First > B.Last)
      return Invalid("buffer " + llvm::Twine(I) + ": first step " +
                     llvm::Twine(B.First) + " is after last step " +
                     llvm::Twine(B.Last));
    // B.Bytes is checked first so that rounding it up cannot wrap.
    if (B.Bytes > MaxTotalBytes - Total ||
        llvm::alignTo(B.Bytes, Alignment) > MaxTotalBytes - Total)
      return Invalid("buffer " + llvm::Twine(I) + ": " + llvm::Twine(B.Bytes) +
                     " bytes take the aligned total past 2^63 - 1");
    Total += llvm::alignTo(B.Bytes, Alignment);
  }
  return llvm::Error::success();
}

/// The buffers for which Include holds, sizes rounded up by Round, sorted by
/// First, then input index.
template <typename IncludeT, typename RoundT>
std::vector<Job>
makeJobs(llvm::ArrayRef<LiveInterval> Buffers, IncludeT Include, RoundT Round,
         std::vector<Keyed> &Sorted, std::vector<Keyed> &Scratch) {
  Sorted.clear();
  Sorted.reserve(Buffers.size());
  for (uint32_t I = 0; I < Buffers.size(); ++I)
    if (Include(Buffers[I]))
      Sorted.push_back({Buffers[I].First, I});
  radixSort(Sorted, Scratch);
  std::vector<Job> Jobs(Sorted.size());
  for (size_t P = 0; P < Sorted.size(); ++P) {
    const LiveInterval &B = Buffers[Sorted[P].Pos];
    Jobs[P] = {Round(B.Bytes), B.First, B.Last, Sorted[P].Pos, 0, 0, 0, 0};
  }
  return Jobs;
}

/// One planArena call, in its phases: the jobs are prepared (sizes
/// rounded, ranks, pressures, time blocks, the lower bound), then packed in
/// the fixed orderings, in squeaky-wheel rounds and in jittered orderings,
/// each phase stopping once the arena is at the lower bound. The smallest
/// arena found wins.
class ArenaSearcher {
public:
  ArenaSearcher(llvm::ArrayRef<LiveInterval> Buffers, uint64_t Alignment,
                const ArenaSearch &Search)
      : Search(Search),
        Jobs(makeJobs(
            Buffers, [](const LiveInterval &B) { return B.Bytes != 0; },
            [&](uint64_t Bytes) { return llvm::alignTo(Bytes, Alignment); },
            Sorted, Scratch)),
        N(Jobs.size()), NumBlocks(prepare()), Packer(Jobs, NumBlocks) {
    Result.Offsets.assign(Buffers.size(), 0);
    Result.Size = NoLimit;
    Offsets.assign(Buffers.size(), 0);
  }

  ArenaAssignment run() {
    fixedOrderings();
    squeakyRounds();
    jitterRounds();
    return std::move(Result);
  }

private:
  /// Ranks, pressures and the lower bound; returns the time blocks.
  uint32_t prepare();
  /// Packs in the order Sorted gives and keeps the result if it is
  /// smaller. An ordering is dropped once its arena reaches Bound; with
  /// NoLimit every offset is written, for the next squeaky round.
  void tryOrder(const llvm::Twine &Name, uint64_t Bound);
  bool atLowerBound() const { return Result.Size == Result.LowerBound; }
  void fixedOrderings();
  void squeakyRounds();
  void jitterRounds();

  const ArenaSearch &Search;
  std::vector<Keyed> Sorted, Scratch;
  std::vector<Job> Jobs;
  const size_t N;
  std::vector<uint64_t> Pressure; ///< Per job, for the jittered keys.
  ArenaAssignment Result;
  const uint32_t NumBlocks;
  BestFitPacker Packer;
  std::vector<uint64_t> Offsets; ///< The last packing's.
  std::vector<Keyed> BestOrder;  ///< The order that packed Result.
  size_t Placements = 0;         ///< Of the fixed and squeaky phases.
};

uint32_t ArenaSearcher::prepare() {
  std::vector<Keyed> ByLast;
  sortPositions(
      N, [&](uint32_t P) -> uint64_t { return Jobs[P].Last; }, ByLast, Scratch);
  LiveProfile Profile = liveProfile(Jobs, ByLast);
  sortPositions(
      N, [&](uint32_t P) { return Jobs[P].Size; }, Sorted, Scratch);
  setRanks(Sorted, [&](uint32_t P, uint32_t Rank) { Jobs[P].SizeRank = Rank; });
  // Jittered rounds need the pressures; they do not run on large programs.
  Pressure = rankPressures(Jobs, Profile, ByLast,
                           Search.JitterRounds != 0 && N <= MaxJitterPlacements,
                           Sorted, Scratch);
  Result.LowerBound = Profile.Peak;
  return cutTimeBlocks(Jobs, ByLast);
}

void ArenaSearcher::tryOrder(const llvm::Twine &Name, uint64_t Bound) {
  uint64_t Size = Packer.pack(Sorted, Offsets, Bound);
  if (Size < Result.Size) {
    Result.Size = Size;
    Result.Ordering = Name.str();
    Result.Offsets = Offsets;
    BestOrder = Sorted;
  }
}

void ArenaSearcher::fixedOrderings() {
  // Nothing beats the lower bound: once there, the search stops.
  for (const Ordering &O : Orderings) {
    if (atLowerBound() ||
        (Placements != 0 && Placements + N > Search.MaxPlacements))
      break;
    sortPositions(
        N, [&](uint32_t P) { return O.Key(Jobs[P]); }, Sorted, Scratch);
    tryOrder(O.Name, Result.Size);
    Placements += Packer.placed();
  }
}

void ArenaSearcher::squeakyRounds() {
  // The buffers that ended above the lower bound go first in the next
  // round, the others keeping their order. Where one layer of a long
  // repeating program differs from the rest (the last, say), the size
  // orderings place its buffers in an order that suits the other layers and
  // leave one of them no gap; placed first, it takes one and the rest fit
  // around it. One round takes every preset's programs to the bound.
  for (unsigned R = 0;
       R < Search.SqueakyRounds && !BestOrder.empty() && !atLowerBound() &&
       Placements + N <= Search.MaxPlacements;
       ++R) {
    if (R == 0)
      Sorted = BestOrder;
    llvm::ArrayRef<uint64_t> Last = R == 0 ? Result.Offsets : Offsets;
    auto High = [&](const Keyed &K) {
      const Job &J = Jobs[K.Pos];
      return Last[J.Index] + J.Size > Result.LowerBound;
    };
    std::stable_partition(Sorted.begin(), Sorted.end(), High);
    tryOrder("squeaky-" + llvm::Twine(R), NoLimit);
    Placements += Packer.placed();
  }
}

void ArenaSearcher::jitterRounds() {
  size_t Jittered = 0;
  for (unsigned R = 0; R < Search.JitterRounds; ++R) {
    if (atLowerBound() || Jittered + N > MaxJitterPlacements)
      break;
    sortPositions(
        N,
        [&](uint32_t P) {
          return jitterKey(R, Jobs[P].Index, Jobs[P].Size, Pressure[P]);
        },
        Sorted, Scratch);
    tryOrder("jitter-" + llvm::Twine(R), Result.Size);
    Jittered += Packer.placed();
  }
}

} // namespace

llvm::Expected<ArenaAssignment> planArena(llvm::ArrayRef<LiveInterval> Buffers,
                                          uint64_t Alignment,
                                          const ArenaSearch &Search) {
  if (llvm::Error E = checkBuffers(Buffers, Alignment))
    return E;
  return ArenaSearcher(Buffers, Alignment, Search).run();
}

uint64_t arenaLowerBound(llvm::ArrayRef<LiveInterval> Buffers,
                         uint64_t Alignment) {
  // Any input is taken: sizes round up to a multiple of any alignment and
  // saturate; buffers that end before they start are never live.
  auto Round = [&](uint64_t Bytes) -> uint64_t {
    if (Alignment <= 1 || Bytes % Alignment == 0)
      return Bytes;
    return Bytes > NoLimit - Alignment ? NoLimit
                                       : Bytes + Alignment - Bytes % Alignment;
  };
  std::vector<Keyed> Sorted, Scratch, ByLast;
  std::vector<Job> Jobs = makeJobs(
      Buffers,
      [](const LiveInterval &B) { return B.Bytes != 0 && B.First <= B.Last; },
      Round, Sorted, Scratch);
  sortPositions(
      Jobs.size(), [&](uint32_t P) -> uint64_t { return Jobs[P].Last; }, ByLast,
      Scratch);
  return liveProfile(Jobs, ByLast).Peak;
}

} // namespace strata::memory
