//===- TextReport.h - A plan's report as terminal tables --------*- C++ -*-===//
//
// The report `strata compile` prints after placing a model, and `strata viz
// --format text` prints from a plan file: the model and cluster, weights
// per device, the layer-to-device map, the KV-cache distribution, memory per
// device, fallbacks, predicted times, then the arena and schedule summary.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_TEXTREPORT_H
#define STRATA_TOOLS_VIZ_TEXTREPORT_H

#include "llvm/ADT/StringRef.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::plan {
struct Plan;
} // namespace strata::plan

namespace strata::viz {

/// Prints the report; PlanPath, when not empty, is named as the plan's file.
void printTextReport(llvm::raw_ostream &OS, const plan::Plan &P,
                     llvm::StringRef PlanPath);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_TEXTREPORT_H
