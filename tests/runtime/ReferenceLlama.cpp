//===- ReferenceLlama.cpp - A plain double-precision Llama forward --------===//
//
// Every step is the textbook formula in the most direct loop: no blocking,
// no vectorisation, no reuse of intermediate buffers. Weights are decoded
// from bytes here, from the formats' definitions, not with the kernels'
// conversions.
//
//===----------------------------------------------------------------------===//

#include "ReferenceLlama.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <memory>

namespace strata::test {

static llvm::Error referenceError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "reference: " + Msg);
}

/// Little-endian integers from bytes, whatever the host's order.
static uint32_t readLE32(const unsigned char *P) {
  return uint32_t(P[0]) | uint32_t(P[1]) << 8 | uint32_t(P[2]) << 16 |
         uint32_t(P[3]) << 24;
}
static uint16_t readLE16(const unsigned char *P) {
  return uint16_t(P[0] | P[1] << 8);
}

/// binary32: (-1)^s 2^(e-127) (1 + m/2^23); subnormals m 2^-149. The
/// checkpoints hold finite values, so inf and NaN are reported as NaN.
static double decodeF32(uint32_t Bits) {
  int Sign = Bits >> 31, E = (Bits >> 23) & 0xff;
  uint32_t M = Bits & 0x7fffff;
  double V;
  if (E == 0)
    V = std::ldexp(double(M), -149);
  else if (E == 0xff)
    V = std::nan("");
  else
    V = std::ldexp(1.0 + double(M) / 8388608.0, E - 127);
  return Sign ? -V : V;
}

/// binary16: (-1)^s 2^(e-15) (1 + m/1024); subnormals m 2^-24.
static double decodeF16(uint16_t Bits) {
  int Sign = Bits >> 15, E = (Bits >> 10) & 0x1f, M = Bits & 0x3ff;
  double V;
  if (E == 0)
    V = std::ldexp(double(M), -24);
  else if (E == 0x1f)
    V = std::nan("");
  else
    V = std::ldexp(1.0 + M / 1024.0, E - 15);
  return Sign ? -V : V;
}

/// bfloat16 is the top half of a binary32.
static double decodeBF16(uint16_t Bits) {
  return decodeF32(uint32_t(Bits) << 16);
}

namespace {

/// The checkpoint's files, opened once, and its tensors by name.
class WeightReader {
public:
  explicit WeightReader(const import::TensorTable &Table) : Table(Table) {
    for (size_t I = 0; I < Table.Tensors.size(); ++I)
      Index[Table.Tensors[I].Name] = I;
  }

  bool has(llvm::StringRef Name) const { return Index.count(Name); }

