//===- PlanTest.cpp - The plan file: round trips, errors, fingerprint -----===//

#include "ir/plan/Plan.h"

#include "ir/plan/PlanStructure.h"
#include "ir/plan/PlanVerifier.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace strata::plan;
using namespace llvm;

namespace {

/// A plan with every field set to something other than its default, so
/// that a field the writer or reader forgets shows up as a difference.
Plan fullPlan() {
  Plan P;
  P.Model = {"stories260K",
             "../shared/models/stories260K.gguf",
             "gguf",
             std::string(64, 'a'),
             292000,
             1168000,
             5,
             std::string(64, 'c')};
  P.ClusterSpec = "cpu:2x64MiB";
  // Canonical (compact, sorted keys): what parsePlan stores.
  P.ClusterJSON = R"({"devices":[{"index":0,"kind":"cpu","memory_bandwidth":)"
                  R"(12500000000.5}],"spec":"cpu:2x64MiB"})";
  P.Opts = {"auto", "by-head", 4, 2048, 512, "f16", true};
  P.Strategy = "tensor";
  P.MultiDevice = true;

  Device D0;
  D0.Index = 0;
  D0.Kind = DeviceKind::CPU;
  D0.Name = "cpu0";
  D0.Node = 0;
  D0.CapacityBytes = 64ull << 20;
  D0.ReserveBytes = 1 << 20;
  D0.WeightBytes = 600000;
  D0.KVCacheBytes = 40960;
  D0.ActivationBytes = 123456;
  D0.WorkspaceBytes = 4096;
  D0.PrefillSeconds = 0.0123;
  D0.DecodeSeconds = 1.0 / 3;
  Device D1 = D0;
  D1.Index = 1;
  D1.Name = "cpu1";
  D1.Node = 1;
  D1.WeightBytes = 568000;
  D1.DecodeSeconds = 2e-7;
  P.Devices = {D0, D1};

  Buffer Embed;
  Embed.Name = "token_embd.weight";
  Embed.Kind = BufferKind::Weight;
  Embed.Bytes = 65536;
  Embed.DType = "f32";
  Embed.Shape = {512, 32};
  Embed.Where = Location::device(0);
  Embed.PlacedBy = "pipeline";

  Buffer Q0;
  Q0.Name = "blk.0.attn_q.weight";
  Q0.Kind = BufferKind::Weight;
  Q0.Bytes = 8192;
  Q0.DType = "q8_0";
  Q0.Shape = {32, 64};
  Q0.Where = Location::device(0);
  Q0.Layer = 0;
  Q0.Role = "attention";
  Q0.PlacedBy = "tensor";
  Q0.ShardInfo = Shard{0, 2, 0, 0, 32};
  Buffer Q1 = Q0;
  Q1.Where = Location::device(1);
  Q1.ShardInfo = Shard{1, 2, 0, 32, 32};

  Buffer Experts;
  Experts.Name = "blk.4.ffn_up_exps.weight";
  Experts.Kind = BufferKind::Weight;
  Experts.Bytes = 1ull << 40; // Bigger than any double-exact count.
  Experts.DType = "q4_k";
  Experts.Shape = {8, 14336, 4096};
  Experts.Where = Location::host();
  Experts.Layer = 4;
  Experts.Role = "experts";
  Experts.PlacedBy = "host: no device has 1 TiB free";

  Buffer Cache;
  Cache.Name = "cache_k.3";
  Cache.Kind = BufferKind::KVCache;
  Cache.Bytes = 40960;
  Cache.DType = "f16";
  Cache.Shape = {4, 2048, 5};
  Cache.Where = Location::disk();
  Cache.Layer = 3;
  Cache.PlacedBy = "kv-with-layer";
  P.Buffers = {Embed, Q0, Q1, Experts, Cache};

  P.Fallbacks = {{"blk.4.ffn_up_exps.weight", FallbackKind::Host,
                  "needs 1 TiB, cpu1 has 63 MiB free"},
                 {"cache_k.3", FallbackKind::Disk, "host memory is full"}};
  P.Predicted = {0.25, 0.0017, 2352.9411764705883};
  return P;
}

/// The smallest plan: one device, one buffer; its text is the golden below.
Plan tinyPlan() {
  Plan P;
  P.Model = {"m", "preset:m", "preset", "ff", 10, 40, 1, ""};
  P.ClusterSpec = "cpu:1x1MiB";
  P.Opts = {"auto", "with-layer", 1, 8, 8, "f32", false};
  P.Strategy = "pipeline";
  Device D;
  D.Kind = DeviceKind::CPU;
  D.Name = "cpu0";
  D.CapacityBytes = 1 << 20;
  D.WeightBytes = 40;
  D.PrefillSeconds = 0.5;
  P.Devices = {D};
  Buffer B;
  B.Name = "w";
  B.Kind = BufferKind::Weight;
  B.Bytes = 40;
  B.DType = "f32";
  B.Shape = {10};
  B.PlacedBy = "pipeline";
  P.Buffers = {B};
  P.Predicted = {0.5, 0.25, 4};
  return P;
}

bool sameBits(double A, double B) {
  return std::memcmp(&A, &B, sizeof(double)) == 0;
}

void expectSamePlan(const Plan &A, const Plan &B) {
  EXPECT_EQ(A.Version, B.Version);
  EXPECT_EQ(A.Model.Name, B.Model.Name);
  EXPECT_EQ(A.Model.Source, B.Model.Source);
  EXPECT_EQ(A.Model.Format, B.Model.Format);
  EXPECT_EQ(A.Model.Fingerprint, B.Model.Fingerprint);
  EXPECT_EQ(A.Model.Parameters, B.Model.Parameters);
  EXPECT_EQ(A.Model.WeightBytes, B.Model.WeightBytes);
  EXPECT_EQ(A.Model.Layers, B.Model.Layers);
  EXPECT_EQ(A.ClusterSpec, B.ClusterSpec);
  EXPECT_EQ(A.ClusterJSON, B.ClusterJSON);
  EXPECT_EQ(A.Opts.Strategy, B.Opts.Strategy);
  EXPECT_EQ(A.Opts.KVStrategy, B.Opts.KVStrategy);
  EXPECT_EQ(A.Opts.Batch, B.Opts.Batch);
  EXPECT_EQ(A.Opts.Context, B.Opts.Context);
  EXPECT_EQ(A.Opts.PrefillTokens, B.Opts.PrefillTokens);
  EXPECT_EQ(A.Opts.KVDType, B.Opts.KVDType);
  EXPECT_EQ(A.Opts.NoOffload, B.Opts.NoOffload);
  EXPECT_EQ(A.Strategy, B.Strategy);
  EXPECT_EQ(A.MultiDevice, B.MultiDevice);
  ASSERT_EQ(A.Devices.size(), B.Devices.size());
  for (size_t I = 0; I < A.Devices.size(); ++I) {
    const Device &X = A.Devices[I], &Y = B.Devices[I];
    SCOPED_TRACE("device " + std::to_string(I));
    EXPECT_EQ(X.Index, Y.Index);
    EXPECT_EQ(X.Kind, Y.Kind);
    EXPECT_EQ(X.Name, Y.Name);
    EXPECT_EQ(X.Node, Y.Node);
    EXPECT_EQ(X.CapacityBytes, Y.CapacityBytes);
    EXPECT_EQ(X.ReserveBytes, Y.ReserveBytes);
    EXPECT_EQ(X.WeightBytes, Y.WeightBytes);
    EXPECT_EQ(X.KVCacheBytes, Y.KVCacheBytes);
    EXPECT_EQ(X.ActivationBytes, Y.ActivationBytes);
    EXPECT_EQ(X.WorkspaceBytes, Y.WorkspaceBytes);
    EXPECT_TRUE(sameBits(X.PrefillSeconds, Y.PrefillSeconds));
    EXPECT_TRUE(sameBits(X.DecodeSeconds, Y.DecodeSeconds));
  }
  ASSERT_EQ(A.Buffers.size(), B.Buffers.size());
  for (size_t I = 0; I < A.Buffers.size(); ++I) {
    const Buffer &X = A.Buffers[I], &Y = B.Buffers[I];
    SCOPED_TRACE("buffer " + X.Name);
    EXPECT_EQ(X.Name, Y.Name);
    EXPECT_EQ(X.Kind, Y.Kind);
    EXPECT_EQ(X.Bytes, Y.Bytes);
    EXPECT_EQ(X.DType, Y.DType);
    EXPECT_EQ(X.Shape, Y.Shape);
    EXPECT_TRUE(X.Where == Y.Where);
    EXPECT_EQ(X.Layer, Y.Layer);
    EXPECT_EQ(X.Role, Y.Role);
    EXPECT_EQ(X.PlacedBy, Y.PlacedBy);
    ASSERT_EQ(X.ShardInfo.has_value(), Y.ShardInfo.has_value());
    if (X.ShardInfo) {
      EXPECT_EQ(X.ShardInfo->Index, Y.ShardInfo->Index);
      EXPECT_EQ(X.ShardInfo->Count, Y.ShardInfo->Count);
      EXPECT_EQ(X.ShardInfo->Axis, Y.ShardInfo->Axis);
    }
  }
  ASSERT_EQ(A.Fallbacks.size(), B.Fallbacks.size());
  for (size_t I = 0; I < A.Fallbacks.size(); ++I) {
    EXPECT_EQ(A.Fallbacks[I].Buffer, B.Fallbacks[I].Buffer);
    EXPECT_EQ(A.Fallbacks[I].Kind, B.Fallbacks[I].Kind);
    EXPECT_EQ(A.Fallbacks[I].Reason, B.Fallbacks[I].Reason);
  }
  EXPECT_TRUE(sameBits(A.Predicted.PrefillSeconds, B.Predicted.PrefillSeconds));
  EXPECT_TRUE(sameBits(A.Predicted.DecodeSecondsPerStep,
                       B.Predicted.DecodeSecondsPerStep));
  EXPECT_TRUE(sameBits(A.Predicted.DecodeTokensPerSecond,
                       B.Predicted.DecodeTokensPerSecond));
}

Plan parseOrFail(StringRef Text) {
  Expected<Plan> P = parsePlan(Text, "plan.json");
  if (!P) {
    ADD_FAILURE() << toString(P.takeError());
    return Plan();
  }
  return *P;
}

std::string errorOf(StringRef Text, StringRef Path = "plan.json") {
  Expected<Plan> P = parsePlan(Text, Path);
  if (P)
    return "(no error)";
  return toString(P.takeError());
}

/// The error parsePlan gives for fullPlan() once Edit has changed its JSON.
std::string errorAfter(function_ref<void(json::Object &)> Edit) {
  json::Value V = planToJSON(fullPlan());
  Edit(*V.getAsObject());
  return errorOf(formatv("{0:2}", V).str());
}

/// The same for an edit of the text, for what json::Value cannot express
/// (4.0 prints as 4) or does not keep (integers beyond int64).
std::string errorAfterReplacing(StringRef From, StringRef To) {
  std::string Text = planToString(fullPlan());
  size_t At = Text.find(From.str());
  if (At == std::string::npos)
    return "(not found: " + From.str() + ")";
  Text.replace(At, From.size(), To.str());
  return errorOf(Text);
}

json::Object &buffer(json::Object &Root, size_t I) {
  return *(*Root.getArray("buffers"))[I].getAsObject();
}
json::Object &device(json::Object &Root, size_t I) {
  return *(*Root.getArray("devices"))[I].getAsObject();
}

//===----------------------------------------------------------------------===//
// Round trips and determinism
//===----------------------------------------------------------------------===//

TEST(PlanJSON, FullPlanRoundTrips) {
  Plan P = fullPlan();
  std::string Text = planToString(P);
  Plan Q = parseOrFail(Text);
  expectSamePlan(P, Q);
  EXPECT_EQ(planToString(Q), Text);
}

TEST(PlanJSON, SameInputSameBytes) {
  EXPECT_EQ(planToString(fullPlan()), planToString(fullPlan()));
  Plan P = fullPlan();
  EXPECT_EQ(planToString(P), planToString(P));
}

// The exact text: the field names scripts rely on, sorted keys, two-space
// indentation, a final newline, role and shard left out when unset.
TEST(PlanJSON, TinyPlanGolden) {
  const char *Golden = R"({
  "buffers": [
    {
      "bytes": 40,
      "device": 0,
      "dtype": "f32",
      "kind": "weight",
      "layer": null,
      "name": "w",
      "placed_by": "pipeline",
      "shape": [
        10
      ]
    }
  ],
  "cleanups": [],
  "cluster": {
    "description": null,
    "spec": "cpu:1x1MiB"
  },
  "devices": [
    {
      "activation_bytes": 0,
      "alignment": 1,
      "arenas": [],
      "capacity_bytes": 1048576,
      "index": 0,
      "kind": "cpu",
      "kv_cache_bytes": 0,
      "name": "cpu0",
      "node": 0,
      "predicted": {
        "decode_s": 0,
        "prefill_s": 0.5
      },
      "region_bytes": {
        "arena": 0,
        "kv_cache": 0,
        "weights": 0
      },
      "reserve_bytes": 0,
      "weight_bytes": 40,
      "workspace_bytes": 0
    }
  ],
  "fallbacks": [],
  "format_version": 3,
  "model": {
    "fingerprint": "ff",
    "format": "preset",
    "layers": 1,
    "name": "m",
    "parameters": 10,
    "source": "preset:m",
    "weight_bytes": 40
  },
  "multi_device": false,
  "options": {
    "batch": 1,
    "context": 8,
    "kv_dtype": "f32",
    "kv_strategy": "with-layer",
    "no_offload": false,
    "prefill_tokens": 8,
    "strategy": "auto"
  },
  "predicted": {
    "decode_s_per_step": 0.25,
    "decode_tokens_per_s": 4,
    "prefill_s": 0.5
  },
  "programs": [],
  "strategy": "pipeline",
  "streams": []
}
)";
  EXPECT_EQ(planToString(tinyPlan()), Golden);
  Plan Q = parseOrFail(Golden);
  expectSamePlan(tinyPlan(), Q);
}

