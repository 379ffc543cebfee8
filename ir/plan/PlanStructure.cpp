//===- PlanStructure.cpp - The plan format's own rules --------------------===//

#include "ir/plan/PlanStructure.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"


namespace strata::plan {
namespace {

/// Where a rule is checked, as the file names it ("buffers[3].shard.axis"):
/// names and indices kept inline and formatted only when a rule is broken,
/// since every buffer and step of a large plan is checked.
class Path {
public:
  explicit Path(const char *Root) { Parts.push_back({Root, -1}); }
  Path field(const char *Name) const {
    Path P = *this;
    P.Parts.push_back({Name, -1});
    return P;
  }
  Path at(size_t Index) const {
    Path P = *this;
    P.Parts.push_back({nullptr, static_cast<int64_t>(Index)});
    return P;
  }
  std::string str() const {
    std::string S;
    for (const Part &X : Parts)
      S += X.Name ? (S.empty() ? "" : ".") + std::string(X.Name)
                  : "[" + std::to_string(X.Index) + "]";
    return S;
  }

private:
  struct Part {
    const char *Name; ///< Null for an index.
    int64_t Index;
  };
  llvm::SmallVector<Part, 6> Parts;
};

/// Walks the plan in file order and stops at the first broken rule. Each
/// check returns false once a problem is recorded, so that callers chain
/// them with &&.
class StructureChecker {
public:
  explicit StructureChecker(const Plan &P) : P(P) {}

  std::optional<StructureProblem> run() {
    if (devices() && buffers() && streams() && programs() && cleanups())
      return std::nullopt;
    return std::move(Problem);
  }

private:
  bool fail(const Path &At, std::string Message) {
    Problem = StructureProblem{At.str(), std::move(Message)};
    return false;
  }
  /// Names are written as they are; the writer would have to repair
  /// bytes that are not UTF-8, and the plan read back would differ.
  bool utf8(const std::string &S, const Path &At) {
    return llvm::json::isUTF8(S) ||
           fail(At, "not valid UTF-8 (a name from a model file?)");
  }
  bool index(uint64_t I, uint64_t Limit, const Path &At, llvm::StringRef What,
             llvm::StringRef Of = "plan") {
    if (I < Limit)
      return true;
    return fail(At, llvm::formatv("{0} {1} does not exist (the {2} has {3})",
                                  What, I, Of, Limit));
  }
  bool indices(const std::vector<uint32_t> &Is, uint64_t Limit, const Path &At,
               llvm::StringRef What, llvm::StringRef Of = "plan") {
    for (size_t K = 0; K < Is.size(); ++K)
      if (Is[K] >= Limit)
        return index(Is[K], Limit, At.at(K), What, Of);
    return true;
  }

  bool devices();
  bool buffers();
  bool buffer(uint32_t I);
  bool shard(uint32_t I);
  bool streams();
  bool programs();
  bool program(uint32_t I);
  bool step(const ProgramSchedule &S, const Path &At, uint32_t J);
  bool cleanups();

