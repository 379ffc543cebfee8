//===- Graph.cpp - The tensor graph: values, ops and programs -------------===//

#include "ir/Graph.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cassert>

namespace strata::ir {

static llvm::Error graphError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

llvm::StringRef getValueKindName(ValueKind K) {
  switch (K) {
  case ValueKind::Input:
    return "input";
  case ValueKind::Output:
    return "output";
  case ValueKind::Weight:
    return "weight";
  case ValueKind::KVCache:
    return "kv_cache";
  case ValueKind::Activation:
    return "activation";
  }
  llvm_unreachable("unknown value kind");
}

static constexpr OpInfo OpTable[] = {
#define STRATA_OP(Enum, Name, NumOperands, AliasedOperand, Summary)            \
  {OpKind::Enum, Name, NumOperands, AliasedOperand, Summary},
#include "ir/Ops.def"
};

llvm::ArrayRef<OpInfo> allOps() { return OpTable; }
const OpInfo &getOpInfo(OpKind K) { return OpTable[static_cast<unsigned>(K)]; }

std::optional<OpKind> parseOpKind(llvm::StringRef Name) {
  for (const OpInfo &Info : OpTable)
    if (Info.Name == Name)
      return Info.Kind;
  return std::nullopt;
}

std::optional<std::string> checkArity(OpKind K, size_t N) {
  const OpInfo &Info = getOpInfo(K);
  if (Info.NumOperands >= 0) {
    if (N == static_cast<size_t>(Info.NumOperands))
      return std::nullopt;
    return ("'" + Info.Name + "' takes " + llvm::Twine(Info.NumOperands) +
            " operand" + (Info.NumOperands == 1 ? "" : "s") + ", got " +
            llvm::Twine(N))
        .str();
  }
  // moe_experts: input, routing weights, then gate, up, down per expert.
  if (N >= 5 && (N - 2) % 3 == 0)
    return std::nullopt;
  return ("'" + Info.Name +
          "' takes an input, routing weights and three "
          "weights per expert (5, 8, 11, ... operands), got " +
          llvm::Twine(N))
      .str();
}

llvm::Error Graph::checkNewName(ProgramId P, llvm::StringRef N) const {
  if (N.empty())
    return graphError("a value needs a name");
  if (SharedNames.count(N))
    return graphError("value %" + N + " is already defined");
  if (P != InvalidId) {
    if (Programs[P].Names.count(N))
      return graphError("value %" + N + " is already defined in program @" +
                        Programs[P].Name);
  } else {
    // A new shared value must not collide with any program's value.
    for (const Program &Prog : Programs)
      if (Prog.Names.count(N))
        return graphError("value %" + N + " is already defined in program @" +
                          Prog.Name);
  }
  return llvm::Error::success();
}

llvm::Expected<ValueId> Graph::addSharedValue(llvm::StringRef N, ValueKind K,
                                              TensorType T, AttrDict Attrs,
                                              SourceLoc L) {
  if (llvm::Error E = checkNewName(InvalidId, N))
    return E;
  ValueId Id = Values.size();
  Value &V = Values.emplace_back();
  V.Name = N.str();
  V.Kind = K;
  V.Type = std::move(T);
  V.Attrs = std::move(Attrs);
  V.Loc = L;
  SharedNames[N] = Id;
  Shared.push_back(Id);
  return Id;
}

llvm::Expected<ValueId> Graph::addWeight(llvm::StringRef N, TensorType T,
                                         AttrDict Attrs, SourceLoc L) {
  return addSharedValue(N, ValueKind::Weight, std::move(T), std::move(Attrs),
                        L);
}

llvm::Expected<ValueId> Graph::addKVCache(llvm::StringRef N, TensorType T,
                                          AttrDict Attrs, SourceLoc L) {
  return addSharedValue(N, ValueKind::KVCache, std::move(T), std::move(Attrs),
                        L);
}

llvm::Expected<ProgramId> Graph::addProgram(llvm::StringRef N, SourceLoc L) {
  if (N.empty())
    return graphError("a program needs a name");
  if (lookupProgram(N))
    return graphError("program @" + N + " is already defined");
  ProgramId Id = Programs.size();
  Program &P = Programs.emplace_back();
  P.Name = N.str();
  P.Loc = L;
  return Id;
}

llvm::Expected<ValueId> Graph::addInput(ProgramId P, llvm::StringRef N,
                                        TensorType T, AttrDict Attrs,
                                        SourceLoc L) {
  assert(P < Programs.size() && "no such program");
  if (llvm::Error E = checkNewName(P, N))
    return E;
  ValueId Id = Values.size();
  Value &V = Values.emplace_back();
  V.Name = N.str();
  V.Kind = ValueKind::Input;
  V.Type = std::move(T);
  V.Attrs = std::move(Attrs);
  V.Program = P;
  V.Loc = L;
  Programs[P].Names[N] = Id;
  Programs[P].Inputs.push_back(Id);
  return Id;
}

llvm::Expected<OpId> Graph::addOp(ProgramId P, OpKind K,
                                  llvm::ArrayRef<ValueId> Operands,
                                  llvm::StringRef ResultName, TensorType T,
                                  AttrDict Attrs, SourceLoc L) {
  assert(P < Programs.size() && "no such program");
  if (llvm::Error E = checkNewName(P, ResultName))
    return E;
  OpId OId = Ops.size();
  ValueId VId = Values.size();
  Value &V = Values.emplace_back();
  V.Name = ResultName.str();
  V.Kind = ValueKind::Activation;
  V.Type = std::move(T);
  V.Def = OId;
  V.Program = P;
  V.Loc = L;
  Op &O = Ops.emplace_back();
  O.Kind = K;
  O.Result = VId;
  O.Attrs = std::move(Attrs);
  O.Program = P;
  O.Loc = L;
  Programs[P].Names[ResultName] = VId;
  Programs[P].Body.push_back(OId);
  setOperands(OId, Operands);
  return OId;
}

llvm::Error Graph::addOutput(ProgramId P, ValueId V) {
  assert(P < Programs.size() && V < Values.size());
  Value &Val = Values[V];
  if (Val.Program != P || Val.isDeclared())
    return graphError("output %" + Val.Name +
                      " is not the result of an op in "
                      "program @" +
                      Programs[P].Name);
  if (Val.Kind == ValueKind::Output)
    return graphError("%" + Val.Name + " is already an output");
  Val.Kind = ValueKind::Output;
  Programs[P].Outputs.push_back(V);
  return llvm::Error::success();
}

void Graph::removeUser(ValueId V, OpId O) {
  auto &Users = Values[V].Users;
  auto It = llvm::find(Users, O);
  assert(It != Users.end() && "def-use link missing");
  Users.erase(It);
}

void Graph::setOperands(OpId OId, llvm::ArrayRef<ValueId> Operands) {
  Op &O = Ops[OId];
  for (ValueId V : O.Operands)
    removeUser(V, OId);
  O.Operands.assign(Operands.begin(), Operands.end());
  for (ValueId V : O.Operands) {
    assert(V < Values.size() && "operand out of range");
    Values[V].Users.push_back(OId);
  }
}

void Graph::eraseOp(OpId OId) {
  Op &O = Ops[OId];
  assert(!O.Erased && "op erased twice");
  Value &Result = Values[O.Result];
  assert(Result.Users.empty() && "erasing an op whose result is used");
  assert(Result.Kind != ValueKind::Output && "erasing a program output");
  setOperands(OId, {});
  Program &P = Programs[O.Program];
  P.Names.erase(Result.Name);
  llvm::erase_value(P.Body, OId);
  O.Erased = true;
}

void Graph::eraseSharedValue(ValueId V) {
  Value &Val = Values[V];
  assert(Val.isShared() && Val.Users.empty() && "erasing a used value");
  SharedNames.erase(Val.Name);
  llvm::erase_value(Shared, V);
}

void Graph::setBody(ProgramId P, std::vector<OpId> NewBody) {
#ifndef NDEBUG
  std::vector<OpId> A = Programs[P].Body, B = NewBody;
  llvm::sort(A);
  llvm::sort(B);
  assert(A == B && "setBody takes a permutation of the body");
#endif
  Programs[P].Body = std::move(NewBody);
}

const AttrDict &Graph::getAttrs(ValueId V) const {
  const Value &Val = Values[V];
  return Val.isDeclared() ? Val.Attrs : Ops[Val.Def].Attrs;
}

AttrDict &Graph::getAttrs(ValueId V) {
  Value &Val = Values[V];
  return Val.isDeclared() ? Val.Attrs : Ops[Val.Def].Attrs;
}

std::optional<ValueId> Graph::lookupShared(llvm::StringRef N) const {
  auto It = SharedNames.find(N);
  if (It == SharedNames.end())
    return std::nullopt;
  return It->second;
}

std::optional<ValueId> Graph::lookup(ProgramId P, llvm::StringRef N) const {
  if (P != InvalidId) {
    auto It = Programs[P].Names.find(N);
    if (It != Programs[P].Names.end())
      return It->second;
  }
  return lookupShared(N);
}

std::optional<ProgramId> Graph::lookupProgram(llvm::StringRef N) const {
  for (size_t I = 0; I < Programs.size(); ++I)
    if (Programs[I].Name == N)
      return static_cast<ProgramId>(I);
  return std::nullopt;
}

llvm::Expected<std::vector<OpId>> Graph::topologicalOrder(ProgramId P) const {
  // Kahn's algorithm over the body; a ready queue in stored order keeps the
  // result stable (the stored order itself when it is already topological).
  const std::vector<OpId> &Body = Programs[P].Body;
  // Position[O] is O's index in Body, InvalidId for ops of other programs.
  std::vector<uint32_t> Position(Ops.size(), InvalidId);
  for (size_t I = 0; I < Body.size(); ++I)
    Position[Body[I]] = I;
  auto PositionOf = [&](ValueId V) {
    OpId Def = Values[V].Def;
    return Def == InvalidId ? InvalidId : Position[Def];
  };
  std::vector<unsigned> Pending(Body.size(), 0);
  for (size_t I = 0; I < Body.size(); ++I)
    for (ValueId V : Ops[Body[I]].Operands)
      if (PositionOf(V) != InvalidId)
        ++Pending[I];

  std::vector<OpId> Order;
  Order.reserve(Body.size());
  // A min-heap on stored position: ready ops are emitted in stored order.
  std::vector<unsigned> Ready;
  auto Later = [](unsigned A, unsigned B) { return A > B; };
  for (unsigned I = 0; I < Body.size(); ++I)
    if (Pending[I] == 0)
      Ready.push_back(I);
  std::make_heap(Ready.begin(), Ready.end(), Later);
  while (!Ready.empty()) {
    std::pop_heap(Ready.begin(), Ready.end(), Later);
    unsigned I = Ready.back();
    Ready.pop_back();
    OpId O = Body[I];
    Order.push_back(O);
    for (OpId User : Values[Ops[O].Result].Users) {
      uint32_t UserPos = Position[User];
      if (UserPos == InvalidId)
        continue;
      // An op that uses this value twice waits for it twice.
      if (--Pending[UserPos] == 0) {
        Ready.push_back(UserPos);
        std::push_heap(Ready.begin(), Ready.end(), Later);
      }
    }
  }
  if (Order.size() == Body.size())
    return Order;

  // Every op left waits on another op left, so walking from one of them to
  // an unordered producer must come back to an op already seen: that loop is
  // the cycle to report.
  std::vector<unsigned> Walk;
  std::vector<uint32_t> SeenAt(Body.size(), InvalidId);
  unsigned Cur = 0;
  while (Pending[Cur] == 0)
    ++Cur;
  while (SeenAt[Cur] == InvalidId) {
    SeenAt[Cur] = Walk.size();
    Walk.push_back(Cur);
    for (ValueId V : Ops[Body[Cur]].Operands) {
      uint32_t Producer = PositionOf(V);
      if (Producer != InvalidId && Pending[Producer] != 0) {
        Cur = Producer;
        break;
      }
    }
  }
  std::string Msg;
  llvm::raw_string_ostream OS(Msg);
  OS << "program @" << Programs[P].Name << " has a cycle:";
  // The walk runs from users to producers: reverse it into data-flow order,
  // then start at the op written first, so the message is stable.
  std::vector<unsigned> Cycle(Walk.rbegin(), Walk.rend() - SeenAt[Cur]);
  std::rotate(Cycle.begin(), std::min_element(Cycle.begin(), Cycle.end()),
              Cycle.end());
  for (unsigned I : Cycle)
    OS << " %" << Values[Ops[Body[I]].Result].Name << " ->";
  OS << " %" << Values[Ops[Body[Cycle.front()]].Result].Name;
  return graphError(OS.str());
}

} // namespace strata::ir
