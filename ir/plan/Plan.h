//===- Plan.h - A compiled placement, the compile/run contract --*- C++ -*-===//
//
// A Plan is everything the runtime and the visualiser need to know about how
// a model was placed on a cluster: the devices, every buffer (weights, KV
// caches, and later activations and workspace) with its device and size and
// why it is there, the fallbacks taken, and the cost model's predictions.
// It is plain data: no pointers, no handles, so that it saves, loads and
// diffs. Its JSON form (docs/plan-format.md) is versioned, written with
// sorted keys, and byte-identical for identical inputs.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_PLAN_PLAN_H
#define STRATA_IR_PLAN_PLAN_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llvm::json {
class Value;
} // namespace llvm::json

namespace strata::plan {

/// The plan format this code writes and reads.
inline constexpr int64_t FormatVersion = 1;

/// Where a buffer lives: a device index, or off-device.
struct Location {
  enum class Kind { Device, Host, Disk };
  Kind Where = Kind::Device;
  unsigned Device = 0; ///< When Where == Device.

  static Location device(unsigned D) { return {Kind::Device, D}; }
  static Location host() { return {Kind::Host, 0}; }
  static Location disk() { return {Kind::Disk, 0}; }
  bool operator==(const Location &O) const {
    return Where == O.Where && (Where != Kind::Device || Device == O.Device);
  }
};

struct Shard {
  unsigned Index = 0;
  unsigned Count = 1;
  int64_t Axis = 0; ///< The dimension split (0: rows of a [out, in] weight).
};

struct Buffer {
  std::string Name;  ///< The weight's file name, or "cache_k.3", ...
  std::string Kind;  ///< "weight", "kv_cache", "activation", "workspace"
  uint64_t Bytes = 0;
  std::string DType; ///< "bf16", "q4_k", ...
  std::vector<int64_t> Shape; ///< Of this buffer (of the shard, if sharded).
  Location Where;
  std::optional<int64_t> Layer; ///< Absent outside the layers.
  std::string Role;             ///< "attention", "experts", ... ("" if none)
  /// How it got there: the strategy ("pipeline", "tensor", "round-robin",
  /// "override", "kv-with-layer", ...) or the fallback with its reason.
  std::string PlacedBy;
  std::optional<Shard> ShardInfo; ///< Set when the tensor is split.
};

/// A fallback placement took, for the report.
struct Fallback {
  std::string Buffer; ///< The buffer (tensor) it concerns.
  std::string Kind;   ///< "next-device", "shard", "host", "disk"
  std::string Reason; ///< Why, with the numbers.
};

struct Device {
  unsigned Index = 0;
  std::string Kind; ///< "gpu", "cpu"
  std::string Name;
  unsigned Node = 0;
  uint64_t CapacityBytes = 0;
  uint64_t ReserveBytes = 0;
  /// Planned use, by kind of buffer, in bytes.
  uint64_t WeightBytes = 0;
  uint64_t KVCacheBytes = 0;
  uint64_t ActivationBytes = 0; ///< Estimate or, once planned, exact.
  uint64_t WorkspaceBytes = 0;
  /// Predicted seconds of this device's work per program.
  double PrefillSeconds = 0;
  double DecodeSeconds = 0;
};

struct ModelInfo {
  std::string Name;
  std::string Source;      ///< "preset:llama3-8b", a path, ...
  std::string Format;      ///< "preset", "gguf", "huggingface"
  std::string Fingerprint; ///< planFingerprint() of its weights.
  uint64_t Parameters = 0;
  uint64_t WeightBytes = 0;
  int64_t Layers = 0;
};

struct Options {
  std::string Strategy;   ///< as asked: "auto", "pipeline", "tensor"
  std::string KVStrategy; ///< "with-layer", "by-head"
  int64_t Batch = 1;
  int64_t Context = 0;
  int64_t PrefillTokens = 0;
  std::string KVDType;
  bool NoOffload = false;
};

struct Predictions {
  double PrefillSeconds = 0; ///< One prefill chunk, all devices.
  double DecodeSecondsPerStep = 0;
  double DecodeTokensPerSecond = 0; ///< Batch / step time.
};

struct Plan {
  int64_t Version = FormatVersion;
  ModelInfo Model;
  std::string ClusterSpec;
  /// The whole cluster description (cluster::clusterToJSON), kept verbatim
  /// so that the runtime can check it runs on what the plan was made for.
  std::string ClusterJSON;
  Options Opts;
  std::string Strategy; ///< The strategy used (auto resolves to one).
  bool MultiDevice = false;
  std::vector<Device> Devices;
  std::vector<Buffer> Buffers;
  std::vector<Fallback> Fallbacks;
  Predictions Predicted;
};

/// A stable digest (SHA-256, hex) of a model's weights: every weight's
/// name, element type and shape, in order. Two plans of the same model
/// share it whatever the cluster; any changed tensor changes it.
struct WeightSignature {
  std::string Name;
  std::string DType;
  std::vector<int64_t> Shape;
};
std::string planFingerprint(const std::vector<WeightSignature> &Weights);

/// The plan as JSON (docs/plan-format.md): keys sorted, numbers exact.
llvm::json::Value planToJSON(const Plan &P);
/// The JSON text written to plan files: planToJSON, pretty-printed with
/// two-space indentation and a final newline.
std::string planToString(const Plan &P);
/// Reads a plan; errors name the file and the bad field ("plan.json:
/// buffers[3].device: expected a device index, \"host\" or \"disk\"") and
/// refuse other format versions.
llvm::Expected<Plan> parsePlan(llvm::StringRef Text, llvm::StringRef Path);

} // namespace strata::plan

#endif // STRATA_IR_PLAN_PLAN_H
