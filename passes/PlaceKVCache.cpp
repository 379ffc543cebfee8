//===- PlaceKVCache.cpp - A home for every layer's KV cache ---------------===//
//
//   with-layer  each cache lives with its layer: on its device, or split by
//               KV head over its tensor-parallel group (each member holds
//               the heads it computes)
//   by-head     each cache is split by KV head over the devices of its
//               layer's node, spreading KV memory evenly; attention then
//               runs per head group where its keys are
//
// When a split is impossible (a single KV head, as DeepSeek's latent cache)
// the cache stays with its layer and says why.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/Placement.h"

#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"

namespace strata::passes {
namespace {

class PlaceKVCachePass : public Pass {
public:
  explicit PlaceKVCachePass(std::string Strategy)
      : Strategy(std::move(Strategy)) {}
  llvm::StringRef getName() const override { return "place-kv"; }

  bool preservesStructure() const override { return true; }
  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto Cl = Ctx.getCluster(getName());
    if (!Cl)
      return Cl.takeError();
    const cluster::Cluster &C = **Cl;
    int64_t Placed = 0, Split = 0;
    for (ir::ValueId V : G.sharedValues()) {
      ir::Value &Cache = G.getValue(V);
      if (Cache.Kind != ir::ValueKind::KVCache)
        continue;
      Placement Layer = layerPlacement(G, Cache);
      if (Layer.Where != Placement::Kind::Devices)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "KV cache %" + Cache.Name +
                " belongs to a layer that place-layers has not placed");
      int64_t Heads = Cache.Type.Dims.rank() == 4 ? Cache.Type.Dims[2] : 1;
      Placement P = Layer;
      std::string By = Layer.isSplit()
                           ? "kv-with-layer: split by KV head with its layer's "
                             "tensor-parallel group"
                           : "kv-with-layer: on its layer's device";
      if (Strategy == "by-head" && !Layer.isSplit()) {
        std::vector<unsigned> Node;
        for (const cluster::Device &D : C.Devices)
          if (D.Node == C.Devices[Layer.Devices[0]].Node)
            Node.push_back(D.Index);
        size_t Count = Node.size();
        while (Count > 1 && Heads % static_cast<int64_t>(Count) != 0)
          --Count;
        if (Count > 1) {
          Node.resize(Count);
          P = onDevices(Node);
          By = llvm::formatv("kv-by-head: {0} KV heads split over {1} devices "
                             "of node {2}",
                             Heads, Count, C.Devices[Node[0]].Node)
                   .str();
        } else {
          By = llvm::formatv("kv-with-layer: by-head asked, but {0} KV "
                             "head(s) cannot be split over the node",
                             Heads)
                   .str();
        }
      }
      setPlacement(Cache.Attrs, P, By);
      Split += P.isSplit();
      ++Placed;
    }
    Ctx.addStatistic(getName(), "caches-placed", Placed);
    Ctx.addStatistic(getName(), "caches-split", Split);
    return llvm::Error::success();
  }

private:
  /// Where the cache's layer is: the placement of the op that appends to
  /// it, or else of any weight of the same layer.
  static Placement layerPlacement(const ir::Graph &G, const ir::Value &Cache) {
    for (ir::OpId U : Cache.Users) {
      Placement P = getPlacement(G.getOp(U).Attrs);
      if (P.Where == Placement::Kind::Devices)
        return P;
    }
    std::optional<int64_t> L = Cache.Attrs.getInt(ir::AttrKeys::Layer);
    for (ir::ValueId V : G.sharedValues()) {
      const ir::Value &W = G.getValue(V);
      if (W.Kind == ir::ValueKind::Weight && L &&
          W.Attrs.getInt(ir::AttrKeys::Layer) == L)
        return getPlacement(W.Attrs);
    }
    return {};
  }

  std::string Strategy;
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createPlaceKVCachePass(PassOptions &Opts) {
  auto S = Opts.takeChoice("strategy", {"with-layer", "by-head"}, "with-layer");
  if (!S)
    return S.takeError();
  return std::make_unique<PlaceKVCachePass>(*S);
}

} // namespace strata::passes
