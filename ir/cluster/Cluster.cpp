//===- Cluster.cpp - Presets, --cluster specs and cluster JSON ------------===//
//
// A cluster is made in two steps. A spec ("2x8xH100-80GB", "cpu:4x64MiB") or
// a JSON file first becomes a ClusterDraft: devices with their figures and
// node, and whatever links the user gave. buildCluster() then fills in what
// depends on the whole cluster (the NCCL part of each GPU's reserve, the
// host memory default) and every link by one set of rules. Both inputs share
// those rules, so "8xH100-80GB" and the same cluster written as JSON get the
// same figures, and clusterToJSON's output reads back to the same cluster.
//
// Every figure and the reason for it is in docs/cluster.md, which cites
// ../shared/HARDWARE.md; the comments here only name the source.
//
//===----------------------------------------------------------------------===//

#include "ir/cluster/Cluster.h"

#include "ir/support/JSONFieldReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace strata::cluster {

//===----------------------------------------------------------------------===//
// Figures
//===----------------------------------------------------------------------===//

namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB,
                   TiB = 1024 * GiB;

/// Seconds from microseconds. Latencies are written in microseconds in JSON;
/// converting the same way here and there keeps the round trip exact.
constexpr double us(double Micros) { return Micros / 1e6; }

// Limits on what a spec or JSON file may ask for. They catch typos (a
// capacity in bits, a count with an extra digit) and keep every product of
// them far from overflow; each error names its limit.
constexpr uint64_t MaxDevices = 4096;
constexpr uint64_t MaxCPUDevicesPerTerm = 1024;
constexpr uint64_t MaxDeviceBytes = 16 * TiB;
constexpr uint64_t MaxHostBytes = 1024 * TiB;
constexpr double MaxBandwidth = 1e15; // bytes/s: 1 PB/s.
constexpr double MaxFlops = 1e18;     // 1 EFLOP/s.
constexpr double MaxLatencyMicros = 1e6;

// The runtime reserve (HARDWARE.md section 3). The CUDA context with lazy
// loading is 287-400 MB [26-28], but measured on an H200 (driver 580, CUDA
// 13) it took 527 MiB (docs/cluster.md); B200's idle context is ~0.7 GiB
// [29].
constexpr uint64_t ContextBytes = 576 * MiB;
constexpr uint64_t BlackwellContextBytes = 768 * MiB;
// cuBLAS's recommended workspace [30].
constexpr uint64_t CuBLASHopperBytes = 32 * MiB;
constexpr uint64_t CuBLASOtherBytes = 4 * MiB;
// NCCL, only when the cluster has more than one GPU: two communicators, each
// with ring buffers for the three protocols on 16 channels (16 x 2 peers x
// (4 + 0.5 + 4.69) MiB = 294 MiB) and NVLS's 256 MiB [33], rounded up to
// 576 MiB.
constexpr uint64_t NCCLBytes = 2 * 576 * MiB;

// Links (HARDWARE.md sections 1, 4, 5): one direction is half the vendors'
// bidirectional figure.
constexpr double NVLinkLatency = us(2); // cudaMemcpyPeerAsync, 1.8-2.3 us [47]
constexpr double PCIeLatency = us(10);  // between NVLink's 2 us and 11-20 us
constexpr double Gen5x16 = 64e9;        // 128 GB/s both directions [1]
constexpr double Gen4x16 = 32e9;        // 64 GB/s both directions [6]
constexpr double NetworkBandwidth = 50e9; // ConnectX-7 400 Gb/s per GPU [14]
constexpr double NetworkLatency = us(5);  // NCCL's net step is 2.7-14 us [45]

// CPU virtual devices: nominal figures for a test machine's memcpy and f32
// matmul; a measured profile (a JSON file) should replace them.
constexpr double CPUMemoryBandwidth = 20e9;
constexpr double CPUFlops = 50e9;
constexpr double CPUCopyBandwidth = 10e9;
constexpr double CPUCopyLatency = us(1);

constexpr uint64_t GPUHostBytesPerNode = 1 * TiB;
constexpr double DefaultDiskBandwidth = 3e9; // one NVMe SSD

struct GPUPreset {
  llvm::StringLiteral Name;
  uint64_t CapacityBytes;    ///< As CUDA reports it (cudaMemGetInfo total).
  uint64_t BaseReserveBytes; ///< Context and cuBLAS; NCCL comes on top.
  double MemoryBandwidth;
  double FlopsF32, FlopsBF16, FlopsFP8, FlopsInt8;
  double PeerBandwidth; ///< NVLink-class, one direction; 0: none.
  double HostBandwidth; ///< PCIe to the host, one direction.
};

constexpr uint64_t HopperReserve = ContextBytes + CuBLASHopperBytes;
constexpr uint64_t AmpereAdaReserve = ContextBytes + CuBLASOtherBytes;
constexpr uint64_t BlackwellReserve = BlackwellContextBytes + CuBLASHopperBytes;

