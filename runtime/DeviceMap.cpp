//===- DeviceMap.cpp - The plan's devices on a backend's devices ----------===//

#include "runtime/DeviceMap.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace strata::runtime {

char DeviceMapError::ID;

void DeviceMapError::log(llvm::raw_ostream &OS) const { OS << Msg; }

llvm::Error checkDeviceMap(llvm::ArrayRef<unsigned> Map, unsigned PlanDevices,
                           unsigned MachineDevices, llvm::StringRef Kind) {
  auto Fail = [](std::string Msg) {
    return llvm::make_error<DeviceMapError>(std::move(Msg));
  };
  if (Map.size() != PlanDevices)
    return Fail(llvm::formatv("the device map names {0} devices but the plan "
                              "has {1}; a multi-device plan never runs on "
                              "fewer devices",
                              Map.size(), PlanDevices));
  std::vector<int> PlanDeviceOf(MachineDevices, -1);
  for (unsigned I = 0; I < Map.size(); ++I) {
    if (Map[I] >= MachineDevices)
      return Fail(llvm::formatv("{0}:{1} (for the plan's device {2}) does not "
                                "exist: this machine has {3} {0} device(s), "
                                "0 to {4}",
                                Kind, Map[I], I, MachineDevices,
                                MachineDevices ? MachineDevices - 1 : 0));
    if (PlanDeviceOf[Map[I]] >= 0)
      return Fail(llvm::formatv("{0}:{1} is given to both of the plan's "
                                "devices {2} and {3}; each needs its own",
                                Kind, Map[I], PlanDeviceOf[Map[I]], I));
    PlanDeviceOf[Map[I]] = I;
  }
  return llvm::Error::success();
}

} // namespace strata::runtime