  const Plan &P;
  std::optional<StructureProblem> Problem;
};

bool StructureChecker::devices() {
  for (uint32_t I = 0; I < P.Devices.size(); ++I) {
    const Device &D = P.Devices[I];
    Path At = Path("devices").at(I);
    // Buffers name devices by index, so devices[i] must be device i.
    if (D.Index != I)
      return fail(At.field("index"),
                  llvm::formatv("expected {0} (devices are listed in index "
                                "order), got {1}",
                                I, D.Index));
    if (!utf8(D.Name, At.field("name")))
      return false;
    if (D.Alignment == 0 || (D.Alignment & (D.Alignment - 1)))
      return fail(
          At.field("alignment"),
          llvm::formatv("expected a power of two, got {0}", D.Alignment));
  }
  return true;
}

bool StructureChecker::shard(uint32_t I) {
  const Buffer &B = P.Buffers[I];
  const Shard &S = *B.ShardInfo;
  Path At = Path("buffers").at(I).field("shard");
  if (S.Count == 0)
    return fail(At.field("count"), "a tensor is split into at least 1 shard, "
                                   "got 0");
  if (S.Index >= S.Count)
    return fail(At.field("index"),
                llvm::formatv("shard {0} does not exist (shard.count is {1})",
                              S.Index, S.Count));
  if (S.Axis < 0)
    return true; // a whole copy
  // The shape is the shard's, so it has the split dimension.
  if (static_cast<uint64_t>(S.Axis) >= B.Shape.size())
    return fail(At.field("axis"),
                llvm::formatv("axis {0} is not a dimension of "
                              "the shape (rank {1})",
                              S.Axis, B.Shape.size()));
  if (S.Size != B.Shape[S.Axis])
    return fail(At.field("size"),
                llvm::formatv("the shard is {0} long on axis {1} but its "
                              "shape says {2}",
                              S.Size, S.Axis, B.Shape[S.Axis]));
  return true;
}

bool StructureChecker::buffer(uint32_t I) {
  const Buffer &B = P.Buffers[I];
  Path At = Path("buffers").at(I);
  if (!utf8(B.Name, At.field("name")))
    return false;
  size_t NumDevices = P.Devices.size();
  if (B.Where.isDevice() && B.Where.Device >= NumDevices)
    return fail(At.field("device"),
                llvm::formatv("device {0} does not exist (the plan has {1} "
                              "device{2})",
                              B.Where.Device, NumDevices,
                              NumDevices == 1 ? "" : "s"));
  if (!B.Where.isDevice() && B.Region != RegionKind::None)
    return fail(At.field("region"), "only a buffer on a device has a region");
  if (B.ViewOf &&
      !index(*B.ViewOf, P.Buffers.size(), At.field("view_of"), "buffer"))
    return false;
  if (B.Live && B.Live->First > B.Live->Last)
    return fail(At.field("live"),
                llvm::formatv("first step {0} is after last step {1}",
                              B.Live->First, B.Live->Last));
  return !B.ShardInfo || shard(I);
}

/// What no two buffers share: (program, name, shard index, device of an
/// arena buffer). An unsharded buffer counts as shard 0, so that a whole
/// tensor and one of its shards also clash; a program's value has a buffer
/// on each device that holds it. The strings are the plan's own.
struct BufferKey {
  llvm::StringRef Program, Name;
  unsigned Shard;
  int64_t Device;
};
/// For a DenseMap: open addressing, no allocation per buffer.
struct BufferKeyInfo {
  static BufferKey getEmptyKey() {
    return {llvm::DenseMapInfo<llvm::StringRef>::getEmptyKey(), "", 0, 0};
  }
  static BufferKey getTombstoneKey() {
    return {llvm::DenseMapInfo<llvm::StringRef>::getTombstoneKey(), "", 0, 0};
  }
  static unsigned getHashValue(const BufferKey &K) {
    return llvm::hash_combine(K.Program, K.Name, K.Shard, K.Device);
  }
  static bool isEqual(const BufferKey &A, const BufferKey &B) {
    using Info = llvm::DenseMapInfo<llvm::StringRef>;
    return Info::isEqual(A.Program, B.Program) && A.Name == B.Name &&
           A.Shard == B.Shard && A.Device == B.Device;
  }
};

bool StructureChecker::buffers() {
  // Key -> first position. The first clash in buffer order is reported,
  // whatever the map's order.
  llvm::DenseMap<BufferKey, uint32_t, BufferKeyInfo> Seen;
  Seen.reserve(P.Buffers.size());
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    if (!buffer(I))
      return false;
    const Buffer &B = P.Buffers[I];
    unsigned ShardIndex = B.ShardInfo ? B.ShardInfo->Index : 0;
    int64_t Device = B.Program.empty() ? -1 : int64_t(B.Where.Device);
    auto [It, New] =
        Seen.try_emplace(BufferKey{B.Program, B.Name, ShardIndex, Device}, I);
    if (New)
      continue;
    Path At = Path("buffers").at(I);
    if (B.ShardInfo)
      return fail(At, llvm::formatv("duplicate buffer \"{0}\" shard {1} (also "
                                    "buffers[{2}])",
                                    B.Name, ShardIndex, It->second));
    return fail(At, llvm::formatv("duplicate buffer \"{0}\" (also "
                                  "buffers[{1}])",
                                  B.Name, It->second));
  }
  return true;
}

bool StructureChecker::streams() {
  for (uint32_t I = 0; I < P.Streams.size(); ++I)
    if (!index(P.Streams[I].Device, P.Devices.size(),
               Path("streams").at(I).field("device"), "device"))
      return false;
  return true;
}

bool StructureChecker::step(const ProgramSchedule &S, const Path &At,
                            uint32_t J) {
  const Step &St = S.Steps[J];
  size_t NumBuffers = P.Buffers.size();
  auto Here = [&](const char *Field) {
    return At.field("steps").at(J).field(Field);
  };
  // Checked before any path is made: most steps break no rule.
  if (llvm::json::isUTF8(St.Name) && St.Stream < P.Streams.size() &&
      llvm::all_of(St.Inputs, [&](uint32_t B) { return B < NumBuffers; }) &&
      llvm::all_of(St.Outputs, [&](uint32_t B) { return B < NumBuffers; }) &&
      llvm::all_of(St.Waits, [&](uint32_t E) { return E < S.NumEvents; }) &&
      (!St.Record || *St.Record < S.NumEvents))
    return true;
  return utf8(St.Name, Here("name")) &&
         index(St.Stream, P.Streams.size(), Here("stream"), "stream") &&
         indices(St.Inputs, NumBuffers, Here("inputs"), "buffer") &&
         indices(St.Outputs, NumBuffers, Here("outputs"), "buffer") &&
         indices(St.Waits, S.NumEvents, Here("waits"), "event", "program") &&
         (!St.Record ||
          index(*St.Record, S.NumEvents, Here("record"), "event", "program"));
}

bool StructureChecker::program(uint32_t I) {
  const ProgramSchedule &S = P.Programs[I];
  Path At = Path("programs").at(I);
  if (!utf8(S.Name, At.field("name")))
    return false;
  for (uint32_t J = 0; J < I; ++J)
    if (P.Programs[J].Name == S.Name)
      return fail(At.field("name"),
                  llvm::formatv("duplicate program \"{0}\" (also "
                                "programs[{1}])",
                                S.Name, J));
  for (auto [Key, Values] :
       {std::pair{"inputs", &S.Inputs}, std::pair{"outputs", &S.Outputs}})
    for (size_t K = 0; K < Values->size(); ++K) {
      Path Here = At.field(Key).at(K);
      if (!utf8((*Values)[K].Name, Here.field("name")) ||
          !indices((*Values)[K].Buffers, P.Buffers.size(),
                   Here.field("buffers"), "buffer"))
        return false;
    }
  for (uint32_t J = 0; J < S.Steps.size(); ++J)
    if (!step(S, At, J))
      return false;
  return true;
}

bool StructureChecker::programs() {
  for (uint32_t I = 0; I < P.Programs.size(); ++I)
    if (!program(I))
      return false;
  return true;
}

bool StructureChecker::cleanups() {
  for (uint32_t I = 0; I < P.Cleanups.size(); ++I)
    if (!indices(P.Cleanups[I].Buffers, P.Buffers.size(),
                 Path("cleanups").at(I).field("buffers"), "buffer"))
      return false;
  return true;
}

} // namespace

std::optional<StructureProblem> findStructureProblem(const Plan &P) {
  return StructureChecker(P).run();
}

} // namespace strata::plan
