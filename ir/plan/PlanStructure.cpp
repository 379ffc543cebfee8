//===- PlanStructure.cpp - The plan format's own rules --------------------===//

#include "ir/plan/PlanStructure.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace strata::plan {
namespace {

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
  bool fail(std::string Path, std::string Message) {
    Problem = StructureProblem{std::move(Path), std::move(Message)};
    return false;
  }
  /// Names are written as they are; the writer would have to repair
  /// bytes that are not UTF-8, and the plan read back would differ.
  bool utf8(const std::string &S, const llvm::Twine &Path) {
    return llvm::json::isUTF8(S) ||
           fail(Path.str(), "not valid UTF-8 (a name from a model file?)");
  }
  bool index(uint64_t I, uint64_t Limit, const llvm::Twine &Path,
             llvm::StringRef What, llvm::StringRef Of = "plan") {
    if (I < Limit)
      return true;
    return fail(Path.str(), llvm::formatv("{0} {1} does not exist (the {2} "
                                          "has {3})",
                                          What, I, Of, Limit));
  }
  bool indices(const std::vector<uint32_t> &Is, uint64_t Limit,
               const llvm::Twine &Path, llvm::StringRef What,
               llvm::StringRef Of = "plan") {
    for (size_t K = 0; K < Is.size(); ++K)
      if (!index(Is[K], Limit, Path + "[" + llvm::Twine(K) + "]", What, Of))
        return false;
    return true;
  }

  bool devices();
  bool buffers();
  bool buffer(uint32_t I);
  bool shard(uint32_t I);
  bool streams();
  bool programs();
  bool program(uint32_t I);
  bool step(const ProgramSchedule &S, const std::string &At, uint32_t J);
  bool cleanups();

  const Plan &P;
  std::optional<StructureProblem> Problem;
};

bool StructureChecker::devices() {
  for (uint32_t I = 0; I < P.Devices.size(); ++I) {
    const Device &D = P.Devices[I];
    std::string At = "devices[" + std::to_string(I) + "]";
    // Buffers name devices by index, so devices[i] must be device i.
    if (D.Index != I)
      return fail(At + ".index",
                  llvm::formatv("expected {0} (devices are listed in index "
                                "order), got {1}",
                                I, D.Index));
    if (!utf8(D.Name, At + ".name"))
      return false;
    if (D.Alignment == 0 || (D.Alignment & (D.Alignment - 1)))
      return fail(
          At + ".alignment",
          llvm::formatv("expected a power of two, got {0}", D.Alignment));
  }
  return true;
}

bool StructureChecker::shard(uint32_t I) {
  const Buffer &B = P.Buffers[I];
  const Shard &S = *B.ShardInfo;
  std::string At = "buffers[" + std::to_string(I) + "].shard";
  if (S.Count == 0)
    return fail(At + ".count", "a tensor is split into at least 1 shard, "
                               "got 0");
  if (S.Index >= S.Count)
    return fail(At + ".index",
                llvm::formatv("shard {0} does not exist (shard.count is {1})",
                              S.Index, S.Count));
  if (S.Axis < 0)
    return true; // a whole copy
  // The shape is the shard's, so it has the split dimension.
  if (static_cast<uint64_t>(S.Axis) >= B.Shape.size())
    return fail(At + ".axis", llvm::formatv("axis {0} is not a dimension of "
                                            "the shape (rank {1})",
                                            S.Axis, B.Shape.size()));
  if (S.Size != B.Shape[S.Axis])
    return fail(At + ".size",
                llvm::formatv("the shard is {0} long on axis {1} but its "
                              "shape says {2}",
                              S.Size, S.Axis, B.Shape[S.Axis]));
  return true;
}