// Keys of every object, in every nesting, come out sorted (fullPlan has
// the optional keys, the sharded buffer and the embedded cluster).
TEST(PlanJSON, KeysAreSorted) {
  std::string Text = planToString(fullPlan());
  // Each line "<indent>"key": ..." belongs to the object opened at the
  // nearest shallower "{"; keys seen per open object must increase.
  std::vector<std::string> LastKey(64);
  StringRef Rest = Text;
  while (!Rest.empty()) {
    StringRef Line;
    std::tie(Line, Rest) = Rest.split('\n');
    size_t Indent = Line.find_first_not_of(' ');
    if (Indent == StringRef::npos)
      continue;
    StringRef Body = Line.drop_front(Indent);
    size_t Depth = Indent / 2;
    ASSERT_LT(Depth + 1, LastKey.size());
    if (Body.startswith("\"") && Body.contains("\": ")) {
      std::string Key = Body.substr(1, Body.find("\": ") - 1).str();
      EXPECT_LT(LastKey[Depth], Key) << "at line: " << Line.str();
      LastKey[Depth] = Key;
    }
    if (Body.endswith("{") || Body.endswith("["))
      LastKey[Depth + 1].clear();
  }
}

TEST(PlanJSON, UnknownKeysAreIgnored) {
  json::Value V = planToJSON(fullPlan());
  json::Object &Root = *V.getAsObject();
  Root["memory"] = json::Object{{"regions", json::Array{}}};
  buffer(Root, 1)["offset"] = 128;
  device(Root, 0)["uuid"] = "GPU-1234";
  Plan Q = parseOrFail(formatv("{0:2}", V).str());
  expectSamePlan(fullPlan(), Q);
}

