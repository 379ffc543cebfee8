//===- DotGraph.cpp - One program's schedule as a Graphviz graph ----------===//

#include "tools/strata/viz/DotGraph.h"
#include "tools/strata/viz/Escape.h"
#include "tools/strata/viz/PlanSummary.h"

#include "ir/plan/Plan.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <optional>
#include <set>

namespace strata::viz {
namespace {

/// A node of the drawing: a step, a collective, a transfer, an event, or
/// (collapsed) every other step of one layer on one device.
struct Unit {
  std::string Id;
  std::string Label;
  std::string Shape = "box";
  std::string Fill; ///< A Graphviz colour.
  std::optional<int64_t> Layer;
  size_t Steps = 0; ///< Collapsed: the steps it stands for.
};

std::string deviceColour(unsigned D) {
  // ColorBrewer's 12-colour qualitative scheme, built into Graphviz.
  return "/set312/" + std::to_string(D % 12 + 1);
}

class DotBuilder {
public:
  DotBuilder(const plan::Plan &P, const plan::ProgramSchedule &G, bool Collapse)
      : P(P), G(G), Collapse(Collapse) {}

  void build() {
    // Which non-layer steps come before the first layer ("input": the
    // embedding) and which after ("output": the head), so that collapsing
    // keeps them apart.
    bool SeenLayer = false;
    std::vector<bool> AfterLayers(G.Steps.size());
    for (size_t I = 0; I < G.Steps.size(); ++I) {
      SeenLayer |= G.Steps[I].Layer.has_value();
      AfterLayers[I] = SeenLayer;
    }
    llvm::DenseMap<uint32_t, size_t> LastWriter; // buffer -> unit
    for (size_t I = 0; I < G.Steps.size(); ++I) {
      const plan::Step &S = G.Steps[I];
      size_t U = unitOf(I, AfterLayers[I]);
      for (uint32_t B : S.Inputs) {
        auto It = LastWriter.find(B);
        if (It != LastWriter.end())
          addEdge(It->second, U, /*Sync=*/false);
      }
      for (uint32_t B : S.Outputs)
        LastWriter[B] = U;
      for (uint32_t E : S.Waits)
        addEdge(eventUnit(E), U, /*Sync=*/true);
      if (S.Record)
        addEdge(U, eventUnit(*S.Record), /*Sync=*/true);
    }
  }

  void print(llvm::raw_ostream &OS) const {
    OS << "digraph \"";
    writeDotText(OS, P.Model.Name + " " + G.Name + " on " + P.ClusterSpec);
    OS << "\" {\n"
       << "  graph [rankdir=TB, fontname=\"Helvetica\", label=\"";
    writeDotText(OS, P.Model.Name + ": " + G.Name + " on " + P.ClusterSpec +
                         " (" + std::to_string(G.Steps.size()) + " steps" +
                         (Collapse ? ", one node per layer and device" : "") +
                         ")");
    OS << "\", labelloc=t];\n"
       << "  node [shape=box, style=filled, fontname=\"Helvetica\", "
          "fontsize=10];\n"
       << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    // Devices, for the colours.
    OS << "  subgraph cluster_devices {\n    label=\"devices\";\n";
    for (const plan::Device &D : P.Devices) {
      OS << "    dev" << D.Index << " [label=\"";
      writeDotText(OS, deviceName(P, D.Index) + " " + D.Name);
      OS << "\", fillcolor=\"" << deviceColour(D.Index) << "\"];\n";
    }
    OS << "  }\n";
    std::map<int64_t, std::vector<size_t>> ByLayer;
    for (size_t U = 0; U < Units.size(); ++U)
      if (Units[U].Layer)
        ByLayer[*Units[U].Layer].push_back(U);
      else
        printUnit(OS, Units[U], "  ");
    for (const auto &[Layer, Members] : ByLayer) {
      OS << "  subgraph cluster_layer" << Layer << " {\n    label=\"layer "
         << Layer << "\";\n    style=rounded;\n";
      for (size_t U : Members)
        printUnit(OS, Units[U], "    ");
      OS << "  }\n";
    }
    for (const auto &[From, To, Sync] : Edges) {
      OS << "  " << Units[From].Id << " -> " << Units[To].Id;
      if (Sync)
        OS << " [style=dashed, color=red]";
      OS << ";\n";
    }
    OS << "}\n";
  }

private:
  static void printUnit(llvm::raw_ostream &OS, const Unit &U,
                        llvm::StringRef Indent) {
    OS << Indent << U.Id << " [label=\"";
    writeDotText(OS, U.Label);
    if (U.Steps) // a collapsed node: how many steps it stands for
      writeDotText(OS, "\n" + std::to_string(U.Steps) +
                           (U.Steps == 1 ? " step" : " steps"));
    OS << "\"";
    if (U.Shape != "box")
      OS << ", shape=" << U.Shape;
    OS << ", fillcolor=\"" << U.Fill << "\"];\n";
  }

