//===- SyncPoints.h - Events and waits between streams ----------*- C++ -*-===//
//
// A step must not start before what it reads is written, and must not
// write memory another stream may still be reading or writing. On one
// stream, order gives both; across streams, the later step waits for an
// event the earlier one records. The rule for which waits are needed:
//
//   step S on stream Y depends on step W on stream X != Y when S reads a
//   buffer W wrote last, or when S first writes arena bytes whose previous
//   occupant W touched (its last access on X). The dependency needs a wait
//   unless Y already knows X passed W: through an earlier wait on Y, a
//   wait on a stream that knew it (transitively), or a collective that Y
//   and that stream both took part in. Vector clocks, one entry per stream,
//   track what each stream knows; a wait merges the waited step's clock.
//
// Collectives synchronise their members: no member finishes before each
// has started, so after it every member knows what every other member had
// done before it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_SCHEDULE_SYNCPOINTS_H
#define STRATA_PASSES_SCHEDULE_SYNCPOINTS_H

#include "ir/plan/Plan.h"

namespace strata::passes {

/// Sets Waits and Record on the steps of every program of P, and the
/// programs' event counts. Needs the memory plan (offsets, live ranges).
llvm::Error insertSyncPoints(plan::Plan &P);

} // namespace strata::passes

#endif // STRATA_PASSES_SCHEDULE_SYNCPOINTS_H