TEST(PlanJSON, ClusterDescriptionIsCanonicalised) {
  Plan P = tinyPlan();
  P.ClusterJSON = "{ \"spec\" : \"x\",\n \"devices\": [ ] }";
  std::string Text = planToString(P);
  EXPECT_NE(Text.find("\"description\": {\n      \"devices\": [],\n      "
                      "\"spec\": \"x\"\n    }"),
            std::string::npos)
      << Text;
  Plan Q = parseOrFail(Text);
  EXPECT_EQ(Q.ClusterJSON, R"({"devices":[],"spec":"x"})");
  EXPECT_EQ(planToString(Q), Text);
}

//===----------------------------------------------------------------------===//
// Numbers
//===----------------------------------------------------------------------===//

TEST(PlanJSON, DoublesReadBackBitExact) {
  std::vector<double> Values = {0.1,
                                1.0 / 3,
                                2.0 / 3,
                                1e-300,
                                123456789.123456789,
                                12345678901234567.0,
                                9007199254740993.0, // 2^53 + 1, rounded
                                1e17,
                                1e22,
                                -2.5,
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::epsilon()};
  std::mt19937_64 Random(42);
  while (Values.size() < 2000) {
    uint64_t Bits = Random();
    double D;
    std::memcpy(&D, &Bits, sizeof(D));
    if (std::isfinite(D))
      Values.push_back(D);
  }
  Plan P = tinyPlan();
  for (double D : Values) {
    P.Predicted.PrefillSeconds = D;
    P.Devices[0].DecodeSeconds = D;
    std::string Text = planToString(P);
    Plan Q = parseOrFail(Text);
    ASSERT_TRUE(sameBits(Q.Predicted.PrefillSeconds, D))
        << formatv("{0:e17}", D).str();
    ASSERT_TRUE(sameBits(Q.Devices[0].DecodeSeconds, D));
    ASSERT_EQ(planToString(Q), Text);
  }
}

