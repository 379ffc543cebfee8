//===- PlanVerifier.cpp - Proves a plan safe to run -----------------------===//
//
// Written apart from the planner on purpose: it re-derives happens-before
// from the waits, records and collectives it finds, and the byte ranges
// from the offsets it finds, and trusts no summary the plan carries.
//
//===----------------------------------------------------------------------===//

#include "ir/plan/PlanVerifier.h"

#include "ir/plan/PlanStructure.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>
#include <set>

namespace strata::plan {
namespace {

/// Problems found, each a line of the final message: the first Max kept,
/// all counted.
class ProblemLog {
public:
  explicit ProblemLog(size_t Max) : Max(Max) {}
  template <typename... Ts> void add(const char *Fmt, Ts &&...Args) {
    if (Lines.size() < Max)
      Lines.push_back(llvm::formatv(Fmt, std::forward<Ts>(Args)...).str());
    ++Count;
  }
  llvm::Error toError() const;

private:
  size_t Max;
  std::vector<std::string> Lines;
  size_t Count = 0;
};

llvm::Error ProblemLog::toError() const {
  if (Count == 0)
    return llvm::Error::success();
  std::string Msg = llvm::formatv("the plan is not safe to run ({0} "
                                  "problem{1}):",
                                  Count, Count == 1 ? "" : "s")
                        .str();
  for (const std::string &Line : Lines)
    Msg += "\n  " + Line;
  if (Count > Lines.size())
    Msg += llvm::formatv("\n  ... and {0} more", Count - Lines.size()).str();
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

// How messages name things.
std::string describeBuffer(const Plan &P, uint32_t B) {
  const Buffer &X = P.Buffers[B];
  std::string S = "buffer " + std::to_string(B) + " '" + X.Name + "'";
  if (X.ShardInfo)
    S += " (shard " + std::to_string(X.ShardInfo->Index) + ")";
  return S;
}
std::string describeLocation(const Location &L) {
  switch (L.Where) {
  case Location::Kind::Host:
    return "host";
  case Location::Kind::Disk:
    return "disk";
  case Location::Kind::Device:
    break;
  }
  return "device " + std::to_string(L.Device);
}
std::string describeStep(const Plan &P, const ProgramSchedule &S, uint32_t I) {
  const Step &St = S.Steps[I];
  const Stream &Str = P.Streams[St.Stream];
  return llvm::formatv("{0} step {1} ({2} '{3}' on device {4} {5} stream)",
                       S.Name, I, getKindName(St.Op), St.Name, Str.Device,
                       getKindName(Str.Kind))
      .str();
}

class Verifier {
public:
  Verifier(const Plan &P, size_t Max) : P(P), Log(Max) {}

  llvm::Error run();

private:
  template <typename... Ts> void problem(const char *Fmt, Ts &&...Args) {
    Log.add(Fmt, std::forward<Ts>(Args)...);
  }
  std::string buf(uint32_t B) const { return describeBuffer(P, B); }
  std::string where(const Location &L) const { return describeLocation(L); }

  /// A cycle of views is reported in checkBuffers; baseOf cuts it.
  uint32_t root(uint32_t B) const { return P.baseOf(B); }

  void checkDevices();
  void checkBuffers();
  void checkShards();
  void checkRegionOverlaps();
  void checkArenaOverlaps();
  void checkCleanups();

  const Plan &P;
  ProblemLog Log;
  bool BuffersUsable = true;
};

void Verifier::checkDevices() {
  for (const Device &D : P.Devices)
    if (D.neededBytes() > D.CapacityBytes)
      problem("device {0} ({1}) needs {2} bytes (weights {3}, KV cache {4}, "
              "arena {5}, reserve {6}) but has {7}",
              D.Index, D.Name, D.neededBytes(), D.WeightRegionBytes,
              D.KVCacheRegionBytes, D.ArenaRegionBytes, D.ReserveBytes,
              D.CapacityBytes);
}

/// A split weight or KV cache is there whole: shards 0 .. count - 1 once
/// each, on one axis, their ranges end to end from 0, so that loading
/// them puts every element of the tensor somewhere exactly once.
void Verifier::checkShards() {
  std::map<std::string, std::vector<uint32_t>> Split;
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    const Buffer &B = P.Buffers[I];
    if ((B.Kind == BufferKind::Weight || B.Kind == BufferKind::KVCache) &&
        B.ShardInfo && B.ShardInfo->Axis >= 0)
      Split[B.Name].push_back(I);
  }
  for (auto &[Name, List] : Split) {
    llvm::sort(List, [&](uint32_t A, uint32_t B) {
      return P.Buffers[A].ShardInfo->Index < P.Buffers[B].ShardInfo->Index;
    });
    const Shard &First = *P.Buffers[List[0]].ShardInfo;
    int64_t End = 0;
    for (size_t K = 0; K < List.size(); ++K) {
      const Shard &S = *P.Buffers[List[K]].ShardInfo;
      if (S.Count != First.Count || S.Axis != First.Axis || S.Index != K) {
        problem("{0} is shard {1} of {2} on axis {3}, but its tensor's "
                "shards are {4} on axis {5}, and shard {6} is due here",
                buf(List[K]), S.Index, S.Count, S.Axis, First.Count, First.Axis,
                K);
        break;
      }
      if (S.Begin != End) {
        problem("{0} begins at {1} on axis {2}, but shard {3} ends at {4}",
                buf(List[K]), S.Begin, S.Axis, K - 1, End);
        break;
      }
      End = S.Begin + S.Size;
    }
    if (List.size() != First.Count)
      problem("'{0}' has {1} of its {2} shards", Name, List.size(),
              First.Count);
  }
}

void Verifier::checkBuffers() {
  std::set<std::string> Programs;
  for (const ProgramSchedule &S : P.Programs)
    Programs.insert(S.Name);
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    const Buffer &B = P.Buffers[I];
    if (B.ViewOf) {
      uint32_t R = root(I);
      if (P.Buffers[R].ViewOf) {
        problem("{0} is a view of a view ... of itself", buf(I));
        BuffersUsable = false;
        continue;
      }
      const Buffer &Base = P.Buffers[R];
      if (!(Base.Where == B.Where) || Base.Region != B.Region ||
          Base.Offset != B.Offset || Base.Bytes != B.Bytes ||
          Base.Program != B.Program)
        problem("{0} is a view of {1} but not at the same place (region "
                "'{2}' offset {3}, {4} bytes, against '{5}' offset {6}, {7} "
                "bytes)",
                buf(I), buf(R), getKindName(B.Region), B.Offset, B.Bytes,
                getKindName(Base.Region), Base.Offset, Base.Bytes);
    }
    if (!B.Where.isDevice()) {
      if (B.Kind != BufferKind::Weight)
        problem("{0} is a {1} on {2}: only weights may live off-device", buf(I),
                getKindName(B.Kind), where(B.Where));
      continue;
    }
    const Device &D = P.Devices[B.Where.Device];
    RegionKind Expected = B.Kind == BufferKind::Weight    ? RegionKind::Weights
                          : B.Kind == BufferKind::KVCache ? RegionKind::KVCache
                                                          : RegionKind::Arena;
    if (B.Region != Expected) {
      problem("{0} ({1}) on device {2} is in region '{3}', expected '{4}'",
              buf(I), getKindName(B.Kind), D.Index, getKindName(B.Region),
              getKindName(Expected));
      continue;
    }
    uint64_t Size = D.regionBytes(B.Region);
    if (D.Alignment && B.Offset % D.Alignment)
      problem("{0} on device {1}: offset {2} is not a multiple of the "
              "device's alignment {3}",
              buf(I), D.Index, B.Offset, D.Alignment);
    if (B.Offset > Size || B.Bytes > Size - B.Offset)
      problem("{0} on device {1}: bytes [{2}, {3}) are outside its {4} "
              "region of {5} bytes",
              buf(I), D.Index, B.Offset, B.Offset + B.Bytes,
              getKindName(B.Region), Size);
    if (B.Region == RegionKind::Arena) {
      if (!Programs.count(B.Program))
        problem("{0} is in the arena of device {1} for program '{2}', which "
                "does not exist",
                buf(I), D.Index, B.Program);
      if (!B.Live)
        problem("{0} is in the arena of device {1} but has no live range",
                buf(I), D.Index);
    }
  }
}

/// Weights and KV caches never move: within a region no two may share a
/// byte.
void Verifier::checkRegionOverlaps() {
  std::map<std::pair<unsigned, RegionKind>, std::vector<uint32_t>> Regions;
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    const Buffer &B = P.Buffers[I];
    if (B.Where.isDevice() && !B.ViewOf && B.Bytes &&
        (B.Region == RegionKind::Weights || B.Region == RegionKind::KVCache))
      Regions[{B.Where.Device, B.Region}].push_back(I);
  }
  for (auto &[Key, List] : Regions) {
    llvm::sort(List, [&](uint32_t A, uint32_t B) {
      return std::make_pair(P.Buffers[A].Offset, A) <
             std::make_pair(P.Buffers[B].Offset, B);
    });
    uint64_t End = 0;
    uint32_t Last = 0;
    for (size_t K = 0; K < List.size(); ++K) {
      const Buffer &B = P.Buffers[List[K]];
      if (K && B.Offset < End)
        problem("{0} and {1} overlap in the {2} region of device {3} (bytes "
                "[{4}, {5}))",
                buf(Last), buf(List[K]), getKindName(Key.second), Key.first,
                B.Offset, std::min(End, B.Offset + B.Bytes));
      if (!K || B.Offset + B.Bytes > End) {
        End = B.Offset + B.Bytes;
        Last = List[K];
      }
    }
  }
}

