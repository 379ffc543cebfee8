// The same plan-reader sketch as TreeSketch (walkers.h), on simdjson
// On-Demand: one forward pass, each object's fields dispatched on the key
// (so any key order works), required keys tracked with a bit mask.
#pragma once

#include "walkers.h"

namespace jb {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::INCORRECT_TYPE;
using simdjson::NO_SUCH_FIELD;
using simdjson::SUCCESS;

#define TRY(X)                                                                 \
  do {                                                                         \
    if (auto E_ = (X))                                                         \
      return E_;                                                               \
  } while (0)

struct ODSketch {
  static error_code str(od::value V, std::string &Out) {
    std::string_view S;
    TRY(V.get_string().get(S));
    Out.assign(S.data(), S.size());
    return SUCCESS;
  }
  template <typename T> static error_code uint(od::value V, T &Out) {
    uint64_t N;
    TRY(V.get_uint64().get(N));
    if (N > uint64_t(INT64_MAX) - 1)
      return simdjson::NUMBER_OUT_OF_RANGE;
    Out = static_cast<T>(N);
    return SUCCESS;
  }
  static error_code seconds(od::value V, double &Out) {
    bool Null;
    TRY(V.is_null().get(Null));
    if (Null) {
      Out = NAN;
      return SUCCESS;
    }
    TRY(V.get_double().get(Out));
    return std::isfinite(Out) ? SUCCESS : INCORRECT_TYPE;
  }
  template <typename T>
  static error_code uintList(od::value V, std::vector<T> &Out) {
    od::array A;
    TRY(V.get_array().get(A));
    Out.clear();
    for (auto E : A) {
      od::value X;
      TRY(E.get(X));
      T N;
      TRY(uint(X, N));
      Out.push_back(N);
    }
    return SUCCESS;
  }
  /// Calls F(key, value) for each field; F returns an error_code.
  template <typename Fn> static error_code fields(od::value V, Fn F) {
    od::object O;
    TRY(V.get_object().get(O));
    for (auto Field : O) {
      std::string_view K;
      TRY(Field.unescaped_key().get(K));
      TRY(F(K, Field.value()));
    }
    return SUCCESS;
  }
  template <typename T, typename Fn>
  static error_code objects(od::value V, std::vector<T> &Out, Fn F) {
    od::array A;
    TRY(V.get_array().get(A));
    Out.clear();
    for (auto E : A) {
      od::value X;
      TRY(E.get(X));
      Out.emplace_back();
      TRY(F(X, Out.back()));
    }
    return SUCCESS;
  }
  static error_code need(unsigned Seen, unsigned Required) {
    return (Seen & Required) == Required ? SUCCESS : NO_SUCH_FIELD;
  }

  static error_code buffer(od::value V, strata::plan::Buffer &B) {
    using namespace strata::plan;
    unsigned Seen = 0;
    TRY(fields(V, [&](std::string_view K, od::value X) -> error_code {
      if (K == "name") {
        Seen |= 1;
        return str(X, B.Name);
      }
      if (K == "kind") {
        Seen |= 2;
        return str(X, B.Kind);
      }
      if (K == "bytes") {
        Seen |= 4;
        return uint(X, B.Bytes);
      }
      if (K == "dtype") {
        Seen |= 8;
        return str(X, B.DType);
      }
      if (K == "shape") {
        Seen |= 16;
        return uintList(X, B.Shape);
      }
      if (K == "device") {
        Seen |= 32;
        od::json_type T;
        TRY(X.type().get(T));
        if (T == od::json_type::string) {
          std::string_view S;
          TRY(X.get_string().get(S));
          if (S == "host")
            B.Where = Location::host();
          else if (S == "disk")
            B.Where = Location::disk();
          else
            return INCORRECT_TYPE;
          return SUCCESS;
        }
        uint32_t D;
        TRY(uint(X, D));
        B.Where = Location::device(D);
        return SUCCESS;
      }
      if (K == "layer") {
        Seen |= 64;
        bool Null;
        TRY(X.is_null().get(Null));
        if (Null)
          return SUCCESS;
        int64_t N;
        TRY(uint(X, N));
        B.Layer = N;
        return SUCCESS;
      }
      if (K == "role")
        return str(X, B.Role);
      if (K == "placed_by") {
        Seen |= 128;
        return str(X, B.PlacedBy);
      }
      if (K == "region")
        return str(X, B.Region);
      if (K == "offset")
        return uint(X, B.Offset);
      if (K == "program")
        return str(X, B.Program);
      if (K == "view_of") {
        uint32_t N;
        TRY(uint(X, N));
        B.ViewOf = N;
        return SUCCESS;
      }
      if (K == "live") {
        std::vector<uint32_t> R;
        TRY(uintList(X, R));
        if (R.size() != 2)
          return INCORRECT_TYPE;
        B.Live = LiveRange{R[0], R[1]};
        return SUCCESS;
      }
      if (K == "shard") {
        Shard S;
        unsigned SS = 0;
        TRY(fields(X, [&](std::string_view SK, od::value Y) -> error_code {
          if (SK == "index") {
            SS |= 1;
            return uint(Y, S.Index);
          }
          if (SK == "count") {
            SS |= 2;
            return uint(Y, S.Count);
          }
          if (SK == "axis") {
            SS |= 4;
            bool Null;
            TRY(Y.is_null().get(Null));
            S.Axis = -1;
            return Null ? SUCCESS : uint(Y, S.Axis);
          }
          return SUCCESS;
        }));
        TRY(need(SS, 7));
        B.ShardInfo = S;
        return SUCCESS;
      }
      return SUCCESS; // unknown keys are ignored
    }));
    return need(Seen, 255);
  }

