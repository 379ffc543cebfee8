//===- Embedding.cpp - Rows of a token table ------------------------------===//

#include "kernels/cpu/Embedding.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"

#include <cstring>
#include <vector>

namespace strata::kernels::cpu {

llvm::Error embedding(const EmbeddingTable &Table, llvm::ArrayRef<int32_t> Ids,
                      MutableBuffer Out) {
  const int64_t Dim = Table.Dim, Rows = Table.Rows;
  const int64_t Vocab = Table.Vocab < 0 ? Rows : Table.Vocab;
  const ElementType TT = Table.Data.Type;
  if (Dim < 0 || Rows < 0 || Table.RowOffset < 0 ||
      Table.RowOffset + Rows > Vocab)
    return kernelError("embedding: rows [%lld, %lld) of dimension %lld do not "
                       "fit a vocabulary of %lld",
                       (long long)Table.RowOffset,
                       (long long)(Table.RowOffset + Rows), (long long)Dim,
                       (long long)Vocab);
  if (!(isFloat(TT) || TT == ElementType::Q8_0) || !isFloat(Out.Type))
    return kernelError("embedding: unsupported types table %s, out %s",
                       getName(TT), getName(Out.Type));
  if (TT == ElementType::Q8_0 && Dim % 32 != 0)
    return kernelError("embedding: q8_0 rows of %lld elements are not whole "
                       "32-element blocks",
                       (long long)Dim);
  // Check every id before writing anything.
  for (size_t I = 0; I < Ids.size(); ++I)
    if (Ids[I] < 0 || Ids[I] >= Vocab)
      return kernelError("embedding: token id %d at index %zu is outside "
                         "[0, %lld)",
                         Ids[I], I, (long long)Vocab);
  if (Ids.empty() || Dim == 0)
    return llvm::Error::success();
  if (!Out.Data || (Rows > 0 && !Table.Data.Data))
    return kernelError("embedding: null buffer");

  std::vector<float> Row;
  for (size_t I = 0; I < Ids.size(); ++I) {
    int64_t Local = int64_t(Ids[I]) - Table.RowOffset;
    int64_t Begin = int64_t(I) * Dim;
    if (Local < 0 || Local >= Rows) {
      // All-zero bits are +0 in every float type.
      std::memset(static_cast<char *>(Out.Data) + getByteSize(Out.Type, Begin),
                  0, getByteSize(Out.Type, Dim));
      continue;
    }
    if (TT == Out.Type) {
      std::memcpy(static_cast<char *>(Out.Data) + getByteSize(Out.Type, Begin),
                  static_cast<const char *>(Table.Data.Data) +
                      getByteSize(TT, Local * Dim),
                  getByteSize(TT, Dim));
      continue;
    }
    if (Out.Type == ElementType::F32) {
      readF32(Table.Data, Local * Dim, Dim,
              static_cast<float *>(Out.Data) + Begin);
      continue;
    }
    Row.resize(Dim);
    readF32(Table.Data, Local * Dim, Dim, Row.data());
    writeF32(Row.data(), Out, Begin, Dim);
  }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
