//===- VizCommand.cpp - strata viz: render a plan for people --------------===//
//
// Reads a plan file and renders it as the compile report's text tables, a
// Graphviz graph of one program, a self-contained HTML report, or the
// predicted schedule as Chrome trace events (docs/visualisation.md). It
// reads the plan only: no model, no cluster, no pass runs.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "OutputFile.h"

#include "ir/plan/Plan.h"
#include "tools/strata/viz/ChromeTrace.h"
#include "tools/strata/viz/DotGraph.h"
#include "tools/strata/viz/HtmlReport.h"
#include "tools/strata/viz/PredictedTimeline.h"
#include "tools/strata/viz/TextReport.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand VizCmd("viz", "Render a plan as text tables, a Graphviz "
                             "graph, an HTML report or a trace");

cl::opt<std::string> PlanPath(cl::Positional, cl::Required,
                              cl::desc("<plan.json>"), cl::sub(VizCmd),
                              cl::cat(getStrataCategory()));
cl::opt<std::string> Format(
    "format",
    cl::desc("text (the compile report's tables), dot (Graphviz), html (a "
             "self-contained report) or trace (Chrome trace events of the "
             "predicted schedule)"),
    cl::value_desc("format"), cl::init("text"), cl::sub(VizCmd),
    cl::cat(getStrataCategory()));
cl::opt<std::string> OutputPath("o",
                                cl::desc("Write to this file (default: "
                                         "stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(VizCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> Program(
    "program",
    cl::desc("The program to draw (dot: default decode) or trace (default: "
             "every program, one after the other)"),
    cl::value_desc("prefill|decode"), cl::sub(VizCmd),
    cl::cat(getStrataCategory()));
cl::opt<bool> Expand("expand",
                     cl::desc("dot: one node per step even for large "
                              "programs"),
                     cl::sub(VizCmd), cl::cat(getStrataCategory()));
cl::opt<unsigned> CollapseAbove(
    "collapse-above",
    cl::desc("dot: programs of more steps than this are drawn with one node "
             "per layer and device (default 400)"),
    cl::init(400), cl::sub(VizCmd), cl::cat(getStrataCategory()));

constexpr CommandErrors Errors("strata viz");

std::string programNames(const plan::Plan &P) {
  std::vector<std::string> Names;
  for (const plan::ProgramSchedule &S : P.Programs)
    Names.push_back(S.Name);
  return Names.empty() ? "none" : llvm::join(Names, ", ");
}

int runViz() {
  if (Format != "text" && Format != "dot" && Format != "html" &&
      Format != "trace")
    return Errors.usage("--format=" + Format +
                        ": expected text, dot, html or trace");
  if (Program.getNumOccurrences() && Format != "dot" && Format != "trace")
    return Errors.usage(
        "--program applies to --format=dot and --format=trace only");
  if (Expand && Format != "dot")
    return Errors.usage("--expand applies to --format=dot only");

  auto Text = llvm::MemoryBuffer::getFile(PlanPath);
  if (!Text)
    return Errors.fail(PlanPath + ": " + Text.getError().message());
  auto Plan = plan::parsePlan((*Text)->getBuffer(), PlanPath);
  if (!Plan)
    return Errors.fail(llvm::toString(Plan.takeError()));

  // The program named must exist before any output is opened.
  std::vector<uint32_t> Programs;
  for (uint32_t G = 0; G < Plan->Programs.size(); ++G)
    if (Program.empty() || Plan->Programs[G].Name == Program)
      Programs.push_back(G);
  std::string DotProgram = Program.empty() ? "decode" : Program.getValue();
  if ((Format == "trace" && !Program.empty() && Programs.empty()) ||
      (Format == "dot" && !Plan->findProgram(DotProgram)))
    return Errors.usage(
        "--program=" + (Format == "dot" ? DotProgram : Program) + ": " +
        PlanPath + " has no such program (it has " + programNames(*Plan) + ")");

  llvm::Error E =
      writeOutputFile(OutputPath, [&](llvm::raw_ostream &OS) -> llvm::Error {
        if (Format == "text") {
          viz::printTextReport(OS, *Plan, PlanPath);
          return llvm::Error::success();
        }
        if (Format == "dot") {
          viz::DotOptions Opts;
          Opts.Program = DotProgram;
          Opts.Expand = Expand;
          Opts.CollapseAbove = CollapseAbove;
          return viz::writeDotGraph(OS, *Plan, Opts);
        }
        if (Format == "html") {
          viz::writeHtmlReport(OS, *Plan);
          return llvm::Error::success();
        }
        viz::writeChromeTrace(OS, *Plan, viz::predictTimeline(*Plan, Programs),
                              "predicted");
        return llvm::Error::success();
      });
  if (E)
    return Errors.fail(llvm::toString(std::move(E)));
  return ExitSuccess;
}

} // namespace

Command getVizCommand() { return {&VizCmd, &runViz}; }

} // namespace strata::tool
