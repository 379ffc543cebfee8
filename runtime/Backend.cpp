//===- Backend.cpp - What the executor needs of a device backend ----------===//

#include "runtime/Backend.h"

namespace strata::runtime {

PreparedProgram::~PreparedProgram() = default;
Backend::~Backend() = default;

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