  size_t newUnit(Unit U) {
    Units.push_back(std::move(U));
    return Units.size() - 1;
  }

  size_t eventUnit(uint32_t E) {
    auto [It, New] = Events.try_emplace(E, 0);
    if (New) {
      Unit U;
      U.Id = "e" + std::to_string(E);
      U.Label = "event e" + std::to_string(E);
      U.Shape = "diamond";
      U.Fill = "#ffdddd";
      It->second = newUnit(std::move(U));
    }
    return It->second;
  }

  std::string devices(llvm::ArrayRef<unsigned> Ds) const {
    if (Ds.size() > 4)
      return std::to_string(Ds.size()) + " devices";
    std::string Out;
    for (unsigned D : Ds)
      Out += (Out.empty() ? "" : ", ") + deviceName(P, D);
    return Out;
  }

  size_t unitOf(size_t I, bool AfterLayers) {
    const plan::Step &S = G.Steps[I];
    unsigned Dev = P.Streams[S.Stream].Device;
    if (S.Collective) {
      auto [It, New] = Collectives.try_emplace(*S.Collective, 0);
      if (New) {
        Unit U;
        U.Id = "c" + std::to_string(*S.Collective);
        U.Shape = "hexagon";
        U.Fill = "white";
        U.Layer = S.Layer;
        It->second = newUnit(std::move(U));
      }
      Unit &U = Units[It->second];
      CollectiveMembers[*S.Collective].push_back(Dev);
      U.Label = plan::getKindName(S.Op).str() + "\n" + S.Name + "\n" +
                devices(CollectiveMembers[*S.Collective]);
      return It->second;
    }
    if (plan::isTransfer(S.Op)) {
      Unit U;
      U.Id = "s" + std::to_string(I);
      std::string From = "?";
      if (!S.Inputs.empty())
        From = locationName(P, P.Buffers[S.Inputs[0]].Where);
      U.Label = plan::getKindName(S.Op).str() + "\n" + S.Name + "\n" + From +
                " -> " + deviceName(P, Dev);
      U.Shape = "cds";
      U.Fill = deviceColour(Dev);
      U.Layer = S.Layer;
      return newUnit(std::move(U));
    }
    if (!Collapse) {
      Unit U;
      U.Id = "s" + std::to_string(I);
      U.Label = plan::getKindName(S.Op).str() + "\n" + S.Name + "\n" +
                deviceName(P, Dev);
      U.Fill = deviceColour(Dev);
      U.Layer = S.Layer;
      return newUnit(std::move(U));
    }
    // Collapsed: one node per (layer, device); outside the layers, one for
    // the input side and one for the output side per device.
    std::string Part = S.Layer       ? "l" + std::to_string(*S.Layer)
                       : AfterLayers ? std::string("out")
                                     : std::string("in");
    std::string Id = Part + "_d" + std::to_string(Dev);
    auto [It, New] = Groups.try_emplace(Id, 0);
    if (New) {
      Unit U;
      U.Id = Id;
      U.Label = (S.Layer       ? "layer " + std::to_string(*S.Layer)
                 : AfterLayers ? std::string("output")
                               : std::string("input")) +
                " on " + deviceName(P, Dev);
      U.Fill = deviceColour(Dev);
      U.Layer = S.Layer;
      It->second = newUnit(std::move(U));
    }
    ++Units[It->second].Steps;
    return It->second;
  }

  void addEdge(size_t From, size_t To, bool Sync) {
    if (From == To)
      return;
    if (SeenEdges.insert({From, To, Sync}).second)
      Edges.push_back({From, To, Sync});
  }

  const plan::Plan &P;
  const plan::ProgramSchedule &G;
  bool Collapse;
  std::vector<Unit> Units;
  std::map<uint32_t, size_t> Events, Collectives;
  std::map<uint32_t, std::vector<unsigned>> CollectiveMembers;
  std::map<std::string, size_t> Groups;
  std::vector<std::tuple<size_t, size_t, bool>> Edges;
  std::set<std::tuple<size_t, size_t, bool>> SeenEdges;
};

} // namespace

llvm::Error writeDotGraph(llvm::raw_ostream &OS, const plan::Plan &P,
                          const DotOptions &Opts) {
  const plan::ProgramSchedule *G = P.findProgram(Opts.Program);
  if (!G) {
    std::vector<std::string> Names;
    for (const plan::ProgramSchedule &S : P.Programs)
      Names.push_back(S.Name);
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the plan has no program '" + Opts.Program + "' (it has " +
            (Names.empty() ? std::string("none") : llvm::join(Names, ", ")) +
            ")");
  }
  DotBuilder B(P, *G, !Opts.Expand && G->Steps.size() > Opts.CollapseAbove);
  B.build();
  B.print(OS);
  return llvm::Error::success();
}

} // namespace strata::viz
