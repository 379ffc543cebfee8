//===- PredictedTimeline.cpp - When each step would run, predicted --------===//

#include "tools/strata/viz/PredictedTimeline.h"

#include "ir/plan/Plan.h"
#include "ir/support/JSONParser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace strata::viz {
namespace {

struct LinkCost {
  double Bandwidth = 0; ///< Bytes per second; 0: unknown.
  double LatencySeconds = 0;

  double seconds(uint64_t Bytes) const {
    if (!(Bandwidth > 0))
      return 0;
    return LatencySeconds + static_cast<double>(Bytes) / Bandwidth;
  }
};

/// What the cluster description says about links and bandwidths; every
/// figure it lacks stays unknown (0).
struct ClusterCosts {
  std::vector<unsigned> NodeOf;
  std::vector<LinkCost> HostLink;
  std::vector<double> MemoryBandwidth;
  std::map<unsigned, LinkCost> IntraNode;
  std::optional<LinkCost> InterNode;
  std::map<std::pair<unsigned, unsigned>, LinkCost> Pairs;
  double DiskBandwidth = 0;

  LinkCost link(unsigned A, unsigned B) const {
    auto It = Pairs.find({std::min(A, B), std::max(A, B)});
    if (It != Pairs.end())
      return It->second;
    unsigned NA = A < NodeOf.size() ? NodeOf[A] : 0;
    unsigned NB = B < NodeOf.size() ? NodeOf[B] : 0;
    if (NA == NB) {
      auto N = IntraNode.find(NA);
      return N == IntraNode.end() ? LinkCost() : N->second;
    }
    return InterNode.value_or(LinkCost());
  }
};

LinkCost readLink(const llvm::json::Object *O) {
  LinkCost L;
  if (!O)
    return L;
  L.Bandwidth = O->getNumber("bandwidth").getValueOr(0);
  L.LatencySeconds = O->getNumber("latency_us").getValueOr(0) * 1e-6;
  return L;
}

ClusterCosts readClusterCosts(const plan::Plan &P) {
  ClusterCosts C;
  size_t N = P.Devices.size();
  C.NodeOf.resize(N);
  C.HostLink.resize(N);
  C.MemoryBandwidth.resize(N);
  for (const plan::Device &D : P.Devices)
    C.NodeOf[D.Index] = D.Node;
  // The description is recorded by the compiler; a plan without one (or a
  // hand-made plan) simply has unknown links.
  llvm::Expected<llvm::json::Value> V = parseJSON(P.ClusterJSON);
  if (!V) {
    llvm::consumeError(V.takeError());
    return C;
  }
  const llvm::json::Object *Root = V->getAsObject();
  if (!Root)
    return C;
  C.DiskBandwidth = Root->getNumber("disk_bandwidth").getValueOr(0);
  if (const llvm::json::Object *I = Root->getObject("inter_node_link"))
    C.InterNode = readLink(I);
  if (const llvm::json::Array *Nodes = Root->getArray("nodes"))
    for (size_t NI = 0; NI < Nodes->size(); ++NI) {
      const llvm::json::Object *Node = (*Nodes)[NI].getAsObject();
      if (!Node)
        continue;
      if (const llvm::json::Object *L = Node->getObject("intra_node_link"))
        C.IntraNode[NI] = readLink(L);
      if (const llvm::json::Array *Devs = Node->getArray("devices"))
        for (const llvm::json::Value &DV : *Devs) {
          const llvm::json::Object *D = DV.getAsObject();
          if (!D)
            continue;
          const llvm::json::Value *IndexValue = D->get("index");
          llvm::Optional<int64_t> Index =
              IndexValue ? getAsInt64(*IndexValue) : llvm::None;
          if (!Index || *Index < 0 || static_cast<uint64_t>(*Index) >= N)
            continue;
          C.HostLink[*Index] = readLink(D->getObject("host_link"));
          C.MemoryBandwidth[*Index] =
              D->getNumber("memory_bandwidth").getValueOr(0);
        }
    }
  if (const llvm::json::Array *Links = Root->getArray("links"))
    for (const llvm::json::Value &LV : *Links) {
      const llvm::json::Object *L = LV.getAsObject();
      const llvm::json::Array *Pair = L ? L->getArray("devices") : nullptr;
      if (!Pair || Pair->size() != 2)
        continue;
      llvm::Optional<int64_t> A = getAsInt64((*Pair)[0]);
      llvm::Optional<int64_t> B = getAsInt64((*Pair)[1]);
      if (!A || !B || *A < 0 || *B < 0)
        continue;
      unsigned UA = static_cast<unsigned>(*A), UB = static_cast<unsigned>(*B);
      C.Pairs[{std::min(UA, UB), std::max(UA, UB)}] = readLink(L);
    }
  return C;
}

/// Bytes of the distinct buffers a step reads or writes.
uint64_t bytesTouched(const plan::Plan &P, const plan::Step &S) {
  llvm::SmallVector<uint32_t, 8> Bufs(S.Inputs.begin(), S.Inputs.end());
  Bufs.append(S.Outputs.begin(), S.Outputs.end());
  llvm::sort(Bufs);
  Bufs.erase(std::unique(Bufs.begin(), Bufs.end()), Bufs.end());
  uint64_t Bytes = 0;
  for (uint32_t B : Bufs)
    Bytes += P.Buffers[B].Bytes;
  return Bytes;
}

bool isTransfer(const plan::Step &S) { return plan::isTransfer(S.Op); }

/// Seconds each step of program G takes, by the model in the header.
std::vector<double> stepSeconds(const plan::Plan &P, const ClusterCosts &C,
                                const plan::ProgramSchedule &G) {
  size_t NumDevices = P.Devices.size();
  std::vector<double> Total(NumDevices, 0); // bytes on compute streams
  std::vector<uint64_t> Touched(G.Steps.size());
  for (size_t I = 0; I < G.Steps.size(); ++I) {
    const plan::Step &S = G.Steps[I];
    Touched[I] = bytesTouched(P, S);
    if (!isTransfer(S))
      Total[P.Streams[S.Stream].Device] += static_cast<double>(Touched[I]);
  }
  std::vector<double> Out(G.Steps.size(), 0);
  for (size_t I = 0; I < G.Steps.size(); ++I) {
    const plan::Step &S = G.Steps[I];
    unsigned D = P.Streams[S.Stream].Device;
    if (isTransfer(S)) {
      uint64_t Bytes = 0;
      for (uint32_t B : S.Inputs)
        Bytes += P.Buffers[B].Bytes;
      const plan::Location *From =
          S.Inputs.empty() ? nullptr : &P.Buffers[S.Inputs[0]].Where;
      if (From && From->Where == plan::Location::Kind::Disk)
        Out[I] = C.DiskBandwidth > 0
                     ? static_cast<double>(Bytes) / C.DiskBandwidth
                     : 0;
      else if (From && From->Where == plan::Location::Kind::Device)
        Out[I] = C.link(From->Device, D).seconds(Bytes);
      else
        Out[I] = C.HostLink[D].seconds(Bytes);
      continue;
    }
    double Predicted = G.Name == "prefill"  ? P.Devices[D].PrefillSeconds
                       : G.Name == "decode" ? P.Devices[D].DecodeSeconds
                                            : NAN;
    double Bytes = static_cast<double>(Touched[I]);
    if (std::isfinite(Predicted) && Predicted > 0 && Total[D] > 0)
      Out[I] = Predicted * Bytes / Total[D];
    else if (C.MemoryBandwidth[D] > 0)
      Out[I] = Bytes / C.MemoryBandwidth[D];
  }
  return Out;
}

int64_t toNs(double Seconds) {
  return std::max<int64_t>(0, std::llround(Seconds * 1e9));
}

/// Replays program G from Begin; returns when its last step ends.
int64_t replay(const plan::Plan &P, uint32_t GI, const std::vector<double> &Dur,
               int64_t Begin, std::vector<TimedStep> &Out) {
  const plan::ProgramSchedule &G = P.Programs[GI];
  std::vector<int64_t> StreamFree(P.Streams.size(), Begin);
  std::vector<int64_t> EventAt(G.NumEvents, Begin);
  int64_t End = Begin;
  auto Ready = [&](const plan::Step &S) {
    int64_t T = StreamFree[S.Stream];
    for (uint32_t E : S.Waits)
      if (E < EventAt.size())
        T = std::max(T, EventAt[E]);
    return T;
  };
  for (size_t I = 0; I < G.Steps.size();) {
    // A collective's members are consecutive; they start and end together.
    size_t J = I + 1;
    if (G.Steps[I].Collective)
      while (J < G.Steps.size() &&
             G.Steps[J].Collective == G.Steps[I].Collective)
        ++J;
    int64_t Start = Begin, Length = 0;
    for (size_t K = I; K < J; ++K) {
      Start = std::max(Start, Ready(G.Steps[K]));
      Length = std::max(Length, toNs(Dur[K]));
    }
    for (size_t K = I; K < J; ++K) {
      const plan::Step &S = G.Steps[K];
      Out.push_back({GI, static_cast<uint32_t>(K), 0, Start, Length});
      StreamFree[S.Stream] = Start + Length;
      if (S.Record && *S.Record < EventAt.size())
        EventAt[*S.Record] = Start + Length;
    }
    End = std::max(End, Start + Length);
    I = J;
  }
  return End;
}

} // namespace

std::vector<TimedStep> predictTimeline(const plan::Plan &P,
                                       llvm::ArrayRef<uint32_t> Programs) {
  ClusterCosts C = readClusterCosts(P);
  std::vector<TimedStep> Out;
  int64_t At = 0;
  for (uint32_t G : Programs) {
    std::vector<double> Dur = stepSeconds(P, C, P.Programs[G]);
    At = replay(P, G, Dur, At, Out);
  }
  return Out;
}

} // namespace strata::viz
