//===- Backend.cpp - What the executor needs of a device backend ----------===//

#include "runtime/Backend.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>

namespace strata::runtime {

PreparedProgram::~PreparedProgram() = default;
Backend::~Backend() = default;

llvm::Expected<void *> Backend::allocateHost(uint64_t Bytes,
                                             llvm::StringRef What) {
  uint64_t Rounded = std::max<uint64_t>(64, (Bytes + 63) / 64 * 64);
  if (void *P = std::aligned_alloc(64, Rounded))
    return P;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("out of memory: this machine could not give the {0} {1} "
                    "bytes of host memory",
                    What, Bytes)
          .str());
}

void Backend::deallocateHost(void *P) { std::free(P); }

llvm::Expected<kernels::ElementType> getElementType(llvm::StringRef DType) {
  using kernels::ElementType;
  if (DType == "f32")
    return ElementType::F32;
  if (DType == "f16")
    return ElementType::F16;
  if (DType == "bf16")
    return ElementType::BF16;
  if (DType == "q8_0")
    return ElementType::Q8_0;
  if (DType == "i32")
    return ElementType::I32;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "element type '" + DType +
          "' has no kernels yet (the runtime computes over f32, f16, bf16, "
          "q8_0 and i32)");
}

} // namespace strata::runtime
