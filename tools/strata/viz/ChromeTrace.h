//===- ChromeTrace.h - Step times as Chrome trace events --------*- C++ -*-===//
//
// Writes timed steps of a plan's programs in the Trace Event Format that
// chrome://tracing and Perfetto open: one process per device, one thread
// per stream (named by metadata events), a complete ("X") event per step,
// and a flow arrow from each step that records an event to each step that
// waits for it. The same writer serves the predicted schedule (`strata viz
// --format trace`) and the measured one (`strata run --trace`).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_CHROMETRACE_H
#define STRATA_TOOLS_VIZ_CHROMETRACE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::plan {
struct Plan;
} // namespace strata::plan

namespace strata::viz {

/// One run of one step, in nanoseconds from the start of the trace.
struct TimedStep {
  uint32_t Program = 0; ///< Index into Plan::Programs.
  uint32_t Step = 0;    ///< Index into that program's steps.
  uint32_t Run = 0;     ///< Which run of the program (0: the first).
  int64_t StartNs = 0;
  int64_t DurationNs = 0;
};

/// Writes {"traceEvents": [...], "displayTimeUnit": "ms", "otherData":
/// {...}}; Source ("predicted", "measured") is recorded in otherData. Every
/// TimedStep must name a step of P. Events of one stream must not overlap
/// for the trace to read well; the writer does not reorder time.
void writeChromeTrace(llvm::raw_ostream &OS, const plan::Plan &P,
                      llvm::ArrayRef<TimedStep> Steps, llvm::StringRef Source);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_CHROMETRACE_H
