//===- PassManager.h - Run passes in a pipeline -----------------*- C++ -*-===//
//
// Runs passes in order on one graph. Between passes it can verify the
// graph (on by default in debug builds, where a pass that breaks the IR is
// a bug) and call hooks before and after each pass, which the tool uses
// for --print-before-all and --print-after-all.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_PASSMANAGER_H
#define STRATA_PASSES_PASSMANAGER_H

#include "passes/Pass.h"

#include <functional>
#include <memory>

namespace strata::passes {

class PassManager {
public:
  using Hook = std::function<void(const Pass &, const ir::Graph &)>;

  PassManager();
  ~PassManager();

  void addPass(std::unique_ptr<Pass> P) { Passes.push_back(std::move(P)); }
  void addPasses(std::vector<std::unique_ptr<Pass>> Ps);
  size_t size() const { return Passes.size(); }

  void setVerifyEach(bool On) { VerifyEach = On; }
  bool getVerifyEach() const { return VerifyEach; }
  /// Record each pass's wall time, in microseconds, as its TimeStatistic.
  void setTimePasses(bool On) { TimePasses = On; }
  void setBeforePass(Hook H) { BeforePass = std::move(H); }
  void setAfterPass(Hook H) { AfterPass = std::move(H); }

  /// Runs every pass; stops at the first that fails, or after which the
  /// graph does not verify, naming the pass.
  llvm::Error run(ir::Graph &G, PassContext &Ctx);

private:
  std::vector<std::unique_ptr<Pass>> Passes;
  bool VerifyEach;
  bool TimePasses = false;
  Hook BeforePass;
  Hook AfterPass;
};

} // namespace strata::passes

#endif // STRATA_PASSES_PASSMANAGER_H
