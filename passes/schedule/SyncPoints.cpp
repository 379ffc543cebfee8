//===- SyncPoints.cpp - Events and waits between streams ------------------===//

#include "passes/schedule/SyncPoints.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <map>

namespace strata::passes {
namespace {

/// Per buffer (its base), the last step of each stream that touched it.
using AccessMap =
    llvm::DenseMap<uint32_t,
                   llvm::SmallVector<std::pair<unsigned, uint32_t>, 2>>;

/// Records that step I (St) touched each of its buffers.
void noteAccesses(const plan::Plan &P, const plan::Step &St, uint32_t I,
                  AccessMap &Map) {
  auto Note = [&](uint32_t B) {
    auto &Acc = Map[P.baseOf(B)];
    for (auto &[Stream, Step] : Acc)
      if (Stream == St.Stream) {
        Step = I;
        return;
      }
    Acc.push_back({St.Stream, I});
  };
  for (uint32_t B : St.Inputs)
    Note(B);
  for (uint32_t B : St.Outputs)
    Note(B);
}

/// The previous occupants of the bytes each arena buffer takes, per device:
/// an interval map from byte ranges to the buffer there last.
class Occupancy {
public:
  /// Buffers whose bytes [Begin, End) held before, then marks B there.
  void claim(uint64_t Begin, uint64_t End, uint32_t B,
             llvm::SmallVectorImpl<uint32_t> &Previous) {
    if (Begin == End)
      return;
    // Split the ranges that straddle Begin and End, so that the ones
    // inside can be replaced whole.
    splitAt(Begin);
    splitAt(End);
    auto It = Ranges.lower_bound(Begin);
    while (It != Ranges.end() && It->first < End) {
      if (!llvm::is_contained(Previous, It->second.Buffer))
        Previous.push_back(It->second.Buffer);
      It = Ranges.erase(It);
    }
    Ranges[Begin] = {End, B};
  }

private:
  struct Range {
    uint64_t End;
    uint32_t Buffer;
  };
  void splitAt(uint64_t At) {
    auto It = Ranges.upper_bound(At);
    if (It == Ranges.begin())
      return;
    --It;
    if (It->first < At && At < It->second.End) {
      Range Tail{It->second.End, It->second.Buffer};
      It->second.End = At;
      Ranges[At] = Tail;
    }
  }
  std::map<uint64_t, Range> Ranges; ///< Begin -> (End, buffer)
};

llvm::Error syncProgram(plan::Plan &P, plan::ProgramSchedule &S) {
  const size_t NumStreams = P.Streams.size();
  const size_t N = S.Steps.size();
  for (plan::Step &St : S.Steps) {
    St.Waits.clear();
    St.Record.reset();
  }

  // Position of each step on its stream.
  std::vector<uint32_t> Pos(N);
  {
    std::vector<uint32_t> Next(NumStreams, 0);
    for (size_t I = 0; I < N; ++I)
      Pos[I] = Next[S.Steps[I].Stream]++;
  }

  // Each buffer's last access per stream, over the whole program (for the
  // bytes it leaves behind), and its last writer so far (for readers).
  AccessMap LastAccess;
  for (uint32_t I = 0; I < N; ++I)
    noteAccesses(P, S.Steps[I], I, LastAccess);

  // Dependencies of each step on steps of other streams.
  std::vector<llvm::SmallVector<uint32_t, 2>> Deps(N);
  llvm::DenseMap<uint32_t, uint32_t> LastWriter;
  // Accesses per buffer and stream up to the step being looked at.
  AccessMap SoFar;
  std::vector<Occupancy> Arena(P.Devices.size());
  llvm::DenseMap<uint32_t, bool> Claimed;
  auto AddDep = [&](uint32_t Step, uint32_t On) {
    if (S.Steps[On].Stream != S.Steps[Step].Stream &&
        !llvm::is_contained(Deps[Step], On))
      Deps[Step].push_back(On);
  };
  for (uint32_t I = 0; I < N; ++I) {
    const plan::Step &St = S.Steps[I];
    for (uint32_t B : St.Inputs)
      if (auto It = LastWriter.find(P.baseOf(B)); It != LastWriter.end())
        AddDep(I, It->second);
    for (uint32_t Out : St.Outputs) {
      uint32_t B = P.baseOf(Out);
      const plan::Buffer &Buf = P.Buffers[B];
      if (Buf.Region == plan::RegionKind::Arena && Buf.Program == S.Name &&
          !Claimed.lookup(B)) {
        Claimed[B] = true;
        llvm::SmallVector<uint32_t, 4> Previous;
        Arena[Buf.Where.Device].claim(Buf.Offset, Buf.Offset + Buf.Bytes, B,
                                      Previous);
        for (uint32_t Prev : Previous)
          for (const auto &[Stream, Step] : LastAccess[Prev])
            if (Step < I)
              AddDep(I, Step);
      }
      // Writing a buffer others touched before (an in-place update after a
      // read on another stream, or a second write): wait for all of them.
      for (const auto &[Stream, Step] : SoFar[B])
        AddDep(I, Step);
      LastWriter[B] = I;
    }
    noteAccesses(P, St, I, SoFar);
  }
  // Input buffers are claimed from the start; they have no predecessor.

  // Walk in order with vector clocks; snapshots kept only for steps that
  // others depend on.
  std::vector<bool> Target(N, false);
  for (const auto &D : Deps)
    for (uint32_t On : D)
      Target[On] = true;
  std::vector<std::vector<uint32_t>> Clock(
      NumStreams, std::vector<uint32_t>(NumStreams, 0));
  llvm::DenseMap<uint32_t, std::vector<uint32_t>> Snapshot;
  uint32_t NextEvent = 0;
  auto merge = [](std::vector<uint32_t> &Into,
                  const std::vector<uint32_t> &From) {
    for (size_t K = 0; K < Into.size(); ++K)
      Into[K] = std::max(Into[K], From[K]);
  };
  auto applyWaits = [&](uint32_t I) {
    plan::Step &St = S.Steps[I];
    std::vector<uint32_t> &C = Clock[St.Stream];
    // Latest first: its clock most often covers the others.
    llvm::sort(Deps[I], std::greater<uint32_t>());
    for (uint32_t On : Deps[I]) {
      unsigned X = S.Steps[On].Stream;
      if (C[X] > Pos[On])
        continue; // already known: the wait would be redundant
      plan::Step &W = S.Steps[On];
      if (!W.Record)
        W.Record = NextEvent++;
      St.Waits.push_back(*W.Record);
      merge(C, Snapshot[On]);
    }
    llvm::sort(St.Waits);
  };
  for (uint32_t I = 0; I < N;) {
    if (!S.Steps[I].Collective) {
      applyWaits(I);
      std::vector<uint32_t> &C = Clock[S.Steps[I].Stream];
      C[S.Steps[I].Stream] = Pos[I] + 1;
      if (Target[I])
        Snapshot[I] = C;
      ++I;
      continue;
    }
    // A collective's member steps are consecutive.
    uint32_t End = I;
    while (End < N && S.Steps[End].Collective == S.Steps[I].Collective)
      ++End;
    // Each member learns what every member had done before the
    // collective, not that the others' parts of it are done.
    std::vector<uint32_t> Joint(NumStreams, 0);
    for (uint32_t J = I; J < End; ++J) {
      applyWaits(J);
      merge(Joint, Clock[S.Steps[J].Stream]);
    }
    for (uint32_t J = I; J < End; ++J) {
      std::vector<uint32_t> &C = Clock[S.Steps[J].Stream];
      C = Joint;
      C[S.Steps[J].Stream] = Pos[J] + 1;
      if (Target[J])
        Snapshot[J] = C;
    }
    I = End;
  }
  S.NumEvents = NextEvent;
  return llvm::Error::success();
}

} // namespace

llvm::Error insertSyncPoints(plan::Plan &P) {
  for (plan::ProgramSchedule &S : P.Programs)
    if (llvm::Error E = syncProgram(P, S))
      return E;
  return llvm::Error::success();
}

} // namespace strata::passes
