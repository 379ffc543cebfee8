//===- Graph.h - The tensor graph: values, ops and programs -----*- C++ -*-===//
//
// A Graph is one model: the values it shares between programs (weights and
// KV caches) and its programs (prefill, decode), each with inputs, ops in a
// stored order and outputs. Values and ops live in flat arrays and refer to
// each other by index, so that a graph of hundreds of thousands of tensors
// is compact, cheap to copy and iterates in a reproducible order.
//
// Every op has one result value; the value's `Def` is that op, and each
// value lists the ops that use it (def-use links), kept up to date by the
// mutators below.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_GRAPH_H
#define STRATA_IR_GRAPH_H

#include "ir/Attribute.h"
#include "ir/TensorType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <deque>
#include <string>
#include <vector>

namespace strata::ir {

/// A position in a source text; Line 0 means "not from a file".
struct SourceLoc {
  uint32_t Line = 0;
  uint32_t Col = 0;
  bool isValid() const { return Line != 0; }
};

enum class ValueKind : uint8_t { Input, Output, Weight, KVCache, Activation };
llvm::StringRef getValueKindName(ValueKind K);

enum class OpKind : uint8_t {
#define STRATA_OP(Enum, Name, NumOperands, AliasedOperand, Summary) Enum,
#include "ir/Ops.def"
};

struct OpInfo {
  OpKind Kind;
  llvm::StringLiteral Name;
  int NumOperands; ///< -1 for a variadic op.
  /// The operand whose buffer the result is (a view or an in-place update,
  /// so it needs no memory of its own), or -1.
  int AliasedOperand;
  llvm::StringLiteral Summary;
};
llvm::ArrayRef<OpInfo> allOps();
const OpInfo &getOpInfo(OpKind K);
inline llvm::StringRef getOpName(OpKind K) { return getOpInfo(K).Name; }
std::optional<OpKind> parseOpKind(llvm::StringRef Name);
/// Whether an op of kind K may have N operands; the message says why not.
std::optional<std::string> checkArity(OpKind K, size_t N);

using ValueId = uint32_t;
using OpId = uint32_t;
using ProgramId = uint32_t;
inline constexpr uint32_t InvalidId = ~uint32_t(0);

struct Value {
  std::string Name;
  ValueKind Kind = ValueKind::Activation;
  TensorType Type;
  /// Attributes of a declared value (weight, KV cache, input). An op's
  /// result keeps its attributes on the op.
  AttrDict Attrs;
  OpId Def = InvalidId;          ///< The op whose result this is.
  ProgramId Program = InvalidId; ///< InvalidId for shared values.
  llvm::SmallVector<OpId, 2> Users;
  SourceLoc Loc;

  bool isShared() const { return Program == InvalidId; }
  bool isDeclared() const { return Def == InvalidId; }
};

struct Op {
  OpKind Kind;
  llvm::SmallVector<ValueId, 4> Operands;
  ValueId Result = InvalidId;
  AttrDict Attrs;
  ProgramId Program = InvalidId;
  SourceLoc Loc;
  bool Erased = false;
};

struct Program {
  std::string Name;
  std::vector<ValueId> Inputs;
  std::vector<OpId> Body; ///< Ops in their stored order.
  std::vector<ValueId> Outputs;
  llvm::StringMap<ValueId> Names; ///< Values local to this program.
  SourceLoc Loc;
};

class Graph {
public:
  explicit Graph(std::string Name = "model") : Name(std::move(Name)) {}

  llvm::StringRef getName() const { return Name; }
  void setName(std::string N) { Name = std::move(N); }
  /// The file the graph was read from, for messages; empty if none.
  llvm::StringRef getSourceName() const { return SourceName; }
  void setSourceName(std::string N) { SourceName = std::move(N); }

  //===--- Building ------------------------------------------------------===//
  // Names must be unique among shared values and within each program (a
  // program's value may not shadow a shared one); the builders fail with a
  // message otherwise.

  llvm::Expected<ValueId> addWeight(llvm::StringRef Name, TensorType T,
                                    AttrDict Attrs = {}, SourceLoc L = {});
  llvm::Expected<ValueId> addKVCache(llvm::StringRef Name, TensorType T,
                                     AttrDict Attrs = {}, SourceLoc L = {});
  llvm::Expected<ProgramId> addProgram(llvm::StringRef Name, SourceLoc L = {});
  llvm::Expected<ValueId> addInput(ProgramId P, llvm::StringRef Name,
                                   TensorType T, AttrDict Attrs = {},
                                   SourceLoc L = {});
  /// Appends an op to P's body; its result is named ResultName.
  llvm::Expected<OpId> addOp(ProgramId P, OpKind K,
                             llvm::ArrayRef<ValueId> Operands,
                             llvm::StringRef ResultName, TensorType T,
                             AttrDict Attrs = {}, SourceLoc L = {});
  /// Marks V, a result of an op in P, as an output of P.
  llvm::Error addOutput(ProgramId P, ValueId V);

  /// Replaces an op's operands, keeping the def-use links right.
  void setOperands(OpId O, llvm::ArrayRef<ValueId> Operands);

  //===--- Mutating ------------------------------------------------------===//

  /// Removes an op from its program; its result must have no users.
  void eraseOp(OpId O);
  /// Removes a shared value; it must have no users.
  void eraseSharedValue(ValueId V);
  /// Replaces P's body with a permutation of it.
  void setBody(ProgramId P, std::vector<OpId> NewBody);

  //===--- Reading -------------------------------------------------------===//

  size_t numValues() const { return Values.size(); }
  size_t numOps() const { return Ops.size(); }
  const Value &getValue(ValueId V) const { return Values[V]; }
  Value &getValue(ValueId V) { return Values[V]; }
  const Op &getOp(OpId O) const { return Ops[O]; }
  Op &getOp(OpId O) { return Ops[O]; }
  llvm::ArrayRef<Program> programs() const { return Programs; }
  const Program &getProgram(ProgramId P) const { return Programs[P]; }
  /// Weights and KV caches in declaration order.
  llvm::ArrayRef<ValueId> sharedValues() const { return Shared; }

  /// The attributes that describe V: its own for a declared value, its
  /// defining op's for a result.
  const AttrDict &getAttrs(ValueId V) const;
  AttrDict &getAttrs(ValueId V);

  /// Looks a name up in P's scope, then among shared values.
  std::optional<ValueId> lookup(ProgramId P, llvm::StringRef Name) const;
  std::optional<ValueId> lookupShared(llvm::StringRef Name) const;
  std::optional<ProgramId> lookupProgram(llvm::StringRef Name) const;

  /// P's ops in a topological order: each op after the ops producing its
  /// operands, ties kept in stored order. Fails on a cycle, naming the ops
  /// left on it.
  llvm::Expected<std::vector<OpId>> topologicalOrder(ProgramId P) const;

private:
  llvm::Expected<ValueId> addSharedValue(llvm::StringRef Name, ValueKind K,
                                         TensorType T, AttrDict Attrs,
                                         SourceLoc L);
  llvm::Error checkNewName(ProgramId P, llvm::StringRef Name) const;
  void removeUser(ValueId V, OpId O);

  std::string Name;
  std::string SourceName;
  // Deques: adding a value or op never moves the others, so references to
  // them stay valid while a graph is built, and growth copies nothing.
  std::deque<Value> Values;
  std::deque<Op> Ops;
  std::vector<Program> Programs;
  std::vector<ValueId> Shared;
  llvm::StringMap<ValueId> SharedNames;
};

} // namespace strata::ir

#endif // STRATA_IR_GRAPH_H