  /// Tensor Name as doubles, checking that its shape is Dims.
  llvm::Expected<std::vector<double>> read(llvm::StringRef Name,
                                           llvm::ArrayRef<int64_t> Dims) {
    auto It = Index.find(Name);
    if (It == Index.end())
      return referenceError("no tensor '" + Name + "'");
    const import::TensorDesc &T = Table.Tensors[It->second];
    if (llvm::ArrayRef<int64_t>(T.Dims) != Dims)
      return referenceError("tensor '" + Name + "' has an unexpected shape");
    uint64_t Count = 1;
    for (int64_t D : Dims)
      Count *= uint64_t(D);
    unsigned Width;
    switch (T.Type) {
    case ir::DType::F32:
      Width = 4;
      break;
    case ir::DType::F16:
    case ir::DType::BF16:
      Width = 2;
      break;
    default:
      return referenceError("tensor '" + Name + "' is " +
                            ir::getDTypeName(T.Type) +
                            "; only f32, f16 and bf16 are read");
    }
    if (T.Bytes != Count * Width)
      return referenceError("tensor '" + Name + "' has " +
                            llvm::Twine(T.Bytes) + " bytes for " +
                            llvm::Twine(Count) + " elements");
    auto File = open(T.File);
    if (!File)
      return File.takeError();
    if (T.Offset + T.Bytes > (*File)->getBufferSize())
      return referenceError("tensor '" + Name + "' runs past the end of " +
                            Table.Files[T.File]);
    const auto *P =
        reinterpret_cast<const unsigned char *>((*File)->getBufferStart()) +
        T.Offset;
    std::vector<double> Out(Count);
    for (uint64_t I = 0; I < Count; ++I) {
      if (T.Type == ir::DType::F32)
        Out[I] = decodeF32(readLE32(P + 4 * I));
      else if (T.Type == ir::DType::F16)
        Out[I] = decodeF16(readLE16(P + 2 * I));
      else
        Out[I] = decodeBF16(readLE16(P + 2 * I));
    }
    return Out;
  }

private:
  llvm::Expected<const llvm::MemoryBuffer *> open(unsigned File) {
    if (File >= Table.Files.size())
      return referenceError("file index " + llvm::Twine(File) +
                            " is out of range");
    if (Files.size() < Table.Files.size())
      Files.resize(Table.Files.size());
    if (!Files[File]) {
      auto B = llvm::MemoryBuffer::getFile(Table.Files[File], /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
      if (!B)
        return referenceError(Table.Files[File] + ": " +
                              B.getError().message());
      Files[File] = std::move(*B);
    }
    return Files[File].get();
  }

  const import::TensorTable &Table;
  llvm::StringMap<size_t> Index;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> Files;
};

/// y = W x for W [Rows, Cols] row-major: a linear layer stored [out, in].
std::vector<double> linear(const std::vector<double> &W, int64_t Rows,
                           int64_t Cols, const std::vector<double> &X) {
  std::vector<double> Y(Rows, 0.0);
  for (int64_t R = 0; R < Rows; ++R) {
    double Sum = 0;
    for (int64_t C = 0; C < Cols; ++C)
      Sum += W[R * Cols + C] * X[C];
    Y[R] = Sum;
  }
  return Y;
}

std::vector<double> rmsNorm(const std::vector<double> &X,
                            const std::vector<double> &Weight, double Eps) {
  double Sum = 0;
  for (double V : X)
    Sum += V * V;
  double Inv = 1.0 / std::sqrt(Sum / double(X.size()) + Eps);
  std::vector<double> Y(X.size());
  for (size_t I = 0; I < X.size(); ++I)
    Y[I] = X[I] * Inv * Weight[I];
  return Y;
}

/// Rotates each of the Heads heads of X (HeadDim values each) by position
/// Pos: pair i turns by Pos * Theta^(-2i / HeadDim).
void rope(std::vector<double> &X, int64_t Heads, int64_t HeadDim, int64_t Pos,
          double Theta, bool NeoX) {
  int64_t Half = HeadDim / 2;
  for (int64_t H = 0; H < Heads; ++H) {
    double *Head = X.data() + H * HeadDim;
    for (int64_t I = 0; I < Half; ++I) {
      double Angle =
          double(Pos) * std::pow(Theta, -2.0 * double(I) / double(HeadDim));
      double C = std::cos(Angle), S = std::sin(Angle);
      int64_t A = NeoX ? I : 2 * I, B = NeoX ? I + Half : 2 * I + 1;
      double X0 = Head[A], X1 = Head[B];
      Head[A] = X0 * C - X1 * S;
      Head[B] = X0 * S + X1 * C;
    }
  }
}

} // namespace

llvm::Expected<std::vector<double>> readTensor(const import::TensorTable &Table,
                                               llvm::StringRef Name,
                                               llvm::ArrayRef<int64_t> Dims) {
  return WeightReader(Table).read(Name, Dims);
}

llvm::Expected<ReferenceLlama>
ReferenceLlama::load(const LlamaShape &S, const import::TensorTable &Table) {
  if (S.Heads <= 0 || S.KVHeads <= 0 || S.Heads % S.KVHeads != 0 ||
      S.HeadDim % 2 != 0)
    return referenceError("heads must be a multiple of KV heads and the head "
                          "dimension even");
  WeightReader R(Table);
  bool GGUF = R.has("token_embd.weight");
  auto Global = [&](const char *HF, const char *GGUFName) {
    return std::string(GGUF ? GGUFName : HF);
  };
  auto PerLayer = [&](int64_t L, const char *HF, const char *GGUFName) {
    return GGUF ? llvm::formatv("blk.{0}.{1}", L, GGUFName).str()
                : llvm::formatv("model.layers.{0}.{1}", L, HF).str();
  };
  ReferenceLlama M(S);
  llvm::Error Err = llvm::Error::success();
  auto Load = [&](Matrix &Out, const std::string &Name, int64_t Rows,
                  int64_t Cols) {
    if (Err)
      return;
    std::vector<int64_t> Dims = {Rows, Cols};
    auto V = R.read(Name, Rows == 1 ? llvm::ArrayRef<int64_t>(Dims).drop_front()
                                    : llvm::ArrayRef<int64_t>(Dims));
    if (!V) {
      Err = V.takeError();
      return;
    }
    Out = {Rows, Cols, std::move(*V)};
  };

  const int64_t H = S.Hidden, QDim = S.Heads * S.HeadDim,
                KVDim = S.KVHeads * S.HeadDim;
  Load(M.Embeddings, Global("model.embed_tokens.weight", "token_embd.weight"),
       S.Vocab, H);
  M.Layers.resize(S.Layers);
  for (int64_t L = 0; L < S.Layers; ++L) {
    Layer &W = M.Layers[L];
    Load(W.AttnNorm, PerLayer(L, "input_layernorm.weight", "attn_norm.weight"),
         1, H);
    Load(W.Q, PerLayer(L, "self_attn.q_proj.weight", "attn_q.weight"), QDim, H);
    Load(W.K, PerLayer(L, "self_attn.k_proj.weight", "attn_k.weight"), KVDim,
         H);
    Load(W.V, PerLayer(L, "self_attn.v_proj.weight", "attn_v.weight"), KVDim,
         H);
    Load(W.O, PerLayer(L, "self_attn.o_proj.weight", "attn_output.weight"), H,
         QDim);
    Load(W.FFNNorm,
         PerLayer(L, "post_attention_layernorm.weight", "ffn_norm.weight"), 1,
         H);
    Load(W.Gate, PerLayer(L, "mlp.gate_proj.weight", "ffn_gate.weight"), S.FFN,
         H);
    Load(W.Up, PerLayer(L, "mlp.up_proj.weight", "ffn_up.weight"), S.FFN, H);
    Load(W.Down, PerLayer(L, "mlp.down_proj.weight", "ffn_down.weight"), H,
         S.FFN);
  }
  Load(M.OutNorm, Global("model.norm.weight", "output_norm.weight"), 1, H);
  std::string OutName = Global("lm_head.weight", "output.weight");
  if (R.has(OutName))
    Load(M.Output, OutName, S.Vocab, H);
  else if (!Err)
    M.Output = M.Embeddings; // tied embeddings
  if (Err)
    return Err;
  return M;
}

std::vector<std::vector<double>>
ReferenceLlama::forward(llvm::ArrayRef<int32_t> Tokens) const {
  const int64_t N = Tokens.size(), H = S.Hidden, D = S.HeadDim;
  assert(
      llvm::all_of(Tokens, [&](int32_t T) { return T >= 0 && T < S.Vocab; }) &&
      "token id out of the vocabulary");
  const int64_t QDim = S.Heads * D, KVDim = S.KVHeads * D;
  const int64_t Group = S.Heads / S.KVHeads;
  const double Scale = 1.0 / std::sqrt(double(D));

  // The residual stream of every position, advanced one layer at a time so
  // that each layer's keys and values for all positions exist before its
  // attention reads them.
  std::vector<std::vector<double>> X(N);
  for (int64_t P = 0; P < N; ++P)
    X[P].assign(Embeddings.row(Tokens[P]), Embeddings.row(Tokens[P]) + H);

  for (const Layer &W : Layers) {
    std::vector<std::vector<double>> Q(N), K(N), V(N);
    for (int64_t P = 0; P < N; ++P) {
      std::vector<double> Norm = rmsNorm(X[P], W.AttnNorm.Data, S.RMSNormEps);
      Q[P] = linear(W.Q.Data, QDim, H, Norm);
      K[P] = linear(W.K.Data, KVDim, H, Norm);
      V[P] = linear(W.V.Data, KVDim, H, Norm);
      rope(Q[P], S.Heads, D, P, S.RopeTheta, S.RopeNeoX);
      rope(K[P], S.KVHeads, D, P, S.RopeTheta, S.RopeNeoX);
    }
    for (int64_t P = 0; P < N; ++P) {
      // Causal: position P sees positions 0..P. Head Hd reads KV head
      // Hd / Group (grouped-query attention).
      std::vector<double> Att(QDim, 0.0);
      for (int64_t Hd = 0; Hd < S.Heads; ++Hd) {
        int64_t KVH = Hd / Group;
        std::vector<double> Scores(P + 1);
        double Max = -INFINITY;
        for (int64_t J = 0; J <= P; ++J) {
          double Dot = 0;
          for (int64_t I = 0; I < D; ++I)
            Dot += Q[P][Hd * D + I] * K[J][KVH * D + I];
          Scores[J] = Dot * Scale;
          Max = std::max(Max, Scores[J]);
        }
        double Sum = 0;
        for (double &Sc : Scores)
          Sum += Sc = std::exp(Sc - Max);
        for (int64_t J = 0; J <= P; ++J)
          for (int64_t I = 0; I < D; ++I)
            Att[Hd * D + I] += Scores[J] / Sum * V[J][KVH * D + I];
      }
      std::vector<double> Out = linear(W.O.Data, H, QDim, Att);
      for (int64_t I = 0; I < H; ++I)
        X[P][I] += Out[I];

      std::vector<double> Norm = rmsNorm(X[P], W.FFNNorm.Data, S.RMSNormEps);
      std::vector<double> G = linear(W.Gate.Data, S.FFN, H, Norm);
      std::vector<double> U = linear(W.Up.Data, S.FFN, H, Norm);
      for (int64_t I = 0; I < S.FFN; ++I)
        G[I] = G[I] / (1.0 + std::exp(-G[I])) * U[I]; // silu(gate) * up
      std::vector<double> Down = linear(W.Down.Data, H, S.FFN, G);
      for (int64_t I = 0; I < H; ++I)
        X[P][I] += Down[I];
    }
  }

  std::vector<std::vector<double>> Logits(N);
  for (int64_t P = 0; P < N; ++P)
    Logits[P] = linear(Output.Data, S.Vocab, H,
                       rmsNorm(X[P], OutNorm.Data, S.RMSNormEps));
  return Logits;
}

} // namespace strata::test
