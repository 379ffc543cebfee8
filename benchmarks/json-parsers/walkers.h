// The walks each benchmark times.
//
//  touch*     : visit every value of a parsed tree / an On-Demand document
//               (unescape every key and string, decode every number).
//  sketch*    : an estimate of a plan reader: fills strata::plan::Plan with
//               every field of devices, buffers, streams, programs (with
//               their steps, attrs included), cleanups, fallbacks, model,
//               options and predicted, checking each value's JSON type and
//               required keys. Not covered: the path in the error message,
//               the range/cross-reference checks (device/buffer/stream/event
//               indices, shard index < count, axis < rank), the duplicate
//               buffer check (a std::map over (program,name,shard,device)),
//               and cluster.description (re-serialised sorted and compact).
#pragma once

#include "ir/plan/JSONDocument.h"
#include "ir/plan/Plan.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace jb {

using strata::plan::Plan;

//===----------------------------------------------------------------------===//
// Touch every value.
//===----------------------------------------------------------------------===//

inline void touchDoc(const strata::JSONValue &V, uint64_t &Sum) {
  using K = strata::JSONValue::Kind;
  switch (V.kind()) {
  case K::Null:
    Sum += 1;
    break;
  case K::Boolean:
    Sum += *V.getAsBoolean();
    break;
  case K::Integer:
    Sum += uint64_t(*V.getAsInteger());
    break;
  case K::Double:
    Sum += uint64_t(*V.getAsNumber());
    break;
  case K::String:
    Sum += V.getAsString()->size();
    break;
  case K::Array:
    for (const auto &E : *V.getAsArray())
      touchDoc(E, Sum);
    break;
  case K::Object:
    for (const auto &M : *V.getAsObject()) {
      Sum += M.Key.size();
      touchDoc(M.Value, Sum);
    }
    break;
  }
}

inline void touchDom(simdjson::dom::element E, uint64_t &Sum) {
  using T = simdjson::dom::element_type;
  switch (E.type()) {
  case T::NULL_VALUE:
    Sum += 1;
    break;
  case T::BOOL:
    Sum += bool(E.get_bool().value_unsafe());
    break;
  case T::INT64:
    Sum += uint64_t(E.get_int64().value_unsafe());
    break;
  case T::UINT64:
    Sum += E.get_uint64().value_unsafe();
    break;
  case T::DOUBLE:
    Sum += uint64_t(E.get_double().value_unsafe());
    break;
  case T::STRING:
    Sum += E.get_string().value_unsafe().size();
    break;
  case T::ARRAY: {
    simdjson::dom::array A = E.get_array().value_unsafe();
    for (auto C : A)
      touchDom(C, Sum);
    break;
  }
  case T::OBJECT: {
    simdjson::dom::object O = E.get_object().value_unsafe();
    for (auto F : O) {
      Sum += F.key.size();
      touchDom(F.value, Sum);
    }
    break;
  }
  }
}

/// Every value of an On-Demand document: the keys unescaped, strings
/// unescaped, numbers decoded (On-Demand decodes nothing it is not asked
/// for, so this is what building a tree would cost it).
inline simdjson::error_code touchOD(simdjson::ondemand::value V,
                                    uint64_t &Sum) {
  using namespace simdjson;
  ondemand::json_type T;
  if (auto E = V.type().get(T))
    return E;
  switch (T) {
  case ondemand::json_type::array: {
    ondemand::array A;
    if (auto E = V.get_array().get(A))
      return E;
    for (auto C : A) {
      ondemand::value CV;
      if (auto E = C.get(CV))
        return E;
      if (auto E = touchOD(CV, Sum))
        return E;
    }
    return SUCCESS;
  }
  case ondemand::json_type::object: {
    ondemand::object O;
    if (auto E = V.get_object().get(O))
      return E;
    for (auto F : O) {
      std::string_view K;
      if (auto E = F.unescaped_key().get(K))
        return E;
      Sum += K.size();
      if (auto E = touchOD(F.value(), Sum))
        return E;
    }
    return SUCCESS;
  }
  case ondemand::json_type::number: {
    ondemand::number N;
    if (auto E = V.get_number().get(N))
      return E;
    if (N.is_int64())
      Sum += uint64_t(N.get_int64());
    else if (N.is_uint64())
      Sum += N.get_uint64();
    else
      Sum += uint64_t(N.get_double());
    return SUCCESS;
  }
  case ondemand::json_type::string: {
    std::string_view S;
    if (auto E = V.get_string().get(S))
      return E;
    Sum += S.size();
    return SUCCESS;
  }
  case ondemand::json_type::boolean: {
    bool B;
    if (auto E = V.get_bool().get(B))
      return E;
    Sum += B;
    return SUCCESS;
  }
  case ondemand::json_type::null: {
    bool N;
    if (auto E = V.is_null().get(N))
      return E;
    Sum += N;
    return N ? SUCCESS : INCORRECT_TYPE;
  }
  }
  return UNEXPECTED_ERROR;
}

