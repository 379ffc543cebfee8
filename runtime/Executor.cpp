//===- Executor.cpp - A plan made real on a backend -----------------------===//

#include "runtime/Executor.h"

#include "ir/DataType.h"
#include "ir/plan/PlanVerifier.h"
#include "kernels/cpu/Convert.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

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

Executor::Executor(const plan::Plan &P, import::TensorTable T, Backend &B)
    : Plan(P), Tensors(std::move(T)), B(B) {
  for (size_t I = 0; I < Tensors.Tensors.size(); ++I)
    TensorIndex[Tensors.Tensors[I].Name] = I;
}

Executor::~Executor() {
  Programs.clear();
  for (size_t D = 0; D < Devices.size(); ++D)
    for (void *P : {Devices[D].Weights, Devices[D].KVCache, Devices[D].Arena})
      if (P)
        B.deallocate(D, P);
}

llvm::Expected<std::unique_ptr<Executor>>
Executor::create(const plan::Plan &P, import::TensorTable T, Backend &B,
                 bool Verify) {
  if (Verify)
    if (llvm::Error E = plan::verifyPlan(P))
      return E;
  std::unique_ptr<Executor> X(new Executor(P, std::move(T), B));

  // The model: the plan's weights, in its order, must be the file's, with
  // the same types and shapes; their fingerprint must be the plan's.
  std::vector<plan::WeightSignature> Sigs;
  llvm::StringSet<> Seen;
  std::string Source =
      X->Tensors.Files.empty() ? "the model" : X->Tensors.Files.front();
  for (const plan::Buffer &Buf : P.Buffers) {
    if (Buf.Kind != plan::BufferKind::Weight || !Seen.insert(Buf.Name).second)
      continue;
    auto It = X->TensorIndex.find(Buf.Name);
    if (It == X->TensorIndex.end())
      return error("the plan was made for another model: it needs tensor '" +
                   Buf.Name + "', which " + Source +
                   " does not have; compile a plan for this model");
    const import::TensorDesc &D = X->Tensors.Tensors[It->second];
    Sigs.push_back({D.Name, ir::getDTypeName(D.Type).str(),
                    std::vector<int64_t>(D.Dims.begin(), D.Dims.end())});
  }
  std::string Fingerprint = plan::planFingerprint(Sigs);
  if (Fingerprint != P.Model.Fingerprint)
    return error("the plan was made for another model (fingerprint " +
                 P.Model.Fingerprint.substr(0, 16) + "..., " + Source +
                 " has " + Fingerprint.substr(0, 16) +
                 "...): a tensor's type or shape differs; compile a plan for "
                 "this model");

  // The devices: as many as the plan's, of its kind.
  if (B.getNumDevices() != P.Devices.size())
    return error(llvm::formatv("the plan is for {0} devices but {1} are "
                               "given; a multi-device plan never runs on "
                               "fewer devices",
                               P.Devices.size(), B.getNumDevices()));
  for (const plan::Device &D : P.Devices)
    if (D.Kind != B.getDeviceKind())
      return error(llvm::formatv(
          "the plan was made for {0} devices ({1} is "
          "a {2}) but this backend runs {3} devices; "
          "compile for cpu:NxSIZE to run here",
          D.Kind == plan::DeviceKind::GPU ? "GPU" : plan::getKindName(D.Kind),
          D.Index, D.Name, B.getName()));
  return X;
}

