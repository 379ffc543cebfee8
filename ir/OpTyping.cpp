//===- OpTyping.cpp - The typing rule of every op -------------------------===//

#include "ir/OpTyping.h"

#include "llvm/Support/raw_ostream.h"

namespace strata::ir {
namespace {

using ReportFn = llvm::function_ref<void(const llvm::Twine &)>;

/// Helpers shared by the rules: each check reports in the same words.
class RuleChecker {
public:
  RuleChecker(const Graph &G, const Op &O, ReportFn Report)
      : G(G), O(O), Report(Report) {}

  const TensorType &operand(unsigned I) const {
    return G.getValue(O.Operands[I]).Type;
  }
  const TensorType &result() const { return G.getValue(O.Result).Type; }
  llvm::StringRef name() const { return getOpName(O.Kind); }

  std::string describe(unsigned I) const {
    return "operand " + std::to_string(I) + " (%" +
           G.getValue(O.Operands[I]).Name + ") of '" + name().str() + "'";
  }

  bool fail(const llvm::Twine &Msg) {
    Report(Msg);
    return false;
  }

  bool isFloatOperand(unsigned I) {
    if (isFloat(operand(I).Elem))
      return true;
    return fail(describe(I) + " must be a float tensor, got " +
                operand(I).str());
  }
  bool isIntOperand(unsigned I) {
    if (isInteger(operand(I).Elem))
      return true;
    return fail(describe(I) + " must be an integer tensor, got " +
                operand(I).str());
  }
  bool notIntOperand(unsigned I) {
    if (!isInteger(operand(I).Elem))
      return true;
    return fail(describe(I) + " must be a float or quantized tensor, got " +
                operand(I).str());
  }
  bool hasRank(unsigned I, unsigned Rank) {
    if (operand(I).Dims.rank() == Rank)
      return true;
    return fail(describe(I) + " must have rank " + llvm::Twine(Rank) +
                ", got " + operand(I).str());
  }
  bool hasMinRank(unsigned I, unsigned Rank) {
    if (operand(I).Dims.rank() >= Rank)
      return true;
    return fail(describe(I) + " must have rank " + llvm::Twine(Rank) +
                " or more, got " + operand(I).str());
  }
  bool sameType(unsigned I, unsigned J) {
    if (operand(I) == operand(J))
      return true;
    return fail(describe(J) + " must have the type of operand " +
                llvm::Twine(I) + ", " + operand(I).str() + ", got " +
                operand(J).str());
  }
  /// Operand I's dimension D must equal Expected, named What.
  bool dimIs(unsigned I, unsigned D, int64_t Expected, llvm::StringRef What) {
    int64_t Got = operand(I).Dims[D];
    if (Got == Expected)
      return true;
    return fail(describe(I) + " has " + llvm::Twine(Got) + " in dimension " +
                llvm::Twine(D) + ", but " + What + " is " +
                llvm::Twine(Expected));
  }
  /// The result must be of type Expected, made from the operands.
  bool resultIs(DType Elem, llvm::ArrayRef<int64_t> Dims) {
    auto S = Shape::get(Dims);
    if (!S)
      return fail("'" + name() + "' would produce an invalid shape: " +
                  llvm::toString(S.takeError()));
    TensorType Expected{Elem, std::move(*S)};
    if (result() == Expected)
      return true;
    return fail("'" + name() + "' result type " + result().str() +
                " does not match the expected " + Expected.str());
  }
  bool resultIs(const TensorType &T) { return resultIs(T.Elem, T.Dims.dims()); }

  std::optional<double> requireFloatAttr(llvm::StringRef Key) {
    const Attribute *A = O.Attrs.get(Key);
    if (!A || !A->isFloat()) {
      fail("'" + name() + "' needs a float attribute '" + Key + "'");
      return std::nullopt;
    }
    return A->getFloat();
  }
  std::optional<llvm::StringRef> requireStringAttr(llvm::StringRef Key) {
    std::optional<llvm::StringRef> S = O.Attrs.getString(Key);
    if (!S)
      fail("'" + name() + "' needs a string attribute '" + Key + "'");
    return S;
  }
  bool optionalFloatAttr(llvm::StringRef Key) {
    const Attribute *A = O.Attrs.get(Key);
    if (!A || A->isFloat())
      return true;
    return fail("'" + name() + "' attribute '" + Key + "' must be a float");
  }

