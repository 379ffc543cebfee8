//===- PlacementTest.cpp - Cost model, placement, plans -------------------===//

#include "TestGraphs.h"

#include "ir/cluster/Cluster.h"
#include "ir/import/Lowering.h"
#include "ir/import/Presets.h"
#include "ir/plan/Plan.h"
#include "passes/BuildPlan.h"
#include "passes/CompilePlan.h"
#include "passes/CostModel.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"
#include "passes/Placement.h"

#include <map>
#include <random>
#include <set>

using namespace strata;

namespace {

ir::Graph lowerPreset(llvm::StringRef Name, int64_t Context = 4096,
                      int64_t Batch = 1) {
  import::LoweringOptions O;
  O.Context = Context;
  O.Batch = Batch;
  return test::unwrap(import::lowerModel(
      test::unwrap(import::findModelPreset(Name))->Config, nullptr, O));
}

struct Compiled {
  plan::Plan Plan;
  std::string Text;
};

/// Compiles as strata compile does: placement, memory plan, verifier.
llvm::Expected<Compiled> compile(ir::Graph G, const cluster::Cluster &C,
                                 llvm::StringRef Strategy = "auto",
                                 llvm::StringRef KV = "with-layer",
                                 bool Offload = true) {
  passes::CompileRequest R;
  R.Model.Name = std::string(G.getName());
  R.Options.Strategy = Strategy.str();
  R.Options.KVStrategy = KV.str();
  R.Options.NoOffload = !Offload;
  auto P = passes::compilePlan(G, C, R);
  if (!P)
    return P.takeError();
  std::string Text = plan::planToString(P->Plan);
  return Compiled{std::move(P->Plan), std::move(Text)};
}

/// What a device needs: its regions, as the runtime allocates them, and
/// the reserve.
double usedFraction(const plan::Device &D) {
  return static_cast<double>(D.WeightRegionBytes + D.KVCacheRegionBytes +
                             D.ArenaRegionBytes + D.ReserveBytes) /
         static_cast<double>(D.CapacityBytes);
}

} // namespace

TEST(CostModel, MatMulIsTwoMNK) {
  ir::Graph G = lowerPreset("llama3-8b");
  const ir::Op &Q = G.getOp(G.getValue(*G.lookup(1, "l0.q")).Def);
  passes::OpCost C = passes::computeOpCost(G, Q);
  EXPECT_DOUBLE_EQ(C.Flops, 2.0 * 1 * 4096 * 4096);
  EXPECT_DOUBLE_EQ(C.WeightBytes, 4096.0 * 4096 * 2);
  EXPECT_DOUBLE_EQ(C.Bytes, 4096.0 * 2 + 4096.0 * 4096 * 2 + 4096.0 * 2);
}

TEST(CostModel, RooflineTakesTheLargerPlusLaunch) {
  cluster::Cluster H = test::unwrap(cluster::parseClusterSpec("H100-80GB"));
  const cluster::Device &D = H.Devices[0];
  passes::OpCost MemoryBound{1e6, 1e9, 1e9};
  EXPECT_NEAR(passes::predictSeconds(MemoryBound, D, ir::DType::BF16),
              1e9 / D.MemoryBandwidth + passes::GPULaunchSeconds, 1e-12);
  passes::OpCost ComputeBound{1e15, 1e6, 0};
  EXPECT_NEAR(passes::predictSeconds(ComputeBound, D, ir::DType::BF16),
              1e15 / D.FlopsBF16 + passes::GPULaunchSeconds, 1e-9);
  cluster::Link L{cluster::LinkKind::NVLink, 1e11, 2e-6};
  EXPECT_DOUBLE_EQ(passes::transferSeconds(1e9, L), 2e-6 + 1e-2);
}

TEST(Placement, OneDevicePlansNoCopiesOrSplits) {
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("H200"));
  Compiled R = test::unwrap(compile(lowerPreset("llama3-8b"), C));
  EXPECT_FALSE(R.Plan.MultiDevice);
  EXPECT_EQ(R.Plan.Strategy, "single-device");
  for (const plan::Buffer &B : R.Plan.Buffers) {
    EXPECT_EQ(B.Where, plan::Location::device(0)) << B.Name;
    EXPECT_FALSE(B.ShardInfo) << B.Name;
  }
  EXPECT_TRUE(R.Plan.Fallbacks.empty());
}

