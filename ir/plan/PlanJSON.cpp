//===- PlanJSON.cpp - The plan file: writer and validating reader ---------===//
//
// The plan file is the only contract between compile and run, so the reader
// trusts nothing: every field is checked for presence, type and range, and
// the first problem is reported with the file and the field's path
// ("plan.json: buffers[3].device: expected a device index, ..."), through
// the reads every JSON reader shares (ir/support/JSONFieldReader.h).
//
//===----------------------------------------------------------------------===//

#include "ir/plan/Plan.h"

#include "ir/plan/PlanStructure.h"
#include "ir/support/JSONDocument.h"
#include "ir/support/JSONFieldReader.h"
#include "ir/support/JSONParser.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

using namespace llvm;

namespace strata::plan {

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

/// Names come from model files and may not be UTF-8; llvm::json asserts on
/// such strings, so they are repaired (U+FFFD) rather than crash the writer.
json::Value text(StringRef S) {
  if (json::isUTF8(S))
    return json::Value(S.str());
  return json::Value(json::fixUTF8(S));
}

json::Value count(uint64_t N) {
  // The reader refuses larger integers (MaxExactJSONInteger).
  assert(N <= MaxExactJSONInteger && "count too large for the plan format");
  return json::Value(N);
}

/// llvm::json prints doubles with 17 significant digits, which reads back
/// bit-exactly, except for three values: -0 would read back as the integer
/// 0, and inf/nan would print as bare words that are not JSON. -0 becomes 0
/// and a non-finite figure becomes null ("no prediction").
json::Value seconds(double D) {
  if (!std::isfinite(D))
    return json::Value(nullptr);
  if (D == 0)
    return json::Value(0.0);
  return json::Value(D);
}

/// ClusterJSON holds JSON text; it is embedded as a value so that the plan
/// stays one readable document.
json::Value clusterDescription(StringRef Text) {
  if (Text.empty())
    return json::Value(nullptr);
  Expected<json::Value> V = parseJSON(Text);
  if (!V) {
    // A bug in the caller: ClusterJSON always comes from clusterToJSON.
    consumeError(V.takeError());
    assert(false && "Plan::ClusterJSON is not valid JSON");
    return json::Value(nullptr);
  }
  assert(V->getAsObject() && "Plan::ClusterJSON is not a JSON object");
  return std::move(*V);
}

json::Value locationToJSON(const Location &L) {
  switch (L.Where) {
  case Location::Kind::Device:
    return json::Value(static_cast<int64_t>(L.Device));
  case Location::Kind::Host:
    return json::Value("host");
  case Location::Kind::Disk:
    return json::Value("disk");
  }
  llvm_unreachable("unknown location kind");
}

json::Value attrValueToJSON(const AttrValue &V) {
  if (const int64_t *I = std::get_if<int64_t>(&V))
    return *I;
  if (const double *D = std::get_if<double>(&V))
    return seconds(*D);
  if (const std::string *S = std::get_if<std::string>(&V))
    return text(*S);
  json::Array A;
  for (int64_t I : std::get<std::vector<int64_t>>(V))
    A.push_back(I);
  return A;
}

/// Streams the plan: a plan of a large model on many devices has hundreds
/// of thousands of objects, too many to build as a json::Value first. Keys
/// are written in sorted (byte) order by hand, which is what makes the
/// output byte-identical for identical plans; optional keys are left out
/// rather than written empty.
class PlanWriter {
public:
  explicit PlanWriter(raw_ostream &OS) : J(OS, 2) {}