  static error_code attrs(od::value V, strata::plan::StepAttrs &Out) {
    return fields(V, [&](std::string_view K, od::value X) -> error_code {
      std::string Key(K);
      od::json_type T;
      TRY(X.type().get(T));
      switch (T) {
      case od::json_type::number: {
        od::number N;
        TRY(X.get_number().get(N));
        if (N.is_int64())
          Out.Values[Key] = N.get_int64();
        else if (N.is_uint64())
          Out.Values[Key] = double(N.get_uint64());
        else
          Out.Values[Key] = N.get_double();
        return SUCCESS;
      }
      case od::json_type::string: {
        std::string S;
        TRY(str(X, S));
        Out.Values[Key] = std::move(S);
        return SUCCESS;
      }
      case od::json_type::null: {
        bool Null;
        TRY(X.is_null().get(Null));
        Out.Values[Key] = double(NAN);
        return SUCCESS;
      }
      case od::json_type::array: {
        od::array A;
        TRY(X.get_array().get(A));
        std::vector<int64_t> Ints;
        for (auto E : A) {
          int64_t I;
          TRY(E.get_int64().get(I));
          Ints.push_back(I);
        }
        Out.Values[Key] = std::move(Ints);
        return SUCCESS;
      }
      default:
        return INCORRECT_TYPE;
      }
    });
  }

  static error_code step(od::value V, strata::plan::Step &S) {
    unsigned Seen = 0;
    TRY(fields(V, [&](std::string_view K, od::value X) -> error_code {
      if (K == "op") {
        Seen |= 1;
        return str(X, S.Op);
      }
      if (K == "name") {
        Seen |= 2;
        return str(X, S.Name);
      }
      if (K == "stream") {
        Seen |= 4;
        return uint(X, S.Stream);
      }
      if (K == "inputs") {
        Seen |= 8;
        return uintList(X, S.Inputs);
      }
      if (K == "outputs") {
        Seen |= 16;
        return uintList(X, S.Outputs);
      }
      if (K == "attrs")
        return attrs(X, S.Attrs);
      if (K == "layer") {
        int64_t N;
        TRY(uint(X, N));
        S.Layer = N;
        return SUCCESS;
      }
      if (K == "waits")
        return uintList(X, S.Waits);
      if (K == "record") {
        uint32_t N;
        TRY(uint(X, N));
        S.Record = N;
        return SUCCESS;
      }
      if (K == "collective") {
        uint32_t N;
        TRY(uint(X, N));
        S.Collective = N;
        return SUCCESS;
      }
      return SUCCESS;
    }));
    return need(Seen, 31);
  }

