//===- ElementType.cpp - Element types the kernels read and write ---------===//

#include "kernels/ElementType.h"

namespace strata::kernels {

const char *getName(ElementType T) {
  switch (T) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::Q8_0:
    return "q8_0";
  case ElementType::I32:
    return "i32";
  }
  return "?";
}

} // namespace strata::kernels
