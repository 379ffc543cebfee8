//===- SafeTensorsWriter.h - Write .safetensors files for tests -*- C++ -*-===//
//
// Builds .safetensors files and index JSON in memory, valid by default, with
// hooks to break them one way at a time; and a temporary folder that removes
// itself. Tests write only there, never into the source tree.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TESTS_UNIT_SAFETENSORSWRITER_H
#define STRATA_TESTS_UNIT_SAFETENSORSWRITER_H

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata::test {

/// A folder under the system's temporary directory, removed with its
/// contents when the object goes.
class TempDir {
public:
  TempDir() {
    std::error_code EC =
        llvm::sys::fs::createUniqueDirectory("strata-test", Path);
    EXPECT_FALSE(EC) << EC.message();
  }
  ~TempDir() { llvm::sys::fs::remove_directories(Path); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  llvm::StringRef path() const { return Path; }
  /// The path of Name inside the folder.
  std::string file(llvm::StringRef Name) const {
    llvm::SmallString<256> P(Path);
    llvm::sys::path::append(P, Name);
    return std::string(P);
  }
  /// Makes a subfolder and returns its path.
  std::string makeDir(llvm::StringRef Name) const {
    std::string P = file(Name);
    std::error_code EC = llvm::sys::fs::create_directories(P);
    EXPECT_FALSE(EC) << EC.message();
    return P;
  }

private:
  llvm::SmallString<128> Path;
};

/// Writes Bytes to Path, replacing the file.
inline void writeFile(llvm::StringRef Path, llvm::StringRef Bytes) {
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC);
  ASSERT_FALSE(EC) << Path.str() << ": " << EC.message();
  OS << Bytes;
}

/// A whole file: the u64 little-endian length of Header, Header, then
/// DataBytes bytes of a repeating pattern.
inline std::string makeSafeTensorsBytes(llvm::StringRef Header,
                                        uint64_t DataBytes) {
  std::string Out(8, '\0');
  llvm::support::endian::write64le(Out.data(), Header.size());
  Out += Header.str();
  for (uint64_t I = 0; I < DataBytes; ++I)
    Out.push_back(static_cast<char>(I * 7 + 1));
  return Out;
}

/// Bytes per element of a safetensors dtype; 1 for names it does not know,
/// so that invalid dtypes can still be written.
inline uint64_t safeTensorsElementBytes(llvm::StringRef DType) {
  if (DType == "F64" || DType == "I64" || DType == "U64")
    return 8;
  if (DType == "F32" || DType == "I32" || DType == "U32")
    return 4;
  if (DType == "F16" || DType == "BF16" || DType == "I16" || DType == "U16")
    return 2;
  return 1;
}

/// Lays tensors out back to back, in the order added, and writes the header
/// with entries in that order too.
class SafeTensorsBuilder {
public:
  struct Entry {
    std::string Name;
    std::string DType;
    std::vector<int64_t> Shape;
    uint64_t Begin = 0, End = 0;
  };

  /// Adds a tensor right after the previous one, sized for dtype x shape.
  SafeTensorsBuilder &add(llvm::StringRef Name, llvm::StringRef DType,
                          std::vector<int64_t> Shape) {
    uint64_t Elements = 1;
    for (int64_t D : Shape)
      Elements *= static_cast<uint64_t>(D);
    uint64_t Begin = DataEnd;
    DataEnd += Elements * safeTensorsElementBytes(DType);
    Entries.push_back(
        {Name.str(), DType.str(), std::move(Shape), Begin, DataEnd});
    return *this;
  }
  /// Adds a tensor with the offsets given, to make overlaps and bad sizes;
  /// the data region grows to cover End.
  SafeTensorsBuilder &addRaw(llvm::StringRef Name, llvm::StringRef DType,
                             std::vector<int64_t> Shape, uint64_t Begin,
                             uint64_t End) {
    Entries.push_back({Name.str(), DType.str(), std::move(Shape), Begin, End});
    DataEnd = std::max(DataEnd, End);
    return *this;
  }
  SafeTensorsBuilder &metadata(llvm::StringRef Key, llvm::StringRef Value) {
    Metadata[Key.str()] = Value.str();
    return *this;
  }

  std::string header() const {
    std::vector<std::string> Items;
    if (!Metadata.empty()) {
      std::vector<std::string> Pairs;
      for (const auto &[K, V] : Metadata)
        Pairs.push_back("\"" + K + "\":\"" + V + "\"");
      Items.push_back("\"__metadata__\":{" + llvm::join(Pairs, ",") + "}");
    }
    for (const Entry &E : Entries) {
      std::vector<std::string> Dims;
      for (int64_t D : E.Shape)
        Dims.push_back(std::to_string(D));
      Items.push_back("\"" + E.Name + "\":{\"dtype\":\"" + E.DType +
                      "\",\"shape\":[" + llvm::join(Dims, ",") +
                      "],\"data_offsets\":[" + std::to_string(E.Begin) + "," +
                      std::to_string(E.End) + "]}");
    }
    return "{" + llvm::join(Items, ",") + "}";
  }
  /// The data region's size: the end of the last tensor.
  uint64_t dataBytes() const { return DataEnd; }
  /// The whole file; DataBytes overrides the data region's size.
  std::string bytes() const { return makeSafeTensorsBytes(header(), DataEnd); }
  std::string bytes(uint64_t DataBytes) const {
    return makeSafeTensorsBytes(header(), DataBytes);
  }
  void write(llvm::StringRef Path) const { writeFile(Path, bytes()); }

private:
  std::vector<Entry> Entries;
  std::map<std::string, std::string> Metadata;
  uint64_t DataEnd = 0;
};

/// A model.safetensors.index.json for a tensor -> shard map.
inline std::string
makeIndexJSON(const std::vector<std::pair<std::string, std::string>> &Map,
              uint64_t TotalSize = 0) {
  std::string S = "{\"metadata\":{\"total_size\":" + std::to_string(TotalSize) +
                  "},\"weight_map\":{";
  for (size_t I = 0; I < Map.size(); ++I)
    S += (I ? ",\"" : "\"") + Map[I].first + "\":\"" + Map[I].second + "\"";
  return S + "}}";
}

} // namespace strata::test

#endif // STRATA_TESTS_UNIT_SAFETENSORSWRITER_H