/// Arena buffers of one program and device that are live at a common step
/// must not share a byte: a sweep over steps with the live ones kept by
/// offset, each newcomer checked against its neighbours.
void Verifier::checkArenaOverlaps() {
  std::map<std::pair<std::string, unsigned>, std::vector<uint32_t>> Groups;
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    const Buffer &B = P.Buffers[I];
    if (B.Region == RegionKind::Arena && !B.ViewOf && B.Live && B.Bytes &&
        B.Where.isDevice())
      Groups[{B.Program, B.Where.Device}].push_back(I);
  }
  for (auto &[Key, List] : Groups) {
    // Start events in step order; ends retire buffers before a later
    // buffer starts.
    llvm::sort(List, [&](uint32_t A, uint32_t B) {
      return std::make_pair(P.Buffers[A].Live->First, A) <
             std::make_pair(P.Buffers[B].Live->First, B);
    });
    std::multimap<uint32_t, uint32_t> Ending; // last step -> buffer
    std::map<uint64_t, uint32_t> Live;        // offset -> buffer
    for (uint32_t I : List) {
      const Buffer &B = P.Buffers[I];
      while (!Ending.empty() && Ending.begin()->first < B.Live->First) {
        uint32_t Old = Ending.begin()->second;
        auto It = Live.find(P.Buffers[Old].Offset);
        if (It != Live.end() && It->second == Old)
          Live.erase(It);
        Ending.erase(Ending.begin());
      }
      uint64_t Begin = B.Offset, End = B.Offset + B.Bytes;
      auto Next = Live.lower_bound(Begin);
      // A plain reference: clang before 16 cannot capture a structured
      // binding in a lambda.
      const auto &Group = Key;
      auto report = [&](uint32_t Other) {
        const Buffer &O = P.Buffers[Other];
        problem("{0} and {1} of program '{2}' overlap on device {3}: bytes "
                "[{4}, {5}) and [{6}, {7}), both live at step {8}",
                buf(Other), buf(I), Group.first, Group.second, O.Offset,
                O.Offset + O.Bytes, Begin, End, B.Live->First);
      };
      bool Clash = false;
      if (Next != Live.end() && Next->first < End) {
        report(Next->second);
        Clash = true;
      }
      if (Next != Live.begin()) {
        auto Prev = std::prev(Next);
        const Buffer &O = P.Buffers[Prev->second];
        if (O.Offset + O.Bytes > Begin) {
          report(Prev->second);
          Clash = true;
        }
      }
      if (Clash)
        continue; // keep the map disjoint so later checks stay exact
      Live[Begin] = I;
      Ending.insert({B.Live->Last, I});
    }
  }
}

