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

/// Jobs' positions sorted by Key(job), ties by position.
template <typename KeyT>
std::vector<Keyed> sortJobs(llvm::ArrayRef<Job> Jobs, KeyT Key,
                            std::vector<Keyed> &Scratch) {
  std::vector<Keyed> Sorted;
  Sorted.reserve(Jobs.size());
  for (uint32_t P = 0; P < Jobs.size(); ++P)
    Sorted.push_back({Key(Jobs[P]), P});
  radixSort(Sorted, Scratch);
  return Sorted;
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
    Blocks.pop_back();
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

  /// Asks for the start of block B's lists to be brought into the cache:
  /// blocks are visited in no particular order, so each visit would
  /// otherwise wait for memory.
  void prefetch(uint32_t B) const {
    const char *P =
        reinterpret_cast<const char *>(Entries.data() + Blocks[B].Base);
    for (unsigned Line = 0; Line < 4; ++Line)
      __builtin_prefetch(P + 64 * Line);
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
    Placed *First = Entries.data() + Begin, *Last = First + Size;
    Placed *At = std::upper_bound(
        First, Last, P.Offset,
        [](uint64_t Off, const Placed &Q) { return Off < Q.Offset; });
    std::move_backward(At, Last, Last + 1);
    *At = P;
    ++Size;
  }

  std::vector<Block> Blocks;
  std::vector<Placed> Entries;
};

/// Best fit in a given order, with the placed buffers kept in BlockLists.
class BestFitPacker {
public:
  BestFitPacker(llvm::ArrayRef<Job> Jobs, uint32_t NumBlocks)
      : Lists(Jobs, NumBlocks) {}

  /// Places the jobs in order, writes their offsets and returns the arena
  /// size.
  uint64_t pack(llvm::ArrayRef<Job> Order,
                llvm::MutableArrayRef<uint64_t> Offsets) {
    constexpr size_t Ahead = 8;
    Lists.clear();
    uint64_t Arena = 0;
    for (size_t I = 0; I < Order.size(); ++I) {
      if (I + Ahead < Order.size())
        Lists.prefetch(Order[I + Ahead].FirstBlock);
      const Job &J = Order[I];
      uint64_t Offset = J.FirstBlock == J.LastBlock ? bestGapInBlock(J)
                                                    : bestGapAcrossBlocks(J);
      Placed P{Offset, Offset + J.Size, J.First, J.Last};
      Lists.add(J, P);
      Offsets[J.Index] = Offset;
      Arena = std::max(Arena, P.End);
    }
    return Arena;
  }

private:
  /// Best fit for a job within one block: its two lists merged in offset
  /// order, a gap opening wherever the next buffer starts above all earlier
  /// ones' ends.
  uint64_t bestGapInBlock(const Job &J) const {
    llvm::ArrayRef<Placed> S = Lists.starting(J.FirstBlock);
    llvm::ArrayRef<Placed> C = Lists.crossing(J.FirstBlock);
    const Placed *SI = S.begin(), *SE = S.end(), *CI = C.begin(), *CE = C.end();
    uint64_t Covered = 0, Best = NoLimit, BestLength = NoLimit;
    while (SI != SE || CI != CE) {
      const Placed &P =
          SI == SE || (CI != CE && CI->Offset <= SI->Offset) ? *CI++ : *SI++;
      if (P.Last < J.First || P.First > J.Last)
        continue;
      if (P.Offset > Covered) {
        uint64_t Gap = P.Offset - Covered;
        if (Gap >= J.Size && Gap < BestLength) {
          Best = Covered;
          BestLength = Gap;
        }
      }
      Covered = std::max(Covered, P.End);
    }
    return Best != NoLimit ? Best : Covered;
  }