  static error_code values(od::value V,
                           std::vector<strata::plan::ProgramValue> &Out) {
    return objects(
        V, Out, [](od::value X, strata::plan::ProgramValue &P) -> error_code {
          unsigned Seen = 0;
          TRY(fields(X, [&](std::string_view K, od::value Y) -> error_code {
            if (K == "name") {
              Seen |= 1;
              return str(Y, P.Name);
            }
            if (K == "buffers") {
              Seen |= 2;
              return uintList(Y, P.Buffers);
            }
            return SUCCESS;
          }));
          return need(Seen, 3);
        });
  }

  static error_code program(od::value V, strata::plan::ProgramSchedule &S) {
    unsigned Seen = 0;
    TRY(fields(V, [&](std::string_view K, od::value X) -> error_code {
      if (K == "name") {
        Seen |= 1;
        return str(X, S.Name);
      }
      if (K == "events") {
        Seen |= 2;
        return uint(X, S.NumEvents);
      }
      if (K == "inputs") {
        Seen |= 4;
        return values(X, S.Inputs);
      }
      if (K == "outputs") {
        Seen |= 8;
        return values(X, S.Outputs);
      }
      if (K == "steps") {
        Seen |= 16;
        return objects(X, S.Steps, step);
      }
      return SUCCESS;
    }));
    return need(Seen, 31);
  }

  static error_code device(od::value V, strata::plan::Device &D) {
    unsigned Seen = 0;
    TRY(fields(V, [&](std::string_view K, od::value X) -> error_code {
      if (K == "index") {
        Seen |= 1;
        return uint(X, D.Index);
      }
      if (K == "kind") {
        Seen |= 2;
        return str(X, D.Kind);
      }
      if (K == "name") {
        Seen |= 4;
        return str(X, D.Name);
      }
      if (K == "node") {
        Seen |= 8;
        return uint(X, D.Node);
      }
      if (K == "capacity_bytes") {
        Seen |= 16;
        return uint(X, D.CapacityBytes);
      }
      if (K == "reserve_bytes") {
        Seen |= 32;
        return uint(X, D.ReserveBytes);
      }
      if (K == "weight_bytes") {
        Seen |= 64;
        return uint(X, D.WeightBytes);
      }
      if (K == "kv_cache_bytes") {
        Seen |= 128;
        return uint(X, D.KVCacheBytes);
      }
      if (K == "activation_bytes") {
        Seen |= 256;
        return uint(X, D.ActivationBytes);
      }
      if (K == "workspace_bytes") {
        Seen |= 512;
        return uint(X, D.WorkspaceBytes);
      }
      if (K == "alignment") {
        Seen |= 1024;
        return uint(X, D.Alignment);
      }
      if (K == "region_bytes") {
        Seen |= 2048;
        return fields(X, [&](std::string_view RK, od::value Y) -> error_code {
          if (RK == "weights")
            return uint(Y, D.WeightRegionBytes);
          if (RK == "kv_cache")
            return uint(Y, D.KVCacheRegionBytes);
          if (RK == "arena")
            return uint(Y, D.ArenaRegionBytes);
          return SUCCESS;
        });
      }
      if (K == "arenas") {
        Seen |= 4096;
        return objects(
            X, D.Arenas,
            [](od::value Y, strata::plan::Device::ArenaUse &U) -> error_code {
              return fields(
                  Y, [&](std::string_view AK, od::value Z) -> error_code {
                    if (AK == "program")
                      return str(Z, U.Program);
                    if (AK == "bytes")
                      return uint(Z, U.Bytes);
                    if (AK == "lower_bound")
                      return uint(Z, U.LowerBound);
                    return SUCCESS;
                  });
            });
      }
      if (K == "predicted") {
        Seen |= 8192;
        return fields(X, [&](std::string_view PK, od::value Y) -> error_code {
          if (PK == "prefill_s")
            return seconds(Y, D.PrefillSeconds);
          if (PK == "decode_s")
            return seconds(Y, D.DecodeSeconds);
          return SUCCESS;
        });
      }
      return SUCCESS;
    }));
    return need(Seen, 16383);
  }

