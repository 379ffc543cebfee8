//===- VerifyPlacement.cpp - Every tensor has a home, every device fits ---===//
//
// Checks, independently of how placement decided: every weight and KV cache
// has exactly one location (a device, a split over distinct devices,
// host or disk); every device index exists; a KV cache split by head splits
// a whole number of heads per device; the caches one attention reads are
// placed together; and every device's weights, caches,
// activation estimate and reserve fit its capacity. When something does not
// fit, the message says per device what is needed and what is available,
// and what would make it fit.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/Placement.h"

#include "ir/Units.h"
#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"

#include <set>

namespace strata::passes {
namespace {

class VerifyPlacementPass : public Pass {
public:
  explicit VerifyPlacementPass(bool OffloadAllowed)
      : OffloadAllowed(OffloadAllowed) {}
  llvm::StringRef getName() const override { return "verify-placement"; }

  bool preservesStructure() const override { return true; }
  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto Cl = Ctx.getCluster(getName());
    if (!Cl)
      return Cl.takeError();
    const cluster::Cluster &C = **Cl;
    std::vector<std::string> Problems;
    for (ir::ValueId V : G.sharedValues()) {
      const ir::Value &Val = G.getValue(V);
      Placement P = getPlacement(Val.Attrs);
      const char *What =
          Val.Kind == ir::ValueKind::KVCache ? "KV cache" : "weight";
      if (P.Where == Placement::Kind::None) {
        Problems.push_back(
            llvm::formatv("{0} '{1}' has no location", What, Val.Name));
        continue;
      }
      if (Val.Kind == ir::ValueKind::KVCache &&
          P.Where != Placement::Kind::Devices) {
        Problems.push_back(llvm::formatv(
            "KV cache '{0}' must live on a device, not off-device", Val.Name));
        continue;
      }
      std::set<unsigned> Seen;
      for (unsigned D : P.Devices) {
        if (D >= C.size())
          Problems.push_back(llvm::formatv(
              "{0} '{1}' is placed on device {2}, but the cluster has {3}",
              What, Val.Name, D, C.size()));
        if (!Seen.insert(D).second)
          Problems.push_back(llvm::formatv("{0} '{1}' lists device {2} twice",
                                           What, Val.Name, D));
      }
      if (Val.Kind == ir::ValueKind::KVCache && P.isSplit() &&
          (Val.Type.Dims.rank() != 4 ||
           Val.Type.Dims[2] % static_cast<int64_t>(P.Devices.size()) != 0))
        Problems.push_back(llvm::formatv(
            "KV cache '{0}' is split over {1} devices, which does not divide "
            "its {2} heads",
            Val.Name, P.Devices.size(),
            Val.Type.Dims.rank() == 4 ? Val.Type.Dims[2] : 1));
    }
    checkKVCacheGroups(G, C, Problems);
    if (!Problems.empty())
      return report(Problems);

    auto Live = Ctx.getLiveness(G);
    if (!Live)
      return Live.takeError();
    auto Loads =
        computeDeviceLoads(G, C.size(), **Live, Ctx.activationFloors());
    if (!Loads)
      return Loads.takeError();
    bool Over = false;
    std::string Table;
    for (size_t D = 0; D < C.size(); ++D) {
      const DeviceLoad &L = (*Loads)[D];
      const cluster::Device &Dev = C.Devices[D];
      uint64_t Need = L.total() + Dev.ReserveBytes;
      bool Fits = Need <= Dev.CapacityBytes;
      Over |= !Fits;
      Table += llvm::formatv(
          "  {0}: needs {1} (weights {2}, KV cache {3}, activations {4}, "
          "reserve {5}) of {6}{7}\n",
          deviceName(C, D), ir::formatBytes(Need), ir::formatBytes(L.Weights),
          ir::formatBytes(L.KVCache), ir::formatBytes(L.Activations),
          ir::formatBytes(Dev.ReserveBytes), ir::formatBytes(Dev.CapacityBytes),
          Fits ? ""
               : llvm::formatv(": over by {0}",
                               ir::formatBytes(Need - Dev.CapacityBytes))
                     .str());
    }
    if (Over)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "the model does not fit the cluster:\n" + Table +
              "to make it fit: add devices or larger ones, lower --context "
              "or --batch, or use a smaller --kv-dtype" +
              (!OffloadAllowed
                   ? ", or allow offloading weights to host memory and disk "
                     "(drop --no-offload)"
                   : ""));
    return llvm::Error::success();
  }

private:
  /// The caches one attention reads are placed alike: it runs where they
  /// are, and a cache is updated in place, so it is never copied.
  static void checkKVCacheGroups(const ir::Graph &G, const cluster::Cluster &C,
                                 std::vector<std::string> &Problems) {
    auto Where = [&](ir::ValueId V) {
      Placement P = getPlacement(G.getValue(V).Attrs);
      std::string S;
      for (unsigned D : P.Devices)
        S += (S.empty() ? "" : "+") +
             (D < C.size() ? deviceName(C, D) : std::to_string(D));
      return S;
    };
    for (const std::vector<ir::ValueId> &Group : findKVCacheGroups(G)) {
      std::string First = Where(Group[0]);
      for (ir::ValueId V : llvm::ArrayRef(Group).drop_front())
        if (Where(V) != First) {
          std::string Names;
          for (ir::ValueId M : Group)
            Names += (Names.empty() ? "" : ", ") +
                     llvm::formatv("'{0}' ({1})", G.getValue(M).Name, Where(M))
                         .str();
          Problems.push_back(llvm::formatv(
              "KV caches {0} are read by one attention and must be placed "
              "together: move them as one (--override with a regex that "
              "matches them all)",
              Names));
          break;
        }
    }
  }

  static llvm::Error report(const std::vector<std::string> &Problems) {
    std::string Msg;
    for (const std::string &P : Problems)
      Msg += (Msg.empty() ? "" : "\n") + P;
    return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
  }

  /// Whether place-fallbacks could offload: if not, the advice says so.
  bool OffloadAllowed;
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createVerifyPlacementPass(PassOptions &Opts) {
  auto Offload = Opts.takeBool("offload", true);
  if (!Offload)
    return Offload.takeError();
  return std::make_unique<VerifyPlacementPass>(*Offload);
}

} // namespace strata::passes
