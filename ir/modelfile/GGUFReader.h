//===- GGUFReader.h - Header and tensor table of a GGUF file ----*- C++ -*-===//
//
// Reads what a GGUF file (ggml's single-file checkpoint format, versions 2
// and 3) says about itself: its metadata key-value pairs and its tensor
// table. Weight bytes are never read, so a model of any size is inspected in
// the time it takes to read a few megabytes of header.
//
// Everything read is checked: counts and lengths against the bytes that can
// still hold them (before anything is allocated), types, shapes, alignment,
// UTF-8 names, and that every tensor's bytes lie inside the file without
// overlapping another's. Errors start with the file's path and say what is
// wrong and where. What the metadata says about a model is the importers'
// to read (ir/import/GGUFConfig.h).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_MODELFILE_GGUFREADER_H
#define STRATA_IR_MODELFILE_GGUFREADER_H

#include "ir/modelfile/TensorTable.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace strata::import {

/// One metadata value; arrays hold elements of one type, possibly nested
/// arrays.
struct GGUFValue {
  /// enum gguf_type, with the same numbering.
  enum class Type : uint32_t {
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

  Type Kind = Type::UInt8;
  /// The type of every element, when Kind is Array.
  Type ArrayElemType = Type::UInt8;
  /// Unsigned integers as uint64_t, signed ones as int64_t, floats as double
  /// (Float32 widened exactly), then bool, string and array.
  std::variant<uint64_t, int64_t, double, bool, std::string,
               std::vector<GGUFValue>>
      Data;

  /// Any integer type whose value is >= 0.
  std::optional<uint64_t> asUInt() const;
  /// Any integer type whose value fits in int64_t.
  std::optional<int64_t> asInt() const;
  /// Float32, Float64, and integers (converted, possibly rounded).
  std::optional<double> asFloat() const;
  std::optional<llvm::StringRef> asString() const;
  std::optional<bool> asBool() const;
  /// The elements of an array; null for any other type.
  const std::vector<GGUFValue> *asArray() const;
};

/// "UINT8", ..., "FLOAT64"; "unknown" for ids outside the enum.
llvm::StringRef getGGUFTypeName(GGUFValue::Type T);

struct GGUFFile {
  std::string Path;
  uint32_t Version = 0;
  uint64_t Alignment = 32;
  uint64_t DataOffset = 0; ///< Absolute offset of the data section.
  uint64_t FileSize = 0;
  uint64_t HeaderBytesRead = 0; ///< Bytes of the file the reader read.
  std::vector<std::pair<std::string, GGUFValue>> Metadata; ///< File order.
  /// Files = {Path}, FileSizes = {FileSize}, offsets absolute.
  TensorTable Tensors;

  /// The value of a metadata key; null when absent.
  const GGUFValue *find(llvm::StringRef Key) const;
};

/// Reads the header, metadata and tensor table of a GGUF file through pread
/// in bounded chunks; never reads the data section beyond the last chunk's
/// read-ahead (at most 64 KiB past the tensor table).
llvm::Expected<GGUFFile> readGGUFFile(llvm::StringRef Path);

/// The same from bytes in memory, for tests and fuzzing. Bytes may be a
/// prefix of the file; FileSize is the whole file's size.
llvm::Expected<GGUFFile> parseGGUF(llvm::StringRef Bytes, llvm::StringRef Path,
                                   uint64_t FileSize);

} // namespace strata::import

#endif // STRATA_IR_MODELFILE_GGUFREADER_H
