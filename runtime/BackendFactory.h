//===- BackendFactory.h - The backend a plan's devices need -----*- C++ -*-===//
//
// A plan says what kind of device each of its devices is; the factory
// makes the backend that runs that kind on this machine, with a device for
// every device of the plan's that the device map (DeviceMap.h) puts there.
// Tools never construct a backend themselves.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_BACKENDFACTORY_H
#define STRATA_RUNTIME_BACKENDFACTORY_H

#include "runtime/Backend.h"

#include <vector>

namespace strata::runtime {

struct BackendOptions {
  /// Kernel threads per device; 0: the backend's default (on the CPU, this
  /// machine's cores shared among the devices).
  unsigned ThreadsPerDevice = 0;
  /// Plan device I runs on this machine's device DeviceMap[I]; empty: on
  /// device I.
  std::vector<unsigned> DeviceMap;
};

/// The backend for P's devices:
/// - CPU plans run on CPU virtual devices, as many as the plan has, each
///   capped at what the plan lets its device use (capacity less reserve);
///   with a device map, virtual device DeviceMap[I] gets plan device I's
///   cap.
/// - GPU plans need the CUDA backend, which this build does not have yet.
/// A plan that mixes kinds is refused; so is a device map that does not
/// fit (a DeviceMapError).
llvm::Expected<std::unique_ptr<Backend>> createBackend(const plan::Plan &P,
                                                       const BackendOptions &O);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_BACKENDFACTORY_H
