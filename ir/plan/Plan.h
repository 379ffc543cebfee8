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

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace llvm {
class raw_ostream;
namespace json {
class Value;
} // namespace json
} // namespace llvm

namespace strata::plan {

/// The plan format this code writes and reads. Version 3 spelled out each
/// shard's range (docs/plan-format.md, "Versions").
inline constexpr int64_t FormatVersion = 3;

// The kinds a plan names, each parsed once by the reader: code that acts
// on a plan switches on them and never compares their spellings.
enum class BufferKind : uint8_t {
#define STRATA_BUFFER_KIND(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};
enum class RegionKind : uint8_t {
#define STRATA_REGION_KIND(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};
enum class StreamKind : uint8_t {
#define STRATA_STREAM_KIND(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};
enum class StepOp : uint8_t {
#define STRATA_STEP_OP(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};
enum class CleanupKind : uint8_t {
#define STRATA_CLEANUP_KIND(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};
enum class DeviceKind : uint8_t {
#define STRATA_DEVICE_KIND(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};
enum class FallbackKind : uint8_t {
#define STRATA_FALLBACK_KIND(Enumerator, Spelling) Enumerator,
#include "ir/plan/PlanKinds.def"
};

/// Every spelling of kind enum E, indexed by value (PlanKinds.def). For
/// the plan's reader and writer, and messages.
template <typename E> llvm::ArrayRef<llvm::StringLiteral> getKindSpellings();
template <typename E> llvm::StringRef getKindName(E K) {
  return getKindSpellings<E>()[static_cast<size_t>(K)];
}
/// The value spelled S, if any (the empty spelling is never one).
template <typename E> std::optional<E> parseKind(llvm::StringRef S) {
  llvm::ArrayRef<llvm::StringLiteral> Names = getKindSpellings<E>();
  for (size_t I = 0; I < Names.size(); ++I)
    if (!S.empty() && Names[I] == S)
      return static_cast<E>(I);
  return std::nullopt;
}

/// Transfers run on copy streams, everything else on compute streams.
inline bool isTransfer(StepOp Op) {
  return Op == StepOp::Copy || Op == StepOp::Prefetch;
}
inline bool isCollective(StepOp Op) {
  return Op == StepOp::AllReduce || Op == StepOp::AllGather;
}

/// Where a buffer lives: a device index, or off-device.
struct Location {
  enum class Kind { Device, Host, Disk };
  Kind Where = Kind::Device;
  unsigned Device = 0; ///< When Where == Device.

  static Location device(unsigned D) { return {Kind::Device, D}; }
  static Location host() { return {Kind::Host, 0}; }
  static Location disk() { return {Kind::Disk, 0}; }
  bool isDevice() const { return Where == Kind::Device; }
  bool operator==(const Location &O) const {
    return Where == O.Where && (Where != Kind::Device || Device == O.Device);
  }
};

/// One member's piece of a tensor split over a group. The plan states the
/// range, so that nothing downstream re-derives how a dimension divides.
struct Shard {
  unsigned Index = 0;
  unsigned Count = 1;
  /// The dimension split (0: rows of a [out, in] weight), or -1 for a
  /// whole copy (a norm replicated over a tensor-parallel group).
  int64_t Axis = 0;
  /// The member's elements [Begin, Begin + Size) of the whole tensor's
  /// Axis; the shard's own shape has Size there. Unused for whole copies.
  int64_t Begin = 0;
  int64_t Size = 0;
};

/// Steps of one program, inclusive: the buffer is written at First and
/// last read at Last.
struct LiveRange {
  uint32_t First = 0;
  uint32_t Last = 0;
};

struct Buffer {
  /// The weight's file name, "cache_k.3", or an activation's value name
  /// ("l3.q"; a copy of it on device 1 is "l3.q@1").
  std::string Name;
  BufferKind Kind = BufferKind::Weight;
  uint64_t Bytes = 0;
  std::string DType;          ///< "bf16", "q4_k", ...
  std::vector<int64_t> Shape; ///< Of this buffer (of the shard, if sharded).
  Location Where;
  std::optional<int64_t> Layer; ///< Absent outside the layers.
  std::string Role;             ///< "attention", "experts", ... ("" if none)
  /// How it got there: the strategy ("pipeline", "tensor", "round-robin",
  /// "override", "kv-with-layer", ...) or the fallback with its reason.
  std::string PlacedBy;
  std::optional<Shard> ShardInfo; ///< Set when the tensor is split.

  // Memory planning: where on its device the buffer is, and when.
  RegionKind Region = RegionKind::None; ///< None off-device.
  uint64_t Offset = 0;                  ///< Bytes from the start of the region.
  std::string Program;           ///< Arena buffers: the program they belong to.
  std::optional<LiveRange> Live; ///< Arena buffers: steps of Program.
  /// A view (a reshape): the same bytes as that buffer under another shape.
  /// It has that buffer's region and offset; its live range is the base's.
  std::optional<uint32_t> ViewOf;
};

/// A stream of work on a device: kernels run in order on their stream;
/// streams of one device or of different devices run concurrently, ordered
/// only by events and collectives.
struct Stream {
  unsigned Device = 0;
  StreamKind Kind = StreamKind::Compute; ///< Copy streams run transfers.
};

/// What a step's kernel needs beyond its buffers' shapes and types: eps,
/// theta, axis, a vocabulary shard's row offset, ...
using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>>;
struct StepAttrs {
  std::map<std::string, AttrValue> Values; ///< Sorted: written in order.

