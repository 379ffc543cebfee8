//===- TensorTable.h - The tensors a checkpoint holds -----------*- C++ -*-===//
//
// What an importer learns from a checkpoint's headers, without reading any
// weight bytes: each tensor's name, element type, shape and where its bytes
// are. Shapes are row-major, slowest dimension first (PyTorch order; GGUF's
// ne[] is reversed into this order), so a linear weight is [out, in].
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_MODELFILE_TENSORTABLE_H
#define STRATA_IR_MODELFILE_TENSORTABLE_H

#include "ir/DataType.h"

#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace strata::import {

struct TensorDesc {
  std::string Name; ///< Exactly as in the file.
  ir::DType Type = ir::DType::F32;
  llvm::SmallVector<int64_t, 4> Dims; ///< Row-major, slowest first.
  unsigned File = 0;                  ///< Index into TensorTable::Files.
  uint64_t Offset = 0; ///< Absolute byte offset of the data in its file.
  uint64_t Bytes = 0;  ///< Exact size of the data.
};

struct TensorTable {
  std::vector<std::string> Files;  ///< Paths, as given or found.
  std::vector<uint64_t> FileSizes; ///< Same order as Files.
  std::vector<TensorDesc> Tensors; ///< In file order (shard by shard).
};

} // namespace strata::import

#endif // STRATA_IR_MODELFILE_TENSORTABLE_H
