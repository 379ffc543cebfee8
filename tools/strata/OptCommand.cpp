//===- OptCommand.cpp - strata opt: parse, transform, print ---------------===//
//
// Like LLVM's `opt`: reads a .sir graph, verifies it, runs --passes and
// prints the result. It is the driver of the lit tests.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "DetectCluster.h"
#include "OutputFile.h"

#include "ir/Verifier.h"
#include "ir/cluster/Cluster.h"
#include "ir/text/Parser.h"
#include "ir/text/Printer.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include "spdlog/spdlog.h"

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand OptCmd("opt", "Parse a .sir graph, verify it, run passes on "
                             "it and print it");

cl::opt<std::string> InputFile(cl::Positional, cl::desc("<input.sir | ->"),
                               cl::init("-"), cl::sub(OptCmd),
                               cl::cat(getStrataCategory()));
cl::opt<std::string> OutputPath("o",
                                cl::desc("Write the graph to this file "
                                         "(default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> PassPipeline(
    "passes", cl::desc("Passes to run, in order: a,b{key=value},c"),
    cl::value_desc("pipeline"), cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> ClusterSpec(
    "cluster",
    cl::desc("The cluster placement passes plan for (as strata compile "
             "takes it, e.g. cpu:2x64MiB or 2xH100-80GB)"),
    cl::value_desc("spec"), cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> ListPasses("list-passes",
                         cl::desc("List the passes and their options"),
                         cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> PrintBeforeAll("print-before-all",
                             cl::desc("Print the graph to stderr before "
                                      "each pass"),
                             cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> PrintAfterAll("print-after-all",
                            cl::desc("Print the graph to stderr after each "
                                     "pass"),
                            cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> VerifyEach("verify-each",
                         cl::desc("Verify the graph after each pass (default: "
                                  "on in debug builds)"),
                         cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> NoVerify("no-verify",
                       cl::desc("Do not verify the graph after parsing"),
                       cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> Stats("stats", cl::desc("Print the passes' statistics to stderr"),
                    cl::sub(OptCmd), cl::cat(getStrataCategory()));
cl::opt<bool> SplitInputFile(
    "split-input-file",
    cl::desc("Treat each '// -----' separated chunk as its own file; the "
             "outputs are separated the same way"),
    cl::sub(OptCmd), cl::cat(getStrataCategory()));

constexpr llvm::StringLiteral SplitMarker = "// -----";

void printPassList(llvm::raw_ostream &OS) {
  OS << "Passes:\n";
  for (const passes::PassInfo &Info : passes::allPasses()) {
    OS << "  " << Info.Name << "\n      " << Info.Summary << '\n';
    if (!Info.Options.empty())
      OS << "      option: " << Info.Options << '\n';
  }
}

/// Prints the verifier's diagnostics, each with its line and a caret.
void printDiagnostics(llvm::SourceMgr &SM, unsigned BufferId,
                      llvm::ArrayRef<ir::Diagnostic> Diags) {
  for (const ir::Diagnostic &D : Diags) {
    llvm::SMLoc Loc;
    if (D.Loc.isValid())
      Loc = SM.FindLocForLineAndColumn(BufferId, D.Loc.Line, D.Loc.Col);
    SM.PrintMessage(llvm::errs(), Loc, llvm::SourceMgr::DK_Error, D.Message);
  }
}

constexpr CommandErrors Errors("strata opt");

/// Parses, verifies and transforms one buffer; returns the printed graph,
/// or an empty optional after printing why not.
std::optional<std::string> processBuffer(llvm::SourceMgr &SM, unsigned BufferId,
                                         const cluster::Cluster *Cluster) {
  auto G = ir::text::parseGraph(SM, BufferId);
  if (!G) {
    llvm::errs() << llvm::toString(G.takeError()) << '\n';
    return std::nullopt;
  }
  if (!NoVerify) {
    std::vector<ir::Diagnostic> Diags = ir::verifyGraph(*G);
    if (!Diags.empty()) {
      printDiagnostics(SM, BufferId, Diags);
      return std::nullopt;
    }
  }

  passes::PassManager PM;
  if (!PassPipeline.empty()) {
    auto Passes = passes::parsePassPipeline(PassPipeline);
    if (!Passes) {
      Errors.fail(llvm::toString(Passes.takeError()));
      return std::nullopt;
    }
    PM.addPasses(std::move(*Passes));
  }
  if (VerifyEach)
    PM.setVerifyEach(true);
  if (PrintBeforeAll)
    PM.setBeforePass([](const passes::Pass &P, const ir::Graph &G) {
      llvm::errs() << "// *** graph before pass '" << P.getName() << "' ***\n";
      ir::text::printGraph(G, llvm::errs());
    });
  if (PrintAfterAll)
    PM.setAfterPass([](const passes::Pass &P, const ir::Graph &G) {
      llvm::errs() << "// *** graph after pass '" << P.getName() << "' ***\n";
      ir::text::printGraph(G, llvm::errs());
    });

  passes::PassContext Ctx(Cluster);
  if (llvm::Error E = PM.run(*G, Ctx)) {
    llvm::errs() << llvm::toString(std::move(E)) << '\n';
    return std::nullopt;
  }
  spdlog::info("{}: {} values, {} ops, {} programs, {} passes run",
               G->getSourceName(), G->numValues(), G->numOps(),
               G->programs().size(), PM.size());
  if (Stats)
    for (const passes::Statistic &S : Ctx.statistics())
      llvm::errs() << "stat: " << S.Pass << '.' << S.Name << " = " << S.Value
                   << '\n';
  for (const passes::FallbackRecord &F : Ctx.fallbacks())
    llvm::errs() << "fallback " << plan::getKindName(F.Kind) << " " << F.Tensor
                 << ": " << F.Reason << '\n';
  return ir::text::printGraphToString(*G);
}

/// Splits Text at lines that are exactly the split marker. Each chunk keeps
/// the lines before it as empty lines, so that its line numbers are those
/// of the whole file.
std::vector<std::string> splitInput(llvm::StringRef Text) {
  std::vector<std::string> Chunks;
  std::string Current;
  unsigned Line = 0, ChunkStartLine = 0;
  while (!Text.empty()) {
    auto [L, Rest] = Text.split('\n');
    Text = Rest;
    ++Line;
    if (L.rtrim() == SplitMarker) {
      Chunks.push_back(std::move(Current));
      ChunkStartLine = Line;
      Current.assign(ChunkStartLine, '\n');
      continue;
    }
    Current += L;
    Current += '\n';
  }
  Chunks.push_back(std::move(Current));
  return Chunks;
}

int runOpt() {
  if (ListPasses) {
    printPassList(llvm::outs());
    return ExitSuccess;
  }
  auto Buffer = llvm::MemoryBuffer::getFileOrSTDIN(InputFile);
  if (!Buffer)
    return Errors.fail("cannot read '" + InputFile +
                       "': " + Buffer.getError().message());
  std::string Name = InputFile == "-" ? "<stdin>" : InputFile.getValue();
  std::vector<std::string> Chunks;
  if (SplitInputFile)
    Chunks = splitInput((*Buffer)->getBuffer());
  else
    Chunks.push_back((*Buffer)->getBuffer().str());

  std::optional<cluster::Cluster> Cluster;
  if (!ClusterSpec.empty()) {
    auto C = makeCluster(ClusterSpec);
    if (!C)
      return Errors.fail(llvm::toString(C.takeError()));
    Cluster = std::move(*C);
  }
  bool Failed = false;
  std::string Output;
  for (size_t I = 0; I < Chunks.size(); ++I) {
    const std::string &Chunk = Chunks[I];
    llvm::SourceMgr SM;
    unsigned Id = SM.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(Chunk, Name), llvm::SMLoc());
    std::optional<std::string> Printed =
        processBuffer(SM, Id, Cluster ? &*Cluster : nullptr);
    if (I)
      Output += std::string(SplitMarker) + "\n";
    if (Printed)
      Output += *Printed;
    else
      Failed = true;
  }
  // A failure writes no output file at all; stdout still gets the chunks
  // that succeeded, which split-input tests check.
  if (Failed && OutputPath != "-")
    return ExitFailure;
  if (llvm::Error E = writeOutputFile(OutputPath, [&](llvm::raw_ostream &OS) {
        OS << Output;
        return llvm::Error::success();
      }))
    return Errors.fail(llvm::toString(std::move(E)));
  return Failed ? ExitFailure : ExitSuccess;
}

} // namespace

Command getOptCommand() { return {&OptCmd, &runOpt}; }

} // namespace strata::tool