  const Graph &G;
  const Op &O;
  ReportFn Report;
};

llvm::SmallVector<int64_t, 4> dropLast(llvm::ArrayRef<int64_t> Dims,
                                       unsigned N) {
  llvm::ArrayRef<int64_t> Kept = Dims.drop_back(N);
  return llvm::SmallVector<int64_t, 4>(Kept.begin(), Kept.end());
}

void checkEmbedding(RuleChecker &C) {
  // embedding(table [V, D], ids [...]) -> float [..., D]
  if (!C.hasRank(0, 2) || !C.notIntOperand(0) || !C.isIntOperand(1))
    return;
  if (!isFloat(C.result().Elem)) {
    C.fail("'embedding' result must be a float tensor, got " +
           C.result().str());
    return;
  }
  auto Dims = dropLast(C.operand(1).Dims.dims(), 0);
  Dims.push_back(C.operand(0).Dims[1]);
  C.resultIs(C.result().Elem, Dims);
}

void checkRMSNorm(RuleChecker &C) {
  // rms_norm(x [..., D], w [D]) {eps} -> x
  if (std::optional<double> Eps = C.requireFloatAttr("eps"); Eps && *Eps <= 0)
    C.fail("'rms_norm' eps must be positive");
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 1) || !C.isFloatOperand(1) ||
      !C.hasRank(1, 1) ||
      !C.dimIs(1, 0, C.operand(0).Dims.back(), "the normalised axis"))
    return;
  C.resultIs(C.operand(0));
}

void checkMatMul(RuleChecker &C) {
  // matmul(x [..., K], w [N, K]) -> x.dtype [..., N]
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 1) || !C.notIntOperand(1) ||
      !C.hasRank(1, 2) ||
      !C.dimIs(1, 1, C.operand(0).Dims.back(), "the inner dimension"))
    return;
  auto Dims = dropLast(C.operand(0).Dims.dims(), 1);
  Dims.push_back(C.operand(1).Dims[0]);
  C.resultIs(C.operand(0).Elem, Dims);
}

void checkRoPE(RuleChecker &C) {
  // rope(x [..., T, H, Dh], pos [..., T]) {theta, mode} -> x
  if (std::optional<double> Theta = C.requireFloatAttr("theta");
      Theta && *Theta <= 0)
    C.fail("'rope' theta must be positive");
  if (std::optional<llvm::StringRef> Mode = C.requireStringAttr("mode");
      Mode && *Mode != "normal" && *Mode != "neox")
    C.fail("'rope' mode must be \"normal\" (adjacent pairs, GGUF layout) or "
           "\"neox\" (halves, Hugging Face layout), got \"" +
           *Mode + "\"");
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 3) || !C.isIntOperand(1))
    return;
  llvm::ArrayRef<int64_t> X = C.operand(0).Dims.dims();
  if (X.back() % 2 != 0) {
    C.fail("'rope' needs an even head dimension, got " + C.operand(0).str());
    return;
  }
  if (C.operand(1).Dims.dims() != X.drop_back(2)) {
    C.fail(C.describe(1) +
           " must have the shape of the operand 0 without "
           "its last two dimensions, got " +
           C.operand(1).str());
    return;
  }
  C.resultIs(C.operand(0));
}

