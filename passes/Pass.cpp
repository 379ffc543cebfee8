//===- Pass.cpp - What every pass is --------------------------------------===//

#include "passes/Pass.h"

#include "llvm/ADT/StringExtras.h"

namespace strata::passes {

Pass::~Pass() = default;

static llvm::Error optionError(llvm::StringRef PassName,
                               const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "pass '" + PassName + "': " + Msg);
}

llvm::Expected<PassOptions> PassOptions::parse(llvm::StringRef PassName,
                                               llvm::StringRef Text) {
  PassOptions Opts;
  Opts.PassName = PassName.str();
  if (Text.trim().empty())
    return Opts;
  llvm::SmallVector<llvm::StringRef, 4> Items;
  Text.split(Items, ',');
  for (llvm::StringRef Item : Items) {
    auto [Key, Val] = Item.split('=');
    Key = Key.trim();
    Val = Val.trim();
    if (Key.empty() || !Item.contains('='))
      return optionError(PassName,
                         "expected 'key=value', got '" + Item.trim() + "'");
    if (!Opts.Values.emplace(Key.str(), Val.str()).second)
      return optionError(PassName, "option '" + Key + "' is given twice");
  }
  return Opts;
}

llvm::Expected<bool> PassOptions::takeBool(llvm::StringRef Key, bool Default) {
  auto It = Values.find(Key);
  if (It == Values.end())
    return Default;
  std::string V = It->second;
  Values.erase(It);
  if (V == "true" || V == "1")
    return true;
  if (V == "false" || V == "0")
    return false;
  return optionError(PassName, "option '" + Key +
                                   "' takes true or false, got '" + V + "'");
}

llvm::Expected<const cluster::Cluster *>
PassContext::getCluster(llvm::StringRef Pass) const {
  if (Cluster)
    return Cluster;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "pass '" + Pass +
          "' places the graph on a cluster: give one with "
          "--cluster (e.g. --cluster cpu:2x64MiB)");
}

llvm::Expected<const std::vector<ir::ProgramLiveness> *>
PassContext::getLiveness(const ir::Graph &G) {
  if (!Liveness) {
    std::vector<ir::ProgramLiveness> All;
    for (ir::ProgramId P = 0; P < G.programs().size(); ++P) {
      auto L = ir::computeLiveness(G, P);
      if (!L)
        return L.takeError();
      All.push_back(std::move(*L));
    }
    Liveness = std::move(All);
  }
  return &*Liveness;
}

llvm::Expected<std::string> PassOptions::takeString(llvm::StringRef Key,
                                                    llvm::StringRef Default) {
  auto It = Values.find(Key);
  if (It == Values.end())
    return Default.str();
  std::string V = It->second;
  Values.erase(It);
  return V;
}

llvm::Expected<std::string>
PassOptions::takeChoice(llvm::StringRef Key,
                        llvm::ArrayRef<llvm::StringRef> Choices,
                        llvm::StringRef Default) {
  auto It = Values.find(Key);
  if (It == Values.end())
    return Default.str();
  std::string V = It->second;
  Values.erase(It);
  if (llvm::is_contained(Choices, V))
    return V;
  return optionError(PassName, "option '" + Key + "' takes one of " +
                                   llvm::join(Choices, ", ") + ", got '" + V +
                                   "'");
}

llvm::Error PassOptions::checkAllTaken() const {
  if (Values.empty())
    return llvm::Error::success();
  return optionError(PassName,
                     "unknown option '" + Values.begin()->first + "'");
}

} // namespace strata::passes