/// A whole On-Demand document, checking that nothing follows it.
inline simdjson::error_code touchODDocument(simdjson::ondemand::document &Doc,
                                            uint64_t &Sum) {
  simdjson::ondemand::value Root;
  if (auto E = Doc.get_value().get(Root))
    return E;
  if (auto E = touchOD(Root, Sum))
    return E;
  // current_location() is OUT_OF_BOUNDS once the document is consumed.
  if (Doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return simdjson::TRAILING_CONTENT;
  return simdjson::SUCCESS;
}

//===----------------------------------------------------------------------===//
// Sketch of a plan reader over a tree (JSONDocument or simdjson DOM), written
// once against a small adapter so that both trees do exactly the same work.
//===----------------------------------------------------------------------===//

struct DocAdapter {
  using Value = const strata::JSONValue *;
  using Object = const strata::JSONObject *;
  using Array = const strata::JSONArray *;
  static Object obj(Value V) { return V ? V->getAsObject() : nullptr; }
  static Array arr(Value V) { return V ? V->getAsArray() : nullptr; }
  static Value get(Object O, std::string_view K) {
    return O->get(llvm::StringRef(K.data(), K.size()));
  }
  static bool str(Value V, std::string &Out) {
    if (!V)
      return false;
    auto S = V->getAsString();
    if (!S)
      return false;
    Out.assign(S->data(), S->size());
    return true;
  }
  static bool u64(Value V, uint64_t &Out) {
    if (!V)
      return false;
    auto N = V->getAsUINT64();
    if (!N)
      return false;
    Out = *N;
    return true;
  }
  static bool boolean(Value V, bool &Out) {
    if (!V)
      return false;
    auto B = V->getAsBoolean();
    if (!B)
      return false;
    Out = *B;
    return true;
  }
  static bool isNull(Value V) { return V && V->getAsNull(); }
  static bool num(Value V, double &Out) {
    if (!V)
      return false;
    auto D = V->getAsNumber();
    if (!D)
      return false;
    Out = *D;
    return true;
  }
  static bool i64(Value V, int64_t &Out) {
    auto I = V->getAsInteger();
    if (!I)
      return false;
    Out = *I;
    return true;
  }
  static size_t size(Array A) { return A->size(); }
  template <typename Fn> static bool each(Array A, Fn F) {
    for (const auto &E : *A)
      if (!F(&E))
        return false;
    return true;
  }
  template <typename Fn> static bool members(Object O, Fn F) {
    for (const auto &M : *O)
      if (!F(std::string_view(M.Key.data(), M.Key.size()), &M.Value))
        return false;
    return true;
  }
};

struct DomAdapter {
  // A null tape pointer stands for "absent": wrap an element in optional.
  struct Value {
    simdjson::dom::element E;
    bool Ok = false;
    explicit operator bool() const { return Ok; }
  };
  struct Object {
    simdjson::dom::object O;
    bool Ok = false;
    explicit operator bool() const { return Ok; }
  };
  struct Array {
    simdjson::dom::array A;
    bool Ok = false;
    explicit operator bool() const { return Ok; }
  };
  static Object obj(Value V) {
    Object R;
    R.Ok = V.Ok && !V.E.get_object().get(R.O);
    return R;
  }
  static Array arr(Value V) {
    Array R;
    R.Ok = V.Ok && !V.E.get_array().get(R.A);
    return R;
  }
  static Value get(Object O, std::string_view K) {
    // dom::object::at_key is a linear scan, as JSONObject::get.
    Value R;
    R.Ok = !O.O.at_key(K).get(R.E);
    return R;
  }
  static bool str(Value V, std::string &Out) {
    std::string_view S;
    if (!V.Ok || V.E.get_string().get(S))
      return false;
    Out.assign(S.data(), S.size());
    return true;
  }
  static bool u64(Value V, uint64_t &Out) {
    // get_uint64 refuses doubles (1.0), as getAsUINT64 does.
    return V.Ok && !V.E.get_uint64().get(Out);
  }
  static bool boolean(Value V, bool &Out) {
    return V.Ok && !V.E.get_bool().get(Out);
  }
  static bool isNull(Value V) { return V.Ok && V.E.is_null(); }
  static bool num(Value V, double &Out) {
    return V.Ok && !V.E.get_double().get(Out);
  }
  static bool i64(Value V, int64_t &Out) {
    if (!V.Ok)
      return false;
    if (!V.E.get_int64().get(Out))
      return true;
    double D;
    if (V.E.get_double().get(D))
      return false;
    double W;
    if (std::modf(D, &W) != 0.0 || W < -0x1p63 || W >= 0x1p63)
      return false;
    Out = int64_t(W);
    return true;
  }
  static size_t size(Array A) { return A.A.size(); }
  template <typename Fn> static bool each(Array A, Fn F) {
    for (auto E : A.A)
      if (!F(Value{E, true}))
        return false;
    return true;
  }
  template <typename Fn> static bool members(Object O, Fn F) {
    for (auto M : O.O)
      if (!F(M.key, Value{M.value, true}))
        return false;
    return true;
  }
};

template <typename A> struct TreeSketch {
  using Value = typename A::Value;
  using Object = typename A::Object;
  using Array = typename A::Array;

  static bool str(Object O, std::string_view K, std::string &Out) {
    return A::str(A::get(O, K), Out);
  }
  template <typename T> static bool uint(Value V, T &Out) {
    uint64_t N;
    if (!A::u64(V, N) || N > uint64_t(INT64_MAX) - 1)
      return false;
    Out = static_cast<T>(N);
    return true;
  }
  template <typename T> static bool uint(Object O, std::string_view K, T &Out) {
    return uint(A::get(O, K), Out);
  }
  static bool optStr(Object O, std::string_view K, std::string &Out) {
    Out.clear();
    Value V = A::get(O, K);
    return !V || A::str(V, Out);
  }
  static bool seconds(Object O, std::string_view K, double &Out) {
    Value V = A::get(O, K);
    if (!V)
      return false;
    if (A::isNull(V)) {
      Out = NAN;
      return true;
    }
    return A::num(V, Out) && std::isfinite(Out);
  }
  template <typename T> static bool uintList(Value V, std::vector<T> &Out) {
    Array L = A::arr(V);
    if (!L)
      return false;
    Out.clear();
    Out.reserve(A::size(L));
    return A::each(L, [&](Value E) {
      T N;
      if (!uint(E, N))
        return false;
      Out.push_back(N);
      return true;
    });
  }
  template <typename T, typename Fn>
  static bool objects(Object Root, std::string_view K, std::vector<T> &Out,
                      Fn F) {
    Array L = A::arr(A::get(Root, K));
    if (!L)
      return false;
    Out.resize(A::size(L));
    size_t I = 0;
    return A::each(L, [&](Value E) {
      Object O = A::obj(E);
      return O && F(O, Out[I++]);
    });
  }

  static bool buffer(Object O, strata::plan::Buffer &B) {
    using namespace strata::plan;
    if (!str(O, "name", B.Name) || !str(O, "kind", B.Kind) ||
        !uint(O, "bytes", B.Bytes) || !str(O, "dtype", B.DType) ||
        !uintList(A::get(O, "shape"), B.Shape))
      return false;
    Value D = A::get(O, "device");
    std::string Where;
    uint32_t Dev;
    if (A::str(D, Where)) {
      if (Where == "host")
        B.Where = Location::host();
      else if (Where == "disk")
        B.Where = Location::disk();
      else
        return false;
    } else if (uint(D, Dev))
      B.Where = Location::device(Dev);
    else
      return false;
    Value L = A::get(O, "layer");
    if (!L)
      return false;
    B.Layer.reset();
    if (!A::isNull(L)) {
      int64_t N;
      if (!uint(L, N))
        return false;
      B.Layer = N;
    }
    if (!optStr(O, "role", B.Role) || !str(O, "placed_by", B.PlacedBy))
      return false;
    B.Offset = 0;
    if (!optStr(O, "region", B.Region))
      return false;
    if (!B.Region.empty() && !uint(O, "offset", B.Offset))
      return false;
    if (!optStr(O, "program", B.Program))
      return false;
    B.ViewOf.reset();
    if (Value V = A::get(O, "view_of")) {
      uint32_t N;
      if (!uint(V, N))
        return false;
      B.ViewOf = N;
    }
    B.Live.reset();
    if (Value V = A::get(O, "live")) {
      std::vector<uint32_t> R;
      if (!uintList(V, R) || R.size() != 2)
        return false;
      B.Live = LiveRange{R[0], R[1]};
    }
    B.ShardInfo.reset();
    if (Value V = A::get(O, "shard")) {
      Object S = A::obj(V);
      Shard Sh;
      if (!S || !uint(S, "index", Sh.Index) || !uint(S, "count", Sh.Count))
        return false;
      Value Ax = A::get(S, "axis");
      if (!Ax)
        return false;
      Sh.Axis = -1;
      if (!A::isNull(Ax) && !uint(Ax, Sh.Axis))
        return false;
      B.ShardInfo = Sh;
    }
    return true;
  }

  static bool attrs(Object O, strata::plan::StepAttrs &Out) {
    Out.Values.clear();
    Value V = A::get(O, "attrs");
    if (!V)
      return true;
    Object At = A::obj(V);
    if (!At)
      return false;
    return A::members(At, [&](std::string_view K, Value E) {
      int64_t I;
      double D;
      std::string S;
      std::string Key(K);
      if (A::i64(E, I))
        Out.Values[Key] = I;
      else if (A::num(E, D))
        Out.Values[Key] = D;
      else if (A::str(E, S))
        Out.Values[Key] = std::move(S);
      else if (A::isNull(E))
        Out.Values[Key] = double(NAN);
      else if (Array L = A::arr(E)) {
        std::vector<int64_t> Ints;
        if (!A::each(L, [&](Value X) {
              int64_t N;
              if (!A::i64(X, N))
                return false;
              Ints.push_back(N);
              return true;
            }))
          return false;
        Out.Values[Key] = std::move(Ints);
      } else
        return false;
      return true;
    });
  }

  static bool step(Object O, strata::plan::Step &S) {
    if (!str(O, "op", S.Op) || !str(O, "name", S.Name) ||
        !uint(O, "stream", S.Stream) ||
        !uintList(A::get(O, "inputs"), S.Inputs) ||
        !uintList(A::get(O, "outputs"), S.Outputs) || !attrs(O, S.Attrs))
      return false;
    S.Layer.reset();
    if (Value V = A::get(O, "layer")) {
      int64_t N;
      if (!uint(V, N))
        return false;
      S.Layer = N;
    }
    S.Waits.clear();
    if (Value V = A::get(O, "waits"))
      if (!uintList(V, S.Waits))
        return false;
    S.Record.reset();
    if (Value V = A::get(O, "record")) {
      uint32_t N;
      if (!uint(V, N))
        return false;
      S.Record = N;
    }
    S.Collective.reset();
    if (Value V = A::get(O, "collective")) {
      uint32_t N;
      if (!uint(V, N))
        return false;
      S.Collective = N;
    }
    return true;
  }

  static bool values(Object O, std::string_view K,
                     std::vector<strata::plan::ProgramValue> &Out) {
    return objects(O, K, Out, [](Object V, strata::plan::ProgramValue &P) {
      return str(V, "name", P.Name) &&
             uintList(A::get(V, "buffers"), P.Buffers);
    });
  }

  static bool device(Object O, strata::plan::Device &D) {
    Object R = A::obj(A::get(O, "region_bytes"));
    Object P = A::obj(A::get(O, "predicted"));
    if (!R || !P)
      return false;
    return uint(O, "index", D.Index) && str(O, "kind", D.Kind) &&
           str(O, "name", D.Name) && uint(O, "node", D.Node) &&
           uint(O, "capacity_bytes", D.CapacityBytes) &&
           uint(O, "reserve_bytes", D.ReserveBytes) &&
           uint(O, "weight_bytes", D.WeightBytes) &&
           uint(O, "kv_cache_bytes", D.KVCacheBytes) &&
           uint(O, "activation_bytes", D.ActivationBytes) &&
           uint(O, "workspace_bytes", D.WorkspaceBytes) &&
           uint(O, "alignment", D.Alignment) &&
           uint(R, "weights", D.WeightRegionBytes) &&
           uint(R, "kv_cache", D.KVCacheRegionBytes) &&
           uint(R, "arena", D.ArenaRegionBytes) &&
           objects(O, "arenas", D.Arenas,
                   [](Object X, strata::plan::Device::ArenaUse &U) {
                     return str(X, "program", U.Program) &&
                            uint(X, "bytes", U.Bytes) &&
                            uint(X, "lower_bound", U.LowerBound);
                   }) &&
           seconds(P, "prefill_s", D.PrefillSeconds) &&
           seconds(P, "decode_s", D.DecodeSeconds);
  }

  static bool read(Value RootV, Plan &P) {
    using namespace strata::plan;
    Object Root = A::obj(RootV);
    if (!Root)
      return false;
    uint64_t Version;
    if (!A::u64(A::get(Root, "format_version"), Version) || Version != 2)
      return false;
    Object M = A::obj(A::get(Root, "model"));
    Object C = A::obj(A::get(Root, "cluster"));
    Object Op = A::obj(A::get(Root, "options"));
    Object Pr = A::obj(A::get(Root, "predicted"));
    if (!M || !C || !Op || !Pr)
      return false;
    if (!str(M, "name", P.Model.Name) || !str(M, "source", P.Model.Source) ||
        !str(M, "format", P.Model.Format) ||
        !str(M, "fingerprint", P.Model.Fingerprint) ||
        !optStr(M, "content_digest", P.Model.ContentDigest) ||
        !uint(M, "parameters", P.Model.Parameters) ||
        !uint(M, "weight_bytes", P.Model.WeightBytes) ||
        !uint(M, "layers", P.Model.Layers) || !str(C, "spec", P.ClusterSpec) ||
        !str(Op, "strategy", P.Opts.Strategy) ||
        !str(Op, "kv_strategy", P.Opts.KVStrategy) ||
        !uint(Op, "batch", P.Opts.Batch) ||
        !uint(Op, "context", P.Opts.Context) ||
        !uint(Op, "prefill_tokens", P.Opts.PrefillTokens) ||
        !str(Op, "kv_dtype", P.Opts.KVDType) ||
        !A::boolean(A::get(Op, "no_offload"), P.Opts.NoOffload) ||
        !str(Root, "strategy", P.Strategy) ||
        !A::boolean(A::get(Root, "multi_device"), P.MultiDevice) ||
        !seconds(Pr, "prefill_s", P.Predicted.PrefillSeconds) ||
        !seconds(Pr, "decode_s_per_step", P.Predicted.DecodeSecondsPerStep) ||
        !seconds(Pr, "decode_tokens_per_s", P.Predicted.DecodeTokensPerSecond))
      return false;
    return objects(Root, "devices", P.Devices, device) &&
           objects(Root, "buffers", P.Buffers, buffer) &&
           objects(Root, "fallbacks", P.Fallbacks,
                   [](Object O, Fallback &F) {
                     return str(O, "buffer", F.Buffer) &&
                            str(O, "kind", F.Kind) &&
                            str(O, "reason", F.Reason);
                   }) &&
           objects(Root, "streams", P.Streams,
                   [](Object O, Stream &S) {
                     return uint(O, "device", S.Device) &&
                            str(O, "kind", S.Kind);
                   }) &&
           objects(Root, "programs", P.Programs,
                   [](Object O, ProgramSchedule &S) {
                     return str(O, "name", S.Name) &&
                            uint(O, "events", S.NumEvents) &&
                            values(O, "inputs", S.Inputs) &&
                            values(O, "outputs", S.Outputs) &&
                            objects(O, "steps", S.Steps, step);
                   }) &&
           objects(Root, "cleanups", P.Cleanups, [](Object O, CleanupPoint &X) {
             if (!str(O, "kind", X.Kind) || !str(O, "program", X.Program) ||
                 !str(O, "reason", X.Reason) ||
                 !uintList(A::get(O, "buffers"), X.Buffers))
               return false;
             X.After.reset();
             if (Value V = A::get(O, "after")) {
               uint32_t N;
               if (!uint(V, N))
                 return false;
               X.After = N;
             }
             return true;
           });
  }
};

} // namespace jb