  void write(const Plan &P) {
    J.object([&] {
      array("buffers", P.Buffers, [&](const Buffer &B) { buffer(B); });
      array("cleanups", P.Cleanups, [&](const CleanupPoint &C) { cleanup(C); });
      J.attributeObject("cluster", [&] {
        J.attribute("description", clusterDescription(P.ClusterJSON));
        J.attribute("spec", text(P.ClusterSpec));
      });
      array("devices", P.Devices, [&](const Device &D) { device(D); });
      array("fallbacks", P.Fallbacks, [&](const Fallback &F) {
        J.object([&] {
          J.attribute("buffer", text(F.Buffer));
          J.attribute("kind", getKindName(F.Kind));
          J.attribute("reason", text(F.Reason));
        });
      });
      // The version written is the one this code writes, whatever
      // P.Version says: the layout is version FormatVersion's.
      J.attribute("format_version", FormatVersion);
      const ModelInfo &M = P.Model;
      J.attributeObject("model", [&] {
        if (!M.ContentDigest.empty())
          J.attribute("content_digest", text(M.ContentDigest));
        J.attribute("fingerprint", text(M.Fingerprint));
        J.attribute("format", text(M.Format));
        J.attribute("layers", M.Layers);
        J.attribute("name", text(M.Name));
        J.attribute("parameters", count(M.Parameters));
        J.attribute("source", text(M.Source));
        J.attribute("weight_bytes", count(M.WeightBytes));
      });
      J.attribute("multi_device", P.MultiDevice);
      const Options &O = P.Opts;
      J.attributeObject("options", [&] {
        J.attribute("batch", O.Batch);
        J.attribute("context", O.Context);
        J.attribute("kv_dtype", text(O.KVDType));
        J.attribute("kv_strategy", text(O.KVStrategy));
        J.attribute("no_offload", O.NoOffload);
        J.attribute("prefill_tokens", O.PrefillTokens);
        J.attribute("strategy", text(O.Strategy));
      });
      J.attributeObject("predicted", [&] {
        J.attribute("decode_s_per_step",
                    seconds(P.Predicted.DecodeSecondsPerStep));
        J.attribute("decode_tokens_per_s",
                    seconds(P.Predicted.DecodeTokensPerSecond));
        J.attribute("prefill_s", seconds(P.Predicted.PrefillSeconds));
      });
      array("programs", P.Programs,
            [&](const ProgramSchedule &S) { program(S); });
      J.attribute("strategy", text(P.Strategy));
      array("streams", P.Streams, [&](const Stream &S) {
        J.object([&] {
          J.attribute("device", S.Device);
          J.attribute("kind", getKindName(S.Kind));
        });
      });
    });
  }

private:
  template <typename T, typename Fn>
  void array(StringRef Key, const std::vector<T> &Items, Fn Each) {
    J.attributeArray(Key, [&] {
      for (const T &I : Items)
        Each(I);
    });
  }
  void indices(StringRef Key, const std::vector<uint32_t> &Is) {
    J.attributeArray(Key, [&] {
      for (uint32_t I : Is)
        J.value(I);
    });
  }

  void device(const Device &D) {
    J.object([&] {
      J.attribute("activation_bytes", count(D.ActivationBytes));
      J.attribute("alignment", count(D.Alignment));
      array("arenas", D.Arenas, [&](const Device::ArenaUse &U) {
        J.object([&] {
          J.attribute("bytes", count(U.Bytes));
          J.attribute("lower_bound", count(U.LowerBound));
          J.attribute("program", text(U.Program));
        });
      });
      J.attribute("capacity_bytes", count(D.CapacityBytes));
      J.attribute("index", D.Index);
      J.attribute("kind", getKindName(D.Kind));
      J.attribute("kv_cache_bytes", count(D.KVCacheBytes));
      J.attribute("name", text(D.Name));
      J.attribute("node", D.Node);
      J.attributeObject("predicted", [&] {
        J.attribute("decode_s", seconds(D.DecodeSeconds));
        J.attribute("prefill_s", seconds(D.PrefillSeconds));
      });
      J.attributeObject("region_bytes", [&] {
        for (RegionKind R :
             {RegionKind::Arena, RegionKind::KVCache, RegionKind::Weights})
          J.attribute(getKindName(R), count(D.regionBytes(R)));
      });
      J.attribute("reserve_bytes", count(D.ReserveBytes));
      J.attribute("weight_bytes", count(D.WeightBytes));
      J.attribute("workspace_bytes", count(D.WorkspaceBytes));
    });
  }

  void buffer(const Buffer &B) {
    J.object([&] {
      J.attribute("bytes", count(B.Bytes));
      J.attribute("device", locationToJSON(B.Where));
      J.attribute("dtype", text(B.DType));
      J.attribute("kind", getKindName(B.Kind));
      J.attribute("layer",
                  B.Layer ? json::Value(*B.Layer) : json::Value(nullptr));
      if (B.Live)
        J.attributeArray("live", [&] {
          J.value(B.Live->First);
          J.value(B.Live->Last);
        });
      J.attribute("name", text(B.Name));
      if (B.Region != RegionKind::None)
        J.attribute("offset", count(B.Offset));
      J.attribute("placed_by", text(B.PlacedBy));
      if (!B.Program.empty())
        J.attribute("program", text(B.Program));
      if (B.Region != RegionKind::None)
        J.attribute("region", getKindName(B.Region));
      if (!B.Role.empty())
        J.attribute("role", text(B.Role));
      J.attributeArray("shape", [&] {
        for (int64_t Dim : B.Shape)
          J.value(Dim);
      });
      if (B.ShardInfo)
        shard(*B.ShardInfo);
      if (B.ViewOf)
        J.attribute("view_of", *B.ViewOf);
    });
  }

