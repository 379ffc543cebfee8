//===- DotGraph.h - One program's schedule as a Graphviz graph --*- C++ -*-===//
//
// The graph of one program: a node per step, filled with its device's
// colour; copies and prefetches as their own (tab-shaped) nodes, each
// collective as one hexagon over its members, each event as a diamond
// between the step that records it and the steps that wait for it (dashed
// red edges); solid edges follow the data. The steps of a layer sit in a
// "cluster_layer<N>" subgraph. A program of more steps than
// DotOptions::CollapseAbove collapses to one node per layer and device
// (copies, collectives and events stay their own nodes) unless Expand.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_DOTGRAPH_H
#define STRATA_TOOLS_VIZ_DOTGRAPH_H

#include "llvm/Support/Error.h"

#include <cstddef>
#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::plan {
struct Plan;
} // namespace strata::plan

namespace strata::viz {

struct DotOptions {
  std::string Program = "decode";
  /// Draw every step even when the program has more than CollapseAbove.
  bool Expand = false;
  size_t CollapseAbove = 400;
};

/// Fails, writing nothing, when the plan has no such program.
llvm::Error writeDotGraph(llvm::raw_ostream &OS, const plan::Plan &P,
                          const DotOptions &Opts);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_DOTGRAPH_H
