//===- Cluster.h - The devices a model is planned onto ----------*- C++ -*-===//
//
// A cluster is a list of devices (GPUs, or CPU "virtual devices" with a
// memory cap for tests and the CPU runtime), grouped into nodes, with a link
// between every pair and between each device and its host's memory. Every
// figure is what the cost model needs: capacity, a runtime reserve, memory
// bandwidth, peak FLOP/s per element type, link bandwidth and latency.
// Preset figures come from vendors' datasheets (docs/cluster.md cites them).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_CLUSTER_CLUSTER_H
#define STRATA_IR_CLUSTER_CLUSTER_H

#include "ir/DataType.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace llvm::json {
class Value;
} // namespace llvm::json

namespace strata::cluster {

enum class DeviceKind { GPU, CPU };
llvm::StringRef getDeviceKindName(DeviceKind K); ///< "gpu", "cpu"

struct Device {
  unsigned Index = 0;
  DeviceKind Kind = DeviceKind::GPU;
  std::string Name;           ///< The preset name, e.g. "H100-80GB".
  unsigned Node = 0;          ///< Devices of one node share its fast links.
  uint64_t CapacityBytes = 0; ///< Memory as the runtime sees it.
  /// Bytes the runtime takes before any tensor: CUDA context, cuBLAS
  /// workspace, NCCL buffers (docs/cluster.md gives the figures).
  uint64_t ReserveBytes = 0;
  double MemoryBandwidth = 0; ///< Bytes per second, peak.
  double FlopsF32 = 0;        ///< Dense peak FLOP/s for f32.
  double FlopsBF16 = 0;       ///< ... for bf16 and f16 (tensor cores).
  double FlopsFP8 = 0;        ///< ... for fp8 (0: not supported).
  double FlopsInt8 = 0;       ///< ... for int8 (quantized weights).

  /// Capacity left for tensors once the reserve is taken.
  uint64_t usableBytes() const {
    return CapacityBytes > ReserveBytes ? CapacityBytes - ReserveBytes : 0;
  }
  /// Peak FLOP/s for matmuls whose inputs are of type T.
  double peakFlops(ir::DType T) const;
};

enum class LinkKind { Local, NVLink, PCIe, Network, Host };
llvm::StringRef getLinkKindName(LinkKind K); ///< "local", "nvlink", ...

struct Link {
  LinkKind Kind = LinkKind::PCIe;
  double Bandwidth = 0; ///< Bytes per second, one direction.
  double Latency = 0;   ///< Seconds per transfer.
};

struct Cluster {
  /// The specification it was made from, canonical (e.g. "2x8xH100-80GB").
  std::string Spec;
  std::vector<Device> Devices;
  /// Links[A * size() + B]: from device A to device B (Local when A == B).
  std::vector<Link> Links;
  /// Each device's link to pinned host memory.
  std::vector<Link> HostLinks;
  /// Pinned host memory available for offloaded weights, per node.
  uint64_t HostBytesPerNode = 0;
  /// Read bandwidth of the disk that mmap-offloaded weights come from.
  double DiskBandwidth = 0;

  size_t size() const { return Devices.size(); }
  unsigned numNodes() const;
  const Link &link(unsigned A, unsigned B) const {
    return Links[A * Devices.size() + B];
  }
};

/// Makes a cluster from what --cluster takes:
///   a preset with a count:  "8xH100-80GB", "H200", "4xRTX4090"
///   several, comma-joined:  "2xH100-80GB,2xA100-40GB" (one node)
///   nodes:                  "2x8xH100-80GB" (2 nodes of 8)
///   CPU virtual devices:    "cpu:4x64MiB"
///   a JSON file:            "cluster.json" (schema in docs/cluster.md)
/// ("detect" is handled by the tool, which asks the CUDA runtime.)
/// Errors say what is wrong and list the known presets.
llvm::Expected<Cluster> parseClusterSpec(llvm::StringRef Spec);

/// Reads a cluster description in JSON (docs/cluster.md); errors name the
/// file and the bad field, e.g. "c.json: devices[2].memory_gib: expected a
/// number".
llvm::Expected<Cluster> parseClusterJSON(llvm::StringRef Text,
                                         llvm::StringRef Path);

/// The cluster as JSON in the same schema (devices with every figure, and
/// the link kinds), for plans and reports.
llvm::json::Value clusterToJSON(const Cluster &C);

/// The GPU presets, for --help and error messages: "H100-80GB", ...
std::vector<std::string> gpuPresetNames();

} // namespace strata::cluster

#endif // STRATA_IR_CLUSTER_CLUSTER_H
