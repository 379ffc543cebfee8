//===- GGUFWriter.h - Builds GGUF files for tests ---------------*- C++ -*-===//
//
// Writes GGUF v2/v3 bytes in memory so that tests make their own files
// instead of committing binaries. Every field can be set by hand, including
// to wrong values: the counts in the header, the version, the magic, raw
// value payloads, tensor type ids, dimensions and offsets. Tensor data is
// zeros.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TESTS_UNIT_GGUFWRITER_H
#define STRATA_TESTS_UNIT_GGUFWRITER_H

#include "ir/DataType.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MathExtras.h"

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::test {

/// Little-endian encoders, for values built by hand.
namespace gguf {

/// gguf_type ids.
enum Type : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// A few ggml_type ids.
enum GGMLType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, Q4_K = 12 };

inline void putU8(std::string &S, uint8_t V) { S.push_back(char(V)); }
inline void putU16(std::string &S, uint16_t V) {
  for (int I = 0; I < 2; ++I)
    S.push_back(char(V >> (8 * I)));
}
inline void putU32(std::string &S, uint32_t V) {
  for (int I = 0; I < 4; ++I)
    S.push_back(char(V >> (8 * I)));
}
inline void putU64(std::string &S, uint64_t V) {
  for (int I = 0; I < 8; ++I)
    S.push_back(char(V >> (8 * I)));
}
inline void putF32(std::string &S, float V) {
  putU32(S, std::bit_cast<uint32_t>(V));
}
inline void putF64(std::string &S, double V) {
  putU64(S, std::bit_cast<uint64_t>(V));
}
inline void putStr(std::string &S, llvm::StringRef V) {
  putU64(S, V.size());
  S.append(V.data(), V.size());
}

/// The payload of an array value: element type, count, then Elems as
/// already encoded (Count need not match, to make broken files).
inline std::string array(uint32_t ElemType, uint64_t Count,
                         const std::string &Elems) {
  std::string S;
  putU32(S, ElemType);
  putU64(S, Count);
  return S + Elems;
}

} // namespace gguf

class GGUFWriter {
public:
  struct Tensor {
    std::string Name;
    std::vector<uint64_t> Ne; ///< ggml order: ne[0] varies fastest.
    uint32_t GGMLType = gguf::F32;
    uint64_t Offset = 0; ///< Relative to the data section.
  };

  std::string Magic = "GGUF";
  uint32_t Version = 3;
  /// Counts written in the header; the real counts when unset.
  std::optional<uint64_t> TensorCount, KeyValueCount;
  /// Where the data section starts and automatically placed tensors go. The
  /// reader learns it only from a general.alignment key (u32(...)).
  uint64_t Alignment = 32;
  std::vector<Tensor> Tensors;

  explicit GGUFWriter(uint32_t Version = 3) : Version(Version) {}

