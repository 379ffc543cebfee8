//===- ClusterTest.cpp - GPU presets, --cluster specs, cluster JSON -------===//
//
// Figures are checked against ../shared/HARDWARE.md (docs/cluster.md says
// which source each comes from); messages are checked whole, as users see
// them.
//
//===----------------------------------------------------------------------===//

#include "ir/cluster/Cluster.h"

#include "SafeTensorsWriter.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include "gtest/gtest.h"

using namespace strata;
using namespace strata::cluster;

namespace {

constexpr uint64_t MiB = 1024 * 1024, GiB = 1024 * MiB;

Cluster parse(llvm::StringRef Spec) {
  llvm::Expected<Cluster> C = parseClusterSpec(Spec);
  if (!C) {
    ADD_FAILURE() << Spec.str() << ": " << llvm::toString(C.takeError());
    return Cluster();
  }
  return std::move(*C);
}

std::string specError(llvm::StringRef Spec) {
  llvm::Expected<Cluster> C = parseClusterSpec(Spec);
  if (C) {
    ADD_FAILURE() << Spec.str() << " parsed";
    return "";
  }
  return llvm::toString(C.takeError());
}

std::string jsonError(llvm::StringRef Text) {
  llvm::Expected<Cluster> C = parseClusterJSON(Text, "c.json");
  if (C) {
    ADD_FAILURE() << "parsed: " << Text.str();
    return "";
  }
  return llvm::toString(C.takeError());
}

std::string toText(const Cluster &C) {
  return llvm::formatv("{0:2}", clusterToJSON(C)).str();
}

void expectLink(const Link &L, LinkKind Kind, double Bandwidth,
                double Latency) {
  EXPECT_EQ(getLinkKindName(L.Kind), getLinkKindName(Kind));
  EXPECT_DOUBLE_EQ(L.Bandwidth, Bandwidth);
  EXPECT_DOUBLE_EQ(L.Latency, Latency);
}

const char *const KnownPresets =
    "H100-80GB, H100-PCIe, H200, A100-80GB, A100-40GB, L40S, RTX4090, B200, "
    "MI300X";

TEST(ClusterTest, EveryPresetParses) {
  std::vector<std::string> Names = gpuPresetNames();
  EXPECT_EQ(llvm::join(Names, ", "), KnownPresets);
  for (const std::string &Name : Names) {
    Cluster C = parse("2x" + Name);
    ASSERT_EQ(C.size(), 2u) << Name;
    EXPECT_EQ(C.Spec, "2x" + Name);
    for (const Device &D : C.Devices) {
      EXPECT_EQ(D.Name, Name);
      EXPECT_EQ(D.Kind, DeviceKind::GPU);
      EXPECT_GT(D.usableBytes(), 20 * GiB) << Name;
      EXPECT_GT(D.MemoryBandwidth, 0) << Name;
      EXPECT_GT(D.FlopsF32, 0) << Name;
      EXPECT_GT(D.FlopsBF16, D.FlopsF32 / 2) << Name;
      EXPECT_GT(D.FlopsInt8, 0) << Name;
    }
    EXPECT_EQ(C.HostLinks.size(), 2u);
    EXPECT_EQ(C.Links.size(), 4u);
  }
}

// HARDWARE.md section 1 and the capacity paragraph below it.
TEST(ClusterTest, H100Figures) {
  Cluster C = parse("H100-80GB");
  ASSERT_EQ(C.size(), 1u);
  EXPECT_EQ(C.Spec, "1xH100-80GB");
  const Device &D = C.Devices[0];
  // 79.11 GiB as CUDA reports it [16], rounded down to a MiB.
  EXPECT_EQ(D.CapacityBytes, 81008 * MiB);
  EXPECT_EQ(D.CapacityBytes, 84943044608u);
  // CUDA context 512 MiB + cuBLAS 32 MiB; no NCCL on one GPU.
  EXPECT_EQ(D.ReserveBytes, 608 * MiB);
  EXPECT_EQ(D.MemoryBandwidth, 3.35e12);
  EXPECT_EQ(D.FlopsF32, 67e12);
  EXPECT_EQ(D.FlopsBF16, 989.5e12);
  EXPECT_EQ(D.FlopsFP8, 1979e12);
  EXPECT_EQ(D.FlopsInt8, 1979e12);
  expectLink(C.HostLinks[0], LinkKind::Host, 64e9, 10e-6);
  expectLink(C.link(0, 0), LinkKind::Local, 3.35e12, 0);
  EXPECT_EQ(C.HostBytesPerNode, 1024 * GiB);
  EXPECT_EQ(C.DiskBandwidth, 3e9);
  EXPECT_EQ(C.numNodes(), 1u);
}

TEST(ClusterTest, A100_40GBFigures) {
  Cluster C = parse("A100-40GB");
  const Device &D = C.Devices[0];
  EXPECT_EQ(D.CapacityBytes, 42298834944u); // deviceQuery [19]
  EXPECT_EQ(D.ReserveBytes, 580 * MiB);     // cuBLAS 4 MiB before Hopper
  EXPECT_EQ(D.MemoryBandwidth, 1.555e12);
  EXPECT_EQ(D.FlopsF32, 19.5e12);
  EXPECT_EQ(D.FlopsBF16, 312e12);
  EXPECT_EQ(D.FlopsFP8, 0);
  EXPECT_EQ(D.FlopsInt8, 624e12);
  expectLink(C.HostLinks[0], LinkKind::Host, 32e9, 10e-6);
}

TEST(ClusterTest, PeakFlopsByType) {
  // Copies: the parsed clusters are temporaries.
  const Device A100 = parse("A100-40GB").Devices[0];
  EXPECT_EQ(A100.peakFlops(ir::DType::F32), 19.5e12);
  EXPECT_EQ(A100.peakFlops(ir::DType::F64), 19.5e12);
  EXPECT_EQ(A100.peakFlops(ir::DType::F16), 312e12);
  EXPECT_EQ(A100.peakFlops(ir::DType::BF16), 312e12);
  EXPECT_EQ(A100.peakFlops(ir::DType::F8E4M3), 312e12); // no fp8: bf16
  EXPECT_EQ(A100.peakFlops(ir::DType::Q4_K), 624e12);
  EXPECT_EQ(A100.peakFlops(ir::DType::I8), 624e12);
  const Device H100 = parse("H100").Devices[0];
  EXPECT_EQ(H100.peakFlops(ir::DType::F8E4M3), 1979e12);
  const Device CPU = parse("cpu:1x1MiB").Devices[0];
  EXPECT_EQ(CPU.peakFlops(ir::DType::Q8_0), 50e9); // no int8: bf16
}

TEST(ClusterTest, EightH100OnOneNode) {
  Cluster C = parse("8xH100-80GB");
  ASSERT_EQ(C.size(), 8u);
  EXPECT_EQ(C.numNodes(), 1u);
  for (unsigned A = 0; A < 8; ++A) {
    EXPECT_EQ(C.Devices[A].Index, A);
    EXPECT_EQ(C.Devices[A].Node, 0u);
    // 512 MiB context + 32 MiB cuBLAS + 1152 MiB NCCL.
    EXPECT_EQ(C.Devices[A].ReserveBytes, 1760 * MiB);
    for (unsigned B = 0; B < 8; ++B) {
      if (A == B)
        expectLink(C.link(A, B), LinkKind::Local, 3.35e12, 0);
      else
        expectLink(C.link(A, B), LinkKind::NVLink, 450e9, 2e-6);
    }
  }
}

TEST(ClusterTest, TwoNodesOfEight) {
  Cluster C = parse("2x8xH100-80GB");
  ASSERT_EQ(C.size(), 16u);
  EXPECT_EQ(C.numNodes(), 2u);
  EXPECT_EQ(C.Spec, "2x8xH100-80GB");
  for (unsigned I = 0; I < 16; ++I)
    EXPECT_EQ(C.Devices[I].Node, I / 8);
  expectLink(C.link(0, 7), LinkKind::NVLink, 450e9, 2e-6);
  expectLink(C.link(8, 15), LinkKind::NVLink, 450e9, 2e-6);
  expectLink(C.link(0, 8), LinkKind::Network, 50e9, 5e-6);
  expectLink(C.link(15, 3), LinkKind::Network, 50e9, 5e-6);
}

TEST(ClusterTest, MixedTypesOnOneNode) {
  Cluster C = parse("2xH100-80GB,2xA100-40GB");
  ASSERT_EQ(C.size(), 4u);
  EXPECT_EQ(C.numNodes(), 1u);
  EXPECT_EQ(C.Spec, "2xH100-80GB,2xA100-40GB");
  EXPECT_EQ(C.Devices[2].Name, "A100-40GB");
  expectLink(C.link(0, 1), LinkKind::NVLink, 450e9, 2e-6);
  expectLink(C.link(2, 3), LinkKind::NVLink, 300e9, 2e-6);
  // Across types: PCIe at the slower host link (Gen4 against Gen5).
  expectLink(C.link(0, 2), LinkKind::PCIe, 32e9, 10e-6);
  expectLink(C.link(3, 1), LinkKind::PCIe, 32e9, 10e-6);
  // PCIe-only parts talk over PCIe even when alike.
  Cluster L = parse("2xL40S");
  expectLink(L.link(0, 1), LinkKind::PCIe, 32e9, 10e-6);
  Cluster P = parse("2xH100-PCIe");
  expectLink(P.link(0, 1), LinkKind::PCIe, 64e9, 10e-6);
}

TEST(ClusterTest, NodeTermsStartNodes) {
  Cluster C = parse("2x8xH100-80GB,4xA100-80GB");
  ASSERT_EQ(C.size(), 20u);
  EXPECT_EQ(C.numNodes(), 3u);
  EXPECT_EQ(C.Devices[16].Node, 2u);
  EXPECT_EQ(C.Spec, "2x8xH100-80GB,1x4xA100-80GB");
  expectLink(C.link(16, 19), LinkKind::NVLink, 300e9, 2e-6);
  expectLink(C.link(0, 16), LinkKind::Network, 50e9, 5e-6);
  // One node: the node count is not written.
  EXPECT_EQ(parse("1x8xH100-80GB").Spec, "8xH100-80GB");
}

TEST(ClusterTest, CPUVirtualDevices) {
  Cluster C = parse("cpu:4x64MiB");
  ASSERT_EQ(C.size(), 4u);
  EXPECT_EQ(C.Spec, "cpu:4x64MiB");
  EXPECT_EQ(C.numNodes(), 1u);
  for (const Device &D : C.Devices) {
    EXPECT_EQ(D.Kind, DeviceKind::CPU);
    EXPECT_EQ(D.Name, "cpu");
    EXPECT_EQ(D.CapacityBytes, 67108864u);
    EXPECT_EQ(D.ReserveBytes, 0u);
    EXPECT_EQ(D.usableBytes(), 67108864u);
    EXPECT_EQ(D.MemoryBandwidth, 20e9);
    EXPECT_EQ(D.FlopsF32, 50e9);
  }
  expectLink(C.link(0, 1), LinkKind::Host, 10e9, 1e-6);
  expectLink(C.link(2, 2), LinkKind::Local, 20e9, 0);
  expectLink(C.HostLinks[3], LinkKind::Host, 10e9, 1e-6);
  EXPECT_EQ(C.HostBytesPerNode, 0u);

  EXPECT_EQ(parse("cpu:2x1048576").Spec, "cpu:2x1MiB");
  EXPECT_EQ(parse("cpu:1x1000").Devices[0].CapacityBytes, 1000u);
  EXPECT_EQ(parse("cpu:1x1000").Spec, "cpu:1x1000B");
  EXPECT_EQ(parse("cpu:2x512KiB").Devices[1].CapacityBytes, 524288u);
  EXPECT_EQ(parse("cpu:1x1GiB").Devices[0].CapacityBytes, GiB);
  Cluster Mixed = parse("cpu:1x64MiB,cpu:2x128MiB");
  EXPECT_EQ(Mixed.Devices[2].CapacityBytes, 128 * MiB);
  EXPECT_EQ(Mixed.Spec, "cpu:1x64MiB,cpu:2x128MiB");
}

TEST(ClusterTest, NamesAreCaseInsensitive) {
  EXPECT_EQ(parse("8xh100-80gb").Spec, "8xH100-80GB");
  EXPECT_EQ(parse("4XRTX4090").Spec, "4xRTX4090");
  EXPECT_EQ(parse("h100").Spec, "1xH100-80GB");
  EXPECT_EQ(parse("2xa100").Spec, "2xA100-80GB");
  EXPECT_EQ(parse("mi300x").Devices[0].Name, "MI300X");
  EXPECT_EQ(parse("CPU:2x64mib").Spec, "cpu:2x64MiB");
  EXPECT_EQ(parse(" 2xH200 , 2xB200 ").Spec, "2xH200,2xB200");
}

TEST(ClusterTest, CanonicalSpecRoundTrips) {
  for (const char *Spec :
       {"H100", "8xH100-80GB", "2x8xH100-80GB", "2xH100-80GB,2xA100-40GB",
        "cpu:4x64MiB", "cpu:3x1536KiB", "1x4xl40s,2x2xb200,RTX4090",
        "4xH100-PCIe,cpu:2x1GiB"}) {
    Cluster C = parse(Spec);
    Cluster Again = parse(C.Spec);
    EXPECT_EQ(Again.Spec, C.Spec) << Spec;
    EXPECT_EQ(toText(Again), toText(C)) << Spec;
  }
}

TEST(ClusterTest, BadSpecs) {
  EXPECT_EQ(specError("H300"),
            std::string("unknown GPU 'H300' in --cluster 'H300' (known: ") +
                KnownPresets + ")");
  EXPECT_EQ(specError("0xH100-80GB"),
            "device count 0 in --cluster '0xH100-80GB' (must be 1 to 4096)");
  EXPECT_EQ(specError("5000xH100"),
            "device count 5000 in --cluster '5000xH100' (must be 1 to 4096)");
  EXPECT_EQ(specError("99999999999999999999999xH100"),
            "device count 99999999999999999999999 in --cluster "
            "'99999999999999999999999xH100' (must be 1 to 4096)");
  EXPECT_EQ(specError("0x8xH100"),
            "node count 0 in --cluster '0x8xH100' (must be 1 to 4096)");
  EXPECT_EQ(specError("2x4000xH100,8xH200"),
            "--cluster '2x4000xH100,8xH200' has 8008 devices (at most 4096)");
  EXPECT_EQ(specError("2x2x2xH100"),
            "too many counts in '2x2x2xH100' in --cluster '2x2x2xH100' (use "
            "NxGPU for N devices, NxMxGPU for N nodes of M)");
  EXPECT_EQ(specError("8x"), "missing GPU name after '8x' in --cluster '8x'");
  EXPECT_EQ(specError(""),
            "empty --cluster: give a GPU preset (e.g. 8xH100-80GB), CPU "
            "virtual devices (cpu:4x64MiB) or a .json file");
  EXPECT_EQ(specError("  "), specError(""));
  EXPECT_EQ(specError("H100,,A100"), "empty term in --cluster 'H100,,A100'");
  EXPECT_EQ(specError("cpu:4x64XB"),
            "cpu:4x64XB: unknown size unit 'XB' (use B, KiB, MiB, GiB or TiB)");
  EXPECT_EQ(specError("cpu:4x64MB"),
            "cpu:4x64MB: unknown size unit 'MB' (use B, KiB, MiB, GiB or TiB)");
  EXPECT_EQ(specError("cpu:4x0MiB"), "cpu:4x0MiB: size must be positive");
  EXPECT_EQ(specError("cpu:4x32TiB"),
            "cpu:4x32TiB: size must be at most 16TiB");
  EXPECT_EQ(specError("cpu:4x1.5GiB"),
            "cpu:4x1.5GiB: size must be a whole number of its unit (e.g. "
            "1536MiB, not 1.5GiB)");
  EXPECT_EQ(specError("cpu:0x64MiB"),
            "cpu:0x64MiB: device count 0 (must be 1 to 1024)");
  EXPECT_EQ(specError("cpu:2000x64MiB"),
            "cpu:2000x64MiB: device count 2000 (must be 1 to 1024)");
  EXPECT_EQ(specError("cpu:64MiB"),
            "cpu:64MiB: expected cpu:NxSIZE, e.g. cpu:4x64MiB");
  EXPECT_EQ(specError("detect"),
            "--cluster detect is answered by the strata tool, which asks the "
            "CUDA runtime; parseClusterSpec takes presets, cpu:NxSIZE or a "
            ".json file");
  EXPECT_EQ(specError("2xH100,c.json"),
            "a JSON cluster file must be the whole --cluster value, not part "
            "of '2xH100,c.json'");
}

const char *const ExampleJSON = R"({
  "name": "two boxes",
  "nodes": [
    {
      "devices": [
        {"preset": "H100-80GB"},
        {"preset": "h100", "memory_bandwidth_gb_s": 3000, "reserve_gib": 2}
      ]
    },
    {
      "devices": [
        {"kind": "gpu", "name": "X1", "memory_gib": 48, "memory_bandwidth_gb_s": 900,
         "tflops": {"f32": 40, "bf16": 300}},
        {"kind": "gpu", "name": "X1", "capacity_bytes": 51539607552,
         "memory_bandwidth": 9e11, "flops": {"f32": 4e13, "bf16": 3e14, "int8": 6e14},
         "host_link": {"bandwidth_gb_s": 25}}
      ],
      "intra_node_link": {"kind": "nvlink", "bandwidth_gb_s": 100, "latency_us": 3}
    }
  ],
  "inter_node_link": {"bandwidth_gb_s": 25, "latency_us": 8},
  "links": [{"devices": [1, 2], "kind": "pcie", "bandwidth": 1e10, "latency_us": 20}],
  "host_memory_gib": 512,
  "disk_bandwidth_gb_s": 7
})";