// -0 would come back as the integer 0, and inf/nan are not JSON: -0 is
// written as 0, non-finite figures as null, which reads back as NaN.
TEST(PlanJSON, SpecialDoubles) {
  Plan P = tinyPlan();
  P.Predicted.PrefillSeconds = -0.0;
  P.Predicted.DecodeSecondsPerStep = std::numeric_limits<double>::infinity();
  P.Predicted.DecodeTokensPerSecond = std::nan("");
  std::string Text = planToString(P);
  EXPECT_NE(Text.find("\"decode_s_per_step\": null"), std::string::npos);
  EXPECT_NE(Text.find("\"decode_tokens_per_s\": null"), std::string::npos);
  EXPECT_NE(Text.find("\"prefill_s\": 0\n"), std::string::npos);
  Plan Q = parseOrFail(Text);
  EXPECT_TRUE(sameBits(Q.Predicted.PrefillSeconds, 0.0));
  EXPECT_TRUE(std::isnan(Q.Predicted.DecodeSecondsPerStep));
  EXPECT_TRUE(std::isnan(Q.Predicted.DecodeTokensPerSecond));
  EXPECT_EQ(planToString(Q), Text);
}

TEST(PlanJSON, ByteCountsAreExact) {
  Plan P = tinyPlan();
  // 2^53 + 1 has no double; 2^63 - 2 is the largest count the format holds.
  for (uint64_t N : {uint64_t(1ull << 53) + 1, uint64_t(1ull << 62) + 3,
                     uint64_t(std::numeric_limits<int64_t>::max()) - 1}) {
    P.Buffers[0].Bytes = N;
    P.Devices[0].CapacityBytes = N;
    P.Model.Parameters = N;
    std::string Text = planToString(P);
    EXPECT_NE(Text.find("\"bytes\": " + std::to_string(N)), std::string::npos);
    Plan Q = parseOrFail(Text);
    EXPECT_EQ(Q.Buffers[0].Bytes, N);
    EXPECT_EQ(Q.Devices[0].CapacityBytes, N);
    EXPECT_EQ(Q.Model.Parameters, N);
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(PlanJSONErrors, MalformedJSON) {
  EXPECT_EQ(errorOf("{\"format_version\": 1,\n  \"model\": }"),
            "plan.json:2:12: invalid JSON: Invalid JSON value");
  EXPECT_EQ(errorOf("", "out/p.json"),
            "out/p.json:1:1: invalid JSON: Unexpected EOF");
  EXPECT_EQ(errorOf("[]"), "plan.json: expected a JSON object at the top "
                           "level, got an empty array");
}

TEST(PlanJSONErrors, FormatVersion) {
  EXPECT_EQ(errorAfter([](json::Object &R) { R["format_version"] = 1; }),
            "plan.json: format_version 1 is not supported (this build reads "
            "version 3); recompile the plan with this strata");
  EXPECT_EQ(errorAfter([](json::Object &R) { R["format_version"] = 0; }),
            "plan.json: format_version 0 is not supported (this build reads "
            "version 3); recompile the plan with this strata");
  EXPECT_EQ(errorAfter([](json::Object &R) { R["format_version"] = "1"; }),
            "plan.json: format_version: expected an integer, got \"1\"");
  EXPECT_EQ(errorAfter([](json::Object &R) { R.erase("format_version"); }),
            "plan.json: format_version: required field is missing (is this a "
            "Strata plan?)");
  // The version is checked first: a version-1 file is refused for its
  // version, not for the first field whose layout changed.
  EXPECT_EQ(errorAfter([](json::Object &R) {
              R["format_version"] = 1;
              R.erase("model");
            }),
            "plan.json: format_version 1 is not supported (this build reads "
            "version 3); recompile the plan with this strata");
}

TEST(PlanJSONErrors, MissingKeys) {
  EXPECT_EQ(errorAfter([](json::Object &R) {
              R.getObject("model")->erase("fingerprint");
            }),
            "plan.json: model.fingerprint: required field is missing");
  EXPECT_EQ(errorAfter([](json::Object &R) { R.erase("buffers"); }),
            "plan.json: buffers: required field is missing");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 3).erase("layer"); }),
            "plan.json: buffers[3].layer: required field is missing");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              device(R, 1).getObject("predicted")->erase("decode_s");
            }),
            "plan.json: devices[1].predicted.decode_s: required field is "
            "missing");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              buffer(R, 1).getObject("shard")->erase("axis");
            }),
            "plan.json: buffers[1].shard.axis: required field is missing");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              R.getObject("cluster")->erase("description");
            }),
            "plan.json: cluster.description: required field is missing");
}

