//===- PlaceOverride.cpp - The user's word over the strategies ------------===//
//
// Like llama.cpp's --override-tensor: each rule REGEX=DEVICE places every
// weight or KV cache whose whole name matches REGEX on DEVICE (an index,
// "host" or "disk"), after the strategies and before the fallbacks. Rules
// apply in order, so a later rule wins. A rule that matches nothing is an
// error: it is almost always a typo.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/Placement.h"

#include "ir/cluster/Cluster.h"

#include "llvm/Support/Regex.h"

namespace strata::passes {
namespace {

struct Rule {
  std::string Pattern;
  Placement To;
};

class PlaceOverridePass : public Pass {
public:
  explicit PlaceOverridePass(std::vector<Rule> Rules)
      : Rules(std::move(Rules)) {}
  llvm::StringRef getName() const override { return "place-override"; }

  bool preservesStructure() const override { return true; }
  llvm::Error run(ir::Graph &G, PassContext &Ctx) override {
    auto Cl = Ctx.getCluster(getName());
    if (!Cl)
      return Cl.takeError();
    int64_t Moved = 0;
    for (const Rule &R : Rules) {
      for (unsigned D : R.To.Devices)
        if (D >= (*Cl)->size())
          return error("override '" + R.Pattern + "': device " +
                       std::to_string(D) + " does not exist (the cluster has " +
                       std::to_string((*Cl)->size()) + ")");
      llvm::Regex Re("^(" + R.Pattern + ")$");
      std::string Why;
      if (!Re.isValid(Why))
        return error("override '" + R.Pattern + "': invalid regex: " + Why);
      unsigned Matched = 0;
      for (ir::ValueId V : G.sharedValues()) {
        ir::Value &Val = G.getValue(V);
        if (!Re.match(Val.Name))
          continue;
        if (Val.Kind == ir::ValueKind::KVCache &&
            R.To.Where != Placement::Kind::Devices)
          return error("override '" + R.Pattern + "' would move KV cache '" +
                       Val.Name + "' off the devices");
        setPlacement(Val.Attrs, R.To, "override: matches '" + R.Pattern + "'");
        ++Matched;
      }
      if (!Matched)
        return error("override '" + R.Pattern +
                     "' matches no weight or KV "
                     "cache");
      Moved += Matched;
    }
    Ctx.addStatistic(getName(), "tensors-overridden", Moved);
    return llvm::Error::success();
  }

private:
  static llvm::Error error(const std::string &Msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
  }
  std::vector<Rule> Rules;
};

} // namespace

llvm::Expected<std::unique_ptr<Pass>>
createPlaceOverridePass(PassOptions &Opts) {
  auto Text = Opts.takeString("rules", "");
  if (!Text)
    return Text.takeError();
  std::vector<Rule> Rules;
  for (const std::string &RuleText : splitOptionList(*Text, ';')) {
    llvm::StringRef Item = RuleText;
    size_t Eq = Item.rfind('=');
    llvm::StringRef Pattern = Item.substr(0, Eq).trim();
    llvm::StringRef Device =
        Eq == llvm::StringRef::npos ? "" : Item.substr(Eq + 1).trim();
    Rule R;
    R.Pattern = Pattern.str();
    unsigned Index = 0;
    if (Device == "host")
      R.To = {Placement::Kind::Host, {}};
    else if (Device == "disk")
      R.To = {Placement::Kind::Disk, {}};
    else if (!Device.empty() && !Device.getAsInteger(10, Index))
      R.To = onDevices({Index});
    else
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "override '" + Item +
              "': expected REGEX=DEVICE, where DEVICE is a "
              "device index, host or disk");
    if (R.Pattern.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "override '" + Item + "': empty regex");
    Rules.push_back(std::move(R));
  }
  return std::make_unique<PlaceOverridePass>(std::move(Rules));
}

} // namespace strata::passes