TEST(Placement, PipelineKeepsLayersContiguousAndBalanced) {
  // 80 layers and a head of about 1.2 layers' time over 4 devices: layer
  // granularity allows a slowest device within 21 / 20.3 of the mean.
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("4xH100-80GB"));
  Compiled R = test::unwrap(compile(lowerPreset("llama3-70b"), C, "pipeline"));
  EXPECT_EQ(R.Plan.Strategy, "pipeline");
  std::map<int64_t, unsigned> DeviceOfLayer;
  for (const plan::Buffer &B : R.Plan.Buffers)
    if (B.Layer && B.Kind == plan::BufferKind::Weight)
      DeviceOfLayer[*B.Layer] = B.Where.Device;
  unsigned Prev = 0;
  for (const auto &[L, D] : DeviceOfLayer) {
    EXPECT_GE(D, Prev) << "layer " << L; // contiguous, in device order
    Prev = D;
  }
  double Max = 0, Sum = 0;
  for (const plan::Device &D : R.Plan.Devices) {
    Max = std::max(Max, D.DecodeSeconds);
    Sum += D.DecodeSeconds;
  }
  EXPECT_LE(Max / (Sum / 4), 1.05);
}

TEST(Placement, TensorSplitsHeadsAndShardsAddUp) {
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("4xH100-80GB"));
  ir::Graph G = lowerPreset("llama3-8b");
  Compiled R = test::unwrap(compile(G, C, "tensor"));
  EXPECT_EQ(R.Plan.Strategy, "tensor");
  std::map<std::string, uint64_t> Bytes;
  std::map<std::string, unsigned> Shards;
  for (const plan::Buffer &B : R.Plan.Buffers) {
    if (!B.ShardInfo || B.ShardInfo->Axis < 0 ||
        B.Kind != plan::BufferKind::Weight)
      continue;
    Bytes[B.Name] += B.Bytes;
    ++Shards[B.Name];
    EXPECT_EQ(B.ShardInfo->Count, 4u);
  }
  ASSERT_TRUE(Shards.count("model.layers.0.self_attn.q_proj.weight"));
  for (const auto &[Name, Total] : Bytes) {
    auto V = G.lookupShared(Name);
    ASSERT_TRUE(V);
    EXPECT_EQ(Total, llvm::cantFail(G.getValue(*V).Type.getByteSize())) << Name;
    EXPECT_EQ(Shards[Name], 4u) << Name;
  }
}

TEST(Placement, MixedGPUsGetProportionalShares) {
  cluster::Cluster C =
      test::unwrap(cluster::parseClusterSpec("2xH100-80GB,2xA100-40GB"));
  Compiled R = test::unwrap(compile(lowerPreset("llama3-70b"), C, "pipeline"));
  // Faster, larger devices take more layers.
  EXPECT_GT(R.Plan.Devices[0].WeightBytes, R.Plan.Devices[2].WeightBytes);
  for (const plan::Device &D : R.Plan.Devices)
    EXPECT_LE(usedFraction(D), 1.0) << D.Index;
}

TEST(Placement, PlansAreDeterministic) {
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("2x8xH100-80GB"));
  Compiled A = test::unwrap(compile(lowerPreset("llama3.1-405b", 8192), C));
  Compiled B = test::unwrap(compile(lowerPreset("llama3.1-405b", 8192), C));
  EXPECT_EQ(A.Text, B.Text);
}

TEST(Placement, FallbacksOffloadAndRefuse) {
  // llama3-8b (16 GiB of weights) on one 24 GiB GPU with a 131072-token
  // KV cache: the cache alone is 16 GiB, so weights go to host memory.
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("RTX4090"));
  Compiled R = test::unwrap(compile(lowerPreset("llama3-8b", 131072), C));
  ASSERT_FALSE(R.Plan.Fallbacks.empty());
  EXPECT_EQ(R.Plan.Fallbacks[0].Kind, plan::FallbackKind::Host);
  for (const plan::Device &D : R.Plan.Devices)
    EXPECT_LE(usedFraction(D), 1.0);
  // Without offloading it cannot fit, and says per device why.
  auto Refused = compile(lowerPreset("llama3-8b", 131072), C, "auto",
                         "with-layer", /*Offload=*/false);
  ASSERT_FALSE(Refused);
  std::string Msg = llvm::toString(Refused.takeError());
  EXPECT_NE(Msg.find("the model does not fit the cluster:\n  cuda:0: needs"),
            std::string::npos)
      << Msg;
  EXPECT_NE(Msg.find("to make it fit:"), std::string::npos) << Msg;
}