void checkKVAppend(RuleChecker &C) {
  // kv_append(cache [B, L, H, D], new [B, T, H, D], pos [B, T]) -> cache
  const Value &Cache = C.G.getValue(C.O.Operands[0]);
  if (Cache.Kind != ValueKind::KVCache) {
    C.fail(C.describe(0) + " must be a kv_cache value, got " +
           getValueKindName(Cache.Kind) + " %" + Cache.Name);
    return;
  }
  if (!C.isFloatOperand(0) || !C.hasRank(0, 4) || !C.isFloatOperand(1) ||
      !C.hasRank(1, 4) || !C.isIntOperand(2) || !C.hasRank(2, 2))
    return;
  llvm::ArrayRef<int64_t> K = C.operand(0).Dims.dims();
  llvm::ArrayRef<int64_t> N = C.operand(1).Dims.dims();
  if (!C.dimIs(1, 0, K[0], "the cache's batch") ||
      !C.dimIs(1, 2, K[2], "the cache's head count") ||
      !C.dimIs(1, 3, K[3], "the cache's head dimension") ||
      !C.dimIs(2, 0, N[0], "the batch") || !C.dimIs(2, 1, N[1], "the tokens"))
    return;
  if (N[1] > K[1]) {
    C.fail("'kv_append' writes " + llvm::Twine(N[1]) +
           " tokens into a cache of " + llvm::Twine(K[1]));
    return;
  }
  C.resultIs(C.operand(0));
}

void checkAttention(RuleChecker &C) {
  // attention(q [B, T, Hq, Dk], k [B, L, Hkv, Dk], v [B, L, Hkv, Dv],
  //           pos [B, T]) -> q.dtype [B, T, Hq, Dv]
  C.optionalFloatAttr("scale");
  for (unsigned I = 0; I < 3; ++I)
    if (!C.isFloatOperand(I) || !C.hasRank(I, 4))
      return;
  if (!C.isIntOperand(3) || !C.hasRank(3, 2))
    return;
  llvm::ArrayRef<int64_t> Q = C.operand(0).Dims.dims();
  llvm::ArrayRef<int64_t> K = C.operand(1).Dims.dims();
  if (!C.dimIs(1, 0, Q[0], "the queries' batch") ||
      !C.dimIs(1, 3, Q[3], "the queries' head dimension") ||
      !C.dimIs(2, 0, K[0], "the keys' batch") ||
      !C.dimIs(2, 1, K[1], "the keys' length") ||
      !C.dimIs(2, 2, K[2], "the keys' head count") ||
      !C.dimIs(3, 0, Q[0], "the batch") || !C.dimIs(3, 1, Q[1], "the tokens"))
    return;
  if (K[2] == 0 || Q[2] % K[2] != 0) {
    C.fail("'attention' needs the query heads (" + llvm::Twine(Q[2]) +
           ") to be a multiple of the key heads (" + llvm::Twine(K[2]) + ")");
    return;
  }
  C.resultIs(C.operand(0).Elem, {Q[0], Q[1], Q[2], C.operand(2).Dims.back()});
}

void checkSameAsOperands(RuleChecker &C) {
  // silu_mul(a, b) -> a, with b of a's type
  if (!C.isFloatOperand(0) || !C.sameType(0, 1))
    return;
  C.resultIs(C.operand(0));
}

void checkBroadcast(RuleChecker &C) {
  // add(a [..., S], b [S]) -> a: b's shape is a suffix of a's. b may be of
  // another float type (a bias kept in f32 beside bf16 activations).
  if (!C.isFloatOperand(0) || !C.isFloatOperand(1))
    return;
  const TensorType &A = C.operand(0), &B = C.operand(1);
  if (B.Dims.rank() > A.Dims.rank() ||
      A.Dims.dims().take_back(B.Dims.rank()) != B.Dims.dims()) {
    C.fail(C.describe(1) +
           " must have a trailing part of operand 0's "
           "shape, " +
           A.str() + ", got " + B.str());
    return;
  }
  C.resultIs(A);
}

void checkUnaryFloat(RuleChecker &C) {
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 1))
    return;
  C.resultIs(C.operand(0));
}

void checkArgMax(RuleChecker &C) {
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 1))
    return;
  if (!isInteger(C.result().Elem)) {
    C.fail("'argmax' result must be an integer tensor, got " +
           C.result().str());
    return;
  }
  C.resultIs(C.result().Elem, dropLast(C.operand(0).Dims.dims(), 1));
}

