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
#include "ir/Liveness.h"
#include "ir/plan/Plan.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strata::cluster {
struct Cluster;
} // namespace strata::cluster

namespace strata::passes {

/// A named count a pass reports, e.g. {"dce", "ops-removed", 12}.
struct Statistic {
  std::string Pass;
  std::string Name;
  int64_t Value;
};

/// The statistic that holds a pass's or stage's wall time, which
/// --time-passes lists.
inline constexpr llvm::StringLiteral TimeStatistic = "time-us";

/// Wall time from construction, for TimeStatistic.
class StageTimer {
public:
  int64_t elapsedMicroseconds() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now() - Start)
        .count();
  }

private:
  std::chrono::steady_clock::time_point Start =
      std::chrono::steady_clock::now();
};

/// A fallback a placement pass took, as data for the plan and the report.
struct FallbackRecord {
  std::string Tensor;
  plan::FallbackKind Kind = plan::FallbackKind::NextDevice;
  std::string Reason; ///< With the numbers.
};

/// What passes share besides the graph: the cluster being planned for (if
/// any), statistics, fallbacks taken, and the analyses below. Everything
/// else a pass needs is in the graph's attributes or the pass's options.
class PassContext {
public:
  explicit PassContext(const cluster::Cluster *C = nullptr) : Cluster(C) {}

  /// The cluster, or an error naming the pass that needs one.
  llvm::Expected<const cluster::Cluster *>
  getCluster(llvm::StringRef Pass) const;

  void addStatistic(llvm::StringRef Pass, llvm::StringRef Name, int64_t V) {
    Stats.push_back({Pass.str(), Name.str(), V});
  }
  llvm::ArrayRef<Statistic> statistics() const { return Stats; }

  void addFallback(FallbackRecord F) { Fallbacks.push_back(std::move(F)); }
  llvm::ArrayRef<FallbackRecord> fallbacks() const { return Fallbacks; }

  /// Each program's liveness, computed once and kept while passes preserve
  /// the graph's structure (the pass manager drops it after any other).
  llvm::Expected<const std::vector<ir::ProgramLiveness> *>
  getLiveness(const ir::Graph &G);
  void invalidateAnalyses() { Liveness.reset(); }

  /// Activation bytes a device needs at least, whatever liveness
  /// estimates: the exact figure of an earlier memory plan, so that placing
  /// again makes room for it.
  void setActivationFloors(std::vector<uint64_t> F) { Floors = std::move(F); }
  llvm::ArrayRef<uint64_t> activationFloors() const { return Floors; }

private:
  const cluster::Cluster *Cluster;
  std::vector<Statistic> Stats;
  std::vector<FallbackRecord> Fallbacks;
  std::optional<std::vector<ir::ProgramLiveness>> Liveness;
  std::vector<uint64_t> Floors;
};

/// Options as written in a pipeline: `topo-sort{tie-break=name}`. Each pass
/// takes the keys it knows; any key left over is an error naming the pass.
/// A value may be double-quoted, `rules="a{1},b=0"`, to hold commas and
/// braces; inside the quotes a backslash makes the next character literal.
class PassOptions {
public:
  /// Parses `key=value,key=value` (the text between the braces).
  static llvm::Expected<PassOptions> parse(llvm::StringRef PassName,
                                           llvm::StringRef Text);

  /// Removes Key and returns its value, or Default when absent.
  llvm::Expected<bool> takeBool(llvm::StringRef Key, bool Default);
  llvm::Expected<std::string> takeString(llvm::StringRef Key,
                                         llvm::StringRef Default);
  llvm::Expected<std::string>
  takeChoice(llvm::StringRef Key, llvm::ArrayRef<llvm::StringRef> Choices,
             llvm::StringRef Default);
  /// Fails when a key was given that the pass did not take.
  llvm::Error checkAllTaken() const;

private:
  std::string PassName;
  std::map<std::string, std::string, std::less<>> Values;
};

/// Value as a quoted option value that reads back as Value.
std::string quotePassOption(llvm::StringRef Value);

/// Where the option block that Text starts with (at its '{') ends: the
/// matching '}' outside quotes, or npos.
size_t findPassOptionsEnd(llvm::StringRef Text);

/// A list in one option value: items joined by Sep, a Sep inside an item
/// escaped with a backslash (kept, so that a regex item reads the same).
std::string joinOptionList(llvm::ArrayRef<std::string> Items, char Sep);
/// The items joinOptionList joined; empty items are dropped.
std::vector<std::string> splitOptionList(llvm::StringRef Text, char Sep);

class Pass {
public:
  virtual ~Pass();
  virtual llvm::StringRef getName() const = 0;
  virtual llvm::Error run(ir::Graph &G, PassContext &Ctx) = 0;
  /// Whether the pass leaves the graph's values, ops and order alone
  /// (changing attributes only), so analyses cached in the context stay
  /// valid after it.
  virtual bool preservesStructure() const { return false; }
};

} // namespace strata::passes

#endif // STRATA_PASSES_PASS_H
