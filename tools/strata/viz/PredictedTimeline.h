//===- PredictedTimeline.h - When each step would run, predicted -*- C++
//-*-===//
//
// Spreads the cost model's per-device predictions over a program's steps
// and replays the schedule to find when each step starts, so that the
// predicted schedule can be drawn as a trace. The model (docs/
// visualisation.md):
//  - a device's predicted time for the program (Device::PrefillSeconds or
//    DecodeSeconds) is shared among its compute-stream steps, collectives
//    included, in proportion to the bytes each touches (its distinct input
//    and output buffers); without a prediction, a step takes its bytes over
//    the device's memory bandwidth;
//  - a copy takes the link's latency plus its bytes over the link's
//    bandwidth (the pair's link, else the node's, else the one between
//    nodes, from the cluster description the plan carries); a prefetch
//    uses the device's host link, or the disk bandwidth;
//  - each stream runs its steps in order; a step starts once its stream is
//    free and every event it waits for is recorded; the members of a
//    collective start together, when the last is ready, and take as long as
//    the longest;
//  - programs run one after the other, each once, in the plan's order.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_PREDICTEDTIMELINE_H
#define STRATA_TOOLS_VIZ_PREDICTEDTIMELINE_H

#include "tools/strata/viz/ChromeTrace.h"

#include <vector>

namespace strata::viz {

/// The timed steps of Programs (indices into Plan::Programs), run in that
/// order from time 0.
std::vector<TimedStep> predictTimeline(const plan::Plan &P,
                                       llvm::ArrayRef<uint32_t> Programs);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_PREDICTEDTIMELINE_H
