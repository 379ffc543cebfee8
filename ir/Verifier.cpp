//===- Verifier.cpp - Check every invariant of a graph --------------------===//

#include "ir/Verifier.h"

#include "ir/WeightRole.h"

#include "ir/OpTyping.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::ir {
namespace {

class Verifier {
public:
  explicit Verifier(const Graph &G) : G(G) {}

  std::vector<Diagnostic> run() {
    llvm::StringSet<> SharedNames;
    for (ValueId V : G.sharedValues()) {
      const Value &Val = G.getValue(V);
      if (!SharedNames.insert(Val.Name).second)
        report(Val.Loc, "value %" + Val.Name + " is defined twice");
      if (Val.Kind != ValueKind::Weight && Val.Kind != ValueKind::KVCache)
        report(Val.Loc, "shared value %" + Val.Name +
                            " must be a weight or "
                            "kv_cache, not " +
                            getValueKindName(Val.Kind));
      checkValue(V);
    }
    UsesFound.assign(G.numValues(), 0);
    for (ProgramId P = 0; P < G.programs().size(); ++P)
      checkProgram(P, SharedNames);
    checkDefUseLinks();
    return std::move(Diags);
  }

private:
  void report(SourceLoc L, const llvm::Twine &Msg) {
    Diags.push_back({L, Msg.str()});
  }

  /// Checks what holds for any value: a whole number of quantization blocks
  /// per row, and the types of well-known attributes.
  void checkValue(ValueId V) {
    const Value &Val = G.getValue(V);
    const DTypeInfo &Info = getDTypeInfo(Val.Type.Elem);
    if (Info.BlockElems > 1) {
      // Quantized rows are stored as whole blocks, so the last dimension
      // must be a multiple of the block.
      int64_t Row = Val.Type.Dims.rank() ? Val.Type.Dims.back() : 1;
      if (Row % Info.BlockElems != 0)
        report(Val.Loc, "%" + Val.Name + " has type " + Val.Type.str() +
                            ", but " + Info.Name +
                            " needs the last "
                            "dimension to be a multiple of its " +
                            llvm::Twine(Info.BlockElems) + "-element block");
    }
    if (Val.isDeclared())
      checkAttrs(Val.Attrs, Val.Loc, "%" + Val.Name);
  }

  void checkAttrs(const AttrDict &Attrs, SourceLoc L, const std::string &Who) {
    for (const auto &[Key, A] : Attrs) {
      if (Key.empty() || !llvm::isAlpha(Key[0]) ||
          !llvm::all_of(Key,
                        [](char C) { return llvm::isAlnum(C) || C == '_'; }))
        report(L, Who + " has an attribute with an invalid name '" + Key + "'");
    }
    for (llvm::StringRef Key :
         {AttrKeys::Layer, AttrKeys::Device, AttrKeys::Offset}) {
      const Attribute *A = Attrs.get(Key);
      if (!A)
        continue;
      // An offloaded weight's device is "host" or "disk".
      if (Key == AttrKeys::Device && A->isString() &&
          (A->getString() == "host" || A->getString() == "disk"))
        continue;
      if (!A->isInt() || A->getInt() < 0)
        report(L, Who + " attribute '" + Key + "' must be a non-negative " +
                      (Key == AttrKeys::Device ? "integer, \"host\" or \"disk\""
                                               : "integer"));
    }
    // Placement splits a weight by its role, so a misspelt one is an error
    // rather than a tensor split the default way.
    if (const Attribute *R = Attrs.get(AttrKeys::Role);
        R && !(R->isString() && parseWeightRole(R->getString())))
      report(L, Who + " attribute 'role' must be one of " + listWeightRoles());
  }