// Capacities: CUDA's figure where published, else nvidia-smi's less 768 MiB
// (the largest gap seen between the two, A100 80GB's); docs/cluster.md.
constexpr GPUPreset Presets[] = {
    // [1,3,4,15,16,17]
    {"H100-80GB", 81008 * MiB, HopperReserve, 3.35e12, 67e12, 989.5e12, 1979e12,
     1979e12, 450e9, Gen5x16},
    // [1,5]; without the optional NVLink bridge.
    {"H100-PCIe", 81008 * MiB, HopperReserve, 2.0e12, 51e12, 756e12, 1513e12,
     1513e12, 0, Gen5x16},
    // [2,14,18]
    {"H200", (143771 - 768) * MiB, HopperReserve, 4.8e12, 67e12, 989.5e12,
     1979e12, 1979e12, 450e9, Gen5x16},
    // [6,7,15,50]; SXM.
    {"A100-80GB", 81152 * MiB, AmpereAdaReserve, 2.039e12, 19.5e12, 312e12, 0,
     624e12, 300e9, Gen4x16},
    // [6,7,19]; SXM.
    {"A100-40GB", 42298834944, AmpereAdaReserve, 1.555e12, 19.5e12, 312e12, 0,
     624e12, 300e9, Gen4x16},
    // [8,9,15]
    {"L40S", (46068 - 768) * MiB, AmpereAdaReserve, 0.864e12, 91.6e12, 362e12,
     733e12, 733e12, 0, Gen4x16},
    // [9,20]; bf16 with f32 accumulation, as matmuls run.
    {"RTX4090", (24564 - 768) * MiB, AmpereAdaReserve, 1.008e12, 82.6e12,
     165.2e12, 330e12, 661e12, 0, Gen4x16},
    // [10,11,12,14]; 7.67 TB/s from the bus, not the marketed 8.
    {"B200", 182630 * MiB, BlackwellReserve, 7.67e12, 80e12, 2250e12, 4500e12,
     4500e12, 900e9, Gen5x16},
    // [13,14]; 192 GB in decimal units (ROCm's figure not found); Infinity
    // Fabric 128 GB/s per peer, both directions.
    {"MI300X", 192000000000, HopperReserve, 5.3e12, 163.4e12, 1307e12, 2615e12,
     2615e12, 64e9, Gen5x16},
};

struct PresetAlias {
  llvm::StringLiteral Alias, Preset;
};
constexpr PresetAlias Aliases[] = {{"H100", "H100-80GB"},
                                   {"A100", "A100-80GB"}};

const GPUPreset *findPreset(llvm::StringRef Name) {
  for (const PresetAlias &A : Aliases)
    if (Name.equals_insensitive(A.Alias))
      Name = A.Preset;
  for (const GPUPreset &P : Presets)
    if (Name.equals_insensitive(P.Name))
      return &P;
  return nullptr;
}

std::string presetList() { return llvm::join(gpuPresetNames(), ", "); }

llvm::Error makeError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// A number for a message: integers in full, others in up to 15 digits.
std::string formatNumber(double V) {
  char Buf[64];
  std::snprintf(Buf, sizeof(Buf), "%.15g", V);
  return Buf;
}

//===----------------------------------------------------------------------===//
// Drafts and the link rules
//===----------------------------------------------------------------------===//

struct DeviceDraft {
  Device Dev; ///< Index and Node are set; ReserveBytes is not yet.
  /// The reserve the user gave; without one, BaseReserve plus NCCL's share
  /// when the cluster has more than one GPU.
  std::optional<uint64_t> Reserve;
  uint64_t BaseReserve = 0;
  Link HostLink;
  /// The NVLink-class fabric it shares with devices of the same name in its
  /// node.
  std::optional<Link> PeerLink;
  std::string Where; ///< For errors: "c.json: nodes[0].devices[1]".
};

struct PairLink {
  unsigned A, B;
  Link L;
};

struct ClusterDraft {
  std::string Spec;
  std::vector<DeviceDraft> Devices; ///< In index order, nodes ascending.
  unsigned NumNodes = 0;
  /// Per node: one link for all its pairs, replacing the rules.
  std::vector<std::optional<Link>> IntraNode;
  Link InterNode{LinkKind::Network, NetworkBandwidth, NetworkLatency};
  std::vector<PairLink> Overrides; ///< Both directions; applied last.
  std::optional<uint64_t> HostBytesPerNode;
  double DiskBandwidth = DefaultDiskBandwidth;
};

DeviceDraft deviceFromPreset(const GPUPreset &P) {
  DeviceDraft D;
  D.Dev.Kind = DeviceKind::GPU;
  D.Dev.Name = P.Name.str();
  D.Dev.CapacityBytes = P.CapacityBytes;
  D.Dev.MemoryBandwidth = P.MemoryBandwidth;
  D.Dev.FlopsF32 = P.FlopsF32;
  D.Dev.FlopsBF16 = P.FlopsBF16;
  D.Dev.FlopsFP8 = P.FlopsFP8;
  D.Dev.FlopsInt8 = P.FlopsInt8;
  D.BaseReserve = P.BaseReserveBytes;
  D.HostLink = {LinkKind::Host, P.HostBandwidth, PCIeLatency};
  if (P.PeerBandwidth > 0)
    D.PeerLink = Link{LinkKind::NVLink, P.PeerBandwidth, NVLinkLatency};
  return D;
}

/// A GPU that is no preset: the larger (Hopper) reserve and a PCIe Gen4 x16
/// host link until the JSON says otherwise.
DeviceDraft customGPU() {
  DeviceDraft D;
  D.Dev.Kind = DeviceKind::GPU;
  D.BaseReserve = HopperReserve;
  D.HostLink = {LinkKind::Host, Gen4x16, PCIeLatency};
  return D;
}

DeviceDraft cpuDevice(uint64_t Bytes) {
  DeviceDraft D;
  D.Dev.Kind = DeviceKind::CPU;
  D.Dev.Name = "cpu";
  D.Dev.CapacityBytes = Bytes;
  D.Dev.MemoryBandwidth = CPUMemoryBandwidth;
  // Nominal: bf16 taken as computed in f32; fp8 and int8 run as bf16.
  D.Dev.FlopsF32 = D.Dev.FlopsBF16 = CPUFlops;
  D.HostLink = {LinkKind::Host, CPUCopyBandwidth, CPUCopyLatency};
  return D;
}

/// The link between two devices of one node when the user gave none: their
/// shared fabric if both have one and are the same part, else a copy through
/// the host (PCIe between GPUs, a memcpy between CPU virtual devices) at the
/// slower of their host links.
Link sameNodeLink(const DeviceDraft &A, const DeviceDraft &B) {
  if (A.PeerLink && B.PeerLink && A.Dev.Name == B.Dev.Name)
    return {A.PeerLink->Kind,
            std::min(A.PeerLink->Bandwidth, B.PeerLink->Bandwidth),
            std::max(A.PeerLink->Latency, B.PeerLink->Latency)};
  bool BothCPU = A.Dev.Kind == DeviceKind::CPU && B.Dev.Kind == DeviceKind::CPU;
  return {BothCPU ? LinkKind::Host : LinkKind::PCIe,
          std::min(A.HostLink.Bandwidth, B.HostLink.Bandwidth),
          std::max(A.HostLink.Latency, B.HostLink.Latency)};
}

