//===- Liveness.cpp - When each activation buffer is live -----------------===//

#include "ir/Liveness.h"

#include "llvm/ADT/DenseMap.h"

#include <algorithm>

namespace strata::ir {

llvm::Expected<ProgramLiveness> computeLiveness(const Graph &G, ProgramId P) {
  ProgramLiveness Result;
  auto Order = G.topologicalOrder(P);
  if (!Order)
    return Order.takeError();
  Result.Steps = std::move(*Order);
  const uint32_t End =
      Result.Steps.empty() ? 0 : static_cast<uint32_t>(Result.Steps.size() - 1);

  // The value whose buffer V is: follow aliasing results to their source.
  auto Root = [&](ValueId V) {
    while (true) {
      const Value &Val = G.getValue(V);
      if (Val.isDeclared())
        return V;
      const Op &O = G.getOp(Val.Def);
      int Aliased = getOpInfo(O.Kind).AliasedOperand;
      if (Aliased < 0)
        return V;
      V = O.Operands[Aliased];
    }
  };

  llvm::DenseMap<ValueId, unsigned> Index; // root -> Buffers index
  auto Touch = [&](ValueId V, uint32_t Step, bool Defines) -> llvm::Error {
    ValueId R = Root(V);
    const Value &Val = G.getValue(R);
    if (Val.isShared())
      return llvm::Error::success(); // weights and KV caches
    auto [It, Inserted] = Index.try_emplace(R, Result.Buffers.size());
    if (Inserted) {
      auto Bytes = Val.Type.getByteSize();
      if (!Bytes)
        return Bytes.takeError();
      Result.Buffers.push_back({R, *Bytes, Defines ? Step : 0, Step});
    }
    LiveBuffer &B = Result.Buffers[It->second];
    B.Last = std::max(B.Last, Step);
    return llvm::Error::success();
  };

  for (ValueId In : G.getProgram(P).Inputs)
    if (llvm::Error E = Touch(In, 0, true))
      return E;
  for (uint32_t Step = 0; Step < Result.Steps.size(); ++Step) {
    const Op &O = G.getOp(Result.Steps[Step]);
    for (ValueId V : O.Operands)
      if (llvm::Error E = Touch(V, Step, false))
        return E;
    if (llvm::Error E = Touch(O.Result, Step, true))
      return E;
  }
  for (ValueId Out : G.getProgram(P).Outputs)
    if (llvm::Error E = Touch(Out, End, false))
      return E;

  // Sweep: a buffer counts from First through Last inclusive.
  std::vector<std::pair<uint32_t, int64_t>> Events;
  Events.reserve(Result.Buffers.size() * 2);
  for (const LiveBuffer &B : Result.Buffers) {
    Events.push_back({B.First, static_cast<int64_t>(B.Bytes)});
    Events.push_back({B.Last + 1, -static_cast<int64_t>(B.Bytes)});
  }
  // At equal steps, frees (negative) come first: a buffer whose last read
  // was the previous step is gone before this step's buffers appear.
  llvm::sort(Events);
  int64_t Live = 0;
  for (const auto &[Step, Delta] : Events) {
    Live += Delta;
    Result.PeakBytes = std::max<uint64_t>(Result.PeakBytes, Live);
  }
  return Result;
}

} // namespace strata::ir
