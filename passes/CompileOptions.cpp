//===- CompileOptions.cpp - What a user chooses about a compile -----------===//

#include "passes/CompileOptions.h"

#include "passes/Pass.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace strata::passes {

static llvm::Error checkChoice(llvm::StringRef Option, llvm::StringRef Value,
                               llvm::ArrayRef<llvm::StringRef> Allowed) {
  if (llvm::is_contained(Allowed, Value))
    return llvm::Error::success();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "--" + Option + "=" + Value + ": expected " +
                                     llvm::join(Allowed.drop_back(), ", ") +
                                     " or " + Allowed.back());
}

llvm::Error checkCompileOptions(const CompileOptions &O) {
  if (llvm::Error E =
          checkChoice("strategy", O.Strategy, {"auto", "pipeline", "tensor"}))
    return E;
  if (llvm::Error E = checkChoice("balance", O.Balance, {"time", "memory"}))
    return E;
  return checkChoice("kv-strategy", O.KVStrategy, {"with-layer", "by-head"});
}

std::string defaultPipeline(const CompileOptions &O) {
  // Non-layer weights balance as the layers do; verify-placement's advice
  // depends on whether offloading was allowed.
  std::string Offload = O.NoOffload ? "false" : "true";
  std::string P = "place-layers{strategy=" + O.Strategy +
                  ",balance=" + O.Balance +
                  "},place-experts,insert-tp-allreduce,place-nonlayer{"
                  "balance=" +
                  O.Balance + "},place-kv{strategy=" + O.KVStrategy + "}";
  if (!O.Overrides.empty())
    P += ",place-override{rules=" +
         quotePassOption(joinOptionList(O.Overrides, ';')) + "}";
  P += ",place-fallbacks{offload=" + Offload +
       "},verify-placement{offload=" + Offload + "}";
  return P;
}

plan::Options describeCompile(const ir::Graph &G, const CompileOptions &O) {
  plan::Options P;
  P.Strategy = O.Strategy;
  P.KVStrategy = O.KVStrategy;
  P.NoOffload = O.NoOffload;
  for (ir::ValueId V : G.sharedValues()) {
    const ir::Value &Cache = G.getValue(V);
    // [batch, context, heads, head size]
    if (Cache.Kind == ir::ValueKind::KVCache && Cache.Type.Dims.rank() >= 2) {
      P.Batch = Cache.Type.Dims[0];
      P.Context = Cache.Type.Dims[1];
      P.KVDType = ir::getDTypeName(Cache.Type.Elem).str();
      break;
    }
  }
  // Token ids are [batch, tokens]: the prefill chunk is prefill's.
  for (const ir::Program &Prog : G.programs()) {
    if (Prog.Inputs.empty())
      continue;
    const ir::Shape &Tokens = G.getValue(Prog.Inputs[0]).Type.Dims;
    if (Tokens.rank() < 2)
      continue;
    P.Batch = Tokens[0];
    if (Prog.Name == "prefill")
      P.PrefillTokens = Tokens[1];
  }
  return P;
}

} // namespace strata::passes
