//===- MemoryPlan.cpp - Regions, arena offsets and cleanup points ---------===//

#include "passes/memory/MemoryPlan.h"

#include "passes/memory/ArenaPlanner.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace strata::passes {
namespace {

uint64_t alignTo(uint64_t N, uint64_t A) { return (N + A - 1) / A * A; }

/// Each arena buffer's live range in program S: from the first step that
/// touches it to the last; inputs from step 0, outputs to the last step.
void computeLiveRanges(plan::Plan &P, const plan::ProgramSchedule &S) {
  const uint32_t End = S.Steps.empty() ? 0 : S.Steps.size() - 1;
  auto Touch = [&](uint32_t B, uint32_t Step) {
    plan::Buffer &Buf = P.Buffers[P.baseOf(B)];
    if (Buf.Region != plan::RegionKind::Arena || Buf.Program != S.Name)
      return;
    if (!Buf.Live)
      Buf.Live = plan::LiveRange{Step, Step};
    Buf.Live->First = std::min(Buf.Live->First, Step);
    Buf.Live->Last = std::max(Buf.Live->Last, Step);
  };
  for (const plan::ProgramValue &In : S.Inputs)
    for (uint32_t B : In.Buffers)
      Touch(B, 0);
  for (uint32_t I = 0; I < S.Steps.size(); ++I) {
    for (uint32_t B : S.Steps[I].Inputs)
      Touch(B, I);
    for (uint32_t B : S.Steps[I].Outputs)
      Touch(B, I);
  }
  for (const plan::ProgramValue &Out : S.Outputs)
    for (uint32_t B : Out.Buffers)
      Touch(B, End);
}

/// Weights and KV caches: packed in buffer order, each region its own.
void packResidentRegions(plan::Plan &P) {
  for (plan::Device &D : P.Devices) {
    D.Alignment = regionAlignment(D);
    D.WeightRegionBytes = D.KVCacheRegionBytes = D.ArenaRegionBytes = 0;
    D.Arenas.clear();
  }
  for (plan::Buffer &B : P.Buffers) {
    bool IsWeight = B.Kind == plan::BufferKind::Weight;
    if (!B.Where.isDevice() ||
        (!IsWeight && B.Kind != plan::BufferKind::KVCache))
      continue;
    plan::Device &D = P.Devices[B.Where.Device];
    uint64_t &Region = IsWeight ? D.WeightRegionBytes : D.KVCacheRegionBytes;
    B.Region = IsWeight ? plan::RegionKind::Weights : plan::RegionKind::KVCache;
    B.Offset = Region;
    Region = alignTo(Region + B.Bytes, D.Alignment);
  }
}

/// The arena: each program's buffers on each device packed by best fit
/// over their live ranges; one arena per device, as large as the larger
/// program needs (prefill and decode never run at once).
llvm::Error planArenas(plan::Plan &P) {
  for (plan::Buffer &B : P.Buffers)
    if (B.Region == plan::RegionKind::Arena) {
      B.Live.reset();
      B.Offset = 0;
    }
  for (const plan::ProgramSchedule &S : P.Programs)
    computeLiveRanges(P, S);
  for (const plan::ProgramSchedule &S : P.Programs) {
    std::vector<std::vector<uint32_t>> PerDevice(P.Devices.size());
    for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
      const plan::Buffer &B = P.Buffers[I];
      if (B.Region == plan::RegionKind::Arena && B.Program == S.Name &&
          !B.ViewOf)
        PerDevice[B.Where.Device].push_back(I);
    }
    for (plan::Device &D : P.Devices) {
      std::vector<memory::LiveInterval> Intervals;
      for (uint32_t I : PerDevice[D.Index]) {
        const plan::Buffer &B = P.Buffers[I];
        if (!B.Live)
          return llvm::createStringError(
              llvm::inconvertibleErrorCode(),
              "buffer '" + B.Name + "' of program " + S.Name + " on device " +
                  llvm::Twine(D.Index) + " is never used by a step");
        Intervals.push_back({B.Bytes, B.Live->First, B.Live->Last});
      }
      auto A = memory::planArena(Intervals, D.Alignment);
      if (!A)
        return A.takeError();
      for (size_t K = 0; K < PerDevice[D.Index].size(); ++K)
        P.Buffers[PerDevice[D.Index][K]].Offset = A->Offsets[K];
      D.Arenas.push_back({S.Name, A->Size, A->LowerBound});
      D.ArenaRegionBytes = std::max(D.ArenaRegionBytes, A->Size);
    }
  }
  // Views sit where their bases are.
  for (plan::Buffer &B : P.Buffers)
    if (B.ViewOf) {
      const plan::Buffer &Base = P.Buffers[P.baseOf(*B.ViewOf)];
      B.Offset = Base.Offset;
      B.Live = Base.Live;
    }
  for (plan::Device &D : P.Devices)
    D.ActivationBytes = D.ArenaRegionBytes;
  return llvm::Error::success();
}

/// Where the runtime releases memory: after loading, and at the end of
/// prefill. A staged weight's copy needs no point of its own: its arena
/// bytes are reused by the buffers planned over them.
void addCleanupPoints(plan::Plan &P) {
  P.Cleanups.clear();
  P.Cleanups.push_back({plan::CleanupKind::AfterLoad,
                        "",
                        std::nullopt,
                        {},
                        "weights are in place: the loader's host staging "
                        "buffers are freed and every device synchronised"});
  const plan::ProgramSchedule *S = P.findProgram("prefill");
  if (!S || S->Steps.empty())
    return;
  plan::CleanupPoint C{plan::CleanupKind::EndOfPrefill,
                       S->Name,
                       static_cast<uint32_t>(S->Steps.size() - 1),
                       {},
                       ""};
  uint64_t Prefill = 0, Decode = 0;
  for (const plan::Device &D : P.Devices)
    for (const plan::Device::ArenaUse &U : D.Arenas)
      (U.Program == S->Name ? Prefill : Decode) += U.Bytes;
  for (uint32_t I = 0; I < P.Buffers.size(); ++I)
    if (P.Buffers[I].Program == S->Name && !P.Buffers[I].ViewOf)
      C.Buffers.push_back(I);
  C.Reason = llvm::formatv("every stream synchronised; prefill's {0} arena "
                           "buffers are dead, and the arena bytes only "
                           "prefill needs ({1} of {2} over all devices) can "
                           "be handed back",
                           C.Buffers.size(),
                           Prefill > Decode ? Prefill - Decode : 0, Prefill)
                 .str();
  P.Cleanups.push_back(std::move(C));
}

} // namespace

uint64_t regionAlignment(const plan::Device &D) {
  return D.Kind == plan::DeviceKind::GPU ? 256 : 64;
}

llvm::Error planMemory(plan::Plan &P) {
  packResidentRegions(P);
  if (llvm::Error E = planArenas(P))
    return E;
  addCleanupPoints(P);
  return llvm::Error::success();
}

} // namespace strata::passes
