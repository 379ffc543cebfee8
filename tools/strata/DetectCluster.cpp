//===- DetectCluster.cpp - --cluster detect -------------------------------===//
//
// Uses the CUDA runtime API only (linked statically): on a machine without
// a driver every call returns an error instead of the program failing to
// start, and the error is reported.
//
//===----------------------------------------------------------------------===//

#include "DetectCluster.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#ifdef STRATA_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace strata::tool {

static llvm::Error detectError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "--cluster detect: " + Msg);
}

#ifndef STRATA_HAVE_CUDA

llvm::Expected<cluster::Cluster> detectCluster() {
  return detectError("this strata was built without the CUDA toolkit, so it "
                     "cannot ask for CUDA devices; describe the cluster with "
                     "a preset or a JSON file");
}

#else

/// The preset a device's name points to, or "" for none.
static std::string presetFor(llvm::StringRef Name, size_t TotalBytes) {
  std::string N = Name.lower();
  auto Has = [&](llvm::StringRef S) { return llvm::StringRef(N).contains(S); };
  if (Has("h100"))
    return Has("pcie") ? "H100-PCIe" : "H100-80GB";
  if (Has("h200"))
    return "H200";
  if (Has("a100"))
    return TotalBytes > (size_t(50) << 30) ? "A100-80GB" : "A100-40GB";
  if (Has("l40s"))
    return "L40S";
  if (Has("4090"))
    return "RTX4090";
  if (Has("b200"))
    return "B200";
  return "";
}

llvm::Expected<cluster::Cluster> detectCluster() {
  int Count = 0;
  if (cudaError_t E = cudaGetDeviceCount(&Count); E != cudaSuccess)
    return detectError(llvm::Twine("no CUDA devices: cudaGetDeviceCount: ") +
                       cudaGetErrorString(E));
  if (Count == 0)
    return detectError("no CUDA devices on this machine");

  llvm::json::Array Devices, Links;
  for (int D = 0; D < Count; ++D) {
    cudaDeviceProp Prop;
    size_t Free = 0, Total = 0;
    int Clock = 0, Bus = 0;
    if (cudaError_t E = cudaGetDeviceProperties(&Prop, D); E != cudaSuccess)
      return detectError("device " + llvm::Twine(D) + ": " +
                         cudaGetErrorString(E));
    if (cudaError_t E = cudaSetDevice(D); E != cudaSuccess)
      return detectError("device " + llvm::Twine(D) + ": " +
                         cudaGetErrorString(E));
    if (cudaError_t E = cudaMemGetInfo(&Free, &Total); E != cudaSuccess)
      return detectError("device " + llvm::Twine(D) +
                         ": cudaMemGetInfo: " + cudaGetErrorString(E));
    cudaDeviceGetAttribute(&Clock, cudaDevAttrMemoryClockRate, D);
    cudaDeviceGetAttribute(&Bus, cudaDevAttrGlobalMemoryBusWidth, D);
    // Double data rate: two transfers per clock over the whole bus.
    double Bandwidth = 2.0 * Clock * 1e3 * Bus / 8;
    llvm::json::Object Dev;
    std::string Preset = presetFor(Prop.name, Total);
    if (!Preset.empty()) {
      Dev["preset"] = Preset;
    } else {
      // Nominal: 128 f32 FLOP per multiprocessor per cycle at 1.5 GHz, four
      // times that on tensor cores. A measured profile should replace it.
      double F32 = Prop.multiProcessorCount * 128.0 * 1.5e9;
      Dev["kind"] = "gpu";
      Dev["name"] = std::string(Prop.name);
      Dev["flops"] = llvm::json::Object{{"f32", F32}, {"bf16", 4 * F32}};
    }
    Dev["capacity_bytes"] = static_cast<int64_t>(Total);
    if (Bandwidth > 0)
      Dev["memory_bandwidth"] = Bandwidth;
    Devices.push_back(std::move(Dev));
  }
  // Devices without peer access copy through host memory.
  for (int A = 0; A < Count; ++A)
    for (int B = A + 1; B < Count; ++B) {
      int Peer = 0;
      cudaDeviceCanAccessPeer(&Peer, A, B);
      if (!Peer)
        Links.push_back(llvm::json::Object{{"devices", llvm::json::Array{A, B}},
                                           {"kind", "pcie"},
                                           {"bandwidth_gb_s", 16},
                                           {"latency_us", 20}});
    }
  llvm::json::Object Top{{"name", "detected"},
                         {"nodes", llvm::json::Array{llvm::json::Object{
                                       {"devices", std::move(Devices)}}}}};
  if (!Links.empty())
    Top["links"] = std::move(Links);
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  OS << llvm::json::Value(std::move(Top));
  return cluster::parseClusterJSON(OS.str(), "detect");
}

#endif

llvm::Expected<cluster::Cluster> makeCluster(llvm::StringRef Spec) {
  return Spec == "detect" ? detectCluster() : cluster::parseClusterSpec(Spec);
}

} // namespace strata::tool
