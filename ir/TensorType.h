//===- TensorType.h - Shapes and tensor types -------------------*- C++ -*-===//
//
// A tensor type is an element type and a shape: `f32[512, 64]`, `i32[]`.
// Shapes are row-major (the last dimension varies fastest) and bounded, so
// that element and byte counts of any valid type fit in 64 bits; the bounds
// are checked where shapes are made from untrusted input.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_TENSORTYPE_H
#define STRATA_IR_TENSORTYPE_H

#include "ir/DataType.h"

#include "llvm/ADT/SmallVector.h"

#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace strata::ir {

class Shape {
public:
  /// Limits on shapes read from files: a dimension, the rank and the total
  /// element count. 2^48 elements is 256 TiB of f8, beyond any model.
  static constexpr int64_t MaxDim = int64_t(1) << 40;
  static constexpr unsigned MaxRank = 8;
  static constexpr uint64_t MaxElements = uint64_t(1) << 48;

  Shape() = default;
  /// Checks the limits above; the message says which dimension is wrong.
  static llvm::Expected<Shape> get(llvm::ArrayRef<int64_t> Dims);

  llvm::ArrayRef<int64_t> dims() const { return Dims; }
  unsigned rank() const { return Dims.size(); }
  int64_t operator[](unsigned I) const { return Dims[I]; }
  int64_t back() const { return Dims.back(); }
  uint64_t numElements() const;

  bool operator==(const Shape &O) const { return Dims == O.Dims; }
  bool operator!=(const Shape &O) const { return !(*this == O); }

private:
  explicit Shape(llvm::ArrayRef<int64_t> D) : Dims(D.begin(), D.end()) {}
  llvm::SmallVector<int64_t, 4> Dims;
};

struct TensorType {
  DType Elem = DType::F32;
  Shape Dims;

  /// Exact bytes, or an error when the element count is not a whole number
  /// of blocks of a quantized type.
  llvm::Expected<uint64_t> getByteSize() const {
    return ir::getByteSize(Elem, Dims.numElements());
  }
  bool operator==(const TensorType &O) const {
    return Elem == O.Elem && Dims == O.Dims;
  }
  bool operator!=(const TensorType &O) const { return !(*this == O); }

  void print(llvm::raw_ostream &OS) const;
  std::string str() const;
};

llvm::raw_ostream &operator<<(llvm::raw_ostream &OS, const TensorType &T);

} // namespace strata::ir

#endif // STRATA_IR_TENSORTYPE_H