TEST(PlanJSONErrors, WrongTypes) {
  EXPECT_EQ(
      errorAfter([](json::Object &R) { (*R.getObject("model"))["name"] = 5; }),
      "plan.json: model.name: expected a string, got 5");
  EXPECT_EQ(errorAfter([](json::Object &R) { R["multi_device"] = "yes"; }),
            "plan.json: multi_device: expected true or false, got \"yes\"");
  EXPECT_EQ(errorAfter([](json::Object &R) { R["devices"] = json::Object{}; }),
            "plan.json: devices: expected an array, got an empty object");
  EXPECT_EQ(errorAfter([](json::Object &R) { R["options"] = nullptr; }),
            "plan.json: options: expected an object, got null");
  EXPECT_EQ(
      errorAfter([](json::Object &R) { (*R.getArray("buffers"))[2] = 3; }),
      "plan.json: buffers[2]: expected an object, got 3");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*R.getObject("predicted"))["prefill_s"] = "fast";
            }),
            "plan.json: predicted.prefill_s: expected a finite number or "
            "null, got \"fast\"");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*R.getObject("cluster"))["description"] = json::Array{};
            }),
            "plan.json: cluster.description: expected an object or null, got "
            "an empty array");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 0)["layer"] = "x"; }),
            "plan.json: buffers[0].layer: expected a non-negative integer or "
            "null, got \"x\"");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 1)["role"] = 3; }),
            "plan.json: buffers[1].role: expected a string, got 3");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 1)["shard"] = 2; }),
            "plan.json: buffers[1].shard: expected an object, got 2");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*R.getArray("fallbacks"))[1].getAsObject()->erase("reason");
            }),
            "plan.json: fallbacks[1].reason: required field is missing");
  // Integers written as doubles hint at a writer that lost precision.
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 0)["bytes"] = 1.5; }),
            "plan.json: buffers[0].bytes: expected a non-negative integer, "
            "got 1.5");
  EXPECT_EQ(
      errorAfterReplacing("\"batch\": 4", "\"batch\": 4.0"),
      "plan.json: options.batch: expected a non-negative integer, got 4.0");
  EXPECT_EQ(
      errorAfterReplacing("\"batch\": 4", "\"batch\": 4e0"),
      "plan.json: options.batch: expected a non-negative integer, got 4.0");
}

