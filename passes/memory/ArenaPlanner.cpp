//===- ArenaPlanner.cpp - Byte offsets for buffers in one arena -----------===//
//
// Best fit: buffers are placed one at a time in a chosen order; each goes
// into the smallest gap left between the placed buffers it shares a step
// with, or on top of them if no gap is large enough.
//
// Finding those buffers must not mean scanning every placed one, which makes
// a million buffers take hours. Time is cut into blocks of a few dozen
// buffer starts, and each block lists, sorted by offset, the placed buffers
// that start in it and those that cross into it. A buffer within one block
// (most of them) reads that block's two lists, already in offset order; a
// longer one takes each block's buffers away from a list of free spans. No
// sort is needed per buffer, so a program whose live set is bounded is
// packed in time linear in its size, after the sorts that set the orders.
// All blocks share one flat array whose slices are sized before packing:
// packing allocates nothing and touches little memory, which matters more
// than anything else at a million buffers.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/ArenaPlanner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace strata::memory {

namespace {

constexpr uint64_t NoLimit = std::numeric_limits<uint64_t>::max();

/// Aligned sizes must add up to at most this, so that no end offset, and no
/// sum of live bytes, can overflow.
constexpr uint64_t MaxTotalBytes = std::numeric_limits<int64_t>::max();

/// A buffer of nonzero size as the packer sees it.
struct Job {
  uint64_t Size; ///< Rounded up to the alignment.
  uint32_t First;
  uint32_t Last;
  uint32_t Index;    ///< Position in the input.
  uint32_t SizeRank; ///< Rank among the distinct sizes, 0 for the smallest.
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

/// A sort key and the position in the job list it belongs to.
struct Keyed {
  uint64_t Key;
  uint32_t Pos;
};

/// Sorts by Key, equal keys keeping their order: an LSD radix sort with one
/// pass per byte in which the keys differ. Five times faster than std::sort
/// on a million keys, and stable, so ties fall back to the input order.
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

/// Sets Sorted to the jobs' positions sorted by Key(job), ties by position.
template <typename KeyT>
void sortJobs(llvm::ArrayRef<Job> Jobs, KeyT Key, std::vector<Keyed> &Sorted,
              std::vector<Keyed> &Scratch) {
  Sorted.resize(Jobs.size());
  for (uint32_t P = 0; P < Jobs.size(); ++P)
    Sorted[P] = {Key(Jobs[P]), P};
  radixSort(Sorted, Scratch);
}

/// Largest sum of sizes live at one step, given the jobs sorted by First
/// and by Last. Summed in 128 bits, so any sizes are safe.
uint64_t peakLiveBytes(llvm::ArrayRef<Job> Jobs, llvm::ArrayRef<Keyed> ByFirst,
                       llvm::ArrayRef<Keyed> ByLast) {
  unsigned __int128 Live = 0, Peak = 0;
  size_t Ended = 0;
  for (const Keyed &Start : ByFirst) {
    // A buffer last live before this step is gone when this one starts.
    while (Ended < ByLast.size() && ByLast[Ended].Key < Start.Key)
      Live -= Jobs[ByLast[Ended++].Pos].Size;
    Live += Jobs[Start.Pos].Size;
    Peak = std::max(Peak, Live);
  }
  return Peak > NoLimit ? NoLimit : uint64_t(Peak);
}

/// A block ends once it holds this many starts, at a step boundary...
constexpr size_t BlockStarts = 32;
/// ...and the buffers crossing into the next one are at most this many per
/// start in it, which keeps the copies of crossing buffers within 2n.
constexpr size_t CrossingPerStart = 2;

/// Cuts time into blocks and sets each job's FirstBlock and LastBlock.
/// Returns the number of blocks.
uint32_t cutTimeBlocks(llvm::MutableArrayRef<Job> Jobs,
                       llvm::ArrayRef<Keyed> ByFirst,
                       llvm::ArrayRef<Keyed> ByLast) {
  // Block 0 starts at step 0, so every step falls in a block.
  std::vector<uint32_t> Starts{0};
  size_t InBlock = 0, Ended = 0;
  for (size_t I = 0; I < ByFirst.size(); ++I) {
    uint32_t Step = ByFirst[I].Key;
    if (I > 0 && Step != ByFirst[I - 1].Key && InBlock >= BlockStarts) {
      // Of the I buffers started so far, those still live at Step cross.
      while (Ended < ByLast.size() && ByLast[Ended].Key < Step)
        ++Ended;
      if (I - Ended <= CrossingPerStart * InBlock) {
        Starts.push_back(Step);
        InBlock = 0;
      }
    }
    Jobs[ByFirst[I].Pos].FirstBlock = Starts.size() - 1;
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

  // Blocks are visited in no particular order, and a visit that waits for
  // memory costs more than the scan itself. A packer asks for the record of
  // a job's first block some jobs ahead, and, once it has arrived, for the
  // block's lists; those of later blocks follow them in memory, where the
  // hardware prefetcher finds them. (Reading any other record here would
  // wait for memory and undo the gain.)
  void prefetchRecord(uint32_t B) const { __builtin_prefetch(&Blocks[B]); }
  void prefetchLists(uint32_t B) const {
    const Block &K = Blocks[B];
    const char *Line = reinterpret_cast<const char *>(Entries.data() + K.Base);
    const char *End = reinterpret_cast<const char *>(
        Entries.data() + K.Base + K.CrossingCap + K.Starting);
    for (End = std::min(End, Line + 64 * MaxPrefetchLines); Line < End;
         Line += 64)
      __builtin_prefetch(Line);
  }

private:
  static constexpr size_t MaxPrefetchLines = 64;

  /// 32 bytes, aligned, so that one prefetch brings a whole record.
  struct alignas(32) Block {
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

/// Best fit in a given order, with the placed buffers kept in BlockLists.
class BestFitPacker {
public:
  BestFitPacker(llvm::ArrayRef<Job> Jobs, uint32_t NumBlocks)
      : Jobs(Jobs), Lists(Jobs, NumBlocks) {}

  /// Places the jobs in Order (positions in Jobs) and writes their offsets.
  /// Returns the arena size, or, as soon as the arena reaches Bound, a size
  /// at least Bound, leaving the offsets unfinished.
  uint64_t pack(llvm::ArrayRef<Keyed> Order,
                llvm::MutableArrayRef<uint64_t> Offsets, uint64_t Bound) {
    Lists.clear();
    uint64_t Arena = 0;
    const size_t N = Order.size();
    for (size_t I = 0; I < N; ++I) {
      if (I + 3 * Ahead < N)
        __builtin_prefetch(&Jobs[Order[I + 3 * Ahead].Pos]);
      if (I + 2 * Ahead < N)
        Lists.prefetchRecord(Jobs[Order[I + 2 * Ahead].Pos].FirstBlock);
      if (I + Ahead < N)
        Lists.prefetchLists(Jobs[Order[I + Ahead].Pos].FirstBlock);
      const Job &J = Jobs[Order[I].Pos];
      uint64_t Offset = bestFit(J);
      Placed P{Offset, Offset + J.Size, J.First, J.Last};
      Lists.add(J, P);
      Offsets[J.Index] = Offset;
      Arena = std::max(Arena, P.End);
      if (Arena >= Bound)
        break;
    }
    return Arena;
  }

private:
  static constexpr size_t Ahead = 4;

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
  SpanList Free, Other, Next;
};

/// An order to place buffers in: ascending by Key, then by input index.
/// Keys are complemented where the order is descending; "length" is
/// Last - First, which fits 32 bits.
struct Ordering {
  const char *Name;
  uint64_t (*Key)(const Job &);
};

// Tried in this order; on equal arenas the earlier one wins.
const Ordering Orderings[] = {
    // Large buffers first, longer ones first among equals: small buffers
    // fill the gaps large ones leave (TFLite's greedy by size, XLA's
    // GlobalDecreasingSizeBestFitHeap).
    {"size",
     [](const Job &J) -> uint64_t {
       return (uint64_t(~J.SizeRank) << 32) | ~(J.Last - J.First);
     }},
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
    // In program order, larger first at a step: an online allocator's view.
    {"time",
     [](const Job &J) -> uint64_t {
       return (uint64_t(J.First) << 32) | ~J.SizeRank;
     }},
};

/// The buffers of nonzero size, rounded up to Alignment.
llvm::Expected<std::vector<Job>> makeJobs(llvm::ArrayRef<LiveInterval> Buffers,
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
  std::vector<Job> Jobs;
  Jobs.reserve(Buffers.size());
  uint64_t Total = 0;
  for (uint32_t I = 0; I < Buffers.size(); ++I) {
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
    if (B.Bytes == 0)
      continue;
    uint64_t Size = llvm::alignTo(B.Bytes, Alignment);
    Total += Size;
    Jobs.push_back({Size, B.First, B.Last, I, 0, 0, 0});
  }
  return Jobs;
}

/// Sets each job's SizeRank from the jobs sorted by size.
void rankSizes(llvm::MutableArrayRef<Job> Jobs, llvm::ArrayRef<Keyed> BySize) {
  uint32_t Rank = 0;
  for (size_t I = 0; I < BySize.size(); ++I) {
    if (I > 0 && BySize[I].Key != BySize[I - 1].Key)
      ++Rank;
    Jobs[BySize[I].Pos].SizeRank = Rank;
  }
}

} // namespace

llvm::Expected<ArenaAssignment> planArena(llvm::ArrayRef<LiveInterval> Buffers,
                                          uint64_t Alignment) {
  auto MaybeJobs = makeJobs(Buffers, Alignment);
  if (!MaybeJobs)
    return MaybeJobs.takeError();
  std::vector<Job> &Jobs = *MaybeJobs;

  std::vector<Keyed> Scratch, ByFirst, ByLast;
  sortJobs(
      Jobs, [](const Job &J) { return J.Size; }, ByFirst, Scratch);
  rankSizes(Jobs, ByFirst);
  sortJobs(
      Jobs, [](const Job &J) { return J.First; }, ByFirst, Scratch);
  sortJobs(
      Jobs, [](const Job &J) { return J.Last; }, ByLast, Scratch);
  ArenaAssignment Result;
  Result.LowerBound = peakLiveBytes(Jobs, ByFirst, ByLast);
  uint32_t NumBlocks = cutTimeBlocks(Jobs, ByFirst, ByLast);
  ByLast = {}; // Gives the memory back for the packing.

  Result.Offsets.assign(Buffers.size(), 0);
  Result.Size = NoLimit;
  std::vector<uint64_t> Offsets(Buffers.size(), 0);
  BestFitPacker Packer(Jobs, NumBlocks);
  std::vector<Keyed> &Order = ByFirst;
  for (const Ordering &O : Orderings) {
    sortJobs(Jobs, O.Key, Order, Scratch);
    // An ordering is dropped once its arena reaches the best so far.
    uint64_t Size = Packer.pack(Order, Offsets, Result.Size);
    if (Size < Result.Size) {
      Result.Size = Size;
      Result.Ordering = O.Name;
      std::swap(Result.Offsets, Offsets);
    }
    // Nothing beats the lower bound: the later orderings cannot win.
    if (Result.Size == Result.LowerBound)
      break;
  }
  return Result;
}

uint64_t arenaLowerBound(llvm::ArrayRef<LiveInterval> Buffers,
                         uint64_t Alignment) {
  std::vector<Job> Jobs;
  Jobs.reserve(Buffers.size());
  for (const LiveInterval &B : Buffers) {
    if (B.Bytes == 0 || B.First > B.Last)
      continue;
    uint64_t Size = B.Bytes;
    if (Alignment > 1 && Size % Alignment != 0)
      Size = Size > NoLimit - Alignment ? NoLimit
                                        : Size + Alignment - Size % Alignment;
    Jobs.push_back({Size, B.First, B.Last, 0, 0, 0, 0});
  }
  std::vector<Keyed> Scratch, ByFirst, ByLast;
  sortJobs(
      Jobs, [](const Job &J) { return J.First; }, ByFirst, Scratch);
  sortJobs(
      Jobs, [](const Job &J) { return J.Last; }, ByLast, Scratch);
  return peakLiveBytes(Jobs, ByFirst, ByLast);
}

} // namespace strata::memory
