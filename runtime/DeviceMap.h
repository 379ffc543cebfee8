//===- DeviceMap.h - The plan's devices on a backend's devices --*- C++ -*-===//
//
// A plan numbers its devices 0 to N-1; a backend numbers this machine's.
// A device map says which backend device runs each plan device (`strata
// run --devices`): the executor translates every allocation, copy, step
// and report through it, so that a plan runs on any N distinct devices of
// its kind.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_DEVICEMAP_H
#define STRATA_RUNTIME_DEVICEMAP_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace strata::runtime {

/// A device map that does not fit the plan or the machine: a caller's
/// mistake (tools report it as a command-line error).
class DeviceMapError : public llvm::ErrorInfo<DeviceMapError> {
public:
  static char ID;
  explicit DeviceMapError(std::string Msg) : Msg(std::move(Msg)) {}
  void log(llvm::raw_ostream &OS) const override;
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  std::string Msg;
};

/// Map[i] is the backend device of plan device i. A DeviceMapError unless
/// Map has one entry per plan device, all distinct and below
/// MachineDevices (Kind names those devices in messages: "cpu").
llvm::Error checkDeviceMap(llvm::ArrayRef<unsigned> Map, unsigned PlanDevices,
                           unsigned MachineDevices, llvm::StringRef Kind);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_DEVICEMAP_H