  std::optional<int64_t> getInt(llvm::StringRef Key) const;
  /// A number, whether written as an integer or not.
  std::optional<double> getFloat(llvm::StringRef Key) const;
  std::optional<std::string> getString(llvm::StringRef Key) const;
  const std::vector<int64_t> *getInts(llvm::StringRef Key) const;
  void set(llvm::StringRef Key, AttrValue V) {
    Values[Key.str()] = std::move(V);
  }
};

/// One unit of work on one stream.
struct Step {
  /// A graph op (matmul, rope, ...), a transfer (copy: device to device;
  /// prefetch: host or disk to a staging buffer) or a collective.
  StepOp Op = StepOp::Copy;
  std::string Name; ///< The buffer it makes, for messages.
  unsigned Stream = 0;
  std::vector<uint32_t> Inputs;  ///< Indices into Plan::Buffers.
  std::vector<uint32_t> Outputs; ///< Indices into Plan::Buffers.
  std::optional<int64_t> Layer;
  StepAttrs Attrs;
  /// Events this step's stream waits for before the step starts.
  std::vector<uint32_t> Waits;
  /// The event recorded on the stream once the step is done, if any step
  /// of another stream waits for it.
  std::optional<uint32_t> Record;
  /// Steps of one collective (one per member device) share an id; each
  /// runs on its device's compute stream and none finishes before every
  /// member has started.
  std::optional<uint32_t> Collective;
};

/// A program's named input (written by the runtime) or output (read back),
/// with its buffer on each device that has one.
struct ProgramValue {
  std::string Name;
  std::vector<uint32_t> Buffers;
};

/// Where memory is released or handed back, and what the runtime does
/// there: after-load (loading's host staging freed, every device
/// synchronised), end-of-prefill (every stream synchronised; the arena
/// bytes that only prefill needs are handed back).
struct CleanupPoint {
  CleanupKind Kind = CleanupKind::AfterLoad;
  std::string Program;           ///< Empty for "after-load".
  std::optional<uint32_t> After; ///< The step it follows, if any.
  std::vector<uint32_t> Buffers; ///< What is released.
  std::string Reason;
};

/// One program's schedule: its steps in an order that runs them correctly
/// when issued one after the other (each stream runs its own steps in that
/// order, waiting where a step says).
struct ProgramSchedule {
  std::string Name; ///< "prefill", "decode"
  std::vector<ProgramValue> Inputs;
  std::vector<ProgramValue> Outputs;
  std::vector<Step> Steps;
  uint32_t NumEvents = 0; ///< Event ids are 0 .. NumEvents - 1.
};

/// A fallback placement took, for the report.
struct Fallback {
  std::string Buffer; ///< The buffer (tensor) it concerns.
  FallbackKind Kind = FallbackKind::NextDevice;
  std::string Reason; ///< Why, with the numbers.
};

struct Device {
  unsigned Index = 0;
  DeviceKind Kind = DeviceKind::GPU;
  std::string Name;
  unsigned Node = 0;
  uint64_t CapacityBytes = 0;
  uint64_t ReserveBytes = 0;
  /// Planned use, by kind of buffer, in bytes.
  uint64_t WeightBytes = 0;
  uint64_t KVCacheBytes = 0;
  uint64_t ActivationBytes = 0; ///< Estimate or, once planned, exact.
  uint64_t WorkspaceBytes = 0;
  /// Offsets in every region are multiples of this.
  uint64_t Alignment = 1;
  /// Bytes of each region: what the runtime allocates.
  uint64_t WeightRegionBytes = 0;
  uint64_t KVCacheRegionBytes = 0;
  uint64_t ArenaRegionBytes = 0;
  /// Per program: the arena it needs and the lower bound of any arena (the
  /// largest sum of aligned bytes live at one step).
  struct ArenaUse {
    std::string Program;
    uint64_t Bytes = 0;
    uint64_t LowerBound = 0;
  };
  std::vector<ArenaUse> Arenas;

  /// Bytes of region R (0 for RegionKind::None).
  uint64_t regionBytes(RegionKind R) const;
  /// All three regions together: what the runtime allocates on the device.
  uint64_t regionBytes() const;
  /// The regions and the runtime reserve: what must fit CapacityBytes.
  uint64_t neededBytes() const;
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
  /// A digest of the model files' sizes and sampled bytes of each weight
  /// (import::sampleContentDigest), so that a file changed or truncated
  /// after compiling is refused before anything runs; empty where no files
  /// were read (presets, .sir graphs).
  std::string ContentDigest;
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
  std::vector<Stream> Streams;
  std::vector<ProgramSchedule> Programs;
  std::vector<CleanupPoint> Cleanups;

  const ProgramSchedule *findProgram(llvm::StringRef Name) const;
  /// The buffer whose bytes buffer B's are: B itself, or the first base of
  /// a chain of views (at most Buffers.size() hops, so that a cycle in a
  /// plan read from a file ends; the verifier reports it). Inline: the
  /// planner and the verifier ask it for every access of every step.
  uint32_t baseOf(uint32_t B) const {
    for (size_t Hops = 0; Buffers[B].ViewOf && Hops < Buffers.size(); ++Hops)
      B = *Buffers[B].ViewOf;
    return B;
  }
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

/// Writes the plan file (docs/plan-format.md): keys sorted, numbers exact,
/// two-space indentation and a final newline; streamed, so that a plan of
/// hundreds of thousands of steps needs no document in memory.
void writePlan(llvm::raw_ostream &OS, const Plan &P);
/// writePlan's text.
std::string planToString(const Plan &P);
/// The same document as a json::Value, for tools and tests that edit it.
llvm::json::Value planToJSON(const Plan &P);
/// Reads a plan; errors name the file and the bad field ("plan.json:
/// buffers[3].device: expected a device index, \"host\" or \"disk\"") and
/// refuse other format versions.
llvm::Expected<Plan> parsePlan(llvm::StringRef Text, llvm::StringRef Path);

} // namespace strata::plan

#endif // STRATA_IR_PLAN_PLAN_H