TEST(ClusterTest, JSONFile) {
  test::TempDir Dir;
  std::string Path = Dir.file("cluster.json");
  test::writeFile(Path, ExampleJSON);
  Cluster C = parse(Path);
  ASSERT_EQ(C.size(), 4u);
  EXPECT_EQ(C.Spec, Path);
  EXPECT_EQ(C.numNodes(), 2u);

  const Device &H0 = C.Devices[0], &H1 = C.Devices[1];
  EXPECT_EQ(H0.CapacityBytes, 81008 * MiB);
  EXPECT_EQ(H0.ReserveBytes, 1760 * MiB); // several GPUs: NCCL counted
  EXPECT_EQ(H1.Name, "H100-80GB");
  EXPECT_EQ(H1.MemoryBandwidth, 3e12);
  EXPECT_EQ(H1.ReserveBytes, 2 * GiB);
  EXPECT_EQ(H1.FlopsBF16, 989.5e12);

  const Device &X0 = C.Devices[2], &X1 = C.Devices[3];
  EXPECT_EQ(X0.Name, "X1");
  EXPECT_EQ(X0.Node, 1u);
  EXPECT_EQ(X0.CapacityBytes, 48 * GiB);
  EXPECT_EQ(X1.CapacityBytes, 48 * GiB);
  EXPECT_EQ(X0.MemoryBandwidth, 900e9);
  EXPECT_EQ(X0.FlopsF32, 40e12);
  EXPECT_EQ(X0.FlopsBF16, 300e12);
  EXPECT_EQ(X0.FlopsInt8, 0);
  EXPECT_EQ(X1.FlopsInt8, 600e12);
  EXPECT_EQ(X0.ReserveBytes, 1760 * MiB); // custom: Hopper's reserve

  expectLink(C.link(0, 1), LinkKind::NVLink, 450e9, 2e-6);
  expectLink(C.link(2, 3), LinkKind::NVLink, 100e9, 3e-6);
  expectLink(C.link(0, 3), LinkKind::Network, 25e9, 8e-6);
  expectLink(C.link(1, 2), LinkKind::PCIe, 1e10, 20e-6);
  expectLink(C.link(2, 1), LinkKind::PCIe, 1e10, 20e-6);
  expectLink(C.HostLinks[2], LinkKind::Host, 32e9, 10e-6);
  expectLink(C.HostLinks[3], LinkKind::Host, 25e9, 10e-6);
  EXPECT_EQ(C.HostBytesPerNode, 512 * GiB);
  EXPECT_EQ(C.DiskBandwidth, 7e9);

  EXPECT_EQ(specError(Dir.file("missing.json")),
            "cannot read cluster file '" + Dir.file("missing.json") +
                "': No such file or directory");
}

