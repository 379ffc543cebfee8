//===- FuzzHFConfig.cpp - libFuzzer target for config.json ----------------===//
//
// The input is a Hugging Face config.json. It is parsed as readHFConfig
// parses it (all supported model types), and an accepted configuration is
// lowered without a tensor table, as `strata inspect config.json` does when
// no weights lie beside it.
//
//===----------------------------------------------------------------------===//

#include "fuzz/ImportChecks.h"

#include "ir/import/HFConfig.h"

#include <cstddef>
#include <cstdint>

using namespace strata;

/// Lowering without a table builds every layer's weights and ops, so its
/// time grows with layers times experts: a valid config.json may describe a
/// model of 2^24 layers. Only small models are lowered, so that each input
/// takes milliseconds and the fuzzer's time goes to the parser; the
/// lowering itself is the same code for any size.
static bool isSmallEnoughToLower(const import::ModelConfig &C) {
  int64_t PerLayer = 1;
  if (C.MoE)
    PerLayer += C.MoE->NumExperts + C.MoE->NumSharedExperts;
  return C.Layers <= 64 && C.Layers * PerLayer <= 1024;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<import::ModelConfig> C =
      import::parseHFConfig(Text, "fuzz/config.json");
  if (!C) {
    llvm::consumeError(C.takeError());
    return 0;
  }
  if (isSmallEnoughToLower(*C))
    fuzz::lowerAndInspect(*C, nullptr);
  return 0;
}
