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

/// Per step, the steps of other streams it must wait for: the last writer
/// of each buffer it reads; for each buffer it writes, every earlier access
/// on another stream (an in-place update after a read, a second write) and,
/// on the first write of arena bytes, every access of whatever held those
/// bytes before.
std::vector<llvm::SmallVector<uint32_t, 2>>
findDependencies(const plan::Plan &P, const plan::ProgramSchedule &S) {
  const size_t N = S.Steps.size();
  // Each buffer's last access per stream, over the whole program (for the
  // bytes it leaves behind).
  AccessMap LastAccess;
  for (uint32_t I = 0; I < N; ++I)
    noteAccesses(P, S.Steps[I], I, LastAccess);

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
      for (const auto &[Stream, Step] : SoFar[B])
        AddDep(I, Step);
      LastWriter[B] = I;
    }
    noteAccesses(P, St, I, SoFar);
  }
  // Input buffers are claimed from the start; they have no predecessor.
  return Deps;
}

/// Turns dependencies into events: walking in order with vector clocks, a
/// step waits for a dependency's event only when its stream does not
/// already know that step is done (through an earlier wait or collective);
/// a step gets an event when some wait needs it.
class WaitPlacer {
public:
  WaitPlacer(plan::ProgramSchedule &S,
             std::vector<llvm::SmallVector<uint32_t, 2>> Deps,
             size_t NumStreams)
      : S(S), Deps(std::move(Deps)), N(S.Steps.size()), Pos(N),
        Target(N, false),
        Clock(NumStreams, std::vector<uint32_t>(NumStreams, 0)) {
    std::vector<uint32_t> Next(NumStreams, 0);
    for (size_t I = 0; I < N; ++I)
      Pos[I] = Next[S.Steps[I].Stream]++;
    // Snapshots are kept only for steps others depend on.
    for (const auto &D : this->Deps)
      for (uint32_t On : D)
        Target[On] = true;
  }

  void run() {
    for (uint32_t I = 0; I < N;)
      I = S.Steps[I].Collective ? runCollective(I) : runStep(I);
    S.NumEvents = NextEvent;
  }

private:
  static void merge(std::vector<uint32_t> &Into,
                    const std::vector<uint32_t> &From) {
    for (size_t K = 0; K < Into.size(); ++K)
      Into[K] = std::max(Into[K], From[K]);
  }

  void applyWaits(uint32_t I) {
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
  }

  void done(uint32_t I, std::vector<uint32_t> &C) {
    C[S.Steps[I].Stream] = Pos[I] + 1;
    if (Target[I])
      Snapshot[I] = C;
  }

  uint32_t runStep(uint32_t I) {
    applyWaits(I);
    done(I, Clock[S.Steps[I].Stream]);
    return I + 1;
  }

  /// A collective's member steps are consecutive. Each member learns what
  /// every member had done before the collective, not that the others'
  /// parts of it are done.
  uint32_t runCollective(uint32_t I) {
    uint32_t End = I;
    while (End < N && S.Steps[End].Collective == S.Steps[I].Collective)
      ++End;
    std::vector<uint32_t> Joint(Clock.size(), 0);
    for (uint32_t J = I; J < End; ++J) {
      applyWaits(J);
      merge(Joint, Clock[S.Steps[J].Stream]);
    }
    for (uint32_t J = I; J < End; ++J) {
      std::vector<uint32_t> &C = Clock[S.Steps[J].Stream];
      C = Joint;
      done(J, C);
    }
    return End;
  }

  plan::ProgramSchedule &S;
  std::vector<llvm::SmallVector<uint32_t, 2>> Deps;
  const size_t N;
  std::vector<uint32_t> Pos; ///< Each step's place on its stream.
  std::vector<bool> Target;  ///< Whether some step depends on it.
  std::vector<std::vector<uint32_t>> Clock; ///< Per stream.
  llvm::DenseMap<uint32_t, std::vector<uint32_t>> Snapshot;
  uint32_t NextEvent = 0;
};

llvm::Error syncProgram(plan::Plan &P, plan::ProgramSchedule &S) {
  for (plan::Step &St : S.Steps) {
    St.Waits.clear();
    St.Record.reset();
  }
  WaitPlacer(S, findDependencies(P, S), P.Streams.size()).run();
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