TEST(ClusterTest, JSONDefaults) {
  // One GPU: no NCCL in the reserve; B200's context is 768 MiB.
  llvm::Expected<Cluster> B = parseClusterJSON(
      R"({"nodes": [{"devices": [{"preset": "B200"}]}]})", "b.json");
  ASSERT_TRUE(bool(B)) << llvm::toString(B.takeError());
  EXPECT_EQ(B->Spec, "b.json");
  EXPECT_EQ(B->Devices[0].ReserveBytes, 800 * MiB);
  EXPECT_EQ(B->HostBytesPerNode, 1024 * GiB);
  // CPU devices need only a capacity.
  llvm::Expected<Cluster> C = parseClusterJSON(
      R"({"nodes": [{"devices": [{"kind": "cpu", "capacity_bytes": 4096},
                                 {"kind": "cpu", "memory_gib": 0.5}]}]})",
      "c.json");
  ASSERT_TRUE(bool(C)) << llvm::toString(C.takeError());
  EXPECT_EQ(C->Devices[1].CapacityBytes, GiB / 2);
  EXPECT_EQ(C->Devices[0].ReserveBytes, 0u);
  expectLink(C->link(0, 1), LinkKind::Host, 10e9, 1e-6);
  EXPECT_EQ(C->HostBytesPerNode, 0u);
}