  static error_code read(od::document &Doc, Plan &P) {
    using namespace strata::plan;
    od::value Root;
    TRY(Doc.get_value().get(Root));
    TRY(fields(Root, [&](std::string_view K, od::value X) -> error_code {
      if (K == "format_version") {
        uint64_t V;
        TRY(X.get_uint64().get(V));
        return V == 2 ? SUCCESS : INCORRECT_TYPE;
      }
      if (K == "model")
        return fields(X, [&](std::string_view MK, od::value Y) -> error_code {
          if (MK == "name")
            return str(Y, P.Model.Name);
          if (MK == "source")
            return str(Y, P.Model.Source);
          if (MK == "format")
            return str(Y, P.Model.Format);
          if (MK == "fingerprint")
            return str(Y, P.Model.Fingerprint);
          if (MK == "content_digest")
            return str(Y, P.Model.ContentDigest);
          if (MK == "parameters")
            return uint(Y, P.Model.Parameters);
          if (MK == "weight_bytes")
            return uint(Y, P.Model.WeightBytes);
          if (MK == "layers")
            return uint(Y, P.Model.Layers);
          return SUCCESS;
        });
      if (K == "cluster")
        return fields(X, [&](std::string_view CK, od::value Y) -> error_code {
          if (CK == "spec")
            return str(Y, P.ClusterSpec);
          if (CK == "description") {
            uint64_t Sum = 0;
            return touchOD(Y, Sum);
          }
          return SUCCESS;
        });
      if (K == "options")
        return fields(X, [&](std::string_view OK, od::value Y) -> error_code {
          if (OK == "strategy")
            return str(Y, P.Opts.Strategy);
          if (OK == "kv_strategy")
            return str(Y, P.Opts.KVStrategy);
          if (OK == "batch")
            return uint(Y, P.Opts.Batch);
          if (OK == "context")
            return uint(Y, P.Opts.Context);
          if (OK == "prefill_tokens")
            return uint(Y, P.Opts.PrefillTokens);
          if (OK == "kv_dtype")
            return str(Y, P.Opts.KVDType);
          if (OK == "no_offload")
            return Y.get_bool().get(P.Opts.NoOffload);
          return SUCCESS;
        });
      if (K == "strategy")
        return str(X, P.Strategy);
      if (K == "multi_device")
        return X.get_bool().get(P.MultiDevice);
      if (K == "predicted")
        return fields(X, [&](std::string_view PK, od::value Y) -> error_code {
          if (PK == "prefill_s")
            return seconds(Y, P.Predicted.PrefillSeconds);
          if (PK == "decode_s_per_step")
            return seconds(Y, P.Predicted.DecodeSecondsPerStep);
          if (PK == "decode_tokens_per_s")
            return seconds(Y, P.Predicted.DecodeTokensPerSecond);
          return SUCCESS;
        });
      if (K == "devices")
        return objects(X, P.Devices, device);
      if (K == "buffers")
        return objects(X, P.Buffers, buffer);
      if (K == "fallbacks")
        return objects(
            X, P.Fallbacks, [](od::value Y, Fallback &F) -> error_code {
              return fields(
                  Y, [&](std::string_view FK, od::value Z) -> error_code {
                    if (FK == "buffer")
                      return str(Z, F.Buffer);
                    if (FK == "kind")
                      return str(Z, F.Kind);
                    if (FK == "reason")
                      return str(Z, F.Reason);
                    return SUCCESS;
                  });
            });
      if (K == "streams")
        return objects(X, P.Streams, [](od::value Y, Stream &S) -> error_code {
          return fields(Y, [&](std::string_view SK, od::value Z) -> error_code {
            if (SK == "device")
              return uint(Z, S.Device);
            if (SK == "kind")
              return str(Z, S.Kind);
            return SUCCESS;
          });
        });
      if (K == "programs")
        return objects(X, P.Programs, program);
      if (K == "cleanups")
        return objects(
            X, P.Cleanups, [](od::value Y, CleanupPoint &C) -> error_code {
              return fields(
                  Y, [&](std::string_view CK, od::value Z) -> error_code {
                    if (CK == "kind")
                      return str(Z, C.Kind);
                    if (CK == "program")
                      return str(Z, C.Program);
                    if (CK == "reason")
                      return str(Z, C.Reason);
                    if (CK == "buffers")
                      return uintList(Z, C.Buffers);
                    if (CK == "after") {
                      uint32_t N;
                      TRY(uint(Z, N));
                      C.After = N;
                      return SUCCESS;
                    }
                    return SUCCESS;
                  });
            });
      return SUCCESS;
    }));
    if (Doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return simdjson::TRAILING_CONTENT;
    return SUCCESS;
  }
};

#undef TRY

} // namespace jb
