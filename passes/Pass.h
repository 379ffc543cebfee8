//===- Pass.h - What every pass is ------------------------------*- C++ -*-===//
//
// A pass transforms or checks a Graph and has one job. It is made from its
// options (PassOptions, parsed from `name{key=value,...}`), runs with
// `run`, and reports what it did through the PassContext as named
// statistics (data, not log lines: the tool decides what to print).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_PASS_H
#define STRATA_PASSES_PASS_H

#include "ir/Graph.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace strata::passes {

/// A named count a pass reports, e.g. {"dce", "ops-removed", 12}.
struct Statistic {
  std::string Pass;
  std::string Name;
  int64_t Value;
};

class PassContext {
public:
  void addStatistic(llvm::StringRef Pass, llvm::StringRef Name, int64_t V) {
    Stats.push_back({Pass.str(), Name.str(), V});
  }
  llvm::ArrayRef<Statistic> statistics() const { return Stats; }

private:
  std::vector<Statistic> Stats;
};

/// Options as written in a pipeline: `topo-sort{tie-break=name}`. Each pass
/// takes the keys it knows; any key left over is an error naming the pass.
class PassOptions {
public:
  /// Parses `key=value,key=value` (the text between the braces).
  static llvm::Expected<PassOptions> parse(llvm::StringRef PassName,
                                           llvm::StringRef Text);

  /// Removes Key and returns its value, or Default when absent.
  llvm::Expected<bool> takeBool(llvm::StringRef Key, bool Default);
  llvm::Expected<std::string>
  takeChoice(llvm::StringRef Key, llvm::ArrayRef<llvm::StringRef> Choices,
             llvm::StringRef Default);
  /// Fails when a key was given that the pass did not take.
  llvm::Error checkAllTaken() const;

private:
  std::string PassName;
  std::map<std::string, std::string, std::less<>> Values;
};

class Pass {
public:
  virtual ~Pass();
  virtual llvm::StringRef getName() const = 0;
  virtual llvm::Error run(ir::Graph &G, PassContext &Ctx) = 0;
};

} // namespace strata::passes

#endif // STRATA_PASSES_PASS_H