  /// A whole copy (axis null) has no range.
  void shard(const Shard &S) {
    J.attributeObject("shard", [&] {
      if (S.Axis < 0) {
        J.attribute("axis", nullptr);
      } else {
        J.attribute("axis", S.Axis);
        J.attribute("begin", S.Begin);
      }
      J.attribute("count", S.Count);
      J.attribute("index", S.Index);
      if (S.Axis >= 0)
        J.attribute("size", S.Size);
    });
  }

  void program(const ProgramSchedule &S) {
    auto values = [&](StringRef Key, const std::vector<ProgramValue> &Vs) {
      array(Key, Vs, [&](const ProgramValue &V) {
        J.object([&] {
          indices("buffers", V.Buffers);
          J.attribute("name", text(V.Name));
        });
      });
    };
    J.object([&] {
      J.attribute("events", S.NumEvents);
      values("inputs", S.Inputs);
      J.attribute("name", text(S.Name));
      values("outputs", S.Outputs);
      array("steps", S.Steps, [&](const Step &St) { step(St); });
    });
  }

  void step(const Step &S) {
    J.object([&] {
      if (!S.Attrs.Values.empty())
        J.attributeObject("attrs", [&] {
          for (const auto &[Key, V] : S.Attrs.Values)
            J.attribute(Key, attrValueToJSON(V));
        });
      if (S.Collective)
        J.attribute("collective", *S.Collective);
      indices("inputs", S.Inputs);
      if (S.Layer)
        J.attribute("layer", *S.Layer);
      J.attribute("name", text(S.Name));
      J.attribute("op", getKindName(S.Op));
      indices("outputs", S.Outputs);
      if (S.Record)
        J.attribute("record", *S.Record);
      J.attribute("stream", S.Stream);
      if (!S.Waits.empty())
        indices("waits", S.Waits);
    });
  }

  void cleanup(const CleanupPoint &C) {
    J.object([&] {
      if (C.After)
        J.attribute("after", *C.After);
      indices("buffers", C.Buffers);
      J.attribute("kind", getKindName(C.Kind));
      J.attribute("program", text(C.Program));
      J.attribute("reason", text(C.Reason));
    });
  }

  json::OStream J;
};

} // namespace

void writePlan(raw_ostream &OS, const Plan &P) {
  PlanWriter(OS).write(P);
  OS << "\n";
}

std::string planToString(const Plan &P) {
  std::string S;
  raw_string_ostream OS(S);
  // The JSON writer emits a few bytes at a time; a buffer turns those into
  // a few large appends. The stream is unbuffered by default and its str()
  // does not flush, hence the flush.
  OS.SetBuffered();
  writePlan(OS, P);
  OS.flush();
  return S;
}

