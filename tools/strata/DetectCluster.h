//===- DetectCluster.h - --cluster detect -----------------------*- C++ -*-===//

#ifndef STRATA_TOOLS_DETECTCLUSTER_H
#define STRATA_TOOLS_DETECTCLUSTER_H

#include "ir/cluster/Cluster.h"

namespace strata::tool {

/// The CUDA devices of this machine as a cluster: each one's memory as the
/// CUDA runtime reports it, its memory bandwidth from its clock and bus,
/// peak FLOP/s from the matching preset (estimated from its multiprocessors
/// otherwise), and a host-staged link between devices without peer access.
/// Fails with the runtime's reason when there is no device (no driver, no
/// GPU) or when this strata was built without the CUDA toolkit.
llvm::Expected<cluster::Cluster> detectCluster();

/// What every subcommand's --cluster takes: "detect" for this machine,
/// anything else as cluster::parseClusterSpec reads it.
llvm::Expected<cluster::Cluster> makeCluster(llvm::StringRef Spec);

} // namespace strata::tool

#endif // STRATA_TOOLS_DETECTCLUSTER_H