/// One program's steps in order: what each reads exists and is in reach,
/// every cross-stream read and every reuse of arena bytes is ordered by
/// events or collectives (vector clocks: per stream, how many steps of
/// each stream are known done), events are recorded before they are
/// waited for, collectives run as one block. Every index is known to name
/// something (findStructureProblem).
class ProgramChecker {
public:
  ProgramChecker(const Plan &P, const ProgramSchedule &S, ProblemLog &Log);
  void run();

private:
  template <typename... Ts> void problem(const char *Fmt, Ts &&...Args) {
    Log.add(Fmt, std::forward<Ts>(Args)...);
  }
  std::string buf(uint32_t B) const { return describeBuffer(P, B); }
  std::string step(uint32_t I) const { return describeStep(P, S, I); }
  uint32_t root(uint32_t B) const { return P.baseOf(B); }
  unsigned deviceOf(uint32_t I) const {
    return P.Streams[S.Steps[I].Stream].Device;
  }
  /// Whether step Earlier is known done by a stream at clock C.
  bool happensBefore(uint32_t Earlier, const std::vector<uint32_t> &C) const {
    return C[S.Steps[Earlier].Stream] > Pos[Earlier];
  }

  /// Weights, KV caches and program inputs exist before the first step.
  void markInputsWritten();
  /// Step I's stream learns what the events it waits for carry.
  void wait(uint32_t I, std::vector<uint32_t> &C);
  void checkReads(uint32_t I, const std::vector<uint32_t> &C);
  void checkWrites(uint32_t I, const std::vector<uint32_t> &C);
  /// The first write of arena buffer Out (its root): whoever held its
  /// bytes before must be done on every stream that touched them; then it
  /// holds them.
  void claimArenaBytes(uint32_t I, uint32_t Out,
                       const std::vector<uint32_t> &C);
  void record(uint32_t I, const std::vector<uint32_t> &C);
  void finishStep(uint32_t I);
  void runStep(uint32_t I);
  /// The steps of the collective starting at I, which all meet: each
  /// member knows what every other knew. Returns the step after them.
  uint32_t runCollective(uint32_t I);
  /// A collective id in two separate runs would deadlock: its members
  /// would wait for each other at different points.
  void checkCollectivesContiguous();
  void checkOutputsWritten();

