//===- TextReport.cpp - A plan's report as terminal tables ----------------===//

#include "tools/strata/viz/TextReport.h"
#include "tools/strata/viz/PlanSummary.h"
#include "tools/strata/viz/ScheduleReport.h"

#include "ir/Units.h"
#include "ir/plan/Plan.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::viz {

using ir::formatBytes;
using ir::formatCount;

void printTextReport(llvm::raw_ostream &OS, const plan::Plan &P,
                     llvm::StringRef PlanPath) {
  OS << "model      " << P.Model.Name << " (" << formatCount(P.Model.Parameters)
     << " parameters, " << formatBytes(P.Model.WeightBytes) << ")\n";
  OS << "cluster    " << P.ClusterSpec << " (" << P.Devices.size()
     << " devices)\n";
  OS << "strategy   " << P.Strategy
     << (P.MultiDevice ? " (multi-device)"
                       : " (one device: no copies or "
                         "collectives)")
     << "; KV " << P.Opts.KVStrategy << "; batch " << P.Opts.Batch
     << ", context " << P.Opts.Context << "\n";
  if (!PlanPath.empty())
    OS << "plan       " << PlanPath << " (format " << P.Version
       << ", fingerprint " << P.Model.Fingerprint.substr(0, 16) << "...)\n";

  Summary Sum = summarise(P);
  OS << "\nweights per device\n";
  for (const auto &[W, S] : Sum)
    if (S.Tensors)
      OS << llvm::formatv("  {0,-8} {1,7} tensors {2,12}\n", W, S.Tensors,
                          formatBytes(S.WeightBytes));
  OS << "\nlayers per device\n";
  for (const auto &[W, S] : Sum)
    if (!S.Layers.empty())
      OS << llvm::formatv("  {0,-8} {1}\n", W, formatRanges(S.Layers));
  OS << "\nKV cache per device\n";
  for (const auto &[W, S] : Sum)
    if (S.KVBuffers)
      OS << llvm::formatv("  {0,-8} {1,7} buffers {2,12}  layers {3}\n", W,
                          S.KVBuffers, formatBytes(S.KVBytes),
                          formatRanges(S.KVLayers));
  OS << "\nmemory per device\n";
  OS << llvm::formatv(
      "  {0,-8} {1,10} {2,10} {3,11} {4,10} {5,10} {6,10} {7,6}\n", "device",
      "weights", "KV cache", "arena", "reserve", "free", "capacity", "fill");
  for (const plan::Device &D : P.Devices) {
    uint64_t Used = D.CapacityBytes - std::min(D.CapacityBytes, freeBytes(D));
    OS << llvm::formatv(
        "  {0,-8} {1,10} {2,10} {3,11} {4,10} {5,10} {6,10} {7,5:f1}%\n",
        deviceName(P, D.Index), formatBytes(D.WeightBytes),
        formatBytes(D.KVCacheBytes), formatBytes(D.ActivationBytes),
        formatBytes(D.ReserveBytes), formatBytes(freeBytes(D)),
        formatBytes(D.CapacityBytes),
        100.0 * static_cast<double>(Used) /
            static_cast<double>(std::max<uint64_t>(1, D.CapacityBytes)));
  }
  OS << "\nfallbacks: " << (P.Fallbacks.empty() ? "none" : "") << "\n";
  for (const plan::Fallback &F : P.Fallbacks)
    OS << "  " << plan::getKindName(F.Kind) << " " << F.Buffer << ": "
       << F.Reason << "\n";
  OS << "\npredicted (cost model)\n";
  OS << llvm::formatv("  prefill  {0:f3} ms for {1} tokens x {2} sequence{3}\n",
                      P.Predicted.PrefillSeconds * 1e3, P.Opts.PrefillTokens,
                      P.Opts.Batch, P.Opts.Batch == 1 ? "" : "s");
  OS << llvm::formatv("  decode   {0:f3} ms per step, {1:f1} tokens/s\n",
                      P.Predicted.DecodeSecondsPerStep * 1e3,
                      P.Predicted.DecodeTokensPerSecond);
  for (const plan::Device &D : P.Devices)
    if (D.DecodeSeconds > 0)
      OS << llvm::formatv("  {0,-8} prefill {1:f3} ms, decode {2:f3} ms\n",
                          deviceName(P, D.Index), D.PrefillSeconds * 1e3,
                          D.DecodeSeconds * 1e3);
  OS << "\n";
  printScheduleReport(OS, P);
}

} // namespace strata::viz