void checkReshape(RuleChecker &C) {
  const TensorType &X = C.operand(0);
  if (C.result().Elem != X.Elem ||
      C.result().Dims.numElements() != X.Dims.numElements())
    C.fail("'reshape' result " + C.result().str() +
           " must have the element type and element count of " + X.str());
}

void checkSameAsInput(RuleChecker &C) { C.resultIs(C.operand(0)); }

void checkSlice(RuleChecker &C) {
  // slice(x) {axis, begin, end} -> x with dimension axis = end - begin
  std::optional<int64_t> Axis = C.O.Attrs.getInt("axis");
  std::optional<int64_t> Begin = C.O.Attrs.getInt("begin");
  std::optional<int64_t> End = C.O.Attrs.getInt("end");
  if (!Axis || !Begin || !End) {
    C.fail("'slice' needs integer attributes 'axis', 'begin' and 'end'");
    return;
  }
  llvm::ArrayRef<int64_t> X = C.operand(0).Dims.dims();
  if (*Axis < 0 || *Axis >= static_cast<int64_t>(X.size())) {
    C.fail("'slice' axis " + llvm::Twine(*Axis) + " is outside " +
           C.operand(0).str());
    return;
  }
  if (*Begin < 0 || *Begin >= *End || *End > X[*Axis]) {
    C.fail("'slice' range [" + llvm::Twine(*Begin) + ", " + llvm::Twine(*End) +
           ") is not a non-empty part of dimension " + llvm::Twine(*Axis) +
           " (" + llvm::Twine(X[*Axis]) + ")");
    return;
  }
  llvm::SmallVector<int64_t, 4> Dims(X.begin(), X.end());
  Dims[*Axis] = *End - *Begin;
  C.resultIs(C.operand(0).Elem, Dims);
}

void checkMoERoute(RuleChecker &C) {
  // moe_route(logits [..., E]) {top_k, scoring} -> logits
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 1))
    return;
  int64_t Experts = C.operand(0).Dims.back();
  std::optional<int64_t> TopK = C.O.Attrs.getInt("top_k");
  if (!TopK || *TopK < 1 || *TopK > Experts)
    C.fail("'moe_route' needs an integer attribute 'top_k' in 1.." +
           llvm::Twine(Experts));
  std::optional<llvm::StringRef> Scoring = C.requireStringAttr("scoring");
  if (Scoring && *Scoring != "softmax" && *Scoring != "sigmoid")
    C.fail("'moe_route' scoring must be \"softmax\" or \"sigmoid\"");
  C.resultIs(C.operand(0));
}

void checkMoEExperts(RuleChecker &C) {
  // moe_experts(x [..., H], weights [..., E], then per expert k: gate [F, H],
  //             up [F, H], down [H, F]) {first_expert} -> x
  if (!C.isFloatOperand(0) || !C.hasMinRank(0, 1) || !C.isFloatOperand(1) ||
      !C.hasMinRank(1, 1))
    return;
  llvm::ArrayRef<int64_t> X = C.operand(0).Dims.dims();
  llvm::ArrayRef<int64_t> W = C.operand(1).Dims.dims();
  if (W.drop_back() != X.drop_back()) {
    C.fail(C.describe(1) + " must have operand 0's leading dimensions, got " +
           C.operand(1).str());
    return;
  }
  int64_t Experts = (C.O.Operands.size() - 2) / 3;
  int64_t First = C.O.Attrs.getInt("first_expert").value_or(0);
  if (First < 0 || First + Experts > W.back()) {
    C.fail("'moe_experts' covers experts " + llvm::Twine(First) + ".." +
           llvm::Twine(First + Experts - 1) +
           ", but the routing weights "
           "have " +
           llvm::Twine(W.back()));
    return;
  }
  int64_t H = X.back();
  for (unsigned I = 2; I + 2 < C.O.Operands.size(); I += 3) {
    for (unsigned J = I; J < I + 3; ++J)
      if (!C.notIntOperand(J) || !C.hasRank(J, 2))
        return;
    int64_t F = C.operand(I).Dims[0];
    if (!C.dimIs(I, 1, H, "the hidden size") ||
        !C.dimIs(I + 1, 0, F, "the expert's FFN size") ||
        !C.dimIs(I + 1, 1, H, "the hidden size") ||
        !C.dimIs(I + 2, 0, H, "the hidden size") ||
        !C.dimIs(I + 2, 1, F, "the expert's FFN size"))
      return;
  }
  C.resultIs(C.operand(0));
}

