//===- MemoryPlanTest.cpp - Memory plan, sync points and the verifier -----===//
//
// Property tests on thousands of random schedules: random DAGs of steps on
// random devices and streams, with copies between devices and collectives,
// random buffer sizes and lifetimes. The memory planner and the sync pass
// must produce plans the independent verifier accepts, with arenas never
// below the lower bound this test computes on its own; and the verifier must
// catch a fault planted in any of them.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/MemoryPlan.h"
#include "ir/plan/Plan.h"
#include "ir/plan/PlanVerifier.h"
#include "passes/schedule/Schedule.h"
#include "passes/schedule/SyncPoints.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <random>

using namespace strata;

namespace {

/// A random program over NumDevices devices: each step runs an "op" on a
/// device's compute stream over earlier buffers of that device, or copies
/// a buffer of another device on the destination's copy stream, or is an
/// in-place all-reduce over every device.
plan::Plan randomPlan(std::mt19937 &Rng, unsigned NumDevices,
                      unsigned NumSteps) {
  plan::Plan P;
  for (unsigned D = 0; D < NumDevices; ++D) {
    plan::Device Dev;
    Dev.Index = D;
    Dev.Kind = Rng() % 2 ? plan::DeviceKind::GPU : plan::DeviceKind::CPU;
    Dev.Name = plan::getKindName(Dev.Kind).str();
    Dev.CapacityBytes = uint64_t(1) << 40;
    P.Devices.push_back(Dev);
    P.Streams.push_back({D, plan::StreamKind::Compute});
    P.Streams.push_back({D, plan::StreamKind::Copy});
  }
  plan::ProgramSchedule S;
  S.Name = Rng() % 2 ? "decode" : "prefill";
  std::vector<std::vector<uint32_t>> OnDevice(NumDevices);
  auto NewBuffer = [&](unsigned D, plan::BufferKind Kind) {
    plan::Buffer B;
    B.Name = "v" + std::to_string(P.Buffers.size());
    B.Kind = Kind;
    // Mostly small, some large, a few empty: lifetimes come from the DAG.
    unsigned R = Rng() % 100;
    B.Bytes = R < 5 ? 0 : R < 80 ? 1 + Rng() % 4096 : 1 + Rng() % (1 << 20);
    B.DType = "f32";
    B.Where = plan::Location::device(D);
    B.Region = plan::RegionKind::Arena;
    B.Program = S.Name;
    P.Buffers.push_back(B);
    OnDevice[D].push_back(P.Buffers.size() - 1);
    return static_cast<uint32_t>(P.Buffers.size() - 1);
  };
  // Inputs: one per device, written before the first step.
  plan::ProgramValue In{"tokens", {}};
  for (unsigned D = 0; D < NumDevices; ++D)
    In.Buffers.push_back(NewBuffer(D, plan::BufferKind::Input));
  S.Inputs.push_back(In);
  // A few weights, which steps may read.
  std::vector<uint32_t> Weights;
  for (unsigned D = 0; D < NumDevices; ++D) {
    plan::Buffer W;
    W.Name = "w" + std::to_string(D);
    W.Kind = plan::BufferKind::Weight;
    W.Bytes = 64;
    W.Where = plan::Location::device(D);
    P.Buffers.push_back(W);
    Weights.push_back(P.Buffers.size() - 1);
  }
  // Reads favour recent buffers, so that lifetimes are mostly short with a
  // long tail, as in real programs.
  auto Pick = [&](unsigned D) {
    const std::vector<uint32_t> &L = OnDevice[D];
    size_t Back = std::min<size_t>(
        L.size() - 1, Rng() % 8 == 0 ? Rng() % L.size() : Rng() % 4);
    return L[L.size() - 1 - Back];
  };
  uint32_t Collectives = 0;
  for (unsigned I = 0; I < NumSteps; ++I) {
    unsigned D = Rng() % NumDevices;
    unsigned Kind = Rng() % 20;
    if (Kind == 0 && NumDevices > 1) {
      uint32_t Id = Collectives++;
      for (unsigned M = 0; M < NumDevices; ++M) {
        plan::Step St;
        St.Op = plan::StepOp::AllReduce;
        St.Name = "sum";
        St.Stream = passes::computeStream(M);
        uint32_t B = Pick(M);
        St.Inputs = {B};
        St.Outputs = {B};
        St.Collective = Id;
        St.Attrs.set("devices", std::vector<int64_t>{});
        std::vector<int64_t> Ds;
        for (unsigned K = 0; K < NumDevices; ++K)
          Ds.push_back(K);
        St.Attrs.set("devices", Ds);
        S.Steps.push_back(St);
      }
      continue;
    }
    plan::Step St;
    if (Kind < 4 && NumDevices > 1) {
      unsigned From = (D + 1 + Rng() % (NumDevices - 1)) % NumDevices;
      St.Op = plan::StepOp::Copy;
      St.Stream = passes::copyStream(D);
      St.Inputs = {Pick(From)};
    } else {
      St.Op = plan::StepOp::Add;
      St.Stream = passes::computeStream(D);
      unsigned N = 1 + Rng() % 3;
      for (unsigned K = 0; K < N; ++K)
        St.Inputs.push_back(Pick(D));
      if (Rng() % 4 == 0)
        St.Inputs.push_back(Weights[D]);
    }
    uint32_t Out = NewBuffer(D, plan::BufferKind::Activation);
    St.Name = P.Buffers[Out].Name;
    St.Outputs = {Out};
    S.Steps.push_back(St);
  }
  // Every device's newest buffer is an output.
  plan::ProgramValue Out{"out", {}};
  for (unsigned D = 0; D < NumDevices; ++D)
    Out.Buffers.push_back(OnDevice[D].back());
  S.Outputs.push_back(Out);
  P.Programs.push_back(S);
  return P;
}

/// The lower bound, computed here independently: per device, the largest
/// sum of aligned sizes of buffers live at one step.
uint64_t lowerBound(const plan::Plan &P, unsigned Device) {
  const plan::ProgramSchedule &S = P.Programs[0];
  uint64_t Align = P.Devices[Device].Alignment;
  std::vector<uint64_t> Live(S.Steps.size() + 1, 0);
  for (const plan::Buffer &B : P.Buffers) {
    if (B.Region != plan::RegionKind::Arena || B.ViewOf ||
        B.Where.Device != Device || !B.Live)
      continue;
    for (uint32_t T = B.Live->First; T <= B.Live->Last; ++T)
      Live[T] += (B.Bytes + Align - 1) / Align * Align;
  }
  return *std::max_element(Live.begin(), Live.end());
}

plan::Plan plannedRandom(std::mt19937 &Rng, unsigned Devices, unsigned Steps) {
  plan::Plan P = randomPlan(Rng, Devices, Steps);
  llvm::cantFail(passes::planMemory(P));
  llvm::cantFail(passes::insertSyncPoints(P));
  return P;
}

std::string verifyMessage(const plan::Plan &P) {
  llvm::Error E = plan::verifyPlan(P);
  return E ? llvm::toString(std::move(E)) : std::string();
}

} // namespace

