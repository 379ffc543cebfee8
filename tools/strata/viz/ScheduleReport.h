//===- ScheduleReport.h - What the memory plan and schedule cost -*- C++
//-*-===//
//
// Per device and program: the arena against its lower bound, the copies
// and collectives each program run moves, and the sync points. Printed by
// strata compile, strata verify and strata viz, from the plan alone.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_SCHEDULEREPORT_H
#define STRATA_TOOLS_VIZ_SCHEDULEREPORT_H

#include "ir/plan/Plan.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::viz {

struct ProgramTraffic {
  std::string Program;
  uint64_t Steps = 0;
  uint64_t Copies = 0, CopyBytes = 0;
  uint64_t Prefetches = 0, PrefetchBytes = 0;
  uint64_t Collectives = 0, CollectiveBytes = 0; ///< Bytes per member.
  uint64_t Waits = 0, Events = 0;
};

std::vector<ProgramTraffic> computeTraffic(const plan::Plan &P);

void printScheduleReport(llvm::raw_ostream &OS, const plan::Plan &P);
/// Every step of every program, one per line: stream, op, buffers (with
/// device and offset), waits, event recorded, collective; then the cleanup
/// points. For reading a schedule and for lit tests.
void printSteps(llvm::raw_ostream &OS, const plan::Plan &P);
llvm::json::Value scheduleReportToJSON(const plan::Plan &P);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_SCHEDULEREPORT_H
