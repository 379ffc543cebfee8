//===- ModelStats.cpp - The memory picture of a lowered model -------------===//

#include "ir/import/ModelStats.h"

#include "ir/Liveness.h"
#include "ir/WeightRole.h"

#include <map>

namespace strata::import {

llvm::Expected<ModelStats> computeWeightStats(const ir::Graph &G) {
  ModelStats S;
  std::map<std::string, WeightGroup> Roles;
  std::map<int64_t, LayerStats> Layers;
  for (ir::ValueId V : G.sharedValues()) {
    const ir::Value &Val = G.getValue(V);
    auto Bytes = Val.Type.getByteSize();
    if (!Bytes)
      return Bytes.takeError();
    std::optional<int64_t> Layer = Val.Attrs.getInt(ir::AttrKeys::Layer);
    if (Val.Kind == ir::ValueKind::KVCache) {
      S.KVCacheBytes += *Bytes;
      if (Layer) {
        Layers[*Layer].Layer = *Layer;
        Layers[*Layer].KVCacheBytes += *Bytes;
      }
      continue;
    }
    uint64_t Params = Val.Type.Dims.numElements();
    ++S.Tensors;
    S.Parameters += Params;
    S.WeightBytes += *Bytes;
    std::optional<ir::WeightRole> Known = ir::getWeightRole(Val.Attrs);
    std::string Role = Known ? ir::getWeightRoleFamily(*Known).str() : "other";
    WeightGroup &R = Roles[Role];
    R.Name = Role;
    ++R.Tensors;
    R.Parameters += Params;
    R.Bytes += *Bytes;
    if (Layer) {
      LayerStats &LS = Layers[*Layer];
      LS.Layer = *Layer;
      ++LS.Tensors;
      LS.Parameters += Params;
      LS.WeightBytes += *Bytes;
    } else {
      ++S.OutsideLayers.Tensors;
      S.OutsideLayers.Parameters += Params;
      S.OutsideLayers.Bytes += *Bytes;
    }
  }
  S.OutsideLayers.Name = "outside layers";
  for (auto &[Name, R] : Roles)
    S.ByRole.push_back(R);
  for (auto &[Layer, L] : Layers)
    S.Layers.push_back(L);

  return S;
}

llvm::Expected<ModelStats> computeModelStats(const ir::Graph &G) {
  auto Weights = computeWeightStats(G);
  if (!Weights)
    return Weights.takeError();
  ModelStats S = std::move(*Weights);
  for (ir::ProgramId P = 0; P < G.programs().size(); ++P) {
    const ir::Program &Prog = G.getProgram(P);
    auto Live = ir::computeLiveness(G, P);
    if (!Live)
      return Live.takeError();
    ProgramStats PS;
    PS.Name = Prog.Name;
    PS.Ops = Prog.Body.size();
    PS.ActivationPeakBytes = Live->PeakBytes;
    if (!Prog.Inputs.empty() &&
        G.getValue(Prog.Inputs.front()).Type.Dims.rank() == 2)
      PS.Tokens = G.getValue(Prog.Inputs.front()).Type.Dims[1];
    S.Programs.push_back(std::move(PS));
  }
  return S;
}

} // namespace strata::import
