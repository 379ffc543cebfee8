//===- PlanSummary.h - What a plan puts where, per location -----*- C++ -*-===//
//
// The per-location view of a plan that every report shows: weights, layers
// and KV cache per device (and on the host or disk), and each device's free
// memory. Derived from the plan alone, so that `strata compile`, `strata
// viz` and the HTML report print the same numbers.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_VIZ_PLANSUMMARY_H
#define STRATA_TOOLS_VIZ_PLANSUMMARY_H

#include "ir/plan/Plan.h"

#include <map>
#include <set>
#include <string>

namespace strata::viz {

/// "cuda:3", "cpu:0", "host" or "disk".
std::string locationName(const plan::Plan &P, const plan::Location &L);
/// locationName of device D.
std::string deviceName(const plan::Plan &P, unsigned D);

struct LocationSummary {
  uint64_t Tensors = 0, WeightBytes = 0, KVBuffers = 0, KVBytes = 0;
  std::set<int64_t> Layers;
  std::set<int64_t> KVLayers;
};

/// Locations in device order, then host, then disk.
struct LocationOrder {
  bool operator()(const std::string &A, const std::string &B) const;
};
using Summary = std::map<std::string, LocationSummary, LocationOrder>;

/// Weights and KV caches per location; every location that holds any
/// buffer has an entry (activations and staging count as the arena's).
Summary summarise(const plan::Plan &P);

/// Capacity left once weights, KV cache, arena, workspace and reserve are
/// taken (0 if they do not fit).
uint64_t freeBytes(const plan::Device &D);

/// "0-9, 12" from a set of layer numbers; "" for none.
std::string formatRanges(const std::set<int64_t> &Layers);

} // namespace strata::viz

#endif // STRATA_TOOLS_VIZ_PLANSUMMARY_H
