//===- VerifyCommand.cpp - strata verify: prove a plan safe to run --------===//
//
// Reads a plan file and runs the plan verifier on it: every buffer placed,
// no two live buffers sharing bytes, every device within capacity, every
// cross-stream use ordered by a wait. Prints what the plan's memory and
// schedule cost, or every problem found.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "ir/plan/Plan.h"
#include "ir/plan/PlanVerifier.h"
#include "tools/strata/viz/ScheduleReport.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand VerifyCmd("verify", "Check that a plan is safe to run");

cl::opt<std::string> PlanPath(cl::Positional, cl::Required,
                              cl::desc("<plan.json>"), cl::sub(VerifyCmd),
                              cl::cat(getStrataCategory()));
cl::opt<bool> Quiet("quiet", cl::desc("Print nothing when the plan is safe"),
                    cl::sub(VerifyCmd), cl::cat(getStrataCategory()));
cl::opt<bool> PrintSteps("print-steps",
                         cl::desc("Also print every step of every program"),
                         cl::sub(VerifyCmd), cl::cat(getStrataCategory()));
cl::opt<bool> JSON("json", cl::desc("Print the report as JSON"),
                   cl::sub(VerifyCmd), cl::cat(getStrataCategory()));

constexpr CommandErrors Errors("strata verify");

int runVerify() {
  auto Text = llvm::MemoryBuffer::getFileOrSTDIN(PlanPath);
  if (!Text)
    return Errors.fail(PlanPath + ": " + Text.getError().message());
  auto Plan = plan::parsePlan((*Text)->getBuffer(), PlanPath);
  if (!Plan)
    return Errors.fail(llvm::toString(Plan.takeError()));
  if (llvm::Error E = plan::verifyPlan(*Plan))
    return Errors.fail(PlanPath + ": " + llvm::toString(std::move(E)));
  if (Quiet)
    return ExitSuccess;
  if (JSON) {
    llvm::outs() << llvm::formatv("{0:2}", viz::scheduleReportToJSON(*Plan))
                 << "\n";
    return ExitSuccess;
  }
  llvm::outs() << PlanPath << ": the plan is safe to run ("
               << Plan->Buffers.size() << " buffers, " << Plan->Programs.size()
               << " programs)\n\n";
  viz::printScheduleReport(llvm::outs(), *Plan);
  if (PrintSteps) {
    llvm::outs() << "\n";
    viz::printSteps(llvm::outs(), *Plan);
  }
  return ExitSuccess;
}

} // namespace

Command getVerifyCommand() { return {&VerifyCmd, &runVerify}; }

} // namespace strata::tool