  const Plan &P;
  const ProgramSchedule &S;
  ProblemLog &Log;
  const size_t N, NumStreams;
  std::vector<bool> Written;
  std::vector<int64_t> RecordedAt; ///< Per event, the step that records it.
  std::vector<uint32_t> Pos;       ///< Per step, its place on its stream.
  std::vector<std::vector<uint32_t>> Clock;      ///< Per stream.
  std::vector<std::vector<uint32_t>> EventClock; ///< Per event.
  /// Per buffer root: every step that touched it, and the last writer.
  llvm::DenseMap<uint32_t, std::vector<uint32_t>> Accesses;
  llvm::DenseMap<uint32_t, uint32_t> Writer;
  /// Per device: arena bytes [begin, end) -> the buffer that holds them.
  std::vector<std::map<uint64_t, std::pair<uint64_t, uint32_t>>> Occupant;
  std::set<uint32_t> Placed;
};

ProgramChecker::ProgramChecker(const Plan &P, const ProgramSchedule &S,
                               ProblemLog &Log)
    : P(P), S(S), Log(Log), N(S.Steps.size()), NumStreams(P.Streams.size()),
      Written(P.Buffers.size(), false), RecordedAt(S.NumEvents, -1), Pos(N),
      Clock(NumStreams, std::vector<uint32_t>(NumStreams, 0)),
      EventClock(S.NumEvents), Occupant(P.Devices.size()) {
  std::vector<uint32_t> Next(NumStreams, 0);
  for (size_t I = 0; I < N; ++I)
    Pos[I] = Next[S.Steps[I].Stream]++;
}