TEST(ClusterTest, JSONErrors) {
  auto Device = [](llvm::StringRef Fields) {
    return (R"({"nodes": [{"devices": [{"preset": "H100"}, {"preset": "H100"}, {)" +
            Fields + "}]}]}")
        .str();
  };
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "memory_gib": "80")")),
            "c.json: nodes[0].devices[2].memory_gib: expected a number, got "
            "\"80\"");
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "memory_gb": 80)")),
            "c.json: nodes[0].devices[2]: unknown key 'memory_gb' (known: "
            "capacity_bytes, flops, host_link, index, kind, memory_bandwidth, "
            "memory_bandwidth_gb_s, memory_gib, name, node, preset, "
            "reserve_bytes, reserve_gib, tflops)");
  EXPECT_EQ(jsonError(Device(R"("preset": "H300")")),
            std::string("c.json: nodes[0].devices[2].preset: unknown preset "
                        "'H300' (known: ") +
                KnownPresets + ")");
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "memory_gib": -1)")),
            "c.json: nodes[0].devices[2].memory_gib: must be positive");
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "memory_gib": 1e9)")),
            "c.json: nodes[0].devices[2].memory_gib: must be at most 16384");
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "capacity_bytes": 1.5)")),
            "c.json: nodes[0].devices[2].capacity_bytes: expected a whole "
            "number");
  EXPECT_EQ(
      jsonError(
          Device(R"("preset": "H100", "memory_gib": 80, "capacity_bytes": 1)")),
      "c.json: nodes[0].devices[2]: give capacity_bytes or memory_gib, not "
      "both");
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "reserve_gib": 80)")),
            "c.json: nodes[0].devices[2].reserve_gib: the reserve of "
            "85899345920 bytes must be less than the capacity of 84943044608 "
            "bytes");
  EXPECT_EQ(jsonError(Device(R"("kind": "gpu", "name": "X", "memory_gib": 8,
                                "memory_bandwidth_gb_s": 100)")),
            "c.json: nodes[0].devices[2]: missing 'flops' or 'tflops'");
  EXPECT_EQ(jsonError(Device(R"("kind": "gpu", "name": "X", "memory_gib": 8,
                                "memory_bandwidth_gb_s": 100,
                                "tflops": {"bf16": 1})")),
            "c.json: nodes[0].devices[2].tflops.f32: required field is "
            "missing");
  EXPECT_EQ(jsonError(Device(R"("kind": "tpu")")),
            "c.json: nodes[0].devices[2].kind: unknown device kind 'tpu' "
            "(known: gpu, cpu)");
  EXPECT_EQ(jsonError(Device(R"("name": "X")")),
            "c.json: nodes[0].devices[2]: give a 'preset' or a 'kind' (gpu or "
            "cpu)");
  EXPECT_EQ(jsonError(Device(R"("preset": "H100", "index": 5)")),
            "c.json: nodes[0].devices[2].index: is 5 but the device is index 2 "
            "by its place in the file");
  EXPECT_EQ(
      jsonError(Device(R"("preset": "H100", "host_link": {"latency_us": -2})")),
      "c.json: nodes[0].devices[2].host_link.latency_us: must not be "
      "negative");
  // The derived reserve (608 MiB context and cuBLAS, 1152 MiB NCCL) must
  // leave room.
  EXPECT_EQ(jsonError(Device(R"("kind": "gpu", "name": "X", "memory_gib": 1,
                                "memory_bandwidth_gb_s": 100,
                                "tflops": {"f32": 1, "bf16": 2})")),
            "c.json: nodes[0].devices[2]: the reserve of 1845493760 bytes "
            "leaves nothing of the capacity of 1073741824 bytes (give "
            "reserve_bytes)");

  EXPECT_EQ(jsonError(R"({"name": "x"})"),
            "c.json: nodes: required field is missing");
  EXPECT_EQ(jsonError(R"({"nodes": []})"),
            "c.json: nodes: expected a non-empty array, got an empty array");
  EXPECT_EQ(jsonError(R"([1])"),
            "c.json: expected an object with a 'nodes' array, got an array");
  EXPECT_EQ(jsonError(R"({"nodes": [{"devices": [{"preset": "H100"}]}],
                          "inter_node_link": {"kind": "infiniband"}})"),
            "c.json: inter_node_link.kind: unknown link kind 'infiniband' "
            "(known: nvlink, pcie, network, host; 'local' is only a device's "
            "link to itself)");
  EXPECT_EQ(
      jsonError(
          R"({"nodes": [{"devices": [{"preset": "H100"}, {"preset": "H100"}],
                          "intra_node_link": {"kind": "nvlink", "bandwidth_gb_s": 450}}]})"),
      "c.json: nodes[0].intra_node_link.latency_us: required field is "
      "missing");
  EXPECT_EQ(
      jsonError(
          R"({"nodes": [{"devices": [{"preset": "H100"}, {"preset": "H100"}]}],
                          "links": [{"devices": [1, 1], "kind": "pcie",
                                     "bandwidth": 1, "latency_us": 1}]})"),
      "c.json: links[0].devices: expected two different device indices "
      "below 2");
  EXPECT_EQ(jsonError(R"({"nodes": [{"devices": [{"preset": "H100"}]}],
                          "disk_bandwidth_gb_s": 0})"),
            "c.json: disk_bandwidth_gb_s: must be positive");
  EXPECT_EQ(jsonError(R"({"nodes": [)"),
            "c.json:1:11: invalid JSON: Unexpected EOF");
}