void checkMLAAttention(RuleChecker &C) {
  // mla_attention(q [B, T, H, N + R], latent [B, L, 1, C], rope_keys
  //               [B, L, 1, R], kv_b [H * (N + V), C], pos [B, T])
  //   -> q.dtype [B, T, H, V]
  for (unsigned I = 0; I < 3; ++I)
    if (!C.isFloatOperand(I) || !C.hasRank(I, 4))
      return;
  if (!C.notIntOperand(3) || !C.hasRank(3, 2) || !C.isIntOperand(4) ||
      !C.hasRank(4, 2))
    return;
  llvm::ArrayRef<int64_t> Q = C.operand(0).Dims.dims();
  llvm::ArrayRef<int64_t> Lat = C.operand(1).Dims.dims();
  int64_t R = C.operand(2).Dims[3];
  if (!C.dimIs(1, 0, Q[0], "the batch") ||
      !C.dimIs(1, 2, 1, "one latent head") ||
      !C.dimIs(2, 0, Q[0], "the batch") ||
      !C.dimIs(2, 1, Lat[1], "the length") ||
      !C.dimIs(2, 2, 1, "one rope-key head") ||
      !C.dimIs(3, 1, Lat[3], "the latent size") ||
      !C.dimIs(4, 0, Q[0], "the batch") || !C.dimIs(4, 1, Q[1], "the tokens"))
    return;
  int64_t Heads = Q[2], Rows = C.operand(3).Dims[0], N = Q[3] - R;
  if (N <= 0 || Rows % Heads != 0 || Rows / Heads <= N) {
    C.fail("'mla_attention' shapes are inconsistent: query head size " +
           llvm::Twine(Q[3]) + ", rope size " + llvm::Twine(R) + ", " +
           llvm::Twine(Rows) + " kv_b rows for " + llvm::Twine(Heads) +
           " heads");
    return;
  }
  C.resultIs(C.operand(0).Elem, {Q[0], Q[1], Heads, Rows / Heads - N});
}

} // namespace

void checkOpTyping(const Graph &G, const Op &O, ReportFn Report) {
  RuleChecker C(G, O, Report);
  switch (O.Kind) {
  case OpKind::Embedding:
    return checkEmbedding(C);
  case OpKind::RMSNorm:
    return checkRMSNorm(C);
  case OpKind::MatMul:
    return checkMatMul(C);
  case OpKind::RoPE:
    return checkRoPE(C);
  case OpKind::KVAppend:
    return checkKVAppend(C);
  case OpKind::Attention:
    return checkAttention(C);
  case OpKind::SiLUMul:
    return checkSameAsOperands(C);
  case OpKind::Add:
  case OpKind::Mul:
    return checkBroadcast(C);
  case OpKind::Softmax:
    return checkUnaryFloat(C);
  case OpKind::ArgMax:
    return checkArgMax(C);
  case OpKind::Reshape:
    return checkReshape(C);
  case OpKind::Copy:
    return checkSameAsInput(C);
  case OpKind::AllReduce:
    if (C.isFloatOperand(0))
      checkSameAsInput(C);
    return;
  case OpKind::Slice:
    return checkSlice(C);
  case OpKind::MoERoute:
    return checkMoERoute(C);
  case OpKind::MoEExperts:
    return checkMoEExperts(C);
  case OpKind::MLAAttention:
    return checkMLAAttention(C);
  }
  llvm_unreachable("unknown op kind");
}

} // namespace strata::ir
