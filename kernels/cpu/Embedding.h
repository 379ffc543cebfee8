//===- Embedding.h - Rows of a token table ----------------------*- C++ -*-===//
//
// out[i] = table[ids[i]]. Under vocabulary parallelism each device holds a
// contiguous slice of the table's rows; it writes zeros for the ids it does
// not hold, and the slices' outputs are summed afterwards.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_EMBEDDING_H
#define STRATA_KERNELS_CPU_EMBEDDING_H

#include "kernels/ElementType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// A token table, or the slice of one that a device holds.
struct EmbeddingTable {
  ConstBuffer Data; ///< [Rows, Dim] in f32, f16, bf16 or q8_0.
  int64_t Rows = 0; ///< Rows held.
  int64_t Dim = 0;
  int64_t RowOffset = 0; ///< The vocabulary row that Data's row 0 is.
  int64_t Vocab = -1;    ///< The whole vocabulary; -1: Rows (not split).
};

/// Out is [Ids.size(), Dim] in f32, f16 or bf16. An id outside [0, Vocab)
/// is an error (and nothing is written); an id in the vocabulary but outside
/// [RowOffset, RowOffset + Rows) gives a row of zeros.
llvm::Error embedding(const EmbeddingTable &Table, llvm::ArrayRef<int32_t> Ids,
                      MutableBuffer Out);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_EMBEDDING_H
