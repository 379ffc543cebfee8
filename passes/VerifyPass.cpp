//===- VerifyPass.cpp - The verifier as a pass ----------------------------===//
//
// Lets a pipeline check the graph at a chosen point, e.g. `--passes=verify`
// on a hand-written file, whatever the build's verify-each setting.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/Verifier.h"

namespace strata::passes {
namespace {

class VerifyPass : public Pass {
public:
  llvm::StringRef getName() const override { return "verify"; }
  llvm::Error run(ir::Graph &G, PassContext &) override {
    return ir::verify(G);
  }
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>> createVerifyPass(PassOptions &) {
  return std::make_unique<VerifyPass>();
}

} // namespace strata::passes
