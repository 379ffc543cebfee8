//===- PlanSummary.cpp - What a plan puts where, per location -------------===//

#include "tools/strata/viz/PlanSummary.h"

#include <cstdint>

namespace strata::viz {

std::string locationName(const plan::Plan &P, const plan::Location &L) {
  switch (L.Where) {
  case plan::Location::Kind::Host:
    return "host";
  case plan::Location::Kind::Disk:
    return "disk";
  case plan::Location::Kind::Device:
    return deviceName(P, L.Device);
  }
  return "?";
}

std::string deviceName(const plan::Plan &P, unsigned D) {
  return (P.Devices[D].Kind == plan::DeviceKind::GPU ? "cuda:" : "cpu:") +
         std::to_string(D);
}

static std::pair<uint64_t, std::string> rank(const std::string &L) {
  size_t Colon = L.find(':');
  if (Colon == std::string::npos)
    return {UINT64_MAX, L}; // "disk" sorts after "host"
  return {std::stoull(L.substr(Colon + 1)), L};
}

bool LocationOrder::operator()(const std::string &A,
                               const std::string &B) const {
  return rank(A) < rank(B);
}

Summary summarise(const plan::Plan &P) {
  Summary Out;
  for (const plan::Buffer &B : P.Buffers) {
    LocationSummary &S = Out[locationName(P, B.Where)];
    if (B.Kind != plan::BufferKind::Weight &&
        B.Kind != plan::BufferKind::KVCache)
      continue; // activations and staging are the arena's
    if (B.Kind == plan::BufferKind::KVCache) {
      ++S.KVBuffers;
      S.KVBytes += B.Bytes;
      if (B.Layer)
        S.KVLayers.insert(*B.Layer);
    } else {
      ++S.Tensors;
      S.WeightBytes += B.Bytes;
      if (B.Layer)
        S.Layers.insert(*B.Layer);
    }
  }
  return Out;
}

uint64_t freeBytes(const plan::Device &D) {
  uint64_t Used = D.WeightBytes + D.KVCacheBytes + D.ActivationBytes +
                  D.WorkspaceBytes + D.ReserveBytes;
  return D.CapacityBytes > Used ? D.CapacityBytes - Used : 0;
}

std::string formatRanges(const std::set<int64_t> &Ls) {
  std::string Out;
  for (auto It = Ls.begin(); It != Ls.end();) {
    int64_t First = *It, Last = *It;
    while (++It != Ls.end() && *It == Last + 1)
      Last = *It;
    Out += (Out.empty() ? "" : ", ") +
           (First == Last ? std::to_string(First)
                          : std::to_string(First) + "-" + std::to_string(Last));
  }
  return Out;
}

} // namespace strata::viz