bool StructureChecker::buffer(uint32_t I) {
  const Buffer &B = P.Buffers[I];
  std::string At = "buffers[" + std::to_string(I) + "]";
  if (!utf8(B.Name, At + ".name"))
    return false;
  size_t NumDevices = P.Devices.size();
  if (B.Where.isDevice() && B.Where.Device >= NumDevices)
    return fail(At + ".device",
                llvm::formatv("device {0} does not exist (the plan has {1} "
                              "device{2})",
                              B.Where.Device, NumDevices,
                              NumDevices == 1 ? "" : "s"));
  if (!B.Where.isDevice() && B.Region != RegionKind::None)
    return fail(At + ".region", "only a buffer on a device has a region");
  if (B.ViewOf &&
      !index(*B.ViewOf, P.Buffers.size(), At + ".view_of", "buffer"))
    return false;
  if (B.Live && B.Live->First > B.Live->Last)
    return fail(At + ".live",
                llvm::formatv("first step {0} is after last step {1}",
                              B.Live->First, B.Live->Last));
  return !B.ShardInfo || shard(I);
}

bool StructureChecker::buffers() {
  // (program, name, shard index, device of an arena buffer) -> first
  // position. An unsharded buffer counts as shard 0, so that a whole
  // tensor and one of its shards also clash; a program's value has a
  // buffer on each device that holds it. The first clash in buffer order
  // is reported, whatever the map's order.
  llvm::StringMap<uint32_t> Seen;
  std::string Key;
  for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
    if (!buffer(I))
      return false;
    const Buffer &B = P.Buffers[I];
    unsigned ShardIndex = B.ShardInfo ? B.ShardInfo->Index : 0;
    int64_t Device = B.Program.empty() ? -1 : int64_t(B.Where.Device);
    Key.clear();
    llvm::raw_string_ostream(Key)
        << B.Program << '\0' << B.Name << '\0' << ShardIndex << '\0' << Device;
    auto [It, New] = Seen.try_emplace(Key, I);
    if (New)
      continue;
    std::string At = "buffers[" + std::to_string(I) + "]";
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
               "streams[" + llvm::Twine(I) + "].device", "device"))
      return false;
  return true;
}

bool StructureChecker::step(const ProgramSchedule &S, const std::string &At,
                            uint32_t J) {
  const Step &St = S.Steps[J];
  std::string Here = At + ".steps[" + std::to_string(J) + "]";
  size_t NumBuffers = P.Buffers.size();
  return utf8(St.Name, Here + ".name") &&
         index(St.Stream, P.Streams.size(), Here + ".stream", "stream") &&
         indices(St.Inputs, NumBuffers, Here + ".inputs", "buffer") &&
         indices(St.Outputs, NumBuffers, Here + ".outputs", "buffer") &&
         indices(St.Waits, S.NumEvents, Here + ".waits", "event", "program") &&
         (!St.Record ||
          index(*St.Record, S.NumEvents, Here + ".record", "event", "program"));
}

bool StructureChecker::program(uint32_t I) {
  const ProgramSchedule &S = P.Programs[I];
  std::string At = "programs[" + std::to_string(I) + "]";
  if (!utf8(S.Name, At + ".name"))
    return false;
  for (uint32_t J = 0; J < I; ++J)
    if (P.Programs[J].Name == S.Name)
      return fail(At + ".name", llvm::formatv("duplicate program \"{0}\" (also "
                                              "programs[{1}])",
                                              S.Name, J));
  for (auto [Key, Values] :
       {std::pair{"inputs", &S.Inputs}, std::pair{"outputs", &S.Outputs}})
    for (size_t K = 0; K < Values->size(); ++K) {
      std::string Here = At + "." + Key + "[" + std::to_string(K) + "]";
      if (!utf8((*Values)[K].Name, Here + ".name") ||
          !indices((*Values)[K].Buffers, P.Buffers.size(), Here + ".buffers",
                   "buffer"))
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
                 "cleanups[" + llvm::Twine(I) + "].buffers", "buffer"))
      return false;
  return true;
}

} // namespace

std::optional<StructureProblem> findStructureProblem(const Plan &P) {
  return StructureChecker(P).run();
}

} // namespace strata::plan