  /// Best fit for a job spanning several blocks: the bytes free in all of
  /// them, found by taking each list's buffers away from the free spans.
  uint64_t bestGapAcrossBlocks(const Job &J) {
    Free.assign(1, Span{0, NoLimit});
    subtract(J, Lists.crossing(J.FirstBlock));
    for (uint32_t B = J.FirstBlock; B <= J.LastBlock; ++B)
      subtract(J, Lists.starting(B));
    uint64_t Best = Free.back().Lo, BestLength = NoLimit;
    for (const Span &S : llvm::makeArrayRef(Free).drop_back()) {
      uint64_t Gap = S.Hi - S.Lo;
      if (Gap >= J.Size && Gap < BestLength) {
        Best = S.Lo;
        BestLength = Gap;
      }
    }
    return Best;
  }

  /// Free -= the bytes of the buffers in List that share a step with J.
  void subtract(const Job &J, llvm::ArrayRef<Placed> List) {
    NextFree.clear();
    size_t F = 0;
    uint64_t Lo = Free[0].Lo; // Free[F] is still free from Lo up.
    // Takes [S, E) out; spans come in increasing, disjoint order. The last
    // free span is unbounded and E < NoLimit, so F stays in range.
    auto Occupy = [&](uint64_t S, uint64_t E) {
      while (Free[F].Hi <= S) {
        if (Lo < Free[F].Hi)
          NextFree.push_back({Lo, Free[F].Hi});
        Lo = Free[++F].Lo;
      }
      if (Lo < S)
        NextFree.push_back({Lo, S});
      while (Free[F].Hi <= E)
        Lo = Free[++F].Lo;
      Lo = std::max(Lo, E);
    };
    uint64_t S = 0, E = 0;
    bool Open = false;
    for (const Placed &P : List) {
      if (P.Last < J.First || P.First > J.Last)
        continue;
      if (Open && P.Offset <= E) {
        E = std::max(E, P.End);
        continue;
      }
      if (Open)
        Occupy(S, E);
      S = P.Offset;
      E = P.End;
      Open = true;
    }
    if (Open)
      Occupy(S, E);
    NextFree.push_back({Lo, Free[F].Hi});
    NextFree.append(Free.begin() + F + 1, Free.end());
    std::swap(Free, NextFree);
  }

  BlockLists Lists;
  llvm::SmallVector<Span, 16> Free, NextFree;
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

  std::vector<Keyed> Scratch;
  rankSizes(Jobs, sortJobs(
                      Jobs, [](const Job &J) { return J.Size; }, Scratch));
  std::vector<Keyed> ByFirst = sortJobs(
      Jobs, [](const Job &J) { return J.First; }, Scratch);
  std::vector<Keyed> ByLast = sortJobs(
      Jobs, [](const Job &J) { return J.Last; }, Scratch);
  ArenaAssignment Result;
  Result.LowerBound = peakLiveBytes(Jobs, ByFirst, ByLast);
  uint32_t NumBlocks = cutTimeBlocks(Jobs, ByFirst, ByLast);
  ByFirst = ByLast = {}; // Free the memory for the packing.

  Result.Offsets.assign(Buffers.size(), 0);
  Result.Size = NoLimit;
  std::vector<uint64_t> Offsets(Buffers.size(), 0);
  BestFitPacker Packer(Jobs, NumBlocks);
  std::vector<Job> Order(Jobs.size());
  for (const Ordering &O : Orderings) {
    std::vector<Keyed> Sorted = sortJobs(Jobs, O.Key, Scratch);
    for (size_t I = 0; I < Sorted.size(); ++I)
      Order[I] = Jobs[Sorted[I].Pos];
    uint64_t Size = Packer.pack(Order, Offsets);
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
  std::vector<Keyed> Scratch;
  std::vector<Keyed> ByFirst = sortJobs(
      Jobs, [](const Job &J) { return J.First; }, Scratch);
  std::vector<Keyed> ByLast = sortJobs(
      Jobs, [](const Job &J) { return J.Last; }, Scratch);
  return peakLiveBytes(Jobs, ByFirst, ByLast);
}

} // namespace strata::memory
