//===- ReferenceLlama.h - A plain double-precision Llama forward -*- C++
//-*-===//
//
// The yardstick the runtime tests measure against: a Llama forward pass
// written as plain loops in double precision, reading its weights from the
// checkpoint files itself (through the tensor table's offsets) and decoding
// f32, f16 and bf16 from their definitions. It shares no code with kernels/
// or runtime/, so a bug there cannot hide by appearing on both sides.
//
// It recomputes the whole sequence on every call (no KV cache): slow, but
// the models it is meant for are tiny and the absence of state is what
// makes it easy to trust.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TESTS_RUNTIME_REFERENCELLAMA_H
#define STRATA_TESTS_RUNTIME_REFERENCELLAMA_H

#include "ir/modelfile/TensorTable.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace strata::test {

/// Tensor Name of Table as doubles, read from its file at its offset and
/// decoded from f32, f16 or bf16; its shape must be Dims.
llvm::Expected<std::vector<double>> readTensor(const import::TensorTable &Table,
                                               llvm::StringRef Name,
                                               llvm::ArrayRef<int64_t> Dims);

/// The hyperparameters the reference needs, given by the test rather than
/// taken from an importer, so that a misread configuration shows up as a
/// mismatch instead of being copied into both sides.
struct LlamaShape {
  int64_t Vocab = 0, Hidden = 0, FFN = 0, Layers = 0;
  int64_t Heads = 0, KVHeads = 0, HeadDim = 0;
  double RMSNormEps = 1e-5;
  double RopeTheta = 10000.0;
  /// true: rotate (x[i], x[i + D/2]) (Hugging Face layout); false: rotate
  /// (x[2i], x[2i + 1]) (GGUF layout, q/k rows permuted by the converter).
  bool RopeNeoX = true;
};

class ReferenceLlama {
public:
  /// Reads every weight of a Llama with shape S from the files Table
  /// lists, under GGUF names (token_embd.weight, blk.N.attn_q.weight, ...)
  /// when the table has token_embd.weight, else Hugging Face names. With no
  /// output / lm_head tensor the embeddings are used (tied).
  static llvm::Expected<ReferenceLlama> load(const LlamaShape &S,
                                             const import::TensorTable &Table);

  /// Logits at every position of Tokens, fed at positions 0, 1, ...:
  /// Result[P] are the Vocab logits after Tokens[0..P].
  std::vector<std::vector<double>>
  forward(llvm::ArrayRef<int32_t> Tokens) const;

  const LlamaShape &getShape() const { return S; }

private:
  /// A row-major [Rows, Cols] matrix (a vector when Rows is 1).
  struct Matrix {
    int64_t Rows = 0, Cols = 0;
    std::vector<double> Data;
    const double *row(int64_t R) const { return Data.data() + R * Cols; }
  };
  struct Layer {
    Matrix AttnNorm, Q, K, V, O, FFNNorm, Gate, Up, Down;
  };

  explicit ReferenceLlama(const LlamaShape &S) : S(S) {}

  LlamaShape S;
  Matrix Embeddings, OutNorm, Output;
  std::vector<Layer> Layers;
};

} // namespace strata::test

#endif // STRATA_TESTS_RUNTIME_REFERENCELLAMA_H