TEST(PlanJSONErrors, Devices) {
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 2)["device"] = 2; }),
            "plan.json: buffers[2].device: device 2 does not exist (the plan "
            "has 2 devices)");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 3)["device"] = "gpu"; }),
            "plan.json: buffers[3].device: expected a device index, \"host\" "
            "or \"disk\", got \"gpu\"");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 3)["device"] = -1; }),
            "plan.json: buffers[3].device: expected a device index, \"host\" "
            "or \"disk\", got -1");
  EXPECT_EQ(
      errorAfter([](json::Object &R) { buffer(R, 3)["device"] = nullptr; }),
      "plan.json: buffers[3].device: expected a device index, \"host\" "
      "or \"disk\", got null");
  EXPECT_EQ(
      errorAfter([](json::Object &R) { (*R.getArray("devices")).pop_back(); }),
      "plan.json: buffers[2].device: device 1 does not exist (the plan "
      "has 1 device)");
  EXPECT_EQ(errorAfter([](json::Object &R) { device(R, 1)["index"] = 0; }),
            "plan.json: devices[1].index: expected 1 (devices are listed in "
            "index order), got 0");
}

TEST(PlanJSONErrors, NegativeAndHugeNumbers) {
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 1)["bytes"] = -5; }),
            "plan.json: buffers[1].bytes: expected a non-negative integer, got "
            "-5");
  EXPECT_EQ(
      errorAfter([](json::Object &R) { device(R, 0)["capacity_bytes"] = -1; }),
      "plan.json: devices[0].capacity_bytes: expected a non-negative "
      "integer, got -1");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 3).getArray("shape"))[1] = -4;
            }),
            "plan.json: buffers[3].shape[1]: expected a non-negative integer, "
            "got -4");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*R.getObject("model"))["layers"] = -2;
            }),
            "plan.json: model.layers: expected a non-negative integer, got -2");
  EXPECT_EQ(errorAfter([](json::Object &R) { buffer(R, 0)["layer"] = -1; }),
            "plan.json: buffers[0].layer: expected a non-negative integer or "
            "null, got -1");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              device(R, 0)["node"] = int64_t(1) << 32;
            }),
            "plan.json: devices[0].node: out of range (at most 4294967295)");
  // LLVM 14's parser turns anything above INT64_MAX into INT64_MAX, so
  // INT64_MAX itself is refused: it may stand for a larger number.
  for (const char *Huge :
       {"9223372036854775807", "9223372036854775808", "100000000000000000000"})
    EXPECT_EQ(errorAfterReplacing("\"bytes\": 65536",
                                  std::string("\"bytes\": ") + Huge),
              "plan.json: buffers[0].bytes: out of range (at most "
              "9223372036854775806)")
        << Huge;
  EXPECT_EQ(errorAfterReplacing("\"prefill_s\": 0.25", "\"prefill_s\": 1e400"),
            "plan.json: predicted.prefill_s: expected a finite number or "
            "null, got inf");
}

TEST(PlanJSONErrors, Shards) {
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 2).getObject("shard"))["index"] = 2;
            }),
            "plan.json: buffers[2].shard.index: shard 2 does not exist "
            "(shard.count is 2)");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 1).getObject("shard"))["count"] = 0;
            }),
            "plan.json: buffers[1].shard.count: a tensor is split into at "
            "least 1 shard, got 0");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 1).getObject("shard"))["axis"] = 2;
            }),
            "plan.json: buffers[1].shard.axis: axis 2 is not a dimension of "
            "the shape (rank 2)");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 1).getObject("shard"))["axis"] = -1;
            }),
            "plan.json: buffers[1].shard.axis: expected a non-negative "
            "integer, got -1");
}

TEST(PlanJSONErrors, ShardRanges) {
  // Version 3 states each shard's range; it must agree with the shape.
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 2).getObject("shard"))["size"] = 31;
            }),
            "plan.json: buffers[2].shard.size: the shard is 31 long on axis 0 "
            "but its shape says 32");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              buffer(R, 1).getObject("shard")->erase("begin");
            }),
            "plan.json: buffers[1].shard.begin: required field is missing");
  // A whole copy has no range.
  EXPECT_EQ(errorAfter([](json::Object &R) {
              json::Object &S = *buffer(R, 1).getObject("shard");
              S["axis"] = nullptr;
              S.erase("begin");
              S.erase("size");
            }),
            "(no error)");
}