TEST(MemoryPlan, RandomSchedulesVerifyAndRespectTheLowerBound) {
  std::mt19937 Rng(20261125);
  unsigned Waits = 0;
  for (int Trial = 0; Trial < 2000; ++Trial) {
    unsigned Devices = 1 + Rng() % 4;
    unsigned Steps = 10 + Rng() % 200;
    plan::Plan P = plannedRandom(Rng, Devices, Steps);
    std::string Msg = verifyMessage(P);
    ASSERT_EQ(Msg, "") << "trial " << Trial;
    for (const plan::Device &D : P.Devices) {
      ASSERT_EQ(D.Arenas.size(), 1u);
      uint64_t Bound = lowerBound(P, D.Index);
      EXPECT_EQ(D.Arenas[0].LowerBound, Bound) << "trial " << Trial;
      EXPECT_GE(D.Arenas[0].Bytes, Bound) << "trial " << Trial;
      EXPECT_EQ(D.ArenaRegionBytes, D.Arenas[0].Bytes);
    }
    for (const plan::Step &S : P.Programs[0].Steps)
      Waits += S.Waits.size();
  }
  // Copies between devices need waits: the sync pass was exercised.
  EXPECT_GT(Waits, 1000u);
}

TEST(MemoryPlan, EveryWaitIsNeeded) {
  // The sync pass adds a wait only when no earlier one implies it, so each
  // wait removed leaves a dependency the verifier reports.
  std::mt19937 Rng(7);
  unsigned Checked = 0;
  for (int Trial = 0; Trial < 300; ++Trial) {
    plan::Plan P = plannedRandom(Rng, 2 + Rng() % 3, 20 + Rng() % 100);
    std::vector<std::pair<size_t, size_t>> Sites;
    const std::vector<plan::Step> &Steps = P.Programs[0].Steps;
    for (size_t I = 0; I < Steps.size(); ++I)
      for (size_t W = 0; W < Steps[I].Waits.size(); ++W)
        Sites.push_back({I, W});
    if (Sites.empty())
      continue;
    auto [I, W] = Sites[Rng() % Sites.size()];
    plan::Plan Q = P;
    std::vector<uint32_t> &Ws = Q.Programs[0].Steps[I].Waits;
    Ws.erase(Ws.begin() + W);
    std::string Msg = verifyMessage(Q);
    EXPECT_NE(Msg.find("without waiting"), std::string::npos)
        << "trial " << Trial << ": removing wait " << W << " of step " << I
        << " went unnoticed";
    EXPECT_NE(Msg.find("step " + std::to_string(I) + " ("), std::string::npos)
        << Msg;
    ++Checked;
  }
  EXPECT_GT(Checked, 200u);
}

