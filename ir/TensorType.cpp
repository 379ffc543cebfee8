//===- TensorType.cpp - Shapes and tensor types ---------------------------===//

#include "ir/TensorType.h"

#include "llvm/Support/raw_ostream.h"

namespace strata::ir {

static llvm::Error shapeError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

llvm::Expected<Shape> Shape::get(llvm::ArrayRef<int64_t> Dims) {
  if (Dims.size() > MaxRank)
    return shapeError("rank " + llvm::Twine(Dims.size()) +
                      " exceeds the maximum of " + llvm::Twine(MaxRank));
  uint64_t Elements = 1;
  for (size_t I = 0; I < Dims.size(); ++I) {
    int64_t D = Dims[I];
    if (D < 0)
      return shapeError("dimension " + llvm::Twine(I) + " is negative (" +
                        llvm::Twine(D) + ")");
    if (D > MaxDim)
      return shapeError("dimension " + llvm::Twine(I) + " (" + llvm::Twine(D) +
                        ") exceeds the maximum of 2^40");
    // Elements <= 2^48 and D <= 2^40, so the product cannot wrap before the
    // check below rejects it.
    if (D != 0 && Elements > MaxElements / static_cast<uint64_t>(D))
      return shapeError("shape has more than 2^48 elements");
    Elements *= static_cast<uint64_t>(D);
  }
  return Shape(Dims);
}

uint64_t Shape::numElements() const {
  uint64_t N = 1;
  for (int64_t D : Dims)
    N *= static_cast<uint64_t>(D);
  return N;
}

void TensorType::print(llvm::raw_ostream &OS) const {
  OS << getDTypeName(Elem) << '[';
  llvm::interleave(Dims.dims(), OS, ", ");
  OS << ']';
}

std::string TensorType::str() const {
  std::string S;
  llvm::raw_string_ostream OS(S);
  print(OS);
  return S;
}

llvm::raw_ostream &operator<<(llvm::raw_ostream &OS, const TensorType &T) {
  T.print(OS);
  return OS;
}

} // namespace strata::ir
