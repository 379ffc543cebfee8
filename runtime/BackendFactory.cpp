//===- BackendFactory.cpp - The backend a plan's devices need -------------===//

#include "runtime/BackendFactory.h"

#include "runtime/DeviceMap.h"
#include "runtime/cpu/CpuBackend.h"

#include "llvm/Support/FormatVariadic.h"

#include <numeric>

namespace strata::runtime {
namespace {

llvm::Error error(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// The device kind every device of P has.
llvm::Expected<plan::DeviceKind> getPlanDeviceKind(const plan::Plan &P) {
  if (P.Devices.empty())
    return error("the plan has no devices");
  const plan::Device &First = P.Devices.front();
  for (const plan::Device &D : P.Devices)
    if (D.Kind != First.Kind)
      return error(llvm::formatv("the plan mixes device kinds ({0} is a {1} "
                                 "device, {2} a {3} device); no backend runs "
                                 "both at once",
                                 First.Index, plan::getKindName(First.Kind),
                                 D.Index, plan::getKindName(D.Kind)));
  return First.Kind;
}

llvm::Expected<std::unique_ptr<Backend>>
createCpuBackend(const plan::Plan &P, const BackendOptions &O) {
  std::vector<unsigned> Map = O.DeviceMap;
  if (Map.empty()) {
    Map.resize(P.Devices.size());
    std::iota(Map.begin(), Map.end(), 0u);
  }
  // CPU virtual devices: as many as the plan has.
  if (llvm::Error E =
          checkDeviceMap(Map, P.Devices.size(), P.Devices.size(), "cpu"))
    return E;
  std::vector<uint64_t> Caps(P.Devices.size(), 0);
  for (const plan::Device &D : P.Devices)
    Caps[Map[D.Index]] =
        D.CapacityBytes > D.ReserveBytes ? D.CapacityBytes - D.ReserveBytes : 0;
  CpuBackend::Options CO;
  CO.ThreadsPerDevice = O.ThreadsPerDevice;
  return std::make_unique<CpuBackend>(std::move(Caps), std::move(CO));
}

} // namespace

llvm::Expected<std::unique_ptr<Backend>>
createBackend(const plan::Plan &P, const BackendOptions &O) {
  auto Kind = getPlanDeviceKind(P);
  if (!Kind)
    return Kind.takeError();
  switch (*Kind) {
  case plan::DeviceKind::CPU:
    return createCpuBackend(P, O);
  case plan::DeviceKind::GPU:
    break;
  }
  const plan::Device &D = P.Devices.front();
  return error(llvm::formatv("the plan was made for GPU devices ({0} is a "
                             "{1}) but this build has no CUDA backend yet; "
                             "compile for cpu:NxSIZE to run here",
                             D.Index, D.Name));
}

} // namespace strata::runtime