TEST(MemoryPlan, PlantedOverlapAndOverCapacityAreCaught) {
  std::mt19937 Rng(99);
  unsigned Overlaps = 0;
  for (int Trial = 0; Trial < 300; ++Trial) {
    plan::Plan P = plannedRandom(Rng, 1 + Rng() % 3, 20 + Rng() % 100);
    // Two arena buffers of one device live at a common step.
    std::vector<uint32_t> Arena;
    for (uint32_t I = 0; I < P.Buffers.size(); ++I)
      if (P.Buffers[I].Region == plan::RegionKind::Arena &&
          P.Buffers[I].Bytes && P.Buffers[I].Where.Device == 0)
        Arena.push_back(I);
    for (size_t A = 0; A < Arena.size(); ++A) {
      const plan::Buffer &X = P.Buffers[Arena[A]];
      auto It =
          std::find_if(Arena.begin() + A + 1, Arena.end(), [&](uint32_t J) {
            const plan::Buffer &Y = P.Buffers[J];
            return X.Live->First <= Y.Live->Last &&
                   Y.Live->First <= X.Live->Last;
          });
      if (It == Arena.end())
        continue;
      plan::Plan Q = P;
      Q.Buffers[*It].Offset = X.Offset;
      std::string Msg = verifyMessage(Q);
      EXPECT_NE(Msg.find("overlap on device 0"), std::string::npos) << Msg;
      EXPECT_NE(Msg.find("buffer " + std::to_string(*It) + " "),
                std::string::npos)
          << Msg;
      ++Overlaps;
      break;
    }
    plan::Plan Q = P;
    plan::Device &D = Q.Devices[0];
    D.CapacityBytes = D.WeightRegionBytes + D.KVCacheRegionBytes +
                      D.ArenaRegionBytes + D.ReserveBytes - 1;
    std::string Msg = verifyMessage(Q);
    EXPECT_NE(Msg.find("device 0 (" + D.Name + ") needs"), std::string::npos)
        << Msg;
  }
  EXPECT_GT(Overlaps, 200u);
}

TEST(MemoryPlan, ViewsShareTheirBasesBytes) {
  plan::Plan P;
  plan::Device D;
  D.Kind = plan::DeviceKind::CPU;
  D.CapacityBytes = 1 << 20;
  P.Devices.push_back(D);
  P.Streams = {{0, plan::StreamKind::Compute}, {0, plan::StreamKind::Copy}};
  auto Add = [&](llvm::StringRef Name, uint64_t Bytes) {
    plan::Buffer B;
    B.Name = Name.str();
    B.Kind = plan::BufferKind::Activation;
    B.Bytes = Bytes;
    B.Region = plan::RegionKind::Arena;
    B.Program = "decode";
    P.Buffers.push_back(B);
    return static_cast<uint32_t>(P.Buffers.size() - 1);
  };
  uint32_t X = Add("x", 256), A = Add("a", 256), V = Add("a_view", 256),
           B = Add("b", 256);
  P.Buffers[X].Kind = plan::BufferKind::Input;
  P.Buffers[V].ViewOf = A;
  plan::ProgramSchedule S;
  S.Name = "decode";
  S.Inputs = {{"x", {X}}};
  S.Steps.push_back({plan::StepOp::Add, "a", 0, {X}, {A}, {}, {}, {}, {}, {}});
  S.Steps.push_back({plan::StepOp::Add, "b", 0, {V}, {B}, {}, {}, {}, {}, {}});
  S.Outputs = {{"b", {B}}};
  P.Programs.push_back(S);
  llvm::cantFail(passes::planMemory(P));
  llvm::cantFail(passes::insertSyncPoints(P));
  EXPECT_EQ(verifyMessage(P), "");
  // The view's reads keep its base live: a and b may not share bytes.
  EXPECT_EQ(P.Buffers[V].Offset, P.Buffers[A].Offset);
  EXPECT_EQ(P.Buffers[A].Live->Last, 1u);
  EXPECT_NE(P.Buffers[A].Offset, P.Buffers[B].Offset);
  // A view elsewhere than its base is refused.
  P.Buffers[V].Offset += 64;
  EXPECT_NE(verifyMessage(P).find("is a view of buffer 1 'a' but not at the "
                                  "same place"),
            std::string::npos)
      << verifyMessage(P);
}
