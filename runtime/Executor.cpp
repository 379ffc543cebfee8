//===- Executor.cpp - A plan made real on a backend -----------------------===//

#include "runtime/Executor.h"

#include "runtime/DeviceMap.h"

#include "ir/DataType.h"
#include "ir/Units.h"
#include "ir/modelfile/ContentDigest.h"
#include "ir/plan/PlanVerifier.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <numeric>

namespace strata::runtime {
namespace {

llvm::Error error(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// Copies [Begin, End) of Axis of a row-major tensor of Dims (element size
/// in bytes per element, or block bytes for block types) into Out.
llvm::Error sliceBytes(const char *Src, ir::DType T,
                       llvm::ArrayRef<int64_t> Dims, int64_t Axis,
                       int64_t Begin, int64_t End, std::vector<char> &Out) {
  int64_t Outer = 1, Inner = 1;
  for (int64_t A = 0; A < Axis; ++A)
    Outer *= Dims[A];
  for (size_t A = Axis + 1; A < Dims.size(); ++A)
    Inner *= Dims[A];
  auto Row = ir::getByteSize(T, Dims[Axis] * Inner);
  auto Skip = ir::getByteSize(T, Begin * Inner);
  auto Take = ir::getByteSize(T, (End - Begin) * Inner);
  if (!Row || !Skip || !Take) {
    llvm::consumeError(Row.takeError());
    llvm::consumeError(Skip.takeError());
    llvm::consumeError(Take.takeError());
    return error("the shard does not fall on whole blocks of " +
                 ir::getDTypeName(T));
  }
  Out.resize(*Take * Outer);
  for (int64_t O = 0; O < Outer; ++O)
    std::memcpy(Out.data() + O * *Take, Src + O * *Row + *Skip, *Take);
  return llvm::Error::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Checks before anything is allocated
//===----------------------------------------------------------------------===//

Executor::Executor(std::shared_ptr<const plan::Plan> P, import::TensorTable T,
                   Backend &B, ExecutorOptions O)
    : PlanRef(std::move(P)), Plan(*PlanRef), Tensors(std::move(T)), B(B),
      Opts(std::move(O)) {
  for (size_t I = 0; I < Tensors.Tensors.size(); ++I)
    TensorIndex[Tensors.Tensors[I].Name] = I;
  DeviceMap = Opts.DeviceMap;
  if (DeviceMap.empty()) {
    DeviceMap.resize(Plan.Devices.size());
    std::iota(DeviceMap.begin(), DeviceMap.end(), 0u);
  }
}

Executor::~Executor() {
  Programs.clear();
  for (size_t D = 0; D < Devices.size(); ++D)
    for (void *P : {Devices[D].Weights, Devices[D].KVCache, Devices[D].Arena})
      if (P)
        B.deallocate(DeviceMap[D], P);
  for (auto &[Buffer, P] : HostWeights)
    B.deallocateHost(P);
}

llvm::Expected<std::unique_ptr<Executor>>
Executor::create(std::shared_ptr<const plan::Plan> P, import::TensorTable T,
                 Backend &B, ExecutorOptions O) {
  if (O.Verify)
    if (llvm::Error E = plan::verifyPlan(*P))
      return E;
  std::unique_ptr<Executor> X(
      new Executor(std::move(P), std::move(T), B, std::move(O)));
  for (llvm::Error (Executor::*Check)() const :
       {&Executor::checkModel, &Executor::checkContentDigest,
        &Executor::checkDevices, &Executor::checkCleanups})
    if (llvm::Error E = (X.get()->*Check)())
      return E;
  return X;
}

/// The plan's weights, in its order, must be the file's, with the same
/// types and shapes; their fingerprint must be the plan's.
llvm::Error Executor::checkModel() const {
  std::vector<plan::WeightSignature> Sigs;
  llvm::StringSet<> Seen;
  std::string Source =
      Tensors.Files.empty() ? "the model" : Tensors.Files.front();
  for (const plan::Buffer &Buf : Plan.Buffers) {
    if (Buf.Kind != plan::BufferKind::Weight || !Seen.insert(Buf.Name).second)
      continue;
    auto It = TensorIndex.find(Buf.Name);
    if (It == TensorIndex.end())
      return error("the plan was made for another model: it needs tensor '" +
                   Buf.Name + "', which " + Source +
                   " does not have; compile a plan for this model");
    const import::TensorDesc &D = Tensors.Tensors[It->second];
    Sigs.push_back({D.Name, ir::getDTypeName(D.Type).str(),
                    std::vector<int64_t>(D.Dims.begin(), D.Dims.end())});
  }
  std::string Fingerprint = plan::planFingerprint(Sigs);
  if (Fingerprint != Plan.Model.Fingerprint)
    return error("the plan was made for another model (fingerprint " +
                 Plan.Model.Fingerprint.substr(0, 16) + "..., " + Source +
                 " has " + Fingerprint.substr(0, 16) +
                 "...): a tensor's type or shape differs; compile a plan for "
                 "this model");
  return llvm::Error::success();
}

/// The bytes must be those the plan was compiled from (plans of presets and
/// graphs carry no digest).
llvm::Error Executor::checkContentDigest() const {
  if (Plan.Model.ContentDigest.empty())
    return llvm::Error::success();
  auto Digest = import::sampleContentDigest(Tensors);
  if (!Digest)
    return Digest.takeError();
  if (*Digest == Plan.Model.ContentDigest)
    return llvm::Error::success();
  std::string Model =
      Tensors.Files.empty() ? "the model" : Tensors.Files.front();
  return error(Model + ": the weights changed after " + Opts.PlanName +
               " was compiled (content digest " + Digest->substr(0, 16) +
               "..., the plan has " + Plan.Model.ContentDigest.substr(0, 16) +
               "...): compile the plan again for these files");
}

/// The devices: one backend device of the plan's kind per plan device.
llvm::Error Executor::checkDevices() const {
  for (const plan::Device &D : Plan.Devices)
    if (D.Kind != B.getDeviceKind())
      return error(llvm::formatv(
          "the plan was made for {0} devices ({1} is "
          "a {2}) but this backend runs {3} devices; "
          "compile for cpu:NxSIZE to run here",
          D.Kind == plan::DeviceKind::GPU ? "GPU" : plan::getKindName(D.Kind),
          D.Index, D.Name, B.getName()));
  if (Opts.DeviceMap.empty() && B.getNumDevices() < Plan.Devices.size())
    return error(llvm::formatv("the plan is for {0} devices but {1} are "
                               "given; a multi-device plan never runs on "
                               "fewer devices",
                               Plan.Devices.size(), B.getNumDevices()));
  return checkDeviceMap(DeviceMap, Plan.Devices.size(), B.getNumDevices(),
                        B.getName());
}

/// Every cleanup point is one the runtime acts on.
llvm::Error Executor::checkCleanups() const {
  for (size_t I = 0; I < Plan.Cleanups.size(); ++I) {
    const plan::CleanupPoint &C = Plan.Cleanups[I];
    switch (C.Kind) {
    case plan::CleanupKind::AfterLoad:
      continue;
    case plan::CleanupKind::EndOfPrefill:
      if (Plan.findProgram(C.Program))
        continue;
      return error(llvm::formatv("cleanup {0} (end-of-prefill) names program "
                                 "'{1}', which the plan does not have",
                                 I, C.Program));
    }
    return error(llvm::formatv("cleanup {0}: kind {1} is not one this runtime "
                               "acts on",
                               I, static_cast<unsigned>(C.Kind)));
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

/// Regions, at exactly their planned sizes, on the mapped devices.
llvm::Error Executor::allocateRegions() {
  Devices.resize(Plan.Devices.size());
  for (const plan::Device &D : Plan.Devices) {
    Regions &R = Devices[D.Index];
    for (auto [Bytes, Slot, What] :
         {std::tuple{D.WeightRegionBytes, &R.Weights, "weights"},
          std::tuple{D.KVCacheRegionBytes, &R.KVCache, "KV cache"},
          std::tuple{D.ArenaRegionBytes, &R.Arena, "arena"}}) {
      if (!Bytes)
        continue;
      auto P = B.allocate(DeviceMap[D.Index], Bytes, What);
      if (!P)
        return P.takeError();
      *Slot = *P;
    }
  }
  return llvm::Error::success();
}

llvm::Error Executor::mapFiles() {
  for (const std::string &Path : Tensors.Files) {
    auto F = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
    if (!F)
      return error(Path + ": " + F.getError().message());
    Files.push_back(std::move(*F));
  }
  return llvm::Error::success();
}

llvm::Error Executor::loadWeights(const Progress &Report,
                                  const std::atomic<bool> *Stop) {
  uint64_t Total = 0, Done = 0;
  for (const plan::Buffer &Buf : Plan.Buffers)
    if (Buf.Kind == plan::BufferKind::Weight)
      Total += Buf.Bytes;
  for (uint32_t I = 0; I < Plan.Buffers.size(); ++I) {
    if (Plan.Buffers[I].Kind != plan::BufferKind::Weight)
      continue;
    if (Stop && Stop->load())
      return error(llvm::formatv("interrupted while loading weights ({0} of "
                                 "{1} bytes loaded)",
                                 Done, Total));
    if (llvm::Error E = loadWeight(I))
      return E;
    Done += Plan.Buffers[I].Bytes;
    if (Report)
      Report(Done, Total);
  }
  return llvm::Error::success();
}

/// A host-offloaded weight is copied into the backend's host memory (pinned
/// on a GPU machine); a disk-offloaded one is read through the mapping when
/// a prefetch step needs it.
llvm::Error Executor::loadOffDevice(uint32_t Index, const char *Src,
                                    uint64_t Bytes) {
  const plan::Buffer &Buf = Plan.Buffers[Index];
  if (Buf.Where.Where == plan::Location::Kind::Disk) {
    OffDevice[Index] = Src;
    return llvm::Error::success();
  }
  auto Host = B.allocateHost(Bytes, "host copy of '" + Buf.Name + "'");
  if (!Host)
    return Host.takeError();
  HostWeights[Index] = *Host;
  std::memcpy(*Host, Src, Bytes);
  OffDevice[Index] = *Host;
  return llvm::Error::success();
}

llvm::Error Executor::loadWeight(uint32_t Index) {
  const plan::Buffer &Buf = Plan.Buffers[Index];
  const import::TensorDesc &D = Tensors.Tensors[TensorIndex[Buf.Name]];
  const llvm::MemoryBuffer &F = *Files[D.File];
  if (D.Offset + D.Bytes > F.getBufferSize())
    return error(llvm::formatv("{0} is truncated or changed since the plan "
                               "was made: tensor '{1}' ends at byte {2} but "
                               "the file has {3}",
                               Tensors.Files[D.File], D.Name,
                               D.Offset + D.Bytes, F.getBufferSize()));
  const char *Src = F.getBufferStart() + D.Offset;
  if (Buf.DType != ir::getDTypeName(D.Type))
    return error("tensor '" + D.Name + "' is " + ir::getDTypeName(D.Type) +
                 " in the file but " + Buf.DType + " in the plan");
  if (!Buf.Where.isDevice())
    return loadOffDevice(Index, Src, D.Bytes);
  char *Dst =
      static_cast<char *>(Devices[Buf.Where.Device].Weights) + Buf.Offset;
  unsigned Device = DeviceMap[Buf.Where.Device];
  if (Buf.ShardInfo && Buf.ShardInfo->Axis >= 0) {
    // The plan says which elements are this shard's.
    const plan::Shard &S = *Buf.ShardInfo;
    if (static_cast<size_t>(S.Axis) >= D.Dims.size() ||
        S.Begin + S.Size > D.Dims[S.Axis])
      return error(llvm::formatv("tensor '{0}' shard {1}: elements [{2}, "
                                 "{3}) of axis {4} are outside the file's "
                                 "tensor",
                                 D.Name, S.Index, S.Begin, S.Begin + S.Size,
                                 S.Axis));
    if (llvm::Error E = sliceBytes(Src, D.Type, D.Dims, S.Axis, S.Begin,
                                   S.Begin + S.Size, Staging))
      return error("tensor '" + D.Name + "': " + toString(std::move(E)));
    if (Staging.size() != Buf.Bytes)
      return error(llvm::formatv("tensor '{0}' shard {1}: {2} bytes, but the "
                                 "plan has {3}",
                                 D.Name, S.Index, Staging.size(), Buf.Bytes));
    return B.copyToDevice(Device, Dst, Staging.data(), Buf.Bytes);
  }
  if (D.Bytes != Buf.Bytes)
    return error(llvm::formatv("tensor '{0}' is {1} bytes in the file but {2} "
                               "in the plan",
                               D.Name, D.Bytes, Buf.Bytes));
  return B.copyToDevice(Device, Dst, Src, Buf.Bytes);
}

/// Where things are, as the backend finds them.
llvm::Error Executor::verifyPlacement() const {
  unsigned Misplaced = 0;
  for (const DeviceContents &C : findContents())
    Misplaced += C.Misplaced;
  if (Misplaced)
    return error(llvm::formatv("{0} weight or KV-cache buffer(s) are not on "
                               "the device the plan gives them",
                               Misplaced));
  return llvm::Error::success();
}

llvm::Expected<TensorView> Executor::bind(uint32_t Index) const {
  const plan::Buffer &Buf = Plan.Buffers[Index];
  TensorView T;
  auto Type = getElementType(Buf.DType);
  if (!Type)
    return Type.takeError();
  T.Type = *Type;
  T.Shape.assign(Buf.Shape.begin(), Buf.Shape.end());
  T.Bytes = Buf.Bytes;
  if (!Buf.Where.isDevice()) {
    auto It = OffDevice.find(Index);
    if (It == OffDevice.end())
      return error("buffer '" + Buf.Name + "' was not loaded");
    T.Data = const_cast<void *>(It->second);
    return T;
  }
  const Regions &R = Devices[Buf.Where.Device];
  char *Base =
      static_cast<char *>(Buf.Region == plan::RegionKind::Weights   ? R.Weights
                          : Buf.Region == plan::RegionKind::KVCache ? R.KVCache
                                                                    : R.Arena);
  T.Data = Base + Buf.Offset;
  return T;
}

llvm::Error Executor::bindProgram(const plan::ProgramSchedule &S) {
  BoundProgram P;
  P.Schedule = &S;
  for (const plan::Stream &St : Plan.Streams)
    P.Streams.push_back({DeviceMap[St.Device], St.Kind});
  P.Steps.reserve(S.Steps.size());
  for (unsigned I = 0; I < S.Steps.size(); ++I) {
    const plan::Step &St = S.Steps[I];
    BoundStep BS;
    BS.Step = &St;
    BS.Index = I;
    BS.Device = P.Streams[St.Stream].Device;
    for (uint32_t In : St.Inputs) {
      auto T = bind(In);
      if (!T)
        return T.takeError();
      BS.Inputs.push_back(*T);
    }
    for (uint32_t Out : St.Outputs) {
      auto T = bind(Out);
      if (!T)
        return T.takeError();
      BS.Outputs.push_back(*T);
    }
    P.Steps.push_back(std::move(BS));
  }
  auto Prepared = B.prepare(std::move(P));
  if (!Prepared)
    return error(S.Name + ": " + toString(Prepared.takeError()));
  Programs[S.Name] = std::move(*Prepared);
  return llvm::Error::success();
}

llvm::Error Executor::load(const Progress &Report,
                           const std::atomic<bool> *Stop) {
  if (llvm::Error E = allocateRegions())
    return E;
  if (llvm::Error E = mapFiles())
    return E;
  if (llvm::Error E = loadWeights(Report, Stop))
    return E;
  B.synchronize();
  actOnLoadCleanups();
  if (llvm::Error E = verifyPlacement())
    return E;
  for (const plan::ProgramSchedule &S : Plan.Programs)
    if (llvm::Error E = bindProgram(S))
      return E;
  Loaded = true;
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Cleanup points
//===----------------------------------------------------------------------===//

void Executor::report(CleanupReport R) const {
  if (Opts.OnCleanup)
    Opts.OnCleanup(R);
}

void Executor::actOnLoadCleanups() {
  for (const plan::CleanupPoint &C : Plan.Cleanups) {
    switch (C.Kind) {
    case plan::CleanupKind::AfterLoad:
      actAfterLoad();
      break;
    case plan::CleanupKind::EndOfPrefill:
      break; // at the end of each prefill run
    }
  }
}

/// Every device synchronised; the loader's staging freed, and the model
/// files unmapped unless a disk-offloaded weight is read through them.
void Executor::actAfterLoad() {
  B.synchronize();
  uint64_t StagingBytes = Staging.capacity(), MappedBytes = 0;
  std::vector<char>().swap(Staging);
  bool ReadFromDisk = llvm::any_of(Plan.Buffers, [](const plan::Buffer &Buf) {
    return Buf.Where.Where == plan::Location::Kind::Disk;
  });
  size_t NumFiles = Files.size();
  if (!ReadFromDisk) {
    for (const auto &F : Files)
      MappedBytes += F->getBufferSize();
    Files.clear();
  }
  std::string What = llvm::formatv("every device synchronised; the loader's "
                                   "host staging freed ({0})",
                                   ir::formatBytes(StagingBytes))
                         .str();
  if (ReadFromDisk)
    What += "; the model files stay mapped for the weights read from disk";
  else
    What += llvm::formatv(" and {0} model file(s) unmapped ({1})", NumFiles,
                          ir::formatBytes(MappedBytes))
                .str();
  report({plan::CleanupKind::AfterLoad, "", std::nullopt,
          StagingBytes + MappedBytes, std::move(What)});
}

/// The arena bytes only this program needs are handed back until it runs
/// again: each device keeps what its other programs use.
void Executor::actEndOfPrefill(const plan::CleanupPoint &C) {
  for (const plan::Device &D : Plan.Devices) {
    uint64_t Others = 0;
    for (const plan::Device::ArenaUse &U : D.Arenas)
      if (U.Program != C.Program)
        Others = std::max(Others, U.Bytes);
    if (!Devices[D.Index].Arena || Others >= D.ArenaRegionBytes)
      continue;
    unsigned Device = DeviceMap[D.Index];
    uint64_t Released = B.releaseTail(Device, Devices[D.Index].Arena, Others,
                                      D.ArenaRegionBytes);
    if (Opts.OnCleanup)
      report({plan::CleanupKind::EndOfPrefill, C.Program, Device, Released,
              llvm::formatv("{0}:{1} handed back {2} of its {3} arena (the "
                            "whole pages past the {4} its other programs "
                            "use)",
                            B.getName(), Device, ir::formatBytes(Released),
                            ir::formatBytes(D.ArenaRegionBytes),
                            ir::formatBytes(Others))
                  .str()});
  }
}

//===----------------------------------------------------------------------===//
// What was found, and running
//===----------------------------------------------------------------------===//

std::vector<DeviceContents> Executor::findContents() const {
  std::vector<DeviceContents> Out(Plan.Devices.size());
  std::map<unsigned, unsigned> PlanDeviceOf;
  for (unsigned D = 0; D < Out.size(); ++D) {
    Out[D].PlanDevice = D;
    Out[D].Device = DeviceMap[D];
    PlanDeviceOf[DeviceMap[D]] = D;
  }
  for (uint32_t I = 0; I < Plan.Buffers.size(); ++I) {
    const plan::Buffer &Buf = Plan.Buffers[I];
    bool IsWeight = Buf.Kind == plan::BufferKind::Weight;
    if ((!IsWeight && Buf.Kind != plan::BufferKind::KVCache) ||
        !Buf.Where.isDevice())
      continue;
    auto T = bind(I);
    if (!T) {
      llvm::consumeError(T.takeError());
      continue;
    }
    std::optional<unsigned> Found = B.findDevice(T->Data);
    auto It = Found ? PlanDeviceOf.find(*Found) : PlanDeviceOf.end();
    if (It == PlanDeviceOf.end()) {
      ++Out[Buf.Where.Device].Misplaced;
      continue;
    }
    DeviceContents &C = Out[It->second];
    C.Misplaced += It->second != Buf.Where.Device;
    if (IsWeight) {
      ++C.Weights;
      C.WeightBytes += Buf.Bytes;
      if (Buf.Layer)
        C.Layers.insert(*Buf.Layer);
    } else {
      ++C.KVCaches;
      C.KVBytes += Buf.Bytes;
      if (Buf.Layer)
        C.KVLayers.insert(*Buf.Layer);
    }
  }
  return Out;
}

std::vector<MemoryUse> Executor::getMemoryUse() const {
  std::vector<MemoryUse> Out;
  for (const plan::Device &D : Plan.Devices)
    Out.push_back({D.Index, DeviceMap[D.Index], D.regionBytes(),
                   B.getAllocatedBytes(DeviceMap[D.Index]), D.CapacityBytes});
  return Out;
}

uint64_t Executor::getLoaderHostBytes() const {
  uint64_t Bytes = Staging.capacity();
  for (const auto &F : Files)
    Bytes += F->getBufferSize();
  return Bytes;
}

int64_t Executor::getTokensPerRun(llvm::StringRef Program) const {
  const plan::ProgramSchedule *S = Plan.findProgram(Program);
  if (!S)
    return 0;
  for (const plan::ProgramValue &V : S->Inputs)
    if (V.Name == "tokens" && !V.Buffers.empty()) {
      const std::vector<int64_t> &Shape = Plan.Buffers[V.Buffers[0]].Shape;
      return Shape.size() == 2 ? Shape[1] : 0;
    }
  return 0;
}

llvm::Error Executor::writeInput(const plan::ProgramSchedule &S,
                                 llvm::StringRef Name,
                                 llvm::ArrayRef<int32_t> Values) {
  for (const plan::ProgramValue &V : S.Inputs) {
    if (V.Name != Name)
      continue;
    for (uint32_t Buf : V.Buffers) {
      auto T = bind(Buf);
      if (!T)
        return T.takeError();
      if (T->Bytes != Values.size() * sizeof(int32_t))
        return error(llvm::formatv("{0}: input '{1}' takes {2} values, got "
                                   "{3}",
                                   S.Name, Name, T->Bytes / sizeof(int32_t),
                                   Values.size()));
      if (llvm::Error E =
              B.copyToDevice(DeviceMap[Plan.Buffers[Buf].Where.Device], T->Data,
                             Values.data(), T->Bytes))
        return E;
    }
    return llvm::Error::success();
  }
  return error(S.Name + " has no input '" + Name + "'");
}

/// The greedy tokens and, if asked, the logits, read through the backend.
llvm::Error Executor::readOutputs(const plan::ProgramSchedule &S,
                                  std::vector<int32_t> &NextTokens,
                                  std::vector<float> *Logits) {
  for (const plan::ProgramValue &V : S.Outputs) {
    if (V.Buffers.empty() || (V.Name == "logits" && !Logits))
      continue;
    uint32_t Buf = V.Buffers[0];
    auto T = bind(Buf);
    if (!T)
      return T.takeError();
    unsigned Device = DeviceMap[Plan.Buffers[Buf].Where.Device];
    if (V.Name == "next_token") {
      NextTokens.resize(T->Bytes / sizeof(int32_t));
      if (llvm::Error E = B.copyFromDevice(Device, NextTokens.data(), T->Data,
                                           NextTokens.size() * sizeof(int32_t)))
        return E;
    } else if (V.Name == "logits") {
      Logits->resize(T->numElements());
      if (llvm::Error E = B.readF32(Device, *T, Logits->data()))
        return E;
    }
  }
  return llvm::Error::success();
}

llvm::Error Executor::run(llvm::StringRef Program,
                          llvm::ArrayRef<int32_t> Tokens,
                          llvm::ArrayRef<int32_t> Positions,
                          std::vector<int32_t> &NextTokens,
                          std::vector<float> *Logits) {
  if (!Loaded)
    return error("the executor has not loaded the plan");
  const plan::ProgramSchedule *S = Plan.findProgram(Program);
  auto It = Programs.find(Program);
  if (!S || It == Programs.end())
    return error("the plan has no program '" + Program + "'");
  if (llvm::Error E = writeInput(*S, "tokens", Tokens))
    return E;
  if (llvm::Error E = writeInput(*S, "pos", Positions))
    return E;
  if (llvm::Error E = B.run(*It->second))
    return E;
  if (llvm::Error E = readOutputs(*S, NextTokens, Logits))
    return E;
  // The program's cleanup points, once its outputs are read.
  for (const plan::CleanupPoint &C : Plan.Cleanups)
    if (C.Kind == plan::CleanupKind::EndOfPrefill && C.Program == Program)
      actEndOfPrefill(C);
  return llvm::Error::success();
}

} // namespace strata::runtime
