//===- FuzzHFConfig.cpp - libFuzzer target for config.json ----------------===//
//
// The input is a Hugging Face config.json. It is parsed as readHFConfig
// parses it (all supported model types), and an accepted configuration is
// lowered without a tensor table, as `strata inspect config.json` does when
// no weights lie beside it (with fewer layers; see reducedForLowering).
//
//===----------------------------------------------------------------------===//

#include "fuzz/ImportChecks.h"

#include "ir/import/HFConfig.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

using namespace strata;

/// Lowering without a table builds every layer's weights and ops, so its
/// time grows with layers times experts: a valid config.json may describe a
/// model of 2^24 layers, and the published ones take tens of milliseconds.
/// Every layer is lowered by the same code, so the configuration is lowered
/// with at most two layers (the dense ones DeepSeek puts first included),
/// and only when its experts are few enough to take milliseconds: the
/// fuzzer's time goes to the parser and to the shapes each layer gets.
static std::optional<import::ModelConfig>
reducedForLowering(import::ModelConfig C) {
  constexpr int64_t MaxLayers = 2;
  C.Layers = std::min(C.Layers, MaxLayers);
  if (C.MoE) {
    C.MoE->FirstDenseLayers = std::min(C.MoE->FirstDenseLayers, C.Layers);
    if (C.MoE->NumExperts + C.MoE->NumSharedExperts > 512)
      return std::nullopt;
  }
  return C;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<import::ModelConfig> C =
      import::parseHFConfig(Text, "fuzz/config.json");
  if (!C) {
    llvm::consumeError(C.takeError());
    return 0;
  }
  if (std::optional<import::ModelConfig> Small = reducedForLowering(*C))
    fuzz::lowerAndInspect(*Small, nullptr);
  return 0;
}