json::Value planToJSON(const Plan &P) {
  return cantFail(parseJSON(planToString(P)));
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

namespace {

/// Reads one plan document with JSONFieldReader's reads (paths, types,
/// ranges, the first problem), chained with && so that reading stops at the
/// first problem and the error reported does not depend on later fields.
/// Every integer in a plan is a count, a size or an index, hence read with
/// integer(), never negative.
class PlanReader : JSONFieldReader {
public:
  explicit PlanReader(StringRef File) : JSONFieldReader(File) {}

  Expected<Plan> read(const JSONValue &Root);

private:
  /// Seconds, or null for a figure that is not finite.
  bool seconds(const JSONObject &O, const FieldPath &At, StringRef Key,
               double &Out);
  /// One of kind enum E's spellings (PlanKinds.def).
  template <typename E>
  bool kind(const JSONObject &O, const FieldPath &At, StringRef Key, E &Out) {
    std::optional<size_t> I = oneOf(O, At, Key, getKindSpellings<E>());
    if (I)
      Out = static_cast<E>(*I);
    return I.has_value();
  }

  // The sections of the plan, in file order.
  bool version(const JSONObject &Root);
  bool model(const JSONObject &Root, ModelInfo &M);
  bool cluster(const JSONObject &Root, Plan &P);
  bool options(const JSONObject &Root, Options &O);
  bool devices(const JSONObject &Root, std::vector<Device> &Out);
  bool device(const JSONValue &V, const FieldPath &At, Device &D);
  bool buffers(const JSONObject &Root, std::vector<Buffer> &Out);
  bool buffer(const JSONValue &V, const FieldPath &At, Buffer &B);
  bool location(const JSONValue &V, const FieldPath &At, Location &L);
  bool shard(const JSONObject &O, const FieldPath &At, Shard &S);
  bool fallbacks(const JSONObject &Root, std::vector<Fallback> &Out);
  bool predictions(const JSONObject &Root, Predictions &Out);
  bool streams(const JSONObject &Root, Plan &P);
  /// Reads Root[Key], an array of objects, into Out: one element each,
  /// through Read(object, its path, element); stops at the first problem.
  template <typename T, typename Fn>
  bool objects(const JSONObject &Root, StringRef Key, std::vector<T> &Out,
               Fn Read) {
    FieldPath Doc;
    FieldPath At = Doc.field(Key);
    const JSONArray *A = array(Root, Doc, Key);
    if (!A)
      return false;
    Out.resize(A->size());
    for (size_t I = 0; I < A->size(); ++I) {
      FieldPath Here = At.index(I);
      const JSONObject *O = object((*A)[I], Here);
      if (!O || !Read(*O, Here, Out[I]))
        return false;
    }
    return true;
  }
  bool programs(const JSONObject &Root, Plan &P);
  bool program(const JSONValue &V, const FieldPath &At, ProgramSchedule &Out);
  bool step(const JSONValue &V, const FieldPath &At, Step &Out);
  bool attrs(const JSONObject &O, const FieldPath &At, StepAttrs &Out);
  bool programValues(const JSONObject &O, const FieldPath &At, StringRef Key,
                     std::vector<ProgramValue> &Out);
  bool indexList(const JSONObject &O, const FieldPath &At, StringRef Key,
                 std::vector<uint32_t> &Out);
  bool cleanups(const JSONObject &Root, Plan &P);
  /// The rules no single field shows (PlanStructure.h), once all is read.
  bool structure(const Plan &P);
};

bool PlanReader::seconds(const JSONObject &O, const FieldPath &At,
                         StringRef Key, double &Out) {
  const JSONValue *V = required(O, At, Key);
  if (!V)
    return false;
  if (V->getAsNull()) {
    // The writer's spelling of a non-finite figure: no prediction.
    Out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  FieldPath Here = At.field(Key);
  // 1e400 parses as inf; a plan never holds one (see seconds() above).
  Optional<double> D = V->getAsNumber();
  if (!D || !std::isfinite(*D))
    return expected(Here, "a finite number or null", *V);
  Out = *D;
  return true;
}

bool PlanReader::version(const JSONObject &Root) {
  // Checked before anything else: another version may lay out every other
  // field differently, and its message is the one that helps.
  FieldPath Doc;
  FieldPath At = Doc.field("format_version");
  const JSONValue *V = Root.get("format_version");
  if (!V)
    return fail(At, "required field is missing (is this a Strata plan?)");
  if (!V->getAsNumber())
    return expected(At, "an integer", *V);
  Optional<int64_t> N = V->getAsInteger();
  if (N && *N == FormatVersion)
    return true;
  return fail(Doc, formatv("format_version {0} is not supported (this build "
                           "reads version {1}); recompile the plan with "
                           "this strata",
                           *V, FormatVersion));
}

bool PlanReader::model(const JSONObject &Root, ModelInfo &M) {
  FieldPath Doc;
  FieldPath At = Doc.field("model");
  const JSONObject *O = object(Root, Doc, "model");
  if (O && O->get("content_digest") &&
      !string(*O, At, "content_digest", M.ContentDigest))
    return false;
  return O && string(*O, At, "name", M.Name) &&
         string(*O, At, "source", M.Source) &&
         string(*O, At, "format", M.Format) &&
         string(*O, At, "fingerprint", M.Fingerprint) &&
         integer(*O, At, "parameters", M.Parameters) &&
         integer(*O, At, "weight_bytes", M.WeightBytes) &&
         integer(*O, At, "layers", M.Layers);
}

bool PlanReader::cluster(const JSONObject &Root, Plan &P) {
  FieldPath Doc;
  FieldPath At = Doc.field("cluster");
  const JSONObject *O = object(Root, Doc, "cluster");
  if (!O || !string(*O, At, "spec", P.ClusterSpec))
    return false;
  const JSONValue *D = required(*O, At, "description");
  if (!D)
    return false;
  if (D->getAsNull()) {
    P.ClusterJSON.clear();
    return true;
  }
  if (!D->getAsObject()) {
    FieldPath Here = At.field("description");
    return expected(Here, "an object or null", *D);
  }
  // Compact with sorted keys: the canonical text, so that writing the plan
  // again reproduces the same bytes.
  P.ClusterJSON = formatv("{0}", *D).str();
  return true;
}

bool PlanReader::options(const JSONObject &Root, Options &Opts) {
  FieldPath Doc;
  FieldPath At = Doc.field("options");
  const JSONObject *O = object(Root, Doc, "options");
  return O && string(*O, At, "strategy", Opts.Strategy) &&
         string(*O, At, "kv_strategy", Opts.KVStrategy) &&
         integer(*O, At, "batch", Opts.Batch) &&
         integer(*O, At, "context", Opts.Context) &&
         integer(*O, At, "prefill_tokens", Opts.PrefillTokens) &&
         string(*O, At, "kv_dtype", Opts.KVDType) &&
         boolean(*O, At, "no_offload", Opts.NoOffload);
}

bool PlanReader::device(const JSONValue &V, const FieldPath &At, Device &D) {
  const JSONObject *O = object(V, At);
  if (!O || !integer(*O, At, "index", D.Index) ||
      !kind(*O, At, "kind", D.Kind) || !string(*O, At, "name", D.Name) ||
      !integer(*O, At, "node", D.Node) ||
      !integer(*O, At, "capacity_bytes", D.CapacityBytes) ||
      !integer(*O, At, "reserve_bytes", D.ReserveBytes) ||
      !integer(*O, At, "weight_bytes", D.WeightBytes) ||
      !integer(*O, At, "kv_cache_bytes", D.KVCacheBytes) ||
      !integer(*O, At, "activation_bytes", D.ActivationBytes) ||
      !integer(*O, At, "workspace_bytes", D.WorkspaceBytes))
    return false;
  FieldPath RegionsAt = At.field("region_bytes");
  const JSONObject *Regions = object(*O, At, "region_bytes");
  if (!integer(*O, At, "alignment", D.Alignment) || !Regions ||
      !integer(*Regions, RegionsAt, getKindName(RegionKind::Weights),
               D.WeightRegionBytes) ||
      !integer(*Regions, RegionsAt, getKindName(RegionKind::KVCache),
               D.KVCacheRegionBytes) ||
      !integer(*Regions, RegionsAt, getKindName(RegionKind::Arena),
               D.ArenaRegionBytes))
    return false;
  FieldPath ArenasAt = At.field("arenas");
  const JSONArray *Arenas = array(*O, At, "arenas");
  if (!Arenas)
    return false;
  D.Arenas.resize(Arenas->size());
  for (size_t I = 0; I < Arenas->size(); ++I) {
    FieldPath Here = ArenasAt.index(I);
    const JSONObject *A = object((*Arenas)[I], Here);
    if (!A || !string(*A, Here, "program", D.Arenas[I].Program) ||
        !integer(*A, Here, "bytes", D.Arenas[I].Bytes) ||
        !integer(*A, Here, "lower_bound", D.Arenas[I].LowerBound))
      return false;
  }
  FieldPath PredictedAt = At.field("predicted");
  const JSONObject *Predicted = object(*O, At, "predicted");
  return Predicted &&
         seconds(*Predicted, PredictedAt, "prefill_s", D.PrefillSeconds) &&
         seconds(*Predicted, PredictedAt, "decode_s", D.DecodeSeconds);
}

bool PlanReader::devices(const JSONObject &Root, std::vector<Device> &Out) {
  FieldPath Doc;
  FieldPath At = Doc.field("devices");
  const JSONArray *A = array(Root, Doc, "devices");
  if (!A)
    return false;
  Out.resize(A->size());
  for (size_t I = 0; I < A->size(); ++I) {
    FieldPath Here = At.index(I);
    if (!device((*A)[I], Here, Out[I]))
      return false;
  }
  return true;
}

bool PlanReader::location(const JSONValue &V, const FieldPath &At,
                          Location &L) {
  if (Optional<StringRef> S = V.getAsString()) {
    if (*S == "host") {
      L = Location::host();
      return true;
    }
    if (*S == "disk") {
      L = Location::disk();
      return true;
    }
  } else if (Optional<uint64_t> N = V.getAsUINT64();
             N && *N <= std::numeric_limits<unsigned>::max()) {
    L = Location::device(static_cast<unsigned>(*N));
    return true;
  }
  return expected(At, "a device index, \"host\" or \"disk\"", V);
}

bool PlanReader::shard(const JSONObject &O, const FieldPath &At, Shard &S) {
  FieldPath Axis = At.field("axis");
  if (!integer(O, At, "index", S.Index) || !integer(O, At, "count", S.Count))
    return false;
  // A null axis marks a whole copy on each member of the group, which has
  // no range.
  const JSONValue *AxisValue = required(O, At, "axis");
  if (!AxisValue)
    return false;
  S.Axis = -1;
  S.Begin = S.Size = 0;
  if (AxisValue->getAsNull())
    return true;
  return integer(*AxisValue, Axis, S.Axis) &&
         integer(O, At, "begin", S.Begin) && integer(O, At, "size", S.Size);
}

bool PlanReader::buffer(const JSONValue &V, const FieldPath &At, Buffer &B) {
  const JSONObject *O = object(V, At);
  if (!O || !string(*O, At, "name", B.Name) || !kind(*O, At, "kind", B.Kind) ||
      !integer(*O, At, "bytes", B.Bytes) || !string(*O, At, "dtype", B.DType))
    return false;

  FieldPath ShapeAt = At.field("shape");
  const JSONArray *Shape = array(*O, At, "shape");
  if (!Shape)
    return false;
  B.Shape.resize(Shape->size());
  for (size_t I = 0; I < Shape->size(); ++I) {
    FieldPath Here = ShapeAt.index(I);
    if (!integer((*Shape)[I], Here, B.Shape[I]))
      return false;
  }

  FieldPath DeviceAt = At.field("device");
  const JSONValue *Where = required(*O, At, "device");
  if (!Where || !location(*Where, DeviceAt, B.Where))
    return false;

  FieldPath LayerAt = At.field("layer");
  const JSONValue *Layer = required(*O, At, "layer");
  if (!Layer)
    return false;
  B.Layer.reset();
  if (!Layer->getAsNull()) {
    Optional<uint64_t> N = Layer->getAsUINT64();
    if (!N || *N > MaxExactJSONInteger)
      return expected(LayerAt, "a non-negative integer or null", *Layer);
    B.Layer = static_cast<int64_t>(*N);
  }

  B.Role.clear();
  if (O->get("role") && !string(*O, At, "role", B.Role))
    return false;
  if (!string(*O, At, "placed_by", B.PlacedBy))
    return false;

  B.Region = RegionKind::None;
  B.Offset = 0;
  if (O->get("region") && (!kind(*O, At, "region", B.Region) ||
                           !integer(*O, At, "offset", B.Offset)))
    return false;
  B.Program.clear();
  if (O->get("program") && !string(*O, At, "program", B.Program))
    return false;
  B.ViewOf.reset();
  if (O->get("view_of")) {
    uint32_t Base = 0;
    if (!integer(*O, At, "view_of", Base))
      return false;
    B.ViewOf = Base;
  }
  B.Live.reset();
  if (O->get("live")) {
    FieldPath LiveAt = At.field("live");
    const JSONArray *L = array(*O, At, "live");
    if (!L)
      return false;
    if (L->size() != 2)
      return fail(LiveAt, "expected [first, last]");
    LiveRange R;
    FieldPath FirstAt = LiveAt.index(0), LastAt = LiveAt.index(1);
    if (!integer((*L)[0], FirstAt, R.First) ||
        !integer((*L)[1], LastAt, R.Last))
      return false;
    B.Live = R;
  }

  B.ShardInfo.reset();
  if (!O->get("shard"))
    return true;
  FieldPath ShardAt = At.field("shard");
  const JSONObject *SO = object(*O, At, "shard");
  Shard S;
  if (!SO || !shard(*SO, ShardAt, S))
    return false;
  B.ShardInfo = S;
  return true;
}

bool PlanReader::buffers(const JSONObject &Root, std::vector<Buffer> &Out) {
  FieldPath Doc;
  FieldPath At = Doc.field("buffers");
  const JSONArray *A = array(Root, Doc, "buffers");
  if (!A)
    return false;
  Out.resize(A->size());
  for (size_t I = 0; I < A->size(); ++I) {
    FieldPath Here = At.index(I);
    if (!buffer((*A)[I], Here, Out[I]))
      return false;
  }
  return true;
}

bool PlanReader::fallbacks(const JSONObject &Root, std::vector<Fallback> &Out) {
  return objects(Root, "fallbacks", Out,
                 [&](const JSONObject &O, const FieldPath &Here, Fallback &F) {
                   return string(O, Here, "buffer", F.Buffer) &&
                          kind(O, Here, "kind", F.Kind) &&
                          string(O, Here, "reason", F.Reason);
                 });
}

bool PlanReader::predictions(const JSONObject &Root, Predictions &Out) {
  FieldPath Doc;
  FieldPath At = Doc.field("predicted");
  const JSONObject *O = object(Root, Doc, "predicted");
  return O && seconds(*O, At, "prefill_s", Out.PrefillSeconds) &&
         seconds(*O, At, "decode_s_per_step", Out.DecodeSecondsPerStep) &&
         seconds(*O, At, "decode_tokens_per_s", Out.DecodeTokensPerSecond);
}

bool PlanReader::streams(const JSONObject &Root, Plan &P) {
  return objects(Root, "streams", P.Streams,
                 [&](const JSONObject &O, const FieldPath &Here, Stream &S) {
                   return integer(O, Here, "device", S.Device) &&
                          kind(O, Here, "kind", S.Kind);
                 });
}

bool PlanReader::indexList(const JSONObject &O, const FieldPath &At,
                           StringRef Key, std::vector<uint32_t> &Out) {
  Out.clear();
  FieldPath ListAt = At.field(Key);
  const JSONArray *A = array(O, At, Key);
  if (!A)
    return false;
  Out.resize(A->size());
  for (size_t I = 0; I < A->size(); ++I) {
    FieldPath Here = ListAt.index(I);
    if (!integer((*A)[I], Here, Out[I]))
      return false;
  }
  return true;
}

bool PlanReader::attrs(const JSONObject &O, const FieldPath &At,
                       StepAttrs &Out) {
  Out.Values.clear();
  if (!O.get("attrs"))
    return true;
  FieldPath AttrsAt = At.field("attrs");
  const JSONObject *A = object(O, At, "attrs");
  if (!A)
    return false;
  for (const auto &[Key, V] : *A) {
    FieldPath Here = AttrsAt.field(Key);
    if (Optional<int64_t> I = V.getAsInteger())
      Out.Values[Key.str()] = *I;
    else if (Optional<double> D = V.getAsNumber())
      Out.Values[Key.str()] = *D;
    else if (Optional<StringRef> S = V.getAsString())
      Out.Values[Key.str()] = S->str();
    else if (V.getAsNull())
      Out.Values[Key.str()] = std::numeric_limits<double>::quiet_NaN();
    else if (const JSONArray *L = V.getAsArray()) {
      std::vector<int64_t> Ints(L->size());
      for (size_t I = 0; I < L->size(); ++I) {
        FieldPath ElementAt = Here.index(I);
        if (!signedInteger((*L)[I], ElementAt, Ints[I]))
          return false;
      }
      Out.Values[Key.str()] = std::move(Ints);
    } else
      return expected(Here, "a number, a string or a list of integers", V);
  }
  return true;
}

bool PlanReader::step(const JSONValue &V, const FieldPath &At, Step &S) {
  const JSONObject *O = object(V, At);
  if (!O || !kind(*O, At, "op", S.Op) || !string(*O, At, "name", S.Name) ||
      !integer(*O, At, "stream", S.Stream) ||
      !indexList(*O, At, "inputs", S.Inputs) ||
      !indexList(*O, At, "outputs", S.Outputs) || !attrs(*O, At, S.Attrs))
    return false;
  S.Layer.reset();
  if (O->get("layer")) {
    int64_t L = 0;
    if (!integer(*O, At, "layer", L))
      return false;
    S.Layer = L;
  }
  S.Waits.clear();
  if (O->get("waits") && !indexList(*O, At, "waits", S.Waits))
    return false;
  S.Record.reset();
  if (O->get("record")) {
    uint32_t E = 0;
    if (!integer(*O, At, "record", E))
      return false;
    S.Record = E;
  }
  S.Collective.reset();
  if (O->get("collective")) {
    uint32_t C = 0;
    if (!integer(*O, At, "collective", C))
      return false;
    S.Collective = C;
  }
  return true;
}

bool PlanReader::programValues(const JSONObject &O, const FieldPath &At,
                               StringRef Key, std::vector<ProgramValue> &Out) {
  FieldPath ListAt = At.field(Key);
  const JSONArray *A = array(O, At, Key);
  if (!A)
    return false;
  Out.resize(A->size());
  for (size_t I = 0; I < A->size(); ++I) {
    FieldPath Here = ListAt.index(I);
    const JSONObject *VO = object((*A)[I], Here);
    if (!VO || !string(*VO, Here, "name", Out[I].Name) ||
        !indexList(*VO, Here, "buffers", Out[I].Buffers))
      return false;
  }
  return true;
}

bool PlanReader::program(const JSONValue &V, const FieldPath &At,
                         ProgramSchedule &Out) {
  const JSONObject *O = object(V, At);
  if (!O || !string(*O, At, "name", Out.Name) ||
      !integer(*O, At, "events", Out.NumEvents) ||
      !programValues(*O, At, "inputs", Out.Inputs) ||
      !programValues(*O, At, "outputs", Out.Outputs))
    return false;
  FieldPath StepsAt = At.field("steps");
  const JSONArray *Steps = array(*O, At, "steps");
  if (!Steps)
    return false;
  Out.Steps.resize(Steps->size());
  for (size_t I = 0; I < Steps->size(); ++I) {
    FieldPath Here = StepsAt.index(I);
    if (!step((*Steps)[I], Here, Out.Steps[I]))
      return false;
  }
  return true;
}

bool PlanReader::programs(const JSONObject &Root, Plan &P) {
  FieldPath Doc;
  FieldPath At = Doc.field("programs");
  const JSONArray *A = array(Root, Doc, "programs");
  if (!A)
    return false;
  P.Programs.resize(A->size());
  for (size_t I = 0; I < A->size(); ++I) {
    FieldPath Here = At.index(I);
    if (!program((*A)[I], Here, P.Programs[I]))
      return false;
  }
  return true;
}

bool PlanReader::cleanups(const JSONObject &Root, Plan &P) {
  return objects(
      Root, "cleanups", P.Cleanups,
      [&](const JSONObject &O, const FieldPath &Here, CleanupPoint &C) {
        if (!kind(O, Here, "kind", C.Kind) ||
            !string(O, Here, "program", C.Program) ||
            !string(O, Here, "reason", C.Reason) ||
            !indexList(O, Here, "buffers", C.Buffers))
          return false;
        C.After.reset();
        if (!O.get("after"))
          return true;
        uint32_t After = 0;
        if (!integer(O, Here, "after", After))
          return false;
        C.After = After;
        return true;
      });
}

bool PlanReader::structure(const Plan &P) {
  std::optional<StructureProblem> Bad = findStructureProblem(P);
  if (!Bad)
    return true;
  return fail(FieldPath(), Bad->Path + ": " + Bad->Message);
}

Expected<Plan> PlanReader::read(const JSONValue &RootValue) {
  Plan P;
  FieldPath Doc;
  const JSONObject *Root = RootValue.getAsObject();
  if (!Root)
    expected(Doc, "a JSON object at the top level", RootValue);
  else if (version(*Root) && model(*Root, P.Model) && cluster(*Root, P) &&
           options(*Root, P.Opts) &&
           string(*Root, Doc, "strategy", P.Strategy) &&
           boolean(*Root, Doc, "multi_device", P.MultiDevice) &&
           devices(*Root, P.Devices) && buffers(*Root, P.Buffers) &&
           fallbacks(*Root, P.Fallbacks) && predictions(*Root, P.Predicted) &&
           streams(*Root, P) && programs(*Root, P) && cleanups(*Root, P) &&
           structure(P)) {
    P.Version = FormatVersion;
    return P;
  }
  assert(failed() && "a reader returned false without an error");
  return takeError();
}

} // namespace

Expected<Plan> parsePlan(StringRef Text, StringRef Path) {
  // The parser bounds the nesting itself (MaxJSONNesting), with the line
  // and column of the level too many.
  Expected<std::unique_ptr<JSONDocument>> Doc = readJSONDocument(Text, Path);
  if (!Doc)
    return Doc.takeError();
  return PlanReader(Path).read((*Doc)->root());
}

} // namespace strata::plan