TEST(PlanJSONErrors, KindsAreSpelledOneWay) {
  EXPECT_EQ(
      errorAfter([](json::Object &R) { buffer(R, 1)["kind"] = "Weight"; }),
      "plan.json: buffers[1].kind: expected \"weight\", \"kv_cache\", "
      "\"activation\", \"input\", \"staging\" or \"workspace\", got "
      "\"Weight\"");
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*(*R.getArray("devices"))[0].getAsObject())["kind"] = "tpu";
            }),
            "plan.json: devices[0].kind: expected \"gpu\" or \"cpu\", got "
            "\"tpu\"");
  EXPECT_EQ(
      errorAfter([](json::Object &R) {
        (*(*R.getArray("fallbacks"))[0].getAsObject())["kind"] = "ram";
      }),
      "plan.json: fallbacks[0].kind: expected \"next-device\", \"shard\", "
      "\"host\" or \"disk\", got \"ram\"");
  // The empty spelling of RegionKind::None is never read.
  EXPECT_EQ(errorAfter([](json::Object &R) {
              buffer(R, 0)["region"] = "";
              buffer(R, 0)["offset"] = 0;
            }),
            "plan.json: buffers[0].region: expected \"weights\", \"kv_cache\" "
            "or \"arena\", got \"\"");
}

TEST(PlanKinds, EverySpellingReadsBackAsItsValue) {
  auto RoundTrips = [](auto Last) {
    using E = decltype(Last);
    for (size_t I = 0; I <= static_cast<size_t>(Last); ++I) {
      E K = static_cast<E>(I);
      if (getKindName(K).empty())
        continue;
      std::optional<E> Back = parseKind<E>(getKindName(K));
      EXPECT_TRUE(Back && *Back == K) << getKindName(K).str();
    }
    EXPECT_EQ(getKindSpellings<E>().size(), static_cast<size_t>(Last) + 1);
  };
  RoundTrips(BufferKind::Workspace);
  RoundTrips(RegionKind::Arena);
  RoundTrips(StreamKind::Copy);
  RoundTrips(StepOp::AllGather);
  RoundTrips(CleanupKind::EndOfPrefill);
  RoundTrips(DeviceKind::CPU);
  RoundTrips(FallbackKind::Disk);
  EXPECT_EQ(parseKind<StepOp>("reshape"), std::nullopt);
}

// The verifier holds a plan built in memory to every rule the reader
// applies to a file, so that what strata compile writes strata verify
// reads: two buffers of one name were written and then refused on reading.
TEST(PlanStructure, TheVerifierAppliesTheReadersRules) {
  Plan P = fullPlan();
  EXPECT_EQ(findStructureProblem(P), std::nullopt);
  P.Buffers[4].Name = "token_embd.weight";
  std::optional<StructureProblem> Bad = findStructureProblem(P);
  ASSERT_TRUE(Bad);
  EXPECT_EQ(Bad->Path, "buffers[4]");
  EXPECT_EQ(Bad->Message,
            "duplicate buffer \"token_embd.weight\" (also buffers[0])");
  std::string Verified = toString(verifyPlan(P));
  EXPECT_NE(Verified.find("buffers[4]: duplicate buffer \"token_embd.weight\""),
            std::string::npos)
      << Verified;

  // A name the writer would have to repair.
  P = fullPlan();
  P.Buffers[0].Name = "bad\xff";
  Bad = findStructureProblem(P);
  ASSERT_TRUE(Bad);
  EXPECT_EQ(Bad->Path, "buffers[0].name");

  // Indices that name nothing.
  P = fullPlan();
  P.Buffers[2].Where = Location::device(7);
  Bad = findStructureProblem(P);
  ASSERT_TRUE(Bad);
  EXPECT_EQ(Bad->Path + ": " + Bad->Message,
            "buffers[2].device: device 7 does not exist (the plan has 2 "
            "devices)");
}

// Shards of a weight must cover it end to end, or loading would leave
// elements out: checked by the verifier, which sees every shard at once.
TEST(PlanStructure, ShardsMustTileTheirTensor) {
  Plan P = fullPlan();
  P.Buffers[2].ShardInfo->Begin = 16;
  std::string Problems = toString(verifyPlan(P));
  EXPECT_NE(Problems.find("begins at 16 on axis 0, but shard 0 ends at 32"),
            std::string::npos)
      << Problems;
  P = fullPlan();
  P.Buffers.erase(P.Buffers.begin() + 2);
  Problems = toString(verifyPlan(P));
  EXPECT_NE(Problems.find("'blk.0.attn_q.weight' has 1 of its 2 shards"),
            std::string::npos)
      << Problems;
}

