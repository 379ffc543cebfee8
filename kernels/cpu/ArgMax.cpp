//===- ArgMax.cpp - Index of the largest element of the last axis ---------===//

#include "kernels/cpu/ArgMax.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace strata::kernels::cpu {

llvm::Error argmax(ConstBuffer X, int64_t Rows, int64_t N, int32_t *Out) {
  if (Rows < 0 || N <= 0 || N > std::numeric_limits<int32_t>::max())
    return kernelError("argmax: bad size [%lld, %lld] (rows need 1 to "
                       "2^31 - 1 elements)",
                       (long long)Rows, (long long)N);
  if (!isFloat(X.Type))
    return kernelError("argmax: unsupported type %s", getName(X.Type));
  if (Rows == 0)
    return llvm::Error::success();
  if (!X.Data || !Out)
    return kernelError("argmax: null buffer");

  // Vocabulary rows are long: convert a chunk at a time.
  constexpr int64_t Chunk = 4096;
  std::vector<float> Buf(X.Type == ElementType::F32 ? 0 : Chunk);
  for (int64_t R = 0; R < Rows; ++R) {
    float Best = -std::numeric_limits<float>::infinity();
    int64_t BestIndex = -1;
    for (int64_t C = 0; C < N; C += Chunk) {
      int64_t Len = std::min(Chunk, N - C);
      const float *P = rowAsF32(X, R * N + C, Len, Buf.data());
      for (int64_t I = 0; I < Len; ++I)
        // Strictly greater keeps the first of equal maxima; a NaN compares
        // false and is skipped. -inf needs the index check to be found.
        if (P[I] > Best || (BestIndex < 0 && P[I] == Best)) {
          Best = P[I];
          BestIndex = C + I;
        }
    }
    Out[R] = int32_t(std::max<int64_t>(BestIndex, 0));
  }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