// The same unbounded recursion of json::parse that fuzzing found in the plan
// and model readers: the parser refuses the level too many, where it opens
// (byte 265, column 266).
TEST(ClusterTest, DeepNestingIsAnErrorNotACrash) {
  EXPECT_EQ(jsonError(R"({"nodes": )" + std::string(4 << 20, '[')),
            "c.json:1:266: invalid JSON: arrays and objects nest deeper than "
            "256 levels");
}

TEST(ClusterTest, JSONOutputIsDeterministicAndReadsBack) {
  test::TempDir Dir;
  std::string Path = Dir.file("example.json");
  test::writeFile(Path, ExampleJSON);
  for (const std::string &Spec :
       {std::string("2x8xH100-80GB"), std::string("2xH100-80GB,2xA100-40GB"),
        std::string("cpu:4x64MiB"), std::string("1x2xH200,cpu:2x1MiB"), Path}) {
    Cluster C = parse(Spec);
    std::string Text = toText(C);
    EXPECT_EQ(Text, toText(parse(Spec))) << Spec;
    llvm::Expected<Cluster> Back = parseClusterJSON(Text, "out.json");
    ASSERT_TRUE(bool(Back)) << Spec << ": " << llvm::toString(Back.takeError());
    Back->Spec = C.Spec;
    EXPECT_EQ(toText(*Back), Text) << Spec;
    ASSERT_EQ(Back->Links.size(), C.Links.size());
    for (size_t I = 0; I < C.Links.size(); ++I) {
      EXPECT_EQ(Back->Links[I].Kind, C.Links[I].Kind) << Spec << " " << I;
      EXPECT_EQ(Back->Links[I].Bandwidth, C.Links[I].Bandwidth);
      EXPECT_EQ(Back->Links[I].Latency, C.Links[I].Latency);
    }
  }
}

