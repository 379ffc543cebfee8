//===- ScheduleReport.cpp - What the memory plan and schedule cost --------===//

#include "tools/strata/viz/ScheduleReport.h"

#include "tools/strata/viz/PlanSummary.h"

#include "ir/Units.h"

#include "llvm/Support/FormatVariadic.h"

#include <set>

namespace strata::viz {

std::vector<ProgramTraffic> computeTraffic(const plan::Plan &P) {
  std::vector<ProgramTraffic> Out;
  for (const plan::ProgramSchedule &S : P.Programs) {
    ProgramTraffic T;
    T.Program = S.Name;
    T.Steps = S.Steps.size();
    T.Events = S.NumEvents;
    std::set<uint32_t> Collectives;
    for (const plan::Step &St : S.Steps) {
      T.Waits += St.Waits.size();
      uint64_t Bytes = 0;
      for (uint32_t B : St.Outputs)
        Bytes += P.Buffers[B].Bytes;
      if (St.Op == plan::StepOp::Copy) {
        ++T.Copies;
        // A gather writes one shard at a time into the same buffer.
        Bytes = 0;
        for (uint32_t B : St.Inputs)
          Bytes += P.Buffers[B].Bytes;
        T.CopyBytes += Bytes;
      } else if (St.Op == plan::StepOp::Prefetch) {
        ++T.Prefetches;
        T.PrefetchBytes += Bytes;
      } else if (St.Collective) {
        if (Collectives.insert(*St.Collective).second) {
          ++T.Collectives;
          T.CollectiveBytes += Bytes;
        }
      }
    }
    Out.push_back(T);
  }
  return Out;
}

void printScheduleReport(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "arena per device (best fit against the lower bound: the most bytes "
        "live at one step)\n";
  OS << llvm::formatv("  {0,-8} {1,-8} {2,12} {3,12} {4,7}\n", "device",
                      "program", "arena", "lower bound", "ratio");
  for (const plan::Device &D : P.Devices)
    for (const plan::Device::ArenaUse &U : D.Arenas)
      OS << llvm::formatv(
          "  {0,-8} {1,-8} {2,12} {3,12} {4,7:f3}\n", deviceName(P, D.Index),
          U.Program, ir::formatBytes(U.Bytes), ir::formatBytes(U.LowerBound),
          U.LowerBound
              ? static_cast<double>(U.Bytes) / static_cast<double>(U.LowerBound)
              : 1.0);
  OS << "\nschedule per program run\n";
  OS << llvm::formatv("  {0,-8} {1,7} {2,18} {3,18} {4,18} {5,6} {6,6}\n",
                      "program", "steps", "copies", "prefetches", "collectives",
                      "events", "waits");
  for (const ProgramTraffic &T : computeTraffic(P))
    OS << llvm::formatv(
        "  {0,-8} {1,7} {2,5} {3,12} {4,5} {5,12} {6,5} {7,12} {8,6} {9,6}\n",
        T.Program, T.Steps, T.Copies, ir::formatBytes(T.CopyBytes),
        T.Prefetches, ir::formatBytes(T.PrefetchBytes), T.Collectives,
        ir::formatBytes(T.CollectiveBytes), T.Events, T.Waits);
  OS << "\ncleanup points: " << P.Cleanups.size() << "\n";
  std::map<std::string, size_t> Kinds;
  for (const plan::CleanupPoint &C : P.Cleanups)
    ++Kinds[plan::getKindName(C.Kind).str()];
  for (const auto &[Kind, N] : Kinds)
    OS << llvm::formatv("  {0,-15} {1}\n", Kind, N);
}

void printSteps(llvm::raw_ostream &OS, const plan::Plan &P) {
  auto Dev = [&](unsigned D) { return deviceName(P, D); };
  auto Buf = [&](uint32_t B) {
    const plan::Buffer &X = P.Buffers[B];
    std::string S = std::to_string(B) + ":" + X.Name;
    switch (X.Where.Where) {
    case plan::Location::Kind::Host:
      return S + "(host)";
    case plan::Location::Kind::Disk:
      return S + "(disk)";
    case plan::Location::Kind::Device:
      break;
    }
    return S + "(" + Dev(X.Where.Device) + " " +
           plan::getKindName(X.Region).str() + "+" + std::to_string(X.Offset) +
           ")";
  };
  for (const plan::ProgramSchedule &S : P.Programs) {
    OS << "program " << S.Name << ": " << S.Steps.size() << " steps, "
       << S.NumEvents << " events\n";
    for (size_t I = 0; I < S.Steps.size(); ++I) {
      const plan::Step &St = S.Steps[I];
      const plan::Stream &Str = P.Streams[St.Stream];
      OS << llvm::formatv("  {0,4} {1}/{2,-7} {3,-10}", I, Dev(Str.Device),
                          plan::getKindName(Str.Kind),
                          plan::getKindName(St.Op));
      for (size_t K = 0; K < St.Inputs.size(); ++K)
        OS << (K ? ", " : " ") << Buf(St.Inputs[K]);
      OS << " ->";
      for (uint32_t B : St.Outputs)
        OS << " " << Buf(B);
      if (!St.Waits.empty()) {
        OS << " waits";
        for (uint32_t E : St.Waits)
          OS << " e" << E;
      }
      if (St.Record)
        OS << " records e" << *St.Record;
      if (St.Collective)
        OS << " collective " << *St.Collective;
      OS << "\n";
    }
  }
  for (const plan::CleanupPoint &C : P.Cleanups) {
    OS << "cleanup " << plan::getKindName(C.Kind);
    if (!C.Program.empty())
      OS << " " << C.Program;
    if (C.After)
      OS << " after step " << *C.After;
    for (uint32_t B : C.Buffers)
      OS << " " << Buf(B);
    OS << "\n";
  }
}

llvm::json::Value scheduleReportToJSON(const plan::Plan &P) {
  llvm::json::Array Arenas, Programs;
  for (const plan::Device &D : P.Devices)
    for (const plan::Device::ArenaUse &U : D.Arenas)
      Arenas.push_back(
          llvm::json::Object{{"device", int64_t(D.Index)},
                             {"program", U.Program},
                             {"bytes", int64_t(U.Bytes)},
                             {"lower_bound", int64_t(U.LowerBound)}});
  for (const ProgramTraffic &T : computeTraffic(P))
    Programs.push_back(
        llvm::json::Object{{"program", T.Program},
                           {"steps", int64_t(T.Steps)},
                           {"copies", int64_t(T.Copies)},
                           {"copy_bytes", int64_t(T.CopyBytes)},
                           {"prefetches", int64_t(T.Prefetches)},
                           {"prefetch_bytes", int64_t(T.PrefetchBytes)},
                           {"collectives", int64_t(T.Collectives)},
                           {"collective_bytes", int64_t(T.CollectiveBytes)},
                           {"events", int64_t(T.Events)},
                           {"waits", int64_t(T.Waits)}});
  return llvm::json::Object{{"arenas", std::move(Arenas)},
                            {"programs", std::move(Programs)},
                            {"cleanup_points", int64_t(P.Cleanups.size())}};
}

} // namespace strata::viz