llvm::Error Executor::loadWeight(uint32_t Index, std::vector<char> &Scratch) {
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
  if (Buf.Where.Where != plan::Location::Kind::Device) {
    if (Buf.Where.Where == plan::Location::Kind::Host) {
      // Pinned host memory on a GPU machine; here, a copy in host memory.
      std::vector<char> &Copy = HostWeights[Index];
      Copy.assign(Src, Src + D.Bytes);
      OffDevice[Index] = Copy.data();
    } else {
      OffDevice[Index] = Src; // read through the mapping when used
    }
    return llvm::Error::success();
  }
  char *Dst =
      static_cast<char *>(Devices[Buf.Where.Device].Weights) + Buf.Offset;
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
                                   S.Begin + S.Size, Scratch))
      return error("tensor '" + D.Name + "': " + toString(std::move(E)));
    if (Scratch.size() != Buf.Bytes)
      return error(llvm::formatv("tensor '{0}' shard {1}: {2} bytes, but the "
                                 "plan has {3}",
                                 D.Name, S.Index, Scratch.size(), Buf.Bytes));
    return B.copyToDevice(Buf.Where.Device, Dst, Scratch.data(), Buf.Bytes);
  }
  if (D.Bytes != Buf.Bytes)
    return error(llvm::formatv("tensor '{0}' is {1} bytes in the file but {2} "
                               "in the plan",
                               D.Name, D.Bytes, Buf.Bytes));
  return B.copyToDevice(Buf.Where.Device, Dst, Src, Buf.Bytes);
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
  if (Buf.Where.Where != plan::Location::Kind::Device) {
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
  P.NumStreams = Plan.Streams.size();
  P.Steps.reserve(S.Steps.size());
  for (unsigned I = 0; I < S.Steps.size(); ++I) {
    const plan::Step &St = S.Steps[I];
    BoundStep BS;
    BS.Step = &St;
    BS.Index = I;
    BS.Device = Plan.Streams[St.Stream].Device;
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
  // Regions, at exactly their planned sizes.
  Devices.resize(Plan.Devices.size());
  for (const plan::Device &D : Plan.Devices) {
    Regions &R = Devices[D.Index];
    for (auto [Bytes, Slot, What] :
         {std::tuple{D.WeightRegionBytes, &R.Weights, "weights"},
          std::tuple{D.KVCacheRegionBytes, &R.KVCache, "KV cache"},
          std::tuple{D.ArenaRegionBytes, &R.Arena, "arena"}}) {
      if (!Bytes)
        continue;
      auto P = B.allocate(D.Index, Bytes, What);
      if (!P)
        return P.takeError();
      *Slot = *P;
    }
  }
  for (const std::string &Path : Tensors.Files) {
    auto F = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
    if (!F)
      return error(Path + ": " + F.getError().message());
    Files.push_back(std::move(*F));
  }
  uint64_t Total = 0, Done = 0;
  for (const plan::Buffer &Buf : Plan.Buffers)
    if (Buf.Kind == plan::BufferKind::Weight)
      Total += Buf.Bytes;
  {
    std::vector<char> Scratch; // the loader's staging; freed after loading
    for (uint32_t I = 0; I < Plan.Buffers.size(); ++I) {
      if (Plan.Buffers[I].Kind != plan::BufferKind::Weight)
        continue;
      if (Stop && Stop->load())
        return error(llvm::formatv("interrupted while loading weights ({0} "
                                   "of {1} bytes loaded)",
                                   Done, Total));
      if (llvm::Error E = loadWeight(I, Scratch))
        return E;
      Done += Plan.Buffers[I].Bytes;
      if (Report)
        Report(Done, Total);
    }
  }
  B.synchronize();

  // Where things are, as the backend finds them.
  unsigned Misplaced = 0;
  for (const DeviceContents &C : findContents())
    Misplaced += C.Misplaced;
  if (Misplaced)
    return error(llvm::formatv("{0} weight or KV-cache buffer(s) are not on "
                               "the device the plan gives them",
                               Misplaced));
  for (const plan::ProgramSchedule &S : Plan.Programs)
    if (llvm::Error E = bindProgram(S))
      return E;
  Loaded = true;
  return llvm::Error::success();
}

std::vector<DeviceContents> Executor::findContents() const {
  std::vector<DeviceContents> Out(Plan.Devices.size());
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
    std::optional<unsigned> D = B.findDevice(T->Data);
    if (!D || *D >= Out.size()) {
      ++Out[Buf.Where.Device].Misplaced;
      continue;
    }
    DeviceContents &C = Out[*D];
    C.Misplaced += *D != Buf.Where.Device;
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
    Out.push_back({D.Index, D.regionBytes(), B.getAllocatedBytes(D.Index),
                   D.CapacityBytes});
  return Out;
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
      if (llvm::Error E = B.copyToDevice(Plan.Buffers[Buf].Where.Device,
                                         T->Data, Values.data(), T->Bytes))
        return E;
    }
    return llvm::Error::success();
  }
  return error(S.Name + " has no input '" + Name + "'");
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
  for (const plan::ProgramValue &V : S->Outputs) {
    if (V.Buffers.empty())
      continue;
    uint32_t Buf = V.Buffers[0];
    auto T = bind(Buf);
    if (!T)
      return T.takeError();
    std::vector<char> Raw(T->Bytes);
    if (llvm::Error E = B.copyFromDevice(Plan.Buffers[Buf].Where.Device,
                                         Raw.data(), T->Data, T->Bytes))
      return E;
    if (V.Name == "next_token") {
      NextTokens.resize(T->Bytes / sizeof(int32_t));
      std::memcpy(NextTokens.data(), Raw.data(), T->Bytes);
    } else if (V.Name == "logits" && Logits) {
      Logits->resize(T->numElements());
      kernels::cpu::readF32({Raw.data(), T->Type}, 0, T->numElements(),
                            Logits->data());
    }
  }
  // The end-of-prefill cleanup point, once the outputs are read: the arena
  // bytes only prefill needs are handed back until prefill runs again.
  for (const plan::CleanupPoint &C : Plan.Cleanups) {
    if (C.Kind != plan::CleanupKind::EndOfPrefill || C.Program != Program)
      continue;
    for (const plan::Device &D : Plan.Devices) {
      uint64_t Others = 0;
      for (const plan::Device::ArenaUse &U : D.Arenas)
        if (U.Program != Program)
          Others = std::max(Others, U.Bytes);
      if (Devices[D.Index].Arena && Others < D.ArenaRegionBytes)
        B.releaseTail(D.Index, Devices[D.Index].Arena, Others,
                      D.ArenaRegionBytes);
    }
  }
  return llvm::Error::success();
}

} // namespace strata::runtime