  /// A key-value pair whose value is already encoded.
  GGUFWriter &raw(llvm::StringRef Key, uint32_t Type,
                  const std::string &Value) {
    gguf::putStr(KeyValues, Key);
    gguf::putU32(KeyValues, Type);
    KeyValues += Value;
    ++NumKeyValues;
    return *this;
  }
  GGUFWriter &u8(llvm::StringRef Key, uint8_t V) {
    std::string S;
    gguf::putU8(S, V);
    return raw(Key, gguf::UInt8, S);
  }
  GGUFWriter &i8(llvm::StringRef Key, int8_t V) {
    std::string S;
    gguf::putU8(S, static_cast<uint8_t>(V));
    return raw(Key, gguf::Int8, S);
  }
  GGUFWriter &u16(llvm::StringRef Key, uint16_t V) {
    std::string S;
    gguf::putU16(S, V);
    return raw(Key, gguf::UInt16, S);
  }
  GGUFWriter &i16(llvm::StringRef Key, int16_t V) {
    std::string S;
    gguf::putU16(S, static_cast<uint16_t>(V));
    return raw(Key, gguf::Int16, S);
  }
  GGUFWriter &u32(llvm::StringRef Key, uint32_t V) {
    std::string S;
    gguf::putU32(S, V);
    return raw(Key, gguf::UInt32, S);
  }
  GGUFWriter &i32(llvm::StringRef Key, int32_t V) {
    std::string S;
    gguf::putU32(S, static_cast<uint32_t>(V));
    return raw(Key, gguf::Int32, S);
  }
  GGUFWriter &u64(llvm::StringRef Key, uint64_t V) {
    std::string S;
    gguf::putU64(S, V);
    return raw(Key, gguf::UInt64, S);
  }
  GGUFWriter &i64(llvm::StringRef Key, int64_t V) {
    std::string S;
    gguf::putU64(S, static_cast<uint64_t>(V));
    return raw(Key, gguf::Int64, S);
  }
  GGUFWriter &f32(llvm::StringRef Key, float V) {
    std::string S;
    gguf::putF32(S, V);
    return raw(Key, gguf::Float32, S);
  }
  GGUFWriter &f64(llvm::StringRef Key, double V) {
    std::string S;
    gguf::putF64(S, V);
    return raw(Key, gguf::Float64, S);
  }
  GGUFWriter &boolean(llvm::StringRef Key, bool V) {
    return u8Raw(Key, gguf::Bool, V ? 1 : 0);
  }
  GGUFWriter &str(llvm::StringRef Key, llvm::StringRef V) {
    std::string S;
    gguf::putStr(S, V);
    return raw(Key, gguf::String, S);
  }
  GGUFWriter &strArray(llvm::StringRef Key, const std::vector<std::string> &V) {
    std::string Elems;
    for (const std::string &E : V)
      gguf::putStr(Elems, E);
    return raw(Key, gguf::Array, gguf::array(gguf::String, V.size(), Elems));
  }
  GGUFWriter &i32Array(llvm::StringRef Key, const std::vector<int32_t> &V) {
    std::string Elems;
    for (int32_t E : V)
      gguf::putU32(Elems, static_cast<uint32_t>(E));
    return raw(Key, gguf::Array, gguf::array(gguf::Int32, V.size(), Elems));
  }
  GGUFWriter &f32Array(llvm::StringRef Key, const std::vector<float> &V) {
    std::string Elems;
    for (float E : V)
      gguf::putF32(Elems, E);
    return raw(Key, gguf::Array, gguf::array(gguf::Float32, V.size(), Elems));
  }

  /// Adds a tensor at Offset, or else after the previous one, aligned.
  GGUFWriter &tensor(llvm::StringRef Name, std::vector<uint64_t> Ne,
                     uint32_t GGMLType = gguf::F32,
                     std::optional<uint64_t> Offset = std::nullopt) {
    Tensor T{Name.str(), std::move(Ne), GGMLType,
             Offset ? *Offset : llvm::alignTo(DataEnd, Alignment)};
    DataEnd = std::max(DataEnd, T.Offset + byteSize(T));
    Tensors.push_back(std::move(T));
    return *this;
  }

  /// Bytes of T's data; 0 when the type or shape is invalid.
  static uint64_t byteSize(const Tensor &T) {
    std::optional<ir::DType> Type = ir::dtypeFromGGML(T.GGMLType);
    if (!Type)
      return 0;
    uint64_t N = 1;
    for (uint64_t D : T.Ne)
      N *= D;
    llvm::Expected<uint64_t> Bytes = ir::getByteSize(*Type, N);
    if (!Bytes) {
      llvm::consumeError(Bytes.takeError());
      return 0;
    }
    return *Bytes;
  }

  /// The magic through the last tensor info.
  std::string header() const {
    std::string S = Magic;
    gguf::putU32(S, Version);
    gguf::putU64(S, TensorCount ? *TensorCount : Tensors.size());
    gguf::putU64(S, KeyValueCount ? *KeyValueCount : NumKeyValues);
    S += KeyValues;
    for (const Tensor &T : Tensors) {
      gguf::putStr(S, T.Name);
      gguf::putU32(S, static_cast<uint32_t>(T.Ne.size()));
      for (uint64_t D : T.Ne)
        gguf::putU64(S, D);
      gguf::putU32(S, T.GGMLType);
      gguf::putU64(S, T.Offset);
    }
    return S;
  }

  uint64_t dataOffset() const {
    return llvm::alignTo(header().size(), Alignment);
  }
  /// The end of the last tensor's data, relative to the data section.
  uint64_t dataSize() const { return DataEnd; }

  /// The whole file: header, padding to the alignment, zeros for the data.
  std::string file() const {
    std::string S = header();
    S.resize(dataOffset() + DataEnd, '\0');
    return S;
  }

private:
  GGUFWriter &u8Raw(llvm::StringRef Key, uint32_t Type, uint8_t V) {
    std::string S;
    gguf::putU8(S, V);
    return raw(Key, Type, S);
  }

  std::string KeyValues;
  uint64_t NumKeyValues = 0;
  uint64_t DataEnd = 0;
};

} // namespace strata::test

#endif // STRATA_TESTS_UNIT_GGUFWRITER_H