TEST(ClusterTest, JSONOutputShape) {
  Cluster C = parse("2xH100-80GB,1xA100-40GB");
  llvm::json::Value V = clusterToJSON(C);
  const llvm::json::Object *O = V.getAsObject();
  ASSERT_TRUE(O);
  EXPECT_EQ(O->getString("spec"), llvm::StringRef("2xH100-80GB,1xA100-40GB"));
  EXPECT_EQ(O->getInteger("host_bytes_per_node"), int64_t(1024 * GiB));
  EXPECT_EQ(O->getNumber("disk_bandwidth"), 3e9);
  const llvm::json::Object *Node = (*O->getArray("nodes"))[0].getAsObject();
  const llvm::json::Object *Dev = (*Node->getArray("devices"))[2].getAsObject();
  EXPECT_EQ(Dev->getInteger("index"), int64_t(2));
  EXPECT_EQ(Dev->getInteger("node"), int64_t(0));
  EXPECT_EQ(Dev->getString("kind"), llvm::StringRef("gpu"));
  EXPECT_EQ(Dev->getString("name"), llvm::StringRef("A100-40GB"));
  EXPECT_EQ(Dev->getInteger("capacity_bytes"), int64_t(42298834944));
  EXPECT_EQ(Dev->getInteger("reserve_bytes"), int64_t(1732 * MiB));
  EXPECT_EQ(Dev->getObject("flops")->getNumber("int8"), 624e12);
  EXPECT_EQ(Dev->getObject("host_link")->getString("kind"),
            llvm::StringRef("host"));
  EXPECT_EQ(Node->getObject("intra_node_link")->getString("kind"),
            llvm::StringRef("nvlink"));
  // The two pairs across types differ from the node's first pair.
  const llvm::json::Array *Links = O->getArray("links");
  ASSERT_TRUE(Links);
  ASSERT_EQ(Links->size(), 2u);
  EXPECT_EQ(
      llvm::formatv("{0}", (*Links)[0]).str(),
      R"({"bandwidth":32000000000,"devices":[0,2],"kind":"pcie","latency_us":10})");
}

} // namespace