void ProgramChecker::run() {
  markInputsWritten();
  for (uint32_t I = 0; I < N;) {
    if (S.Steps[I].Collective) {
      I = runCollective(I);
      continue;
    }
    runStep(I++);
  }
  checkCollectivesContiguous();
  checkOutputsWritten();
}

void ProgramChecker::markInputsWritten() {
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    const Buffer &B = P.Buffers[I];
    if (B.Kind == BufferKind::Weight || B.Kind == BufferKind::KVCache)
      Written[I] = true;
  }
  for (const ProgramValue &V : S.Inputs)
    for (uint32_t B : V.Buffers) {
      Written[root(B)] = true;
      const Buffer &Buf = P.Buffers[root(B)];
      if (Buf.Program != S.Name)
        problem("input '{0}' of program '{1}' is {2}, which belongs to "
                "program '{3}'",
                V.Name, S.Name, buf(B), Buf.Program);
    }
}

void ProgramChecker::wait(uint32_t I, std::vector<uint32_t> &C) {
  for (uint32_t E : S.Steps[I].Waits) {
    if (RecordedAt[E] < 0) {
      problem("{0} waits for event {1}, which no earlier step records", step(I),
              E);
      continue;
    }
    for (size_t K = 0; K < NumStreams; ++K)
      C[K] = std::max(C[K], EventClock[E][K]);
  }
}

void ProgramChecker::checkReads(uint32_t I, const std::vector<uint32_t> &C) {
  const Step &St = S.Steps[I];
  bool Transfer = isTransfer(St.Op);
  if (Transfer != (P.Streams[St.Stream].Kind == StreamKind::Copy))
    problem("{0}: {1} steps run on {2} streams", step(I), getKindName(St.Op),
            Transfer ? "copy" : "compute");
  for (uint32_t In : St.Inputs) {
    uint32_t R = root(In);
    const Buffer &B = P.Buffers[R];
    if (!Written[R])
      problem("{0} reads {1} before any step writes it", step(I), buf(In));
    if (!Transfer && !(B.Where == Location::device(deviceOf(I))))
      problem("{0} reads {1}, which is on {2}", step(I), buf(In),
              describeLocation(B.Where));
    if (B.Region == RegionKind::Arena && B.Program != S.Name)
      problem("{0} reads {1} of program '{2}'", step(I), buf(In), B.Program);
    if (B.Region == RegionKind::Arena && B.Live &&
        (I < B.Live->First || I > B.Live->Last))
      problem("{0} reads {1} outside its live range [{2}, {3}]", step(I),
              buf(In), B.Live->First, B.Live->Last);
    if (auto W = Writer.find(R); W != Writer.end() &&
                                 S.Steps[W->second].Stream != St.Stream &&
                                 !happensBefore(W->second, C))
      problem("{0} reads {1}, written by {2}, without waiting for it", step(I),
              buf(In), step(W->second));
  }
}

void ProgramChecker::checkWrites(uint32_t I, const std::vector<uint32_t> &C) {
  const Step &St = S.Steps[I];
  for (uint32_t Out : St.Outputs) {
    uint32_t R = root(Out);
    const Buffer &B = P.Buffers[R];
    if (!(B.Where == Location::device(deviceOf(I))))
      problem("{0} writes {1}, which is on {2}", step(I), buf(Out),
              describeLocation(B.Where));
    if (B.Kind == BufferKind::Weight)
      problem("{0} writes weight {1}", step(I), buf(Out));
    if (B.Region == RegionKind::Arena && B.Program != S.Name)
      problem("{0} writes {1} of program '{2}'", step(I), buf(Out), B.Program);
    if (B.Region == RegionKind::Arena && B.Live &&
        (I < B.Live->First || I > B.Live->Last))
      problem("{0} writes {1} outside its live range [{2}, {3}]", step(I),
              buf(Out), B.Live->First, B.Live->Last);
    // Writing over what another stream still reads: an in-place update
    // after a read on another stream.
    if (auto A = Accesses.find(R); A != Accesses.end())
      for (uint32_t Prev : A->second)
        if (S.Steps[Prev].Stream != St.Stream && !happensBefore(Prev, C)) {
          problem("{0} writes {1}, which {2} also touches, without waiting "
                  "for it",
                  step(I), buf(Out), step(Prev));
          break;
        }
    if (B.Region == RegionKind::Arena && B.Program == S.Name && B.Bytes &&
        B.Where.isDevice() && Placed.insert(R).second)
      claimArenaBytes(I, Out, C);
  }
}

