//===- FuzzSafeTensors.cpp - libFuzzer target for safetensors headers -----===//
//
// The input is a whole .safetensors file: the u64 header length, the JSON
// header and the data. The header is parsed as readSafeTensorsFile parses
// it, and an accepted tensor table is then lowered against a fixed tiny
// Llama configuration, the one tests/lit/import/Inputs/make_models.py
// writes beside its checkpoints, as `strata inspect` does with config.json
// and model.safetensors, so that the fuzzer reaches the checks of names,
// shapes and leftover tensors.
//
//===----------------------------------------------------------------------===//

#include "fuzz/ImportChecks.h"

#include "ir/modelfile/SafeTensorsReader.h"

#include <cstddef>
#include <cstdint>

using namespace strata;

static import::ModelConfig tinyLlama() {
  import::ModelConfig C;
  C.Name = "fuzz";
  C.Arch = import::Architecture::Llama;
  C.Naming = import::NamingScheme::HuggingFace;
  C.Vocab = 32;
  C.Hidden = 16;
  C.FFN = 24;
  C.Layers = 2;
  C.Heads = 4;
  C.KVHeads = 2;
  C.HeadDim = 4;
  C.MaxContext = 128;
  return C;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  static const import::ModelConfig Config = tinyLlama();
  llvm::StringRef Bytes(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<import::TensorTable> Table =
      import::parseSafeTensorsHeader(Bytes, "model.safetensors", Size);
  if (!Table) {
    llvm::consumeError(Table.takeError());
    return 0;
  }
  fuzz::lowerAndInspect(Config, &*Table);
  return 0;
}
