//===- DataType.h - Element types and exact byte sizes ----------*- C++ -*-===//
//
// The element types a tensor can have: plain floats and integers, and ggml's
// quantized block types. A quantized tensor is stored as whole blocks, so its
// size is exact only when its element count is a multiple of the block size;
// getByteSize says so instead of rounding.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_DATATYPE_H
#define STRATA_IR_DATATYPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>

namespace strata::ir {

enum class DType : uint8_t {
#define STRATA_DTYPE(Enum, Name, BlockElems, BlockBytes, GGMLId, Class) Enum,
#include "ir/DataTypes.def"
};

enum class DTypeClass : uint8_t { Float, Int, Quant };

struct DTypeInfo {
  DType Type;
  llvm::StringLiteral Name;
  uint32_t BlockElems;
  uint32_t BlockBytes;
  int32_t GGMLId; ///< -1 when GGUF has no such type.
  DTypeClass Class;
};

/// Every known type, in declaration order.
llvm::ArrayRef<DTypeInfo> allDTypes();
const DTypeInfo &getDTypeInfo(DType T);

inline llvm::StringRef getDTypeName(DType T) { return getDTypeInfo(T).Name; }
std::optional<DType> parseDType(llvm::StringRef Name);
std::optional<DType> dtypeFromGGML(uint32_t GGMLId);

inline bool isFloat(DType T) {
  return getDTypeInfo(T).Class == DTypeClass::Float;
}
inline bool isInteger(DType T) {
  return getDTypeInfo(T).Class == DTypeClass::Int;
}
inline bool isQuantized(DType T) {
  return getDTypeInfo(T).Class == DTypeClass::Quant;
}

/// Exact bytes that NumElements elements of T occupy. Fails when NumElements
/// is not a whole number of T's blocks, or the size overflows 64 bits.
llvm::Expected<uint64_t> getByteSize(DType T, uint64_t NumElements);

} // namespace strata::ir

#endif // STRATA_IR_DATATYPE_H