  void checkProgram(ProgramId P, const llvm::StringSet<> &SharedNames) {
    const Program &Prog = G.getProgram(P);
    llvm::StringSet<> Names;
    auto CheckName = [&](const Value &Val) {
      if (SharedNames.count(Val.Name) || !Names.insert(Val.Name).second)
        report(Val.Loc, "value %" + Val.Name + " is defined twice");
    };
    for (ValueId V : Prog.Inputs) {
      const Value &Val = G.getValue(V);
      CheckName(Val);
      if (Val.Kind != ValueKind::Input || Val.Program != P)
        report(Val.Loc, "%" + Val.Name + " is listed as an input of @" +
                            Prog.Name + " but is not one");
      checkValue(V);
    }
    for (OpId O : Prog.Body)
      checkOp(P, O, CheckName);
    for (ValueId V : Prog.Outputs) {
      const Value &Val = G.getValue(V);
      if (Val.Kind != ValueKind::Output || Val.Program != P || Val.isDeclared())
        report(Val.Loc, "%" + Val.Name + " is listed as an output of @" +
                            Prog.Name +
                            " but is not the result of one of "
                            "its ops");
    }
    if (auto Order = G.topologicalOrder(P); !Order)
      report(Prog.Loc, llvm::toString(Order.takeError()));
  }

  template <typename NameCheck>
  void checkOp(ProgramId P, OpId Id, NameCheck &CheckName) {
    const Op &O = G.getOp(Id);
    const Value &Result = G.getValue(O.Result);
    std::string Who =
        "'" + getOpName(O.Kind).str() + "' defining %" + Result.Name;
    CheckName(Result);
    if (O.Erased || O.Program != P || Result.Def != Id) {
      report(O.Loc, Who + " is not a live op of @" + G.getProgram(P).Name);
      return;
    }
    bool OperandsOk = true;
    for (size_t I = 0; I < O.Operands.size(); ++I) {
      ValueId V = O.Operands[I];
      if (V >= G.numValues()) {
        report(O.Loc, Who + ": operand " + llvm::Twine(I) + " is undefined");
        OperandsOk = false;
        continue;
      }
      const Value &Operand = G.getValue(V);
      if (!Operand.isShared() && Operand.Program != P) {
        report(O.Loc, Who + ": operand %" + Operand.Name +
                          " belongs to another program");
        OperandsOk = false;
      } else if (!Operand.isDeclared() && G.getOp(Operand.Def).Erased) {
        report(O.Loc, Who + ": operand %" + Operand.Name +
                          " was defined by an erased op");
        OperandsOk = false;
      } else {
        ++UsesFound[V];
      }
    }
    if (std::optional<std::string> Why =
            checkArity(O.Kind, O.Operands.size())) {
      report(O.Loc, Who + ": " + *Why);
      OperandsOk = false;
    }
    checkValue(O.Result);
    checkAttrs(O.Attrs, O.Loc, Who);
    if (OperandsOk)
      checkOpTyping(G, O, [&](const llvm::Twine &Msg) { report(O.Loc, Msg); });
  }

  /// Each value's user list must hold exactly the live ops that use it, as
  /// often as they use it. Counting uses per value and checking that every
  /// listed user really uses the value keeps this linear in the edges, even
  /// for a value (positions, embeddings) used by every layer.
  void checkDefUseLinks() {
    for (ValueId V = 0; V < G.numValues(); ++V) {
      const Value &Val = G.getValue(V);
      bool Consistent = Val.Users.size() == UsesFound[V];
      for (OpId U : Val.Users)
        Consistent &= U < G.numOps() && !G.getOp(U).Erased &&
                      llvm::is_contained(G.getOp(U).Operands, V);
      if (!Consistent)
        report(Val.Loc, "the def-use links of %" + Val.Name +
                            " are out of date (a bug in the code that "
                            "changed the graph)");
    }
  }

  const Graph &G;
  std::vector<Diagnostic> Diags;
  std::vector<uint32_t> UsesFound; ///< Uses by live ops seen, per value.
};

} // namespace

std::vector<Diagnostic> verifyGraph(const Graph &G) {
  return Verifier(G).run();
}

llvm::Error verify(const Graph &G) {
  llvm::StringRef BufferName =
      G.getSourceName().empty() ? "<graph>" : G.getSourceName();
  std::vector<Diagnostic> Diags = verifyGraph(G);
  if (Diags.empty())
    return llvm::Error::success();
  std::string Msg;
  llvm::raw_string_ostream OS(Msg);
  for (size_t I = 0; I < Diags.size(); ++I) {
    const Diagnostic &D = Diags[I];
    if (I)
      OS << '\n';
    OS << BufferName << ':';
    if (D.Loc.isValid())
      OS << D.Loc.Line << ':' << D.Loc.Col << ':';
    OS << " error: " << D.Message;
  }
  return llvm::createStringError(llvm::inconvertibleErrorCode(), OS.str());
}

} // namespace strata::ir