TEST(Placement, RandomClustersPlaceEverythingWithinCapacity) {
  // Property: on random CPU clusters every weight and KV cache is placed
  // and every device fits, or the compile fails saying why.
  std::mt19937 Rng(1234);
  import::ModelConfig M;
  M.Name = "random";
  M.Vocab = 256;
  M.Hidden = 64;
  M.FFN = 128;
  M.Layers = 8;
  M.Heads = 8;
  M.KVHeads = 4;
  M.HeadDim = 8;
  M.MaxContext = 256;
  M.WeightType = ir::DType::F32;
  int Fitted = 0, Refused = 0;
  for (int Trial = 0; Trial < 60; ++Trial) {
    unsigned N = 1 + Rng() % 6;
    std::string Spec;
    for (unsigned I = 0; I < N; ++I)
      Spec += (I ? "," : "") + std::string("cpu:1x") +
              std::to_string(256 + Rng() % 2048) + "KiB";
    cluster::Cluster C = test::unwrap(cluster::parseClusterSpec(Spec));
    ir::Graph G = test::unwrap(import::lowerModel(M, nullptr, {}));
    llvm::StringRef Strategy = Trial % 3 == 0 ? "tensor" : "auto";
    auto R = compile(std::move(G), C, Strategy, "with-layer", Trial % 2);
    if (!R) {
      std::string Msg = llvm::toString(R.takeError());
      EXPECT_NE(Msg.find("does not fit"), std::string::npos) << Spec << Msg;
      ++Refused;
      continue;
    }
    ++Fitted;
    std::set<std::string> Whole;
    for (const plan::Buffer &B : R->Plan.Buffers) {
      if (B.Where.Where == plan::Location::Kind::Device) {
        EXPECT_LT(B.Where.Device, C.size());
      }
      if (B.Kind == plan::BufferKind::Weight ||
          B.Kind == plan::BufferKind::KVCache)
        Whole.insert(B.Name);
    }
    // 8 layers x 9 weights + 3 outside + 8 x 2 caches.
    EXPECT_EQ(Whole.size(), 8u * 9 + 3 + 16) << Spec;
    for (const plan::Device &D : R->Plan.Devices)
      EXPECT_LE(usedFraction(D), 1.0) << Spec;
  }
  EXPECT_GT(Fitted, 10);
  EXPECT_GT(Refused, 0);
}

TEST(Placement, ExpertsSpreadWholeOverTheGroup) {
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("2xH100-80GB"));
  ir::Graph G = lowerPreset("mixtral-8x7b");
  Compiled R = test::unwrap(compile(G, C, "tensor"));
  std::map<unsigned, uint64_t> ExpertBytes;
  unsigned Experts = 0;
  for (const plan::Buffer &B : R.Plan.Buffers) {
    if (B.Kind != plan::BufferKind::Weight ||
        B.Name.find(".experts.") == std::string::npos)
      continue;
    EXPECT_FALSE(B.ShardInfo) << B.Name; // whole, not split
    EXPECT_EQ(B.PlacedBy.rfind("expert-parallel: expert ", 0), 0u)
        << B.PlacedBy;
    ExpertBytes[B.Where.Device] += B.Bytes;
    ++Experts;
  }
  EXPECT_EQ(Experts, 32u * 8 * 3);
  ASSERT_EQ(ExpertBytes.size(), 2u);
  EXPECT_EQ(ExpertBytes[0], ExpertBytes[1]); // 4 equal experts each
}

TEST(Placement, TensorParallelWeightsOffloadWholeWhenTheGroupIsFull) {
  // llama3.1-405b (756 GiB in bf16) over four H100s split by tensor
  // parallelism: split weights leave the whole group for host memory.
  cluster::Cluster C = test::unwrap(cluster::parseClusterSpec("4xH100-80GB"));
  Compiled R =
      test::unwrap(compile(lowerPreset("llama3.1-405b", 8192), C, "tensor"));
  ASSERT_FALSE(R.Plan.Fallbacks.empty());
  // Placing again with the exact arena may shard a weight over the node
  // where the estimate left room for it whole.
  for (const plan::Fallback &F : R.Plan.Fallbacks)
    EXPECT_TRUE(F.Kind == plan::FallbackKind::Host ||
                F.Kind == plan::FallbackKind::Shard)
        << F.Buffer;
  for (const plan::Buffer &B : R.Plan.Buffers)
    if (B.Where.Where == plan::Location::Kind::Host) {
      EXPECT_FALSE(B.ShardInfo) << B.Name; // offloaded whole, once
    }
  for (const plan::Device &D : R.Plan.Devices)
    EXPECT_LE(usedFraction(D), 1.0);
}

TEST(Placement, BalancingMemoryFillsMixedGPUsAlike) {
  // Issue bar: on 2xH100-80GB,2xA100-40GB each device's fill within 5 % of
  // the others' when balancing memory.
  cluster::Cluster C =
      test::unwrap(cluster::parseClusterSpec("2xH100-80GB,2xA100-40GB"));
  ir::Graph G = lowerPreset("llama3-70b", 8192);
  passes::CompileOptions O;
  O.Strategy = "pipeline";
  O.Balance = "memory";
  auto Passes =
      test::unwrap(passes::parsePassPipeline(passes::defaultPipeline(O)));
  passes::PassManager PM;
  PM.addPasses(std::move(Passes));
  passes::PassContext Ctx(&C);
  ASSERT_FALSE(bool(PM.run(G, Ctx)));
  plan::Plan P = test::unwrap(passes::buildPlan(G, C, Ctx, {}, {}));
  double Min = 1, Max = 0;
  for (const plan::Device &D : P.Devices) {
    Min = std::min(Min, usedFraction(D));
    Max = std::max(Max, usedFraction(D));
  }
  EXPECT_LE(Max - Min, 0.05);
}

