//===- HtmlReport.cpp - A plan as one self-contained web page -------------===//
//
// The embedded data (<script type="application/json" id="plan-data">):
//   devices:  [{name, label, capacity, arenas: {program: bytes}}]
//   programs: [{name, steps}]
//   strings:  the distinct kinds, dtypes, shapes, regions and reasons,
//             which the columns below refer to by index
//   buffers:  one array per column, one entry per plan buffer, in plan
//             order: name, kind*, bytes, dtype*, shape*, loc (a device
//             index, -1 host, -2 disk), layer (-1: none), placed*,
//             region* (-1: none), offset, program (index into programs,
//             -1: none), first, last (-1: no live range), view (-1: none)
//   (* an index into strings)
// Column arrays keep the data about a third of the plan file's size for
// the same buffers.
//
//===----------------------------------------------------------------------===//

#include "tools/strata/viz/HtmlReport.h"
#include "tools/strata/viz/Escape.h"
#include "tools/strata/viz/HtmlReportPage.h"
#include "tools/strata/viz/PlanSummary.h"
#include "tools/strata/viz/ScheduleReport.h"

#include "ir/Units.h"
#include "ir/plan/Plan.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace strata::viz {
namespace {

using ir::formatBytes;

/// Colours of the memory parts, the same in the bars, legend and timeline.
struct Part {
  const char *Name;
  const char *Colour;
};
constexpr Part Weights{"weights", "#4e79a7"};
constexpr Part KVCache{"KV cache", "#f28e2b"};
constexpr Part Arena{"activations (arena)", "#59a14f"};
constexpr Part Workspace{"workspace", "#e15759"};
constexpr Part Reserve{"reserve", "#9c755f"};
constexpr Part Free{"free", "#e8e8e8"};

void text(llvm::raw_ostream &OS, llvm::StringRef S) { writeHTMLText(OS, S); }

std::string ms(double Seconds) {
  if (!std::isfinite(Seconds))
    return "-";
  return llvm::formatv("{0:f3} ms", Seconds * 1e3).str();
}

void writeHeader(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<header><h1>";
  text(OS, P.Model.Name);
  OS << " on ";
  text(OS, P.ClusterSpec);
  OS << "</h1><p>";
  text(OS, ir::formatCount(P.Model.Parameters) + " parameters, " +
               formatBytes(P.Model.WeightBytes) + " of weights, " +
               std::to_string(P.Model.Layers) + " layers; strategy " +
               P.Strategy + ", KV " + P.Opts.KVStrategy + ", batch " +
               std::to_string(P.Opts.Batch) + ", context " +
               std::to_string(P.Opts.Context) + ", prefill chunk " +
               std::to_string(P.Opts.PrefillTokens) + " tokens; " +
               std::to_string(P.Devices.size()) + " devices, " +
               std::to_string(P.Buffers.size()) + " buffers; source ");
  text(OS, P.Model.Source);
  OS << "</p></header>\n";
}

void writeLegend(llvm::raw_ostream &OS, llvm::ArrayRef<Part> Parts) {
  OS << "<div class=\"legend\">";
  for (const Part &X : Parts) {
    OS << "<span><i style=\"background:" << X.Colour << "\"></i>";
    text(OS, X.Name);
    OS << "</span>";
  }
  OS << "</div>\n";
}

/// A bar per device, all on the scale of the largest device, split into
/// the parts of its memory.
void writeMemoryBars(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<section id=\"memory\"><h2>Memory per device</h2>\n";
  writeLegend(OS, {Weights, KVCache, Arena, Workspace, Reserve, Free});
  uint64_t Largest = 1;
  for (const plan::Device &D : P.Devices)
    Largest = std::max(Largest, D.CapacityBytes);
  const unsigned Label = 170, Width = 760, Row = 18;
  OS << "<svg class=\"bars\" width=\"" << Label + Width + 10 << "\" height=\""
     << Row * P.Devices.size() + 4 << "\" role=\"img\">\n";
  for (const plan::Device &D : P.Devices) {
    unsigned Y = Row * D.Index + 2;
    OS << "<text x=\"0\" y=\"" << Y + 12 << "\">";
    text(OS, deviceName(P, D.Index) + " " + D.Name);
    OS << "</text>";
    std::pair<const Part *, uint64_t> Parts[] = {
        {&Weights, D.WeightBytes},   {&KVCache, D.KVCacheBytes},
        {&Arena, D.ActivationBytes}, {&Workspace, D.WorkspaceBytes},
        {&Reserve, D.ReserveBytes},  {&Free, freeBytes(D)}};
    double X = Label;
    for (const auto &[Kind, Bytes] : Parts) {
      double W =
          static_cast<double>(Bytes) * Width / static_cast<double>(Largest);
      if (Bytes == 0)
        continue;
      OS << llvm::format("<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" "
                         "height=\"%u\" fill=\"%s\"><title>",
                         X, Y, std::max(W, 0.5), Row - 4, Kind->Colour);
      text(OS, deviceName(P, D.Index) + " " + Kind->Name + ": " +
                   formatBytes(Bytes));
      OS << "</title></rect>";
      X += W;
    }
    OS << "\n";
  }
  OS << "</svg>\n<table class=\"num\"><thead><tr><th>device</th><th>"
        "weights</th><th>KV cache</th><th>arena</th><th>workspace</th><th>"
        "reserve</th><th>free</th><th>capacity</th></tr></thead><tbody>\n";
  for (const plan::Device &D : P.Devices) {
    OS << "<tr><td>";
    text(OS, deviceName(P, D.Index));
    for (uint64_t B :
         {D.WeightBytes, D.KVCacheBytes, D.ActivationBytes, D.WorkspaceBytes,
          D.ReserveBytes, freeBytes(D), D.CapacityBytes})
      OS << "</td><td>" << formatBytes(B);
    OS << "</td></tr>\n";
  }
  OS << "</tbody></table></section>\n";
}

/// Rows of locations, columns of layers: a cell is filled where the
/// location holds weights of that layer (every device of a tensor-parallel
/// group holds a part of each of its layers).
void writeLayerStrip(llvm::raw_ostream &OS, const plan::Plan &P,
                     const Summary &Sum) {
  OS << "<section id=\"layers\"><h2>Layers per device</h2>\n";
  int64_t NumLayers = P.Model.Layers;
  for (const auto &[Where, S] : Sum)
    if (!S.Layers.empty())
      NumLayers = std::max(NumLayers, *S.Layers.rbegin() + 1);
  if (NumLayers <= 0) {
    OS << "<p>No buffer belongs to a layer.</p></section>\n";
    return;
  }
  const unsigned Label = 90, Width = 840, Row = 14;
  double Cell = static_cast<double>(Width) / static_cast<double>(NumLayers);
  std::vector<std::string> Rows;
  for (const auto &[Where, S] : Sum)
    if (!S.Layers.empty())
      Rows.push_back(Where);
  OS << "<svg class=\"strip\" width=\"" << Label + Width + 10 << "\" height=\""
     << Row * (Rows.size() + 1) + 4 << "\" role=\"img\">\n";
  for (int64_t L = 0; L < NumLayers; L += std::max<int64_t>(1, NumLayers / 16))
    OS << llvm::format("<text class=\"tick\" x=\"%.1f\" y=\"10\">%lld</text>",
                       Label + L * Cell, static_cast<long long>(L));
  for (size_t R = 0; R < Rows.size(); ++R) {
    const LocationSummary &S = Sum.find(Rows[R])->second;
    unsigned Y = Row * (R + 1) + 2;
    OS << "\n<text x=\"0\" y=\"" << Y + 10 << "\">";
    text(OS, Rows[R]);
    OS << "</text>";
    size_t Colon = Rows[R].find(':');
    unsigned Dev =
        Colon == std::string::npos
            ? 0
            : static_cast<unsigned>(std::stoul(Rows[R].substr(Colon + 1)));
    std::string Colour =
        Colon == std::string::npos
            ? "#888"
            : llvm::formatv("hsl({0},60%,50%)", (Dev * 137) % 360).str();
    // Runs of consecutive layers as one rectangle each.
    for (auto It = S.Layers.begin(); It != S.Layers.end();) {
      int64_t First = *It, Last = *It;
      while (++It != S.Layers.end() && *It == Last + 1)
        Last = *It;
      OS << llvm::format("<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" "
                         "height=\"%u\" fill=\"%s\"><title>",
                         Label + First * Cell, Y, (Last - First + 1) * Cell,
                         Row - 3, Colour.c_str());
      text(OS, Rows[R] + ": layers " + std::to_string(First) + "-" +
                   std::to_string(Last));
      OS << "</title></rect>";
    }
  }
  OS << "\n</svg>\n<table><thead><tr><th>location</th><th>layers</th>"
        "<th>weight tensors</th><th>weight bytes</th></tr></thead><tbody>\n";
  for (const auto &[Where, S] : Sum)
    if (S.Tensors) {
      OS << "<tr><td>";
      text(OS, Where);
      OS << "</td><td>";
      text(OS, formatRanges(S.Layers));
      OS << "</td><td class=\"r\">" << S.Tensors << "</td><td class=\"r\">"
         << formatBytes(S.WeightBytes) << "</td></tr>\n";
    }
  OS << "</tbody></table></section>\n";
}

void writeKVDistribution(llvm::raw_ostream &OS, const Summary &Sum) {
  OS << "<section id=\"kv\"><h2>KV cache distribution</h2>\n";
  uint64_t Most = 1;
  for (const auto &[Where, S] : Sum)
    Most = std::max(Most, S.KVBytes);
  OS << "<table><thead><tr><th>location</th><th>buffers</th><th>bytes</th>"
        "<th>layers</th><th></th></tr></thead><tbody>\n";
  bool Any = false;
  for (const auto &[Where, S] : Sum) {
    if (!S.KVBuffers)
      continue;
    Any = true;
    OS << "<tr><td>";
    text(OS, Where);
    OS << "</td><td class=\"r\">" << S.KVBuffers << "</td><td class=\"r\">"
       << formatBytes(S.KVBytes) << "</td><td>";
    text(OS, formatRanges(S.KVLayers));
    OS << llvm::format("</td><td><span class=\"kvbar\" style=\"width:%.0fpx;"
                       "background:%s\"></span></td></tr>\n",
                       200.0 * static_cast<double>(S.KVBytes) /
                           static_cast<double>(Most),
                       KVCache.Colour);
  }
  OS << "</tbody></table>";
  if (!Any)
    OS << "<p>The plan has no KV cache.</p>";
  OS << "</section>\n";
}

void writeTimelineFrame(llvm::raw_ostream &OS) {
  OS << "<section id=\"timeline\"><h2>Arena timeline</h2>\n"
        "<p>Each rectangle is a buffer of the device's arena: x is its live "
        "range in the program's steps, y its offset. Hover for details.</p>\n"
        "<label>device <select id=\"tl-device\"></select></label> "
        "<label>program <select id=\"tl-program\"></select></label> "
        "<span id=\"tl-info\"></span>\n"
        "<div class=\"canvas-box\"><canvas id=\"tl-canvas\" width=\"1100\" "
        "height=\"360\"></canvas><div id=\"tl-tip\"></div></div>\n"
        "</section>\n";
}

void writeFallbacks(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<section id=\"fallbacks\"><h2>Fallbacks</h2>\n";
  if (P.Fallbacks.empty()) {
    OS << "<p>None: every buffer went where placement first put it.</p>"
          "</section>\n";
    return;
  }
  OS << "<table><thead><tr><th>kind</th><th>buffer</th><th>reason</th></tr>"
        "</thead><tbody>\n";
  for (const plan::Fallback &F : P.Fallbacks) {
    OS << "<tr><td>";
    text(OS, plan::getKindName(F.Kind));
    OS << "</td><td>";
    text(OS, F.Buffer);
    OS << "</td><td>";
    text(OS, F.Reason);
    OS << "</td></tr>\n";
  }
  OS << "</tbody></table></section>\n";
}

void writePredicted(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<section id=\"predicted\"><h2>Predicted times (cost model)</h2>\n<p>";
  text(OS,
       "prefill " + ms(P.Predicted.PrefillSeconds) + " for " +
           std::to_string(P.Opts.PrefillTokens) + " tokens; decode " +
           ms(P.Predicted.DecodeSecondsPerStep) + " per step, " +
           llvm::formatv("{0:f1}", P.Predicted.DecodeTokensPerSecond).str() +
           " tokens/s");
  OS << "</p>\n<table class=\"num\"><thead><tr><th>device</th><th>prefill"
        "</th><th>decode</th></tr></thead><tbody>\n";
  for (const plan::Device &D : P.Devices) {
    OS << "<tr><td>";
    text(OS, deviceName(P, D.Index));
    OS << "</td><td>" << ms(D.PrefillSeconds) << "</td><td>"
       << ms(D.DecodeSeconds) << "</td></tr>\n";
  }
  OS << "</tbody></table>\n<h3>Schedule per program run</h3>\n"
        "<table class=\"num\"><thead><tr><th>program</th><th>steps</th>"
        "<th>copies</th><th>prefetches</th><th>collectives</th><th>events"
        "</th><th>waits</th></tr></thead><tbody>\n";
  for (const ProgramTraffic &T : computeTraffic(P)) {
    OS << "<tr><td>";
    text(OS, T.Program);
    OS << "</td><td>" << T.Steps << "</td><td>" << T.Copies << " ("
       << formatBytes(T.CopyBytes) << ")</td><td>" << T.Prefetches << " ("
       << formatBytes(T.PrefetchBytes) << ")</td><td>" << T.Collectives << " ("
       << formatBytes(T.CollectiveBytes) << ")</td><td>" << T.Events
       << "</td><td>" << T.Waits << "</td></tr>\n";
  }
  OS << "</tbody></table></section>\n";
}

void writeTensorFrame(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<section id=\"tensors\"><h2>Buffers</h2>\n"
        "<p><input id=\"filter\" type=\"search\" size=\"40\" "
        "placeholder=\"filter: name, kind, device, dtype...\"> "
        "<button id=\"prev\">&lt; previous</button> <button id=\"next\">next "
        "&gt;</button> <span id=\"count\">"
     << P.Buffers.size()
     << " buffers</span></p>\n"
        "<table id=\"tensor-table\"><thead><tr><th>#</th><th>name</th><th>"
        "kind</th><th>bytes</th><th>dtype</th><th>shape</th><th>location</th>"
        "<th>layer</th><th>region + offset</th><th>live</th><th>placed by</th>"
        "</tr></thead><tbody></tbody></table></section>\n";
}

/// Interns the small set of repeated strings (kinds, dtypes, shapes...).
class StringTable {
public:
  unsigned get(llvm::StringRef S) {
    auto [It, New] = Index.try_emplace(S, Strings.size());
    if (New)
      Strings.push_back(S.str());
    return It->second;
  }
  const std::vector<std::string> &strings() const { return Strings; }

private:
  llvm::StringMap<unsigned> Index;
  std::vector<std::string> Strings;
};

std::string shapeText(const std::vector<int64_t> &Shape) {
  std::string S;
  for (size_t I = 0; I < Shape.size(); ++I)
    S += (I ? "x" : "") + std::to_string(Shape[I]);
  return S.empty() ? "scalar" : S;
}

template <typename F>
void column(llvm::raw_ostream &OS, llvm::StringRef Name, size_t N, F Value) {
  OS << ",\n\"" << Name << "\":[";
  for (size_t I = 0; I < N; ++I) {
    if (I)
      OS << ',';
    Value(I);
  }
  OS << ']';
}

void writeData(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<script type=\"application/json\" id=\"plan-data\">{\"devices\":[";
  for (const plan::Device &D : P.Devices) {
    OS << (D.Index ? ",\n" : "") << "{\"name\":";
    writeJSONString(OS, deviceName(P, D.Index));
    OS << ",\"label\":";
    writeJSONString(OS, D.Name);
    OS << ",\"capacity\":" << D.CapacityBytes << ",\"arenas\":{";
    for (size_t A = 0; A < D.Arenas.size(); ++A) {
      OS << (A ? "," : "");
      writeJSONString(OS, D.Arenas[A].Program);
      OS << ':' << D.Arenas[A].Bytes;
    }
    OS << "}}";
  }
  OS << "],\n\"programs\":[";
  for (size_t G = 0; G < P.Programs.size(); ++G) {
    OS << (G ? "," : "") << "{\"name\":";
    writeJSONString(OS, P.Programs[G].Name);
    OS << ",\"steps\":" << P.Programs[G].Steps.size() << "}";
  }
  OS << "],\n\"buffers\":{\"name\":[";
  size_t N = P.Buffers.size();
  for (size_t I = 0; I < N; ++I) {
    if (I)
      OS << ',';
    writeJSONString(OS, P.Buffers[I].Name);
  }
  OS << ']';
  StringTable Strings;
  auto Str = [&](llvm::StringRef S) { OS << Strings.get(S); };
  std::map<std::string, int> ProgramIndex;
  for (size_t G = 0; G < P.Programs.size(); ++G)
    ProgramIndex.emplace(P.Programs[G].Name, static_cast<int>(G));
  const std::vector<plan::Buffer> &B = P.Buffers;
  column(OS, "kind", N, [&](size_t I) { Str(plan::getKindName(B[I].Kind)); });
  column(OS, "bytes", N, [&](size_t I) { OS << B[I].Bytes; });
  column(OS, "dtype", N, [&](size_t I) { Str(B[I].DType); });
  column(OS, "shape", N, [&](size_t I) { Str(shapeText(B[I].Shape)); });
  column(OS, "loc", N, [&](size_t I) {
    switch (B[I].Where.Where) {
    case plan::Location::Kind::Device:
      OS << B[I].Where.Device;
      break;
    case plan::Location::Kind::Host:
      OS << -1;
      break;
    case plan::Location::Kind::Disk:
      OS << -2;
      break;
    }
  });
  column(OS, "layer", N, [&](size_t I) { OS << B[I].Layer.value_or(-1); });
  column(OS, "placed", N, [&](size_t I) { Str(B[I].PlacedBy); });
  column(OS, "region", N, [&](size_t I) {
    if (B[I].Region == plan::RegionKind::None)
      OS << -1;
    else
      Str(plan::getKindName(B[I].Region));
  });
  column(OS, "offset", N, [&](size_t I) { OS << B[I].Offset; });
  column(OS, "program", N, [&](size_t I) {
    auto It = ProgramIndex.find(B[I].Program);
    OS << (It == ProgramIndex.end() ? -1 : It->second);
  });
  column(OS, "first", N, [&](size_t I) {
    OS << (B[I].Live ? static_cast<int64_t>(B[I].Live->First) : -1);
  });
  column(OS, "last", N, [&](size_t I) {
    OS << (B[I].Live ? static_cast<int64_t>(B[I].Live->Last) : -1);
  });
  column(OS, "view", N, [&](size_t I) {
    OS << (B[I].ViewOf ? static_cast<int64_t>(*B[I].ViewOf) : -1);
  });
  OS << "},\n\"strings\":[";
  for (size_t I = 0; I < Strings.strings().size(); ++I) {
    OS << (I ? "," : "");
    writeJSONString(OS, Strings.strings()[I]);
  }
  OS << "]}</script>\n";
}

} // namespace

void writeHtmlReport(llvm::raw_ostream &OS, const plan::Plan &P) {
  OS << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\">"
        "<title>Strata plan: ";
  text(OS, P.Model.Name + " on " + P.ClusterSpec);
  OS << "</title>\n<style>" << HtmlReportStyle << "</style></head>\n<body>\n";
  writeHeader(OS, P);
  OS << "<nav><a href=\"#memory\">memory</a> <a href=\"#layers\">layers</a> "
        "<a href=\"#kv\">KV cache</a> <a href=\"#timeline\">arena "
        "timeline</a> <a href=\"#fallbacks\">fallbacks</a> <a "
        "href=\"#predicted\">predicted</a> <a href=\"#tensors\">buffers</a> "
        "<span id=\"status\">(the script has not run)</span></nav>\n";
  Summary Sum = summarise(P);
  writeMemoryBars(OS, P);
  writeLayerStrip(OS, P, Sum);
  writeKVDistribution(OS, Sum);
  writeTimelineFrame(OS);
  writeFallbacks(OS, P);
  writePredicted(OS, P);
  writeTensorFrame(OS, P);
  writeData(OS, P);
  OS << "<script>" << HtmlReportScript << "</script>\n</body></html>\n";
}

} // namespace strata::viz
