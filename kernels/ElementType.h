//===- ElementType.h - Element types the kernels read and write -*- C++ -*-===//
//
// The kernels sit below the IR, so they have their own short list of element
// types: the activation floats, ggml's q8_0 weight blocks and the i32 of
// token ids and positions. The runtime maps the plan's types onto these.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_ELEMENTTYPE_H
#define STRATA_KERNELS_ELEMENTTYPE_H

#include <cstdint>

namespace strata::kernels {

enum class ElementType : uint8_t {
  F32,
  F16,  ///< IEEE binary16.
  BF16, ///< The top half of an f32.
  Q8_0, ///< ggml blocks of 32: an f16 scale and 32 int8 (34 bytes).
  I32,
};

/// Elements per storage block: 32 for q8_0, 1 for the plain types.
constexpr int64_t getBlockElements(ElementType T) {
  return T == ElementType::Q8_0 ? 32 : 1;
}

constexpr int64_t getBlockBytes(ElementType T) {
  switch (T) {
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::F16:
  case ElementType::BF16:
    return 2;
  case ElementType::Q8_0:
    return 34;
  }
  return 0;
}

/// Bytes that N elements take; N must be a whole number of blocks.
constexpr int64_t getByteSize(ElementType T, int64_t N) {
  return N / getBlockElements(T) * getBlockBytes(T);
}

/// f32, f16 and bf16: the types activations may have.
constexpr bool isFloat(ElementType T) {
  return T == ElementType::F32 || T == ElementType::F16 ||
         T == ElementType::BF16;
}

/// "f32", "f16", "bf16", "q8_0", "i32": the IR's spelling.
const char *getName(ElementType T);

/// A tensor's storage as a kernel sees it: where it starts and what it holds.
/// Shapes travel as separate arguments.
struct ConstBuffer {
  const void *Data = nullptr;
  ElementType Type = ElementType::F32;
};

struct MutableBuffer {
  void *Data = nullptr;
  ElementType Type = ElementType::F32;

  operator ConstBuffer() const { return {Data, Type}; }
};

} // namespace strata::kernels

#endif // STRATA_KERNELS_ELEMENTTYPE_H
