//===- PlanStructure.h - The plan format's own rules ------------*- C++ -*-===//
//
// The rules of the plan format that no single field shows: every index
// names something that exists, devices are listed in index order, no buffer
// or program is there twice, a shard lies inside its own shape, names are
// UTF-8. The plan reader applies them to every plan it reads, and the plan
// verifier to every plan it is given, so that a plan compiled in memory is
// held to everything reading its file would check.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_PLAN_PLANSTRUCTURE_H
#define STRATA_IR_PLAN_PLANSTRUCTURE_H

#include "ir/plan/Plan.h"

#include <optional>
#include <string>

namespace strata::plan {

/// A broken rule: where, as the file names it ("buffers[3].view_of"), and
/// what is wrong there.
struct StructureProblem {
  std::string Path;
  std::string Message;
};

/// The first broken rule, in file order, or none.
std::optional<StructureProblem> findStructureProblem(const Plan &P);

} // namespace strata::plan

#endif // STRATA_IR_PLAN_PLANSTRUCTURE_H
