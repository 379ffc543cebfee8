//===- DevicesCommand.cpp - strata devices: what a cluster holds ----------===//
//
// Shows the devices of a cluster, the CUDA devices of this machine by
// default: memory, reserve, bandwidth, peak FLOP/s and the links between
// them, as the cost model sees them; --json for the cluster description
// (the same schema --cluster accepts, so it can be edited and passed back).
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "DetectCluster.h"
#include "Format.h"

#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand DevicesCmd("devices", "Show the devices of this machine, or "
                                     "of a cluster specification");
cl::opt<std::string> ClusterSpec("cluster",
                                 cl::desc("A cluster to show instead of this "
                                          "machine's (as compile takes it)"),
                                 cl::value_desc("spec"), cl::init("detect"),
                                 cl::sub(DevicesCmd),
                                 cl::cat(getStrataCategory()));
cl::opt<bool> AsJSON("json", cl::desc("Print the cluster description as JSON"),
                     cl::sub(DevicesCmd), cl::cat(getStrataCategory()));

int runDevices() {
  auto C = makeCluster(ClusterSpec);
  if (!C)
    return CommandErrors("strata devices").fail(toString(C.takeError()));
  llvm::raw_ostream &OS = llvm::outs();
  if (AsJSON) {
    OS << llvm::formatv("{0:2}", cluster::clusterToJSON(*C)) << '\n';
    return ExitSuccess;
  }
  OS << "cluster " << C->Spec << ": " << C->size() << " devices on "
     << C->numNodes() << (C->numNodes() == 1 ? " node\n" : " nodes\n");
  OS << llvm::formatv("  {0,-7} {1,-11} {2,4} {3,10} {4,10} {5,10} {6,10} "
                      "{7,10}\n",
                      "device", "name", "node", "memory", "reserve", "GB/s",
                      "TFLOP f32", "TFLOP bf16");
  for (const cluster::Device &D : C->Devices)
    OS << llvm::formatv(
        "  {0,-7} {1,-11} {2,4} {3,10} {4,10} {5,10:f0} "
        "{6,10:f1} {7,10:f1}\n",
        (D.Kind == cluster::DeviceKind::GPU ? "cuda:" : "cpu:") +
            std::to_string(D.Index),
        D.Name, D.Node, formatBytes(D.CapacityBytes),
        formatBytes(D.ReserveBytes), D.MemoryBandwidth / 1e9, D.FlopsF32 / 1e12,
        D.FlopsBF16 / 1e12);
  if (C->size() > 1) {
    OS << "links (GB/s one way, latency us) from device 0:\n";
    for (unsigned B = 1; B < C->size(); ++B) {
      const cluster::Link &L = C->link(0, B);
      OS << llvm::formatv("  0 -> {0,-3} {1,-8} {2,8:f1} {3,6:f1}\n", B,
                          cluster::getLinkKindName(L.Kind), L.Bandwidth / 1e9,
                          L.Latency * 1e6);
    }
  }
  return ExitSuccess;
}

} // namespace

Command getDevicesCommand() { return {&DevicesCmd, &runDevices}; }

} // namespace strata::tool
