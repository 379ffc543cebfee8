//===- ChromeTrace.cpp - Step times as Chrome trace events ----------------===//

#include "tools/strata/viz/ChromeTrace.h"
#include "tools/strata/viz/Escape.h"
#include "tools/strata/viz/PlanSummary.h"

#include "ir/plan/Plan.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <tuple>

namespace strata::viz {
namespace {

/// Microseconds with nanosecond digits, from integer nanoseconds, so that
/// ts + dur of one event and ts of the next compare exactly as the
/// nanoseconds did.
void writeMicros(llvm::raw_ostream &OS, int64_t Ns) {
  if (Ns < 0) {
    OS << '-';
    Ns = -Ns;
  }
  OS << Ns / 1000 << '.' << llvm::format("%03d", static_cast<int>(Ns % 1000));
}

/// Writes the comma between array elements.
struct Separator {
  bool First = true;
  const char *next() {
    const char *S = First ? "\n" : ",\n";
    First = false;
    return S;
  }
};

const char *category(const plan::Step &S) {
  if (plan::isTransfer(S.Op))
    return "copy";
  if (S.Collective)
    return "collective";
  return "compute";
}

void writeMetadata(llvm::raw_ostream &OS, Separator &Sep, const plan::Plan &P) {
  auto Meta = [&](llvm::StringRef Name, unsigned Pid, unsigned Tid,
                  llvm::StringRef Key, auto Value) {
    OS << Sep.next() << "{\"ph\":\"M\",\"name\":\"" << Name
       << "\",\"pid\":" << Pid << ",\"tid\":" << Tid << ",\"args\":{\"" << Key
       << "\":";
    if constexpr (std::is_same_v<decltype(Value), std::string>)
      writeJSONString(OS, Value);
    else
      OS << Value;
    OS << "}}";
  };
  for (const plan::Device &D : P.Devices) {
    Meta("process_name", D.Index, 0, "name",
         deviceName(P, D.Index) + " " + D.Name);
    Meta("process_sort_index", D.Index, 0, "sort_index", D.Index);
  }
  for (size_t S = 0; S < P.Streams.size(); ++S) {
    const plan::Stream &Str = P.Streams[S];
    Meta("thread_name", Str.Device, static_cast<unsigned>(S), "name",
         deviceName(P, Str.Device) + " " + plan::getKindName(Str.Kind).str());
    Meta("thread_sort_index", Str.Device, static_cast<unsigned>(S),
         "sort_index", static_cast<unsigned>(S));
  }
}

void writeStep(llvm::raw_ostream &OS, Separator &Sep, const plan::Plan &P,
               const TimedStep &T) {
  const plan::ProgramSchedule &Prog = P.Programs[T.Program];
  const plan::Step &S = Prog.Steps[T.Step];
  uint64_t Bytes = 0;
  for (uint32_t B : S.Outputs)
    Bytes += P.Buffers[B].Bytes;
  OS << Sep.next() << "{\"ph\":\"X\",\"name\":";
  writeJSONString(OS, plan::getKindName(S.Op));
  OS << ",\"cat\":\"" << category(S)
     << "\",\"pid\":" << P.Streams[S.Stream].Device << ",\"tid\":" << S.Stream
     << ",\"ts\":";
  writeMicros(OS, T.StartNs);
  OS << ",\"dur\":";
  writeMicros(OS, T.DurationNs);
  OS << ",\"args\":{\"program\":";
  writeJSONString(OS, Prog.Name);
  OS << ",\"run\":" << T.Run << ",\"step\":" << T.Step << ",\"name\":";
  writeJSONString(OS, S.Name);
  if (S.Layer)
    OS << ",\"layer\":" << *S.Layer;
  OS << ",\"output_bytes\":" << Bytes;
  if (!S.Waits.empty()) {
    OS << ",\"waits\":[";
    for (size_t I = 0; I < S.Waits.size(); ++I)
      OS << (I ? "," : "") << S.Waits[I];
    OS << "]";
  }
  if (S.Record)
    OS << ",\"records\":" << *S.Record;
  if (S.Collective)
    OS << ",\"collective\":" << *S.Collective;
  OS << "}}";
}

/// A flow arrow per wait: from the run of the step that recorded the event
/// to the step of the same program run that waited for it.
void writeFlows(llvm::raw_ostream &OS, Separator &Sep, const plan::Plan &P,
                llvm::ArrayRef<TimedStep> Steps) {
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, size_t> Index;
  for (size_t I = 0; I < Steps.size(); ++I)
    Index.emplace(
        std::make_tuple(Steps[I].Program, Steps[I].Step, Steps[I].Run), I);
  std::vector<std::vector<uint32_t>> Recorder(P.Programs.size());
  for (size_t G = 0; G < P.Programs.size(); ++G) {
    const plan::ProgramSchedule &Prog = P.Programs[G];
    Recorder[G].assign(Prog.NumEvents, UINT32_MAX);
    for (size_t I = 0; I < Prog.Steps.size(); ++I)
      if (Prog.Steps[I].Record && *Prog.Steps[I].Record < Prog.NumEvents)
        Recorder[G][*Prog.Steps[I].Record] = static_cast<uint32_t>(I);
  }
  uint64_t Id = 0;
  for (const TimedStep &T : Steps) {
    const plan::Step &S = P.Programs[T.Program].Steps[T.Step];
    for (uint32_t E : S.Waits) {
      if (E >= Recorder[T.Program].size() ||
          Recorder[T.Program][E] == UINT32_MAX)
        continue;
      auto It =
          Index.find(std::make_tuple(T.Program, Recorder[T.Program][E], T.Run));
      if (It == Index.end())
        continue;
      const TimedStep &W = Steps[It->second];
      const plan::Step &WS = P.Programs[W.Program].Steps[W.Step];
      ++Id;
      OS << Sep.next() << "{\"ph\":\"s\",\"id\":" << Id << ",\"name\":\"e" << E
         << "\",\"cat\":\"sync\",\"pid\":" << P.Streams[WS.Stream].Device
         << ",\"tid\":" << WS.Stream << ",\"ts\":";
      writeMicros(OS, W.StartNs);
      OS << "}";
      OS << Sep.next() << "{\"ph\":\"f\",\"bp\":\"e\",\"id\":" << Id
         << ",\"name\":\"e" << E
         << "\",\"cat\":\"sync\",\"pid\":" << P.Streams[S.Stream].Device
         << ",\"tid\":" << S.Stream << ",\"ts\":";
      writeMicros(OS, T.StartNs);
      OS << "}";
    }
  }
}

} // namespace

void writeChromeTrace(llvm::raw_ostream &OS, const plan::Plan &P,
                      llvm::ArrayRef<TimedStep> Steps, llvm::StringRef Source) {
  OS << "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"source\":";
  writeJSONString(OS, Source);
  OS << ",\"model\":";
  writeJSONString(OS, P.Model.Name);
  OS << ",\"cluster\":";
  writeJSONString(OS, P.ClusterSpec);
  OS << "},\"traceEvents\":[";
  Separator Sep;
  writeMetadata(OS, Sep, P);
  // In time order, ties by stream then step, so the file reads as a log and
  // is the same for the same input.
  std::vector<size_t> Order(Steps.size());
  for (size_t I = 0; I < Order.size(); ++I)
    Order[I] = I;
  llvm::stable_sort(Order, [&](size_t A, size_t B) {
    const TimedStep &X = Steps[A], &Y = Steps[B];
    unsigned SX = P.Programs[X.Program].Steps[X.Step].Stream;
    unsigned SY = P.Programs[Y.Program].Steps[Y.Step].Stream;
    return std::tie(X.StartNs, SX, X.Program, X.Run, X.Step) <
           std::tie(Y.StartNs, SY, Y.Program, Y.Run, Y.Step);
  });
  for (size_t I : Order)
    writeStep(OS, Sep, P, Steps[I]);
  writeFlows(OS, Sep, P, Steps);
  OS << "\n]}\n";
}

} // namespace strata::viz