TEST(PlanJSONErrors, DuplicateBuffers) {
  // Two shards with the same index.
  EXPECT_EQ(errorAfter([](json::Object &R) {
              (*buffer(R, 2).getObject("shard"))["index"] = 0;
            }),
            "plan.json: buffers[2]: duplicate buffer \"blk.0.attn_q.weight\" "
            "shard 0 (also buffers[1])");
  // The same whole tensor twice.
  EXPECT_EQ(errorAfter([](json::Object &R) {
              buffer(R, 4)["name"] = "token_embd.weight";
            }),
            "plan.json: buffers[4]: duplicate buffer \"token_embd.weight\" "
            "(also buffers[0])");
  // Distinct shard indices of one name are fine (fullPlan has them).
  EXPECT_EQ(errorOf(planToString(fullPlan())), "(no error)");
}

TEST(PlanJSONErrors, FileNameIsTheOneGiven) {
  json::Value V = planToJSON(fullPlan());
  (*V.getAsObject())["strategy"] = 1;
  EXPECT_EQ(errorOf(formatv("{0}", V).str(), "/tmp/run/plan-7.json"),
            "/tmp/run/plan-7.json: strategy: expected a string, got 1");
}

// Found by fuzz/FuzzPlan: json::parse recursed once per level of nesting, so
// a plan of a few megabytes of '[' overflowed the stack (strata verify
// crashed with SIGSEGV). The parser refuses the level too many, where it
// opens.
TEST(PlanJSONErrors, DeepNestingIsAnErrorNotACrash) {
  std::string Deep = "{\"version\": " + std::string(4 << 20, '[');
  // The 257th level opens at byte 267 (column 268).
  EXPECT_EQ(errorOf(Deep), "plan.json:1:268: invalid JSON: arrays and objects "
                           "nest deeper than 256 levels");
  EXPECT_EQ(errorOf("{\n\n  \"a\": " + std::string(300, '[')),
            "plan.json:3:263: invalid JSON: arrays and objects nest deeper "
            "than 256 levels");
  // A syntax error before the level too many is what the parser meets
  // first: an object's member needs a key.
  EXPECT_EQ(errorOf("{\n\n  " + std::string(300, '{')),
            "plan.json:3:3: invalid JSON: Expected object key");
  // Brackets in strings are text, and 256 levels are left to the parser.
  EXPECT_EQ(errorOf("{\"version\": \"" + std::string(1000, '[') + "\""),
            "plan.json:1:1014: invalid JSON: Expected , or } after object "
            "property");
  EXPECT_EQ(errorOf(std::string(256, '[') + std::string(256, ']')),
            "plan.json: expected a JSON object at the top level, got an "
            "array");
}

//===----------------------------------------------------------------------===//
// Fingerprint
//===----------------------------------------------------------------------===//

std::vector<WeightSignature> smallModel() {
  return {{"token_embd.weight", "q4_k", {4096, 32000}},
          {"output_norm.weight", "f32", {4096}}};
}

// The value is also what docs/plan-format.md's Python snippet prints:
// hashlib.sha256 over the same length-prefixed little-endian encoding.
TEST(PlanFingerprint, KnownValue) {
  EXPECT_EQ(planFingerprint(smallModel()),
            "83255179149f66410ffa0efffd412eca4e4d8c6970ded97cfe86afed2492c5c7");
  // No weights: the digest of no bytes.
  EXPECT_EQ(planFingerprint({}),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(PlanFingerprint, Deterministic) {
  EXPECT_EQ(planFingerprint(smallModel()), planFingerprint(smallModel()));
  std::string F = planFingerprint(smallModel());
  EXPECT_EQ(F.size(), 64u);
  EXPECT_EQ(F.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(PlanFingerprint, EveryChangeChangesIt) {
  const std::string Base = planFingerprint(smallModel());
  auto Changed = [&](function_ref<void(std::vector<WeightSignature> &)> Edit) {
    std::vector<WeightSignature> W = smallModel();
    Edit(W);
    return planFingerprint(W);
  };
  std::vector<std::string> Variants = {
      Changed([](auto &W) { W[0].Name = "token_embd.weighT"; }),
      Changed([](auto &W) { W[1].DType = "f16"; }),
      Changed([](auto &W) { W[0].Shape[1] = 32001; }),
      Changed([](auto &W) { W[1].Shape.push_back(1); }),
      Changed([](auto &W) { std::swap(W[0], W[1]); }),
      Changed([](auto &W) { W.pop_back(); }),
      Changed([](auto &W) { W.push_back(W[1]); }),
      // Moving bytes across a field boundary must not collide.
      Changed([](auto &W) {
        W[0].Name = "token_embd.weightq";
        W[0].DType = "4_k";
      }),
      Changed([](auto &W) {
        W[0].Shape = {4096};
        W[1].Shape = {32000, 4096};
      }),
  };
  for (size_t I = 0; I < Variants.size(); ++I) {
    EXPECT_NE(Variants[I], Base) << "variant " << I;
    for (size_t J = 0; J < I; ++J)
      EXPECT_NE(Variants[I], Variants[J]) << I << " vs " << J;
  }
}

} // namespace