llvm::Expected<Cluster> buildCluster(ClusterDraft D) {
  Cluster C;
  C.Spec = std::move(D.Spec);
  size_t N = D.Devices.size();
  size_t NumGPUs = llvm::count_if(D.Devices, [](const DeviceDraft &X) {
    return X.Dev.Kind == DeviceKind::GPU;
  });

  for (DeviceDraft &X : D.Devices) {
    Device Dev = X.Dev;
    if (X.Reserve)
      Dev.ReserveBytes = *X.Reserve;
    else
      Dev.ReserveBytes =
          X.BaseReserve +
          (Dev.Kind == DeviceKind::GPU && NumGPUs > 1 ? NCCLBytes : 0);
    if (Dev.ReserveBytes >= Dev.CapacityBytes)
      return makeError(
          X.Where + ": the reserve of " + llvm::Twine(Dev.ReserveBytes) +
          " bytes leaves nothing of the capacity of " +
          llvm::Twine(Dev.CapacityBytes) + " bytes (give reserve_bytes)");
    C.Devices.push_back(std::move(Dev));
    C.HostLinks.push_back(X.HostLink);
  }

  C.Links.resize(N * N);
  for (size_t A = 0; A < N; ++A) {
    for (size_t B = 0; B < N; ++B) {
      const DeviceDraft &DA = D.Devices[A], &DB = D.Devices[B];
      Link &L = C.Links[A * N + B];
      if (A == B)
        L = {LinkKind::Local, DA.Dev.MemoryBandwidth, 0};
      else if (DA.Dev.Node != DB.Dev.Node)
        L = D.InterNode;
      else if (const std::optional<Link> &Intra = D.IntraNode[DA.Dev.Node])
        L = *Intra;
      else
        L = sameNodeLink(DA, DB);
    }
  }
  for (const PairLink &P : D.Overrides)
    C.Links[P.A * N + P.B] = C.Links[P.B * N + P.A] = P.L;

  C.HostBytesPerNode =
      D.HostBytesPerNode.value_or(NumGPUs > 0 ? GPUHostBytesPerNode : 0);
  C.DiskBandwidth = D.DiskBandwidth;
  return C;
}

} // namespace

//===----------------------------------------------------------------------===//
// Devices, links, clusters
//===----------------------------------------------------------------------===//

llvm::StringRef getDeviceKindName(DeviceKind K) {
  switch (K) {
  case DeviceKind::GPU:
    return "gpu";
  case DeviceKind::CPU:
    return "cpu";
  }
  llvm_unreachable("unknown device kind");
}

llvm::StringRef getLinkKindName(LinkKind K) {
  switch (K) {
  case LinkKind::Local:
    return "local";
  case LinkKind::NVLink:
    return "nvlink";
  case LinkKind::PCIe:
    return "pcie";
  case LinkKind::Network:
    return "network";
  case LinkKind::Host:
    return "host";
  }
  llvm_unreachable("unknown link kind");
}

double Device::peakFlops(ir::DType T) const {
  switch (T) {
  case ir::DType::F32:
  case ir::DType::F64:
    return FlopsF32;
  case ir::DType::BF16:
  case ir::DType::F16:
    return FlopsBF16;
  case ir::DType::F8E4M3:
    return FlopsFP8 > 0 ? FlopsFP8 : FlopsBF16;
  default:
    // Integer and quantized weights: int8 tensor cores where the part has
    // them, else dequantized to bf16.
    return FlopsInt8 > 0 ? FlopsInt8 : FlopsBF16;
  }
}

unsigned Cluster::numNodes() const {
  unsigned N = 0;
  for (const Device &D : Devices)
    N = std::max(N, D.Node + 1);
  return N;
}

std::vector<std::string> gpuPresetNames() {
  std::vector<std::string> Names;
  for (const GPUPreset &P : Presets)
    Names.push_back(P.Name.str());
  return Names;
}

//===----------------------------------------------------------------------===//
// --cluster specs
//===----------------------------------------------------------------------===//