void ProgramChecker::claimArenaBytes(uint32_t I, uint32_t Out,
                                     const std::vector<uint32_t> &C) {
  const uint32_t R = root(Out);
  const Buffer &B = P.Buffers[R];
  const Step &St = S.Steps[I];
  auto &Map = Occupant[B.Where.Device];
  uint64_t Begin = B.Offset, End = B.Offset + B.Bytes;
  auto It = Map.upper_bound(Begin);
  if (It != Map.begin())
    --It;
  std::set<uint32_t> Checked;
  for (; It != Map.end() && It->first < End; ++It) {
    if (It->second.first <= Begin)
      continue;
    uint32_t Old = It->second.second;
    if (!Checked.insert(Old).second)
      continue;
    for (uint32_t Prev : Accesses[Old])
      if (S.Steps[Prev].Stream != St.Stream && !happensBefore(Prev, C)) {
        problem("{0} writes {1} over the bytes of {2}, which {3} touched, "
                "without waiting for it",
                step(I), buf(Out), buf(Old), step(Prev));
        break;
      }
  }
  // Record R as the occupant of [Begin, End): trim what it covers.
  std::vector<std::pair<uint64_t, std::pair<uint64_t, uint32_t>>> Keep;
  auto From = Map.upper_bound(Begin);
  if (From != Map.begin())
    --From;
  while (From != Map.end() && From->first < End) {
    auto [OBegin, Rest] = *From;
    auto [OEnd, OBuf] = Rest;
    From = Map.erase(From);
    if (OEnd <= Begin) {
      Keep.push_back({OBegin, {OEnd, OBuf}});
      continue;
    }
    if (OBegin < Begin)
      Keep.push_back({OBegin, {Begin, OBuf}});
    if (OEnd > End)
      Keep.push_back({End, {OEnd, OBuf}});
  }
  for (auto &K : Keep)
    Map.insert(K);
  Map[Begin] = {End, R};
}

void ProgramChecker::record(uint32_t I, const std::vector<uint32_t> &C) {
  const Step &St = S.Steps[I];
  if (!St.Record)
    return;
  if (RecordedAt[*St.Record] >= 0)
    return problem("{0} records event {1}, already recorded by step {2}",
                   step(I), *St.Record, RecordedAt[*St.Record]);
  RecordedAt[*St.Record] = I;
  EventClock[*St.Record] = C;
}

void ProgramChecker::finishStep(uint32_t I) {
  const Step &St = S.Steps[I];
  for (uint32_t In : St.Inputs)
    Accesses[root(In)].push_back(I);
  for (uint32_t Out : St.Outputs) {
    uint32_t R = root(Out);
    Accesses[R].push_back(I);
    Writer[R] = I;
    Written[R] = true;
  }
}

void ProgramChecker::runStep(uint32_t I) {
  std::vector<uint32_t> &C = Clock[S.Steps[I].Stream];
  wait(I, C);
  checkReads(I, C);
  checkWrites(I, C);
  C[S.Steps[I].Stream] = Pos[I] + 1;
  record(I, C);
  finishStep(I);
}

