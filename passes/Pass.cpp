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

std::string quotePassOption(llvm::StringRef Value) {
  std::string Out = "\"";
  for (char C : Value) {
    if (C == '"' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

/// Splits Text at each Sep outside double quotes (a backslash inside them
/// escaping the next character).
static llvm::SmallVector<llvm::StringRef, 4>
splitOutsideQuotes(llvm::StringRef Text, char Sep) {
  llvm::SmallVector<llvm::StringRef, 4> Items;
  bool Quoted = false;
  size_t Start = 0;
  for (size_t I = 0; I < Text.size(); ++I) {
    if (Quoted && Text[I] == '\\')
      ++I;
    else if (Text[I] == '"')
      Quoted = !Quoted;
    else if (!Quoted && Text[I] == Sep) {
      Items.push_back(Text.slice(Start, I));
      Start = I + 1;
    }
  }
  Items.push_back(Text.substr(Start));
  return Items;
}

size_t findPassOptionsEnd(llvm::StringRef Text) {
  bool Quoted = false;
  for (size_t I = 1; I < Text.size(); ++I) {
    if (Quoted && Text[I] == '\\')
      ++I;
    else if (Text[I] == '"')
      Quoted = !Quoted;
    else if (!Quoted && Text[I] == '}')
      return I;
  }
  return llvm::StringRef::npos;
}

/// A value as written: a quoted one loses its quotes and escapes.
static llvm::Expected<std::string>
unquote(llvm::StringRef PassName, llvm::StringRef Key, llvm::StringRef Val) {
  if (!Val.startswith("\""))
    return Val.str();
  std::string Out;
  for (size_t I = 1; I < Val.size(); ++I) {
    if (Val[I] == '\\' && I + 1 < Val.size()) {
      Out += Val[++I];
    } else if (Val[I] == '"') {
      if (I + 1 != Val.size())
        break;
      return Out;
    } else {
      Out += Val[I];
    }
  }
  return optionError(PassName, "option '" + Key + "': the quoted value " + Val +
                                   " does not end at its closing quote");
}

llvm::Expected<PassOptions> PassOptions::parse(llvm::StringRef PassName,
                                               llvm::StringRef Text) {
  PassOptions Opts;
  Opts.PassName = PassName.str();
  if (Text.trim().empty())
    return Opts;
  for (llvm::StringRef Item : splitOutsideQuotes(Text, ',')) {
    auto [Key, Val] = Item.split('=');
    Key = Key.trim();
    Val = Val.trim();
    if (Key.empty() || !Item.contains('='))
      return optionError(PassName,
                         "expected 'key=value', got '" + Item.trim() + "'");
    auto Value = unquote(PassName, Key, Val);
    if (!Value)
      return Value.takeError();
    if (!Opts.Values.emplace(Key.str(), std::move(*Value)).second)
      return optionError(PassName, "option '" + Key + "' is given twice");
  }
  return Opts;
}

/// Whether Text[I] is escaped: an odd number of backslashes before it.
static bool isEscaped(llvm::StringRef Text, size_t I) {
  size_t Backslashes = 0;
  while (I > Backslashes && Text[I - Backslashes - 1] == '\\')
    ++Backslashes;
  return Backslashes % 2 == 1;
}

std::string joinOptionList(llvm::ArrayRef<std::string> Items, char Sep) {
  std::string Out;
  for (const std::string &Item : Items) {
    if (!Out.empty())
      Out += Sep;
    for (size_t I = 0; I < Item.size(); ++I) {
      if (Item[I] == Sep && !isEscaped(Item, I))
        Out += '\\';
      Out += Item[I];
    }
  }
  return Out;
}

std::vector<std::string> splitOptionList(llvm::StringRef Text, char Sep) {
  std::vector<std::string> Items;
  size_t Start = 0;
  for (size_t I = 0; I <= Text.size(); ++I)
    if (I == Text.size() || (Text[I] == Sep && !isEscaped(Text, I))) {
      llvm::StringRef Item = Text.slice(Start, I).trim();
      if (!Item.empty())
        Items.push_back(Item.str());
      Start = I + 1;
    }
  return Items;
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
