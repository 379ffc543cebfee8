//===- PassManagerTest.cpp - Pipelines, options, verify-each --------------===//

#include "TestGraphs.h"

#include "ir/text/Parser.h"
#include "ir/text/Printer.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"

using namespace strata;
using namespace strata::passes;

namespace {

std::string pipelineError(llvm::StringRef Text) {
  auto P = parsePassPipeline(Text);
  if (P)
    return "<parsed>";
  return llvm::toString(P.takeError());
}

/// A pass that breaks the graph, to check that verify-each notices.
class BreakTypesPass : public Pass {
public:
  llvm::StringRef getName() const override { return "break-types"; }
  llvm::Error run(ir::Graph &G, PassContext &) override {
    G.getValue(*G.lookup(0, "m")).Type = test::type(ir::DType::F32, {7});
    return llvm::Error::success();
  }
};

} // namespace

TEST(PassRegistry, ParsesPipelinesWithOptions) {
  auto P = test::unwrap(
      parsePassPipeline("verify, dce{prune-weights=true},topo-sort"));
  ASSERT_EQ(P.size(), 3u);
  EXPECT_EQ(P[0]->getName(), "verify");
  EXPECT_EQ(P[1]->getName(), "dce");
  EXPECT_EQ(P[2]->getName(), "topo-sort");
}

TEST(PassRegistry, PipelineErrors) {
  EXPECT_EQ(pipelineError(""), "the pass pipeline is empty");
  EXPECT_EQ(pipelineError("dce,nope"),
            "unknown pass 'nope' (strata opt --list-passes shows them)");
  EXPECT_EQ(pipelineError("dce{prune-weights=maybe}"),
            "pass 'dce': option 'prune-weights' takes true or false, got "
            "'maybe'");
  EXPECT_EQ(pipelineError("dce{colour=red}"),
            "pass 'dce': unknown option 'colour'");
  EXPECT_EQ(pipelineError("dce{prune-weights=true"),
            "pass 'dce': missing '}' after its options");
  EXPECT_EQ(pipelineError("dce,"), "the pipeline ends with ','");
  EXPECT_EQ(pipelineError("dce topo-sort"),
            "unknown pass 'dce topo-sort' (strata opt --list-passes shows "
            "them)");
}

// Option values may hold commas and braces when quoted: a regex such as
// `layers\.[0-9]{2}` in --override reached place-override cut at the brace.
TEST(PassOptions, QuotedValuesKeepCommasAndBraces) {
  std::string Rules = R"(model\.layers\.[0-9]{1}\.w=1;a,b"c=host)";
  std::string Pipeline =
      "place-override{rules=" + quotePassOption(Rules) + "},verify";
  EXPECT_EQ(pipelineError(Pipeline), "<parsed>") << Pipeline;
  auto Opts = PassOptions::parse("p", "a=" + quotePassOption(Rules) + ",b=1");
  ASSERT_TRUE(bool(Opts));
  EXPECT_EQ(llvm::cantFail(Opts->takeString("a", "")), Rules);
  EXPECT_EQ(llvm::cantFail(Opts->takeString("b", "")), "1");
  EXPECT_EQ(pipelineError("place-override{rules=\"a=0}"),
            "pass 'place-override': missing '}' after its options");
  auto Bad = PassOptions::parse("p", "a=\"x\"y");
  ASSERT_FALSE(bool(Bad));
  EXPECT_EQ(llvm::toString(Bad.takeError()),
            "pass 'p': option 'a': the quoted value \"x\"y does not end at "
            "its closing quote");
}

