//===- PassRegistry.cpp - Find passes by name, parse pipelines ------------===//

#include "passes/PassRegistry.h"

#include "passes/Passes.h"

#include "llvm/ADT/StringExtras.h"

namespace strata::passes {

static constexpr PassInfo PassTable[] = {
#define STRATA_PASS(Name, Factory, Summary, Options)                           \
  {Name, Summary, Options, &Factory},
#include "passes/Passes.def"
};

llvm::ArrayRef<PassInfo> allPasses() { return PassTable; }

static llvm::Error pipelineError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

llvm::Expected<std::unique_ptr<Pass>> createPass(llvm::StringRef Name,
                                                 llvm::StringRef OptionText) {
  auto Opts = PassOptions::parse(Name, OptionText);
  if (!Opts)
    return Opts.takeError();
  const PassInfo *Info = llvm::find_if(
      PassTable, [&](const PassInfo &I) { return I.Name == Name; });
  if (Info == std::end(PassTable))
    return pipelineError("unknown pass '" + Name +
                         "' (strata opt --list-passes shows them)");
  auto P = Info->Create(*Opts);
  if (!P)
    return P.takeError();
  if (llvm::Error E = Opts->checkAllTaken())
    return E;
  return P;
}

llvm::Expected<std::vector<std::unique_ptr<Pass>>>
parsePassPipeline(llvm::StringRef Pipeline) {
  std::vector<std::unique_ptr<Pass>> Passes;
  llvm::StringRef Rest = Pipeline.trim();
  if (Rest.empty())
    return pipelineError("the pass pipeline is empty");
  while (!Rest.empty()) {
    size_t End = Rest.find_first_of(",{");
    llvm::StringRef Name = Rest.substr(0, End).trim();
    llvm::StringRef Options;
    Rest = End == llvm::StringRef::npos ? "" : Rest.substr(End);
    if (Rest.startswith("{")) {
      size_t Close = findPassOptionsEnd(Rest);
      if (Close == llvm::StringRef::npos)
        return pipelineError("pass '" + Name +
                             "': missing '}' after its "
                             "options");
      Options = Rest.substr(1, Close - 1);
      Rest = Rest.substr(Close + 1).ltrim();
    }
    if (Name.empty())
      return pipelineError("empty pass name in pipeline '" + Pipeline + "'");
    auto P = createPass(Name, Options);
    if (!P)
      return P.takeError();
    Passes.push_back(std::move(*P));
    if (Rest.empty())
      break;
    if (!Rest.consume_front(","))
      return pipelineError("expected ',' after pass '" + Name + "', got '" +
                           Rest + "'");
    Rest = Rest.ltrim();
    if (Rest.empty())
      return pipelineError("the pipeline ends with ','");
  }
  return Passes;
}

} // namespace strata::passes