namespace {

// Every caller compiles through defaultPipeline, so every combination of
// choices must make a pipeline that parses, and bad choices must be refused
// before anything runs.
TEST(CompileOptions, EveryChoiceMakesAPipelineThatParses) {
  for (const char *S : {"auto", "pipeline", "tensor"})
    for (const char *B : {"time", "memory"})
      for (const char *KV : {"with-layer", "by-head"})
        for (bool NoOffload : {false, true})
          for (bool Override : {false, true}) {
            passes::CompileOptions O;
            O.Strategy = S;
            O.Balance = B;
            O.KVStrategy = KV;
            O.NoOffload = NoOffload;
            if (Override)
              O.Overrides = {"output.*=host", "blk\\.0\\..*=0"};
            EXPECT_FALSE(bool(passes::checkCompileOptions(O)));
            std::string P = passes::defaultPipeline(O);
            auto Passes = passes::parsePassPipeline(P);
            EXPECT_TRUE(bool(Passes)) << P;
            if (!Passes)
              llvm::consumeError(Passes.takeError());
          }
  passes::CompileOptions Bad;
  Bad.KVStrategy = "by-layer";
  EXPECT_EQ(llvm::toString(passes::checkCompileOptions(Bad)),
            "--kv-strategy=by-layer: expected with-layer or by-head");
  Bad = {};
  Bad.Strategy = "diagonal";
  EXPECT_EQ(llvm::toString(passes::checkCompileOptions(Bad)),
            "--strategy=diagonal: expected auto, pipeline or tensor");
}

// The plan records the sizes the graph was lowered for, read from the
// graph itself rather than from the tool's options.
TEST(CompileOptions, ThePlanRecordsTheGraphsSizes) {
  import::LoweringOptions LO;
  LO.Batch = 3;
  LO.Context = 1024;
  LO.PrefillTokens = 128;
  LO.KVType = ir::DType::F16;
  ir::Graph G = test::unwrap(import::lowerModel(
      test::unwrap(import::findModelPreset("llama3-8b"))->Config, nullptr, LO));
  passes::CompileOptions O;
  O.Strategy = "tensor";
  O.KVStrategy = "by-head";
  O.NoOffload = true;
  plan::Options P = passes::describeCompile(G, O);
  EXPECT_EQ(P.Strategy, "tensor");
  EXPECT_EQ(P.KVStrategy, "by-head");
  EXPECT_TRUE(P.NoOffload);
  EXPECT_EQ(P.Batch, 3);
  EXPECT_EQ(P.Context, 1024);
  EXPECT_EQ(P.PrefillTokens, 128);
  EXPECT_EQ(P.KVDType, "f16");
}

} // namespace

namespace {

// Placement splits a weight by its role, never by its name: a weight named
// like a row-split projection but given the FFN down role is split by
// columns, and one without a role falls back to rows (vectors: copies).
TEST(Placement, TheRoleNotTheNameChoosesTheSplit) {
  ir::Graph G("roles");
  ir::AttrDict Down;
  ir::setWeightRole(Down, ir::WeightRole::FFNDown);
  auto Type = [](llvm::ArrayRef<int64_t> Dims) {
    return ir::TensorType{ir::DType::F32, test::unwrap(ir::Shape::get(Dims))};
  };
  ir::ValueId A =
      test::unwrap(G.addWeight("blk.0.attn_q.weight", Type({4, 8}), Down));
  ir::ValueId B =
      test::unwrap(G.addWeight("blk.0.ffn_down.weight", Type({4, 8}), {}));
  ir::ValueId C = test::unwrap(G.addWeight("norm", Type({8}), {}));
  ir::AttrDict Bias;
  ir::setWeightRole(Bias, ir::WeightRole::QueryBias);
  ir::ValueId D = test::unwrap(G.addWeight("bias", Type({8}), Bias));
  EXPECT_TRUE(passes::isColumnSplitUnderTensorParallel(G.getValue(A)));
  EXPECT_FALSE(passes::isColumnSplitUnderTensorParallel(G.getValue(B)));
  EXPECT_TRUE(passes::isReplicatedUnderTensorParallel(G, C));
  EXPECT_FALSE(passes::isReplicatedUnderTensorParallel(G, D));
}

} // namespace