// A list option keeps a separator inside an item, escaped, so that one
// --override's regex is never split into two rules.
TEST(PassOptions, ListsKeepTheirItemsWhole) {
  std::vector<std::string> Items = {"a;b=0", R"(c\;d=1)", R"(e\\;f=host)",
                                    "g=disk"};
  std::string Joined = joinOptionList(Items, ';');
  std::vector<std::string> Back = splitOptionList(Joined, ';');
  ASSERT_EQ(Back.size(), 4u) << Joined;
  EXPECT_EQ(Back[0], R"(a\;b=0)"); // the same regex: \; is a literal ';'
  EXPECT_EQ(Back[1], R"(c\;d=1)");
  EXPECT_EQ(Back[2], R"(e\\\;f=host)");
  EXPECT_EQ(Back[3], "g=disk");
  EXPECT_EQ(splitOptionList(";;a=0;", ';'), std::vector<std::string>{"a=0"});
}

TEST(PassManager, RunsInOrderWithHooksAndStatistics) {
  ir::Graph G = test::unwrap(ir::text::parseGraph(R"(graph @g {
  weight %unused : f32[4]
  program @p {
    input %x : f32[4]
    %dead2 = softmax %dead1 : f32[4]
    %dead1 = softmax %x : f32[4]
    %y = softmax %x : f32[4]
    output %y
  }
})"));
  PassManager PM;
  PM.addPasses(
      test::unwrap(parsePassPipeline("topo-sort,dce{prune-weights=true}")));
  std::vector<std::string> Seen;
  PM.setBeforePass([&](const Pass &P, const ir::Graph &) {
    Seen.push_back("before " + P.getName().str());
  });
  PM.setAfterPass([&](const Pass &P, const ir::Graph &) {
    Seen.push_back("after " + P.getName().str());
  });
  PassContext Ctx;
  ASSERT_FALSE(bool(PM.run(G, Ctx)));
  EXPECT_EQ(Seen,
            (std::vector<std::string>{"before topo-sort", "after topo-sort",
                                      "before dce", "after dce"}));
  ASSERT_EQ(Ctx.statistics().size(), 3u);
  EXPECT_EQ(Ctx.statistics()[0].Name, "ops-moved");
  EXPECT_EQ(Ctx.statistics()[0].Value, 2);
  EXPECT_EQ(Ctx.statistics()[1].Name, "ops-removed");
  EXPECT_EQ(Ctx.statistics()[1].Value, 2);
  EXPECT_EQ(Ctx.statistics()[2].Value, 1);
  EXPECT_EQ(ir::text::printGraphToString(G), R"(graph @g {
  program @p {
    input %x : f32[4]
    %y = softmax %x : f32[4]
    output %y
  }
}
)");
}

TEST(PassManager, VerifyEachNamesTheBreakingPass) {
  ir::Graph G = test::makeMLPGraph();
  PassManager PM;
  PM.setVerifyEach(true);
  PM.addPass(std::make_unique<BreakTypesPass>());
  PassContext Ctx;
  llvm::Error E = PM.run(G, Ctx);
  ASSERT_TRUE(bool(E));
  std::string Msg = llvm::toString(std::move(E));
  EXPECT_EQ(Msg.find("the graph is invalid after pass 'break-types':"), 0u)
      << Msg;
}

TEST(PassManager, FailingPassStopsThePipeline) {
  ir::Graph G = test::unwrap(ir::text::parseGraph(R"(graph @g {
  program @p {
    input %x : f32[4]
    %a = add %b, %x : f32[4]
    %b = add %a, %x : f32[4]
    output %b
  }
})"));
  PassManager PM;
  PM.addPasses(test::unwrap(parsePassPipeline("topo-sort,dce")));
  bool DceRan = false;
  PM.setBeforePass([&](const Pass &P, const ir::Graph &) {
    DceRan |= P.getName() == "dce";
  });
  PassContext Ctx;
  llvm::Error E = PM.run(G, Ctx);
  ASSERT_TRUE(bool(E));
  EXPECT_EQ(llvm::toString(std::move(E)),
            "pass 'topo-sort' failed:\nprogram @p has a cycle: %a -> %b -> %a");
  EXPECT_FALSE(DceRan);
}