namespace {

struct SizeUnit {
  llvm::StringLiteral Name;
  uint64_t Bytes;
};
// Largest first: formatSize picks the first that divides exactly.
constexpr SizeUnit SizeUnits[] = {
    {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", 1}};

std::string formatSize(uint64_t Bytes) {
  for (const SizeUnit &U : SizeUnits)
    if (Bytes % U.Bytes == 0)
      return std::to_string(Bytes / U.Bytes) + U.Name.str();
  llvm_unreachable("every size is a whole number of bytes");
}

/// One comma-separated part of a spec.
struct SpecTerm {
  bool IsCPU = false;
  std::optional<uint64_t> Nodes; ///< Given as "NxMxGPU".
  uint64_t Count = 1;            ///< Devices (per node when Nodes is set).
  const GPUPreset *Preset = nullptr;
  uint64_t Size = 0; ///< Bytes per CPU virtual device.

  uint64_t numDevices() const { return Nodes.value_or(1) * Count; }
  std::string canonical(bool NodeCounts) const {
    if (IsCPU)
      return "cpu:" + std::to_string(Count) + "x" + formatSize(Size);
    std::string S = std::to_string(Count) + "x" + Preset->Name.str();
    return NodeCounts ? std::to_string(Nodes.value_or(1)) + "x" + S : S;
  }
};

/// "Nx" counts: 1 to Max, digits only.
llvm::Expected<uint64_t> parseCount(llvm::StringRef Digits,
                                    llvm::StringRef What, uint64_t Max,
                                    const llvm::Twine &Where) {
  uint64_t N = 0;
  if (Digits.getAsInteger(10, N) || N < 1 || N > Max)
    return makeError(What + " count " + Digits + Where + " (must be 1 to " +
                     llvm::Twine(Max) + ")");
  return N;
}

llvm::Expected<SpecTerm> parseCPUTerm(llvm::StringRef Term,
                                      llvm::StringRef Body) {
  auto Fail = [&](const llvm::Twine &Msg) {
    return makeError(Term + ": " + Msg);
  };
  SpecTerm T;
  T.IsCPU = true;
  llvm::StringRef CountDigits = Body.take_while(llvm::isDigit);
  llvm::StringRef Rest = Body.drop_front(CountDigits.size());
  if (CountDigits.empty() ||
      !(Rest.consume_front("x") || Rest.consume_front("X")))
    return Fail("expected cpu:NxSIZE, e.g. cpu:4x64MiB");
  if (llvm::Error E =
          parseCount(CountDigits, "device", MaxCPUDevicesPerTerm, "")
              .moveInto(T.Count))
    return Fail(llvm::toString(std::move(E)));

  llvm::StringRef SizeDigits = Rest.take_while(llvm::isDigit);
  llvm::StringRef Unit = Rest.drop_front(SizeDigits.size());
  if (SizeDigits.empty())
    return Fail("expected cpu:NxSIZE, e.g. cpu:4x64MiB");
  if (Unit.startswith("."))
    return Fail("size must be a whole number of its unit (e.g. 1536MiB, not "
                "1.5GiB)");
  uint64_t UnitBytes = Unit.empty() ? 1 : 0;
  for (const SizeUnit &U : SizeUnits)
    if (Unit.equals_insensitive(U.Name))
      UnitBytes = U.Bytes;
  if (UnitBytes == 0)
    return Fail("unknown size unit '" + Unit +
                "' (use B, KiB, MiB, GiB or TiB)");
  uint64_t Value = 0;
  if (SizeDigits.getAsInteger(10, Value) || Value > MaxDeviceBytes / UnitBytes)
    return Fail("size must be at most " + formatSize(MaxDeviceBytes));
  if (Value == 0)
    return Fail("size must be positive");
  T.Size = Value * UnitBytes;
  return T;
}

llvm::Expected<SpecTerm> parseGPUTerm(llvm::StringRef Term,
                                      llvm::StringRef Spec) {
  std::string Where = (" in --cluster '" + Spec + "'").str();
  llvm::SmallVector<llvm::StringRef, 2> Counts;
  llvm::StringRef Rest = Term;
  while (true) {
    llvm::StringRef Digits = Rest.take_while(llvm::isDigit);
    if (Digits.empty() || Digits.size() == Rest.size() ||
        (Rest[Digits.size()] != 'x' && Rest[Digits.size()] != 'X'))
      break;
    Counts.push_back(Digits);
    Rest = Rest.drop_front(Digits.size() + 1);
  }
  if (Counts.size() > 2)
    return makeError("too many counts in '" + Term + "'" + Where +
                     " (use NxGPU for N devices, NxMxGPU for N nodes of M)");
  if (Rest.empty())
    return makeError("missing GPU name after '" + Term + "'" + Where);

  SpecTerm T;
  T.Preset = findPreset(Rest);
  if (!T.Preset)
    return makeError("unknown GPU '" + Rest + "'" + Where +
                     " (known: " + presetList() + ")");
  if (Counts.size() == 2) {
    uint64_t Nodes = 0;
    if (llvm::Error E =
            parseCount(Counts[0], "node", MaxDevices, Where).moveInto(Nodes))
      return E;
    T.Nodes = Nodes;
  }
  if (!Counts.empty())
    if (llvm::Error E = parseCount(Counts.back(), "device", MaxDevices, Where)
                            .moveInto(T.Count))
      return E;
  return T;
}

llvm::Expected<Cluster> readClusterFile(llvm::StringRef Path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buf =
      llvm::MemoryBuffer::getFile(Path, /*IsText=*/true);
  if (!Buf)
    return makeError("cannot read cluster file '" + Path +
                     "': " + Buf.getError().message());
  return parseClusterJSON((*Buf)->getBuffer(), Path);
}

/// The comma-separated terms of a spec that is not a file.
llvm::Expected<std::vector<SpecTerm>> parseTerms(llvm::StringRef Spec) {
  llvm::SmallVector<llvm::StringRef, 4> Parts;
  Spec.split(Parts, ',');
  std::vector<SpecTerm> Terms;
  uint64_t Total = 0;
  for (llvm::StringRef Part : Parts) {
    llvm::StringRef Term = Part.trim();
    if (Term.empty())
      return makeError("empty term in --cluster '" + Spec + "'");
    if (Term.endswith_insensitive(".json"))
      return makeError("a JSON cluster file must be the whole --cluster "
                       "value, not part of '" +
                       Spec + "'");
    llvm::StringRef Body = Term;
    llvm::Expected<SpecTerm> T = Body.consume_front_insensitive("cpu:")
                                     ? parseCPUTerm(Term, Body)
                                     : parseGPUTerm(Term, Spec);
    if (!T)
      return T.takeError();
    Total += T->numDevices();
    Terms.push_back(*T);
  }
  if (Total > MaxDevices)
    return makeError("--cluster '" + Spec + "' has " + llvm::Twine(Total) +
                     " devices (at most " + llvm::Twine(MaxDevices) + ")");
  return Terms;
}

/// Devices in the order written. With a node count in any term, every term
/// starts its own node(s); otherwise all devices share node 0 (one host).
ClusterDraft draftFromTerms(llvm::ArrayRef<SpecTerm> Terms,
                            llvm::StringRef Spec) {
  bool NodeMode = llvm::any_of(
      Terms, [](const SpecTerm &T) { return T.Nodes.has_value(); });
  ClusterDraft D;
  for (const SpecTerm &T : Terms) {
    for (uint64_t Node = 0; Node < T.Nodes.value_or(1); ++Node) {
      if (NodeMode || D.NumNodes == 0)
        ++D.NumNodes;
      for (uint64_t I = 0; I < T.Count; ++I) {
        DeviceDraft X =
            T.IsCPU ? cpuDevice(T.Size) : deviceFromPreset(*T.Preset);
        X.Dev.Index = D.Devices.size();
        X.Dev.Node = D.NumNodes - 1;
        X.Where = ("--cluster '" + Spec + "'").str();
        D.Devices.push_back(std::move(X));
      }
    }
  }
  D.IntraNode.resize(D.NumNodes);

  // Node counts are written only when there are several nodes, so that
  // "1x8xH100" and "8xH100" name one cluster one way.
  std::vector<std::string> Canonical;
  for (const SpecTerm &T : Terms)
    Canonical.push_back(T.canonical(D.NumNodes > 1));
  D.Spec = llvm::join(Canonical, ",");
  return D;
}

} // namespace

llvm::Expected<Cluster> parseClusterSpec(llvm::StringRef Spec) {
  Spec = Spec.trim();
  if (Spec.empty())
    return makeError("empty --cluster: give a GPU preset (e.g. 8xH100-80GB), "
                     "CPU virtual devices (cpu:4x64MiB) or a .json file");
  if (Spec.equals_insensitive("detect"))
    return makeError("--cluster detect is answered by the strata tool, which "
                     "asks the CUDA runtime; parseClusterSpec takes presets, "
                     "cpu:NxSIZE or a .json file");
  // A file is the whole spec, so that its path may hold commas; a missing
  // one with commas is more likely a file among terms, refused below.
  if (Spec.endswith_insensitive(".json") &&
      (!Spec.contains(',') || llvm::sys::fs::exists(Spec)))
    return readClusterFile(Spec);
  llvm::Expected<std::vector<SpecTerm>> Terms = parseTerms(Spec);
  if (!Terms)
    return Terms.takeError();
  return buildCluster(draftFromTerms(*Terms, Spec));
}

//===----------------------------------------------------------------------===//
// Cluster JSON
//===----------------------------------------------------------------------===//

namespace {

/// The reads of a cluster file, on JSONFieldReader's: keys are optional
/// unless said otherwise, and once a problem is recorded every read returns
/// nothing, so that a reader is a list of fields rather than a ladder of
/// checks; the error is asked for once, at the end.
class ClusterReader : public JSONFieldReader {
public:
  using JSONFieldReader::JSONFieldReader;
  using JSONFieldReader::number;

  /// The object V, or null (also after an earlier problem).
  const JSONObject *objectAt(const JSONValue &V, const FieldPath &At) {
    if (failed())
      return nullptr;
    return object(V, At);
  }

  /// A non-empty string at Key, or nothing when the key is absent.
  std::optional<llvm::StringRef> nonEmptyString(const JSONObject &O,
                                                const FieldPath &At,
                                                llvm::StringRef Key) {
    const JSONValue *V = O.get(Key);
    if (!V || failed())
      return std::nullopt;
    llvm::Optional<llvm::StringRef> S = V->getAsString();
    if (!S || S->empty()) {
      FieldPath Here = At.field(Key);
      expected(Here, "a non-empty string", *V);
      return std::nullopt;
    }
    return *S;
  }

  /// A non-empty array at Key; an absent key is a problem when Required.
  const JSONArray *nonEmptyArray(const JSONObject &O, const FieldPath &At,
                                 llvm::StringRef Key, bool Required) {
    if (failed())
      return nullptr;
    const JSONValue *V = Required ? required(O, At, Key) : O.get(Key);
    if (!V)
      return nullptr;
    const JSONArray *A = V->getAsArray();
    if (!A || A->empty()) {
      FieldPath Here = At.field(Key);
      expected(Here, "a non-empty array", *V);
      return nullptr;
    }
    return A;
  }

  /// A number at Key in Range, or nothing when the key is absent.
  std::optional<double> number(const JSONObject &O, const FieldPath &At,
                               llvm::StringRef Key, const NumberRange &Range) {
    const JSONValue *V = O.get(Key);
    if (!V || failed())
      return std::nullopt;
    FieldPath Here = At.field(Key);
    double D = 0;
    if (!number(*V, Here, D, Range))
      return std::nullopt;
    return D;
  }

  /// A quantity given either in base units under BaseKey or scaled under
  /// ScaledKey (value x Scale), not both.
  std::optional<double> quantity(const JSONObject &O, const FieldPath &At,
                                 llvm::StringRef BaseKey,
                                 llvm::StringRef ScaledKey, double Scale,
                                 bool Positive, double Max) {
    if (O.get(BaseKey) && O.get(ScaledKey)) {
      fail(At, "give " + BaseKey + " or " + ScaledKey + ", not both");
      return std::nullopt;
    }
    if (O.get(BaseKey))
      return number(O, At, BaseKey, {Positive, Max});
    if (std::optional<double> V =
            number(O, At, ScaledKey, {Positive, Max / Scale}))
      return *V * Scale;
    return std::nullopt;
  }

  /// Bytes, whole under BytesKey or in GiB under GiBKey (rounded down).
  std::optional<uint64_t> bytes(const JSONObject &O, const FieldPath &At,
                                llvm::StringRef BytesKey,
                                llvm::StringRef GiBKey, bool Positive,
                                uint64_t Max) {
    if (O.get(BytesKey) && O.get(GiBKey)) {
      fail(At, "give " + BytesKey + " or " + GiBKey + ", not both");
      return std::nullopt;
    }
    std::optional<double> V;
    if (O.get(BytesKey))
      V = number(O, At, BytesKey, {Positive, double(Max), /*Whole=*/true});
    else if ((V = number(O, At, GiBKey, {Positive, double(Max) / GiB})))
      *V = std::floor(*V * GiB);
    if (!V)
      return std::nullopt;
    if (Positive && *V < 1) {
      FieldPath Here = At.field(GiBKey);
      fail(Here, "must be at least one byte");
      return std::nullopt;
    }
    return static_cast<uint64_t>(*V);
  }
};

constexpr llvm::StringLiteral LinkKeys[] = {"kind", "bandwidth",
                                            "bandwidth_gb_s", "latency_us"};

/// A link object; fields absent fall back to Base, and without a Base every
/// field is required.
std::optional<Link> readLink(ClusterReader &R, const JSONObject &O,
                             const FieldPath &At, std::optional<Link> Base) {
  Link L = Base.value_or(Link());
  FieldPath KindAt = At.field("kind");
  if (std::optional<llvm::StringRef> K = R.nonEmptyString(O, At, "kind")) {
    constexpr LinkKind Kinds[] = {LinkKind::NVLink, LinkKind::PCIe,
                                  LinkKind::Network, LinkKind::Host};
    const LinkKind *Found = llvm::find_if(Kinds, [&](LinkKind X) {
      return K->equals_insensitive(getLinkKindName(X));
    });
    if (Found == std::end(Kinds)) {
      R.fail(KindAt, "unknown link kind '" + *K +
                         "' (known: nvlink, pcie, network, host; 'local' is "
                         "only a device's link to itself)");
      return std::nullopt;
    }
    L.Kind = *Found;
  } else if (!Base) {
    R.fail(KindAt, "required field is missing");
  }
  if (std::optional<double> B = R.quantity(O, At, "bandwidth", "bandwidth_gb_s",
                                           1e9, true, MaxBandwidth))
    L.Bandwidth = *B;
  else if (!Base)
    R.fail(At, "missing 'bandwidth' or 'bandwidth_gb_s'");
  if (std::optional<double> Lat =
          R.number(O, At, "latency_us", {false, MaxLatencyMicros}))
    L.Latency = us(*Lat);
  else if (!Base) {
    FieldPath LatencyAt = At.field("latency_us");
    R.fail(LatencyAt, "required field is missing");
  }
  if (R.failed())
    return std::nullopt;
  return L;
}

std::optional<Link> readLinkField(ClusterReader &R, const JSONObject &O,
                                  const FieldPath &At, llvm::StringRef Key,
                                  std::optional<Link> Base) {
  const JSONValue *V = O.get(Key);
  if (!V || R.failed())
    return std::nullopt;
  FieldPath Here = At.field(Key);
  const JSONObject *LO = R.objectAt(*V, Here);
  if (!LO)
    return std::nullopt;
  R.knownKeys(*LO, Here, LinkKeys);
  return readLink(R, *LO, Here, Base);
}

constexpr llvm::StringLiteral DeviceKeys[] = {"preset",
                                              "kind",
                                              "name",
                                              "index",
                                              "node",
                                              "capacity_bytes",
                                              "memory_gib",
                                              "reserve_bytes",
                                              "reserve_gib",
                                              "memory_bandwidth",
                                              "memory_bandwidth_gb_s",
                                              "flops",
                                              "tflops",
                                              "host_link"};

/// The FLOP/s object, in FLOP/s under "flops" or TFLOP/s under "tflops".
void readFlops(ClusterReader &R, const JSONObject &O, const FieldPath &At,
               DeviceDraft &D, bool Required) {
  if (O.get("flops") && O.get("tflops")) {
    R.fail(At, "give flops or tflops, not both");
    return;
  }
  llvm::StringRef Key = O.get("tflops") ? "tflops" : "flops";
  double Scale = Key == "tflops" ? 1e12 : 1;
  const JSONValue *V = O.get(Key);
  if (!V) {
    if (Required)
      R.fail(At, "missing 'flops' or 'tflops'");
    return;
  }
  FieldPath FlopsAt = At.field(Key);
  const JSONObject *F = R.objectAt(*V, FlopsAt);
  if (!F)
    return;
  R.knownKeys(*F, FlopsAt, {"f32", "bf16", "fp8", "int8"});
  struct {
    llvm::StringLiteral Key;
    double &Value;
    bool Required; ///< Without a preset; fp8 and int8 may be absent (0).
  } Fields[] = {{"f32", D.Dev.FlopsF32, true},
                {"bf16", D.Dev.FlopsBF16, true},
                {"fp8", D.Dev.FlopsFP8, false},
                {"int8", D.Dev.FlopsInt8, false}};
  for (auto &Fl : Fields) {
    if (std::optional<double> X =
            R.number(*F, FlopsAt, Fl.Key, {Fl.Required, MaxFlops / Scale}))
      Fl.Value = *X * Scale;
    else if (Required && Fl.Required) {
      FieldPath Here = FlopsAt.field(Fl.Key);
      R.fail(Here, "required field is missing");
    }
  }
}

std::optional<DeviceDraft> readDevice(ClusterReader &R, const JSONValue &V,
                                      const FieldPath &At) {
  const JSONObject *O = R.objectAt(V, At);
  if (!O)
    return std::nullopt;
  R.knownKeys(*O, At, DeviceKeys);

  DeviceDraft D;
  FieldPath KindAt = At.field("kind"), PresetAt = At.field("preset");
  std::optional<llvm::StringRef> Preset = R.nonEmptyString(*O, At, "preset");
  std::optional<llvm::StringRef> Kind = R.nonEmptyString(*O, At, "kind");
  if (R.failed())
    return std::nullopt;
  if (Kind && !Kind->equals_insensitive("gpu") &&
      !Kind->equals_insensitive("cpu")) {
    R.fail(KindAt, "unknown device kind '" + *Kind + "' (known: gpu, cpu)");
    return std::nullopt;
  }
  bool IsCPU = Kind && Kind->equals_insensitive("cpu");
  if (Preset) {
    const GPUPreset *P = findPreset(*Preset);
    if (!P) {
      R.fail(PresetAt,
             "unknown preset '" + *Preset + "' (known: " + presetList() + ")");
      return std::nullopt;
    }
    if (IsCPU) {
      R.fail(KindAt, "'cpu' contradicts preset '" + P->Name + "', a GPU");
      return std::nullopt;
    }
    D = deviceFromPreset(*P);
  } else if (!Kind) {
    R.fail(At, "give a 'preset' or a 'kind' (gpu or cpu)");
    return std::nullopt;
  } else {
    D = IsCPU ? cpuDevice(0) : customGPU();
  }
  bool Custom = !Preset;
  bool CustomGPU = Custom && !IsCPU;

  if (std::optional<llvm::StringRef> Name = R.nonEmptyString(*O, At, "name"))
    D.Dev.Name = Name->str();
  else if (CustomGPU) {
    FieldPath NameAt = At.field("name");
    R.fail(NameAt, "required field is missing");
  }
  if (std::optional<uint64_t> B =
          R.bytes(*O, At, "capacity_bytes", "memory_gib", true, MaxDeviceBytes))
    D.Dev.CapacityBytes = *B;
  else if (Custom)
    R.fail(At, "missing 'capacity_bytes' or 'memory_gib'");
  D.Reserve =
      R.bytes(*O, At, "reserve_bytes", "reserve_gib", false, MaxDeviceBytes);
  if (std::optional<double> B =
          R.quantity(*O, At, "memory_bandwidth", "memory_bandwidth_gb_s", 1e9,
                     true, MaxBandwidth))
    D.Dev.MemoryBandwidth = *B;
  else if (CustomGPU)
    R.fail(At, "missing 'memory_bandwidth' or 'memory_bandwidth_gb_s'");
  readFlops(R, *O, At, D, CustomGPU);
  if (std::optional<Link> L = readLinkField(R, *O, At, "host_link", D.HostLink))
    D.HostLink = *L;
  if (R.failed())
    return std::nullopt;
  if (D.Reserve && *D.Reserve >= D.Dev.CapacityBytes) {
    FieldPath ReserveAt =
        At.field(O->get("reserve_bytes") ? "reserve_bytes" : "reserve_gib");
    R.fail(ReserveAt, "the reserve of " + llvm::Twine(*D.Reserve) +
                          " bytes must be less than the capacity of " +
                          llvm::Twine(D.Dev.CapacityBytes) + " bytes");
    return std::nullopt;
  }
  return D;
}

/// "index" and "node" are what clusterToJSON writes; when present they must
/// agree with the device's place, so that an edited file cannot mean two
/// things.
void checkPlace(ClusterReader &R, const JSONObject &O, const FieldPath &At,
                llvm::StringRef Key, unsigned Actual) {
  if (std::optional<double> V =
          R.number(O, At, Key, {false, double(MaxDevices), /*Whole=*/true}))
    if (*V != Actual) {
      FieldPath Here = At.field(Key);
      R.fail(Here, llvm::Twine("is ") + formatNumber(*V) +
                       " but the device is " + Key + " " + llvm::Twine(Actual) +
                       " by its place in the file");
    }
}

void readNodes(ClusterReader &R, const JSONArray &Nodes, const FieldPath &At,
               ClusterDraft &D) {
  for (size_t N = 0; N < Nodes.size() && !R.failed(); ++N) {
    FieldPath NodeAt = At.index(N);
    const JSONObject *NO = R.objectAt(Nodes[N], NodeAt);
    if (!NO)
      return;
    R.knownKeys(*NO, NodeAt, {"devices", "intra_node_link"});
    D.IntraNode.push_back(
        readLinkField(R, *NO, NodeAt, "intra_node_link", std::nullopt));
    const JSONArray *Devs = R.nonEmptyArray(*NO, NodeAt, "devices", true);
    if (!Devs)
      return;
    FieldPath DevsAt = NodeAt.field("devices");
    if (D.Devices.size() + Devs->size() > MaxDevices) {
      R.fail(DevsAt, "more than " + llvm::Twine(MaxDevices) +
                         " devices in the cluster");
      return;
    }
    for (size_t I = 0; I < Devs->size() && !R.failed(); ++I) {
      FieldPath DevAt = DevsAt.index(I);
      std::optional<DeviceDraft> X = readDevice(R, (*Devs)[I], DevAt);
      if (!X)
        return;
      X->Dev.Index = D.Devices.size();
      X->Dev.Node = N;
      X->Where = R.where(DevAt);
      const JSONObject &DO = *(*Devs)[I].getAsObject();
      checkPlace(R, DO, DevAt, "index", X->Dev.Index);
      checkPlace(R, DO, DevAt, "node", X->Dev.Node);
      D.Devices.push_back(std::move(*X));
    }
    ++D.NumNodes;
  }
}

void readPairLinks(ClusterReader &R, const JSONArray &Links,
                   const FieldPath &LinksAt, ClusterDraft &D) {
  for (size_t I = 0; I < Links.size() && !R.failed(); ++I) {
    FieldPath At = LinksAt.index(I);
    const JSONObject *O = R.objectAt(Links[I], At);
    if (!O)
      return;
    llvm::SmallVector<llvm::StringLiteral, 5> Keys(std::begin(LinkKeys),
                                                   std::end(LinkKeys));
    Keys.push_back("devices");
    R.knownKeys(*O, At, Keys);
    const JSONArray *Pair = R.nonEmptyArray(*O, At, "devices", true);
    if (!Pair)
      return;
    FieldPath PairAt = At.field("devices");
    llvm::Optional<int64_t> A, B;
    if (Pair->size() == 2) {
      A = (*Pair)[0].getAsInteger();
      B = (*Pair)[1].getAsInteger();
    }
    int64_t N = D.Devices.size();
    if (!A || !B || *A < 0 || *B < 0 || *A >= N || *B >= N || *A == *B) {
      R.fail(PairAt,
             "expected two different device indices below " + llvm::Twine(N));
      return;
    }
    if (std::optional<Link> L = readLink(R, *O, At, std::nullopt))
      D.Overrides.push_back({unsigned(*A), unsigned(*B), *L});
  }
}

} // namespace

llvm::Expected<Cluster> parseClusterJSON(llvm::StringRef Text,
                                         llvm::StringRef Path) {
  // The parser bounds the nesting itself (MaxJSONNesting).
  llvm::Expected<std::unique_ptr<JSONDocument>> Doc =
      readJSONDocument(Text, Path);
  if (!Doc)
    return Doc.takeError();
  ClusterReader R(Path);
  FieldPath Root;
  const JSONObject *O = (*Doc)->root().getAsObject();
  if (!O) {
    R.expected(Root, "an object with a 'nodes' array", (*Doc)->root());
    return R.takeError();
  }
  R.knownKeys(*O, Root,
              {"name", "spec", "nodes", "inter_node_link", "links",
               "host_bytes_per_node", "host_memory_gib", "disk_bandwidth",
               "disk_bandwidth_gb_s"});
  // name and spec describe the file; the cluster's Spec is its path, which
  // is what --cluster takes to make it again.
  R.nonEmptyString(*O, Root, "name");
  R.nonEmptyString(*O, Root, "spec");

  ClusterDraft D;
  D.Spec = Path.str();
  FieldPath NodesAt = Root.field("nodes"), LinksAt = Root.field("links");
  if (const JSONArray *Nodes = R.nonEmptyArray(*O, Root, "nodes", true))
    readNodes(R, *Nodes, NodesAt, D);
  if (std::optional<Link> L =
          readLinkField(R, *O, Root, "inter_node_link", D.InterNode))
    D.InterNode = *L;
  if (const JSONArray *Links = R.nonEmptyArray(*O, Root, "links", false))
    readPairLinks(R, *Links, LinksAt, D);
  D.HostBytesPerNode = R.bytes(*O, Root, "host_bytes_per_node",
                               "host_memory_gib", false, MaxHostBytes);
  if (std::optional<double> B =
          R.quantity(*O, Root, "disk_bandwidth", "disk_bandwidth_gb_s", 1e9,
                     true, MaxBandwidth))
    D.DiskBandwidth = *B;
  if (R.failed())
    return R.takeError();
  return buildCluster(std::move(D));
}

namespace {

llvm::json::Value linkToJSON(const Link &L) {
  return llvm::json::Object{{"kind", getLinkKindName(L.Kind)},
                            {"bandwidth", L.Bandwidth},
                            {"latency_us", L.Latency * 1e6}};
}

bool sameLink(const Link &A, const Link &B) {
  return A.Kind == B.Kind && A.Bandwidth == B.Bandwidth &&
         A.Latency == B.Latency;
}

// Byte counts are written as signed integers: LLVM 14's getAsInteger does
// not read unsigned ones back, and every count here is far below 2^63.
llvm::json::Value deviceToJSON(const Device &D, const Link &HostLink) {
  return llvm::json::Object{
      {"index", D.Index},
      {"node", D.Node},
      {"kind", getDeviceKindName(D.Kind)},
      {"name", D.Name},
      {"capacity_bytes", int64_t(D.CapacityBytes)},
      {"reserve_bytes", int64_t(D.ReserveBytes)},
      {"memory_bandwidth", D.MemoryBandwidth},
      {"flops", llvm::json::Object{{"f32", D.FlopsF32},
                                   {"bf16", D.FlopsBF16},
                                   {"fp8", D.FlopsFP8},
                                   {"int8", D.FlopsInt8}}},
      {"host_link", linkToJSON(HostLink)},
  };
}

} // namespace

// Links are written compactly: per node the link of its first pair, the
// link of the first pair across nodes, and every pair that differs from
// those (e.g. PCIe between two GPU types of one node).
llvm::json::Value clusterToJSON(const Cluster &C) {
  size_t N = C.size();
  unsigned NumNodes = C.numNodes();
  std::vector<std::vector<unsigned>> Members(NumNodes);
  for (const Device &D : C.Devices)
    Members[D.Node].push_back(D.Index);

  std::vector<std::optional<Link>> Intra(NumNodes);
  llvm::json::Array Nodes;
  for (unsigned Node = 0; Node < NumNodes; ++Node) {
    llvm::json::Array Devs;
    for (unsigned I : Members[Node])
      Devs.push_back(deviceToJSON(C.Devices[I], C.HostLinks[I]));
    llvm::json::Object NodeObj{{"devices", std::move(Devs)}};
    if (Members[Node].size() > 1) {
      Intra[Node] = C.link(Members[Node][0], Members[Node][1]);
      NodeObj["intra_node_link"] = linkToJSON(*Intra[Node]);
    }
    Nodes.push_back(std::move(NodeObj));
  }

  llvm::json::Object Root{{"spec", C.Spec},
                          {"nodes", std::move(Nodes)},
                          {"host_bytes_per_node", int64_t(C.HostBytesPerNode)},
                          {"disk_bandwidth", C.DiskBandwidth}};
  std::optional<Link> Inter;
  if (NumNodes > 1 && !Members[0].empty() && !Members[1].empty()) {
    Inter = C.link(Members[0][0], Members[1][0]);
    Root["inter_node_link"] = linkToJSON(*Inter);
  }

  llvm::json::Array Pairs;
  for (unsigned A = 0; A < N; ++A) {
    for (unsigned B = A + 1; B < N; ++B) {
      unsigned NA = C.Devices[A].Node, NB = C.Devices[B].Node;
      const std::optional<Link> &Usual = NA == NB ? Intra[NA] : Inter;
      const Link &L = C.link(A, B);
      if (Usual && sameLink(*Usual, L))
        continue;
      llvm::json::Object P = *linkToJSON(L).getAsObject();
      P["devices"] = llvm::json::Array{A, B};
      Pairs.push_back(std::move(P));
    }
  }
  if (!Pairs.empty())
    Root["links"] = std::move(Pairs);
  return Root;
}

} // namespace strata::cluster