uint32_t ProgramChecker::runCollective(uint32_t I) {
  const Step &St = S.Steps[I];
  uint32_t End = I;
  std::set<unsigned> Members;
  while (End < N && S.Steps[End].Collective == St.Collective) {
    if (!Members.insert(deviceOf(End)).second)
      problem("{0} is a second step of collective {1} on device {2}", step(End),
              *St.Collective, deviceOf(End));
    if (S.Steps[End].Op != St.Op)
      problem("{0} is part of collective {1} but is {2}, not {3}", step(End),
              *St.Collective, getKindName(S.Steps[End].Op), getKindName(St.Op));
    ++End;
  }
  if (const std::vector<int64_t> *Ds = St.Attrs.getInts("devices"))
    if (Ds->size() != End - I)
      problem("{0}: collective {1} has {2} member steps in a row but names "
              "{3} devices",
              step(I), *St.Collective, End - I, Ds->size());
  std::vector<uint32_t> Joint(NumStreams, 0);
  for (uint32_t J = I; J < End; ++J) {
    std::vector<uint32_t> &C = Clock[S.Steps[J].Stream];
    wait(J, C);
    checkReads(J, C);
    checkWrites(J, C);
    for (size_t K = 0; K < NumStreams; ++K)
      Joint[K] = std::max(Joint[K], C[K]);
  }
  for (uint32_t J = I; J < End; ++J) {
    std::vector<uint32_t> &C = Clock[S.Steps[J].Stream];
    C = Joint;
    C[S.Steps[J].Stream] = Pos[J] + 1;
    record(J, C);
    finishStep(J);
  }
  return End;
}

void ProgramChecker::checkCollectivesContiguous() {
  std::map<uint32_t, uint32_t> RunStart;
  for (uint32_t I = 0; I < N; ++I) {
    const Step &St = S.Steps[I];
    if (!St.Collective)
      continue;
    bool Starts = I == 0 || S.Steps[I - 1].Collective != St.Collective;
    if (!Starts)
      continue;
    auto [It, New] = RunStart.try_emplace(*St.Collective, I);
    if (!New)
      problem("{0}: collective {1} continues after other steps (it began at "
              "step {2}); its members must be consecutive",
              step(I), *St.Collective, It->second);
  }
}

void ProgramChecker::checkOutputsWritten() {
  for (const ProgramValue &V : S.Outputs)
    for (uint32_t B : V.Buffers)
      if (!Written[root(B)])
        problem("output '{0}' of program '{1}' ({2}) is never written", V.Name,
                S.Name, buf(B));
}

void Verifier::checkCleanups() {
  for (size_t I = 0; I < P.Cleanups.size(); ++I) {
    const CleanupPoint &C = P.Cleanups[I];
    const ProgramSchedule *S =
        C.Program.empty() ? nullptr : P.findProgram(C.Program);
    if (!C.Program.empty() && !S) {
      problem("cleanup {0} ({1}) names program '{2}', which does not exist", I,
              getKindName(C.Kind), C.Program);
      continue;
    }
    if (C.After && (!S || *C.After >= S->Steps.size()))
      problem("cleanup {0} ({1}) follows step {2}, which does not exist", I,
              getKindName(C.Kind), *C.After);
    for (uint32_t B : C.Buffers) {
      const Buffer &Buf = P.Buffers[B];
      if (C.After && Buf.Live && Buf.Program == C.Program &&
          *C.After < Buf.Live->Last)
        problem("cleanup {0} ({1}) releases {2} after step {3}, but it is "
                "used until step {4}",
                I, getKindName(C.Kind), buf(B), *C.After, Buf.Live->Last);
    }
  }
}

llvm::Error Verifier::run() {
  // The format's own rules first: the checks below index by what the plan
  // says.
  if (std::optional<StructureProblem> Bad = findStructureProblem(P)) {
    problem("{0}: {1}", Bad->Path, Bad->Message);
    BuffersUsable = false;
  }
  if (BuffersUsable)
    checkDevices();
  if (BuffersUsable)
    checkBuffers();
  if (BuffersUsable) {
    checkShards();
    checkRegionOverlaps();
    checkArenaOverlaps();
    for (const ProgramSchedule &S : P.Programs)
      ProgramChecker(P, S, Log).run();
    checkCleanups();
  }
  return Log.toError();
}

} // namespace

llvm::Error verifyPlan(const Plan &P, size_t MaxProblems) {
  return Verifier(P, MaxProblems).run();
}

} // namespace strata::plan
