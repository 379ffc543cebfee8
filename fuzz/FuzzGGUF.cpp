//===- FuzzGGUF.cpp - libFuzzer target for the GGUF reader ----------------===//
//
// The input is a whole GGUF file. It is read as `strata inspect x.gguf`
// reads one: header, metadata and tensor infos (parseGGUF, the in-memory
// twin of readGGUFFile), the model configuration from the metadata, then
// lowering against the tensor table, verification and statistics.
//
//===----------------------------------------------------------------------===//

#include "fuzz/ImportChecks.h"

#include "ir/import/GGUFConfig.h"
#include "ir/modelfile/GGUFReader.h"

#include <cstddef>
#include <cstdint>

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Bytes(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<import::GGUFFile> F =
      import::parseGGUF(Bytes, "fuzz.gguf", Size);
  if (!F) {
    llvm::consumeError(F.takeError());
    return 0;
  }
  llvm::Expected<import::ModelConfig> C = import::modelConfigFromGGUF(*F);
  if (!C) {
    llvm::consumeError(C.takeError());
    return 0;
  }
  fuzz::lowerAndInspect(*C, &F->Tensors);
  return 0;
}
