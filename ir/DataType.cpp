//===- DataType.cpp - Element types and exact byte sizes ------------------===//

#include "ir/DataType.h"

#include "llvm/Support/MathExtras.h"

namespace strata::ir {

static constexpr DTypeInfo DTypeTable[] = {
#define STRATA_DTYPE(Enum, Name, BlockElems, BlockBytes, GGMLId, Class)        \
  {DType::Enum, Name, BlockElems, BlockBytes, GGMLId, DTypeClass::Class},
#include "ir/DataTypes.def"
};

llvm::ArrayRef<DTypeInfo> allDTypes() { return DTypeTable; }

const DTypeInfo &getDTypeInfo(DType T) {
  return DTypeTable[static_cast<unsigned>(T)];
}

std::optional<DType> parseDType(llvm::StringRef Name) {
  for (const DTypeInfo &Info : DTypeTable)
    if (Info.Name == Name)
      return Info.Type;
  return std::nullopt;
}

std::optional<DType> dtypeFromGGML(uint32_t GGMLId) {
  for (const DTypeInfo &Info : DTypeTable)
    if (Info.GGMLId >= 0 && static_cast<uint32_t>(Info.GGMLId) == GGMLId)
      return Info.Type;
  return std::nullopt;
}

llvm::Expected<uint64_t> getByteSize(DType T, uint64_t NumElements) {
  const DTypeInfo &Info = getDTypeInfo(T);
  if (NumElements % Info.BlockElems != 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "%llu elements of %s are not a whole number of %u-element blocks",
        static_cast<unsigned long long>(NumElements), Info.Name.data(),
        Info.BlockElems);
  bool Overflow = false;
  uint64_t Bytes = llvm::SaturatingMultiply<uint64_t>(
      NumElements / Info.BlockElems, Info.BlockBytes, &Overflow);
  if (Overflow)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "%llu elements of %s overflow a 64-bit byte size",
        static_cast<unsigned long long>(NumElements), Info.Name.data());
  return Bytes;
}

} // namespace strata::ir
