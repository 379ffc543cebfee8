//===- SafeTensorsReader.cpp - Tensor tables of .safetensors files --------===//

#include "ir/modelfile/SafeTensorsReader.h"

#include "ir/TensorType.h"
#include "ir/support/JSONNesting.h"
#include "ir/support/JSONParser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <map>
#include <optional>
#include <tuple>

namespace strata::import {

namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

/// Every message starts with the file it is about, as given by the caller.
static llvm::Error fileError(llvm::StringRef Path, const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 Path + ": " + Msg);
}

//===----------------------------------------------------------------------===//
// One file's header
//===----------------------------------------------------------------------===//

namespace {
struct SafeTensorsDType {
  llvm::StringLiteral Name;
  ir::DType Type;
};
} // namespace

/// The safetensors dtypes that have an exact IR type. Unsigned integers,
/// BOOL, F8_E5M2 and the sub-byte float types have none and are rejected.
static constexpr SafeTensorsDType SafeTensorsDTypes[] = {
    {"F64", ir::DType::F64},        {"F32", ir::DType::F32},
    {"F16", ir::DType::F16},        {"BF16", ir::DType::BF16},
    {"F8_E4M3", ir::DType::F8E4M3}, {"I64", ir::DType::I64},
    {"I32", ir::DType::I32},        {"I16", ir::DType::I16},
    {"I8", ir::DType::I8},
};

static std::optional<ir::DType> parseSafeTensorsDType(llvm::StringRef Name) {
  for (const SafeTensorsDType &D : SafeTensorsDTypes)
    if (D.Name == Name)
      return D.Type;
  return std::nullopt;
}

static std::string supportedDTypeList() {
  std::string List;
  for (const SafeTensorsDType &D : SafeTensorsDTypes) {
    if (!List.empty())
      List += ", ";
    List += D.Name;
  }
  return List;
}

/// Checks the declared header length N against the file before anything of
/// that size is allocated: a corrupt or foreign file (a GGUF's magic read as
/// a length) must fail here, not in the allocator.
static llvm::Error checkHeaderLength(llvm::StringRef Path, uint64_t N,
                                     uint64_t FileSize) {
  if (N > FileSize - 8)
    return fileError(Path, "header length " + llvm::Twine(N) + " exceeds the " +
                               llvm::Twine(FileSize - 8) +
                               " bytes that follow it in the file");
  if (N > MaxSafeTensorsHeaderBytes)
    return fileError(
        Path, "header length " + llvm::Twine(N) + " exceeds the limit of " +
                  llvm::Twine(MaxSafeTensorsHeaderBytes) + " bytes");
  return llvm::Error::success();
}

/// A JSON number that is a non-negative integer. Doubles are refused even
/// when integral: sizes and offsets are written as integers.
static std::optional<uint64_t> getCount(const llvm::json::Value &V) {
  if (llvm::Optional<uint64_t> N = V.getAsUINT64())
    return *N;
  return std::nullopt;
}

static std::string offsetsText(uint64_t Begin, uint64_t End) {
  return ("data_offsets [" + llvm::Twine(Begin) + ", " + llvm::Twine(End) + "]")
      .str();
}

/// Parses and checks one header entry. DataStart is 8 + N, the absolute
/// offset that data_offsets are relative to.
static llvm::Expected<TensorDesc>
parseTensorEntry(llvm::StringRef Path, llvm::StringRef Name,
                 const llvm::json::Value &Entry, uint64_t DataStart,
                 uint64_t FileSize) {
  auto EntryError = [&](const llvm::Twine &Msg) {
    return fileError(Path, "tensor '" + Name + "': " + Msg);
  };
  const llvm::json::Object *Obj = Entry.getAsObject();
  if (!Obj)
    return EntryError("must be an object with dtype, shape and data_offsets");

  std::optional<llvm::StringRef> DTypeName;
  if (const llvm::json::Value *V = Obj->get("dtype"))
    if (llvm::Optional<llvm::StringRef> S = V->getAsString())
      DTypeName = *S;
  if (!DTypeName)
    return EntryError("dtype must be a string");
  std::optional<ir::DType> Type = parseSafeTensorsDType(*DTypeName);
  if (!Type)
    return EntryError("unsupported dtype '" + *DTypeName +
                      "' (supported: " + supportedDTypeList() + ")");

  const llvm::json::Array *ShapeArr = nullptr;
  if (const llvm::json::Value *V = Obj->get("shape"))
    ShapeArr = V->getAsArray();
  if (!ShapeArr)
    return EntryError("shape must be an array of non-negative integers");
  llvm::SmallVector<int64_t, 4> Dims;
  for (const llvm::json::Value &D : *ShapeArr) {
    std::optional<uint64_t> N = getCount(D);
    // Anything above 2^63 is refused here; Shape::get bounds the rest.
    if (!N || *N > uint64_t(INT64_MAX))
      return EntryError("shape must be an array of non-negative integers");
    Dims.push_back(static_cast<int64_t>(*N));
  }
  llvm::Expected<ir::Shape> S = ir::Shape::get(Dims);
  if (!S)
    return EntryError("shape: " + llvm::toString(S.takeError()));

  const llvm::json::Array *OffsetsArr = nullptr;
  if (const llvm::json::Value *V = Obj->get("data_offsets"))
    OffsetsArr = V->getAsArray();
  std::optional<uint64_t> Begin, End;
  if (OffsetsArr && OffsetsArr->size() == 2) {
    Begin = getCount((*OffsetsArr)[0]);
    End = getCount((*OffsetsArr)[1]);
  }
  if (!Begin || !End)
    return EntryError(
        "data_offsets must be two non-negative integers [begin, end]");
  if (*End < *Begin)
    return EntryError(offsetsText(*Begin, *End) + " end before they begin");

  llvm::Expected<uint64_t> Bytes = ir::getByteSize(*Type, S->numElements());
  if (!Bytes)
    return EntryError(llvm::toString(Bytes.takeError()));
  ir::TensorType TT{*Type, *S};
  if (*End - *Begin != *Bytes)
    return EntryError(offsetsText(*Begin, *End) + " hold " +
                      llvm::Twine(*End - *Begin) + " bytes, but " + TT.str() +
                      " takes " + llvm::Twine(*Bytes));
  // DataStart <= FileSize was checked with the header length, so neither
  // side can wrap.
  if (*End > FileSize - DataStart)
    return EntryError(offsetsText(*Begin, *End) +
                      " reach past the end of the file: data starts at byte " +
                      llvm::Twine(DataStart) + " and the file has " +
                      llvm::Twine(FileSize) + " bytes");

  TensorDesc T;
  T.Name = Name.str();
  T.Type = *Type;
  T.Dims.assign(S->dims().begin(), S->dims().end());
  T.Offset = DataStart + *Begin;
  T.Bytes = *Bytes;
  return T;
}

/// Tensors sorted by offset must not share a byte. Empty tensors hold no
/// bytes and overlap nothing.
static llvm::Error checkNoOverlap(llvm::StringRef Path,
                                  llvm::ArrayRef<TensorDesc> Sorted,
                                  uint64_t DataStart) {
  const TensorDesc *Furthest = nullptr; // the tensor that ends last so far
  for (const TensorDesc &T : Sorted) {
    if (T.Bytes == 0)
      continue;
    if (Furthest && T.Offset < Furthest->Offset + Furthest->Bytes)
      return fileError(Path, "tensors '" + Furthest->Name + "' (" +
                                 offsetsText(Furthest->Offset - DataStart,
                                             Furthest->Offset +
                                                 Furthest->Bytes - DataStart) +
                                 ") and '" + T.Name + "' (" +
                                 offsetsText(T.Offset - DataStart,
                                             T.Offset + T.Bytes - DataStart) +
                                 ") overlap");
    if (!Furthest || T.Offset + T.Bytes > Furthest->Offset + Furthest->Bytes)
      Furthest = &T;
  }
  return llvm::Error::success();
}

static llvm::Error checkMetadata(llvm::StringRef Path,
                                 const llvm::json::Value &V) {
  const llvm::json::Object *Obj = V.getAsObject();
  if (!Obj)
    return fileError(Path, "__metadata__ must be an object of strings");
  for (const auto &KV : *Obj)
    if (!KV.second.getAsString())
      return fileError(Path, "__metadata__ '" + KV.first.str() +
                                 "' must be a string");
  return llvm::Error::success();
}

/// Parses every entry of the header object into Tensors (in name order).
static llvm::Error parseEntries(llvm::StringRef Path,
                                const llvm::json::Object &Obj,
                                uint64_t DataStart, uint64_t FileSize,
                                std::vector<TensorDesc> &Tensors) {
  // JSON objects are hash maps here: visit names in sorted order so that the
  // first error reported does not depend on hashing.
  std::vector<llvm::StringRef> Names;
  Names.reserve(Obj.size());
  for (const auto &KV : Obj)
    Names.push_back(KV.first);
  llvm::sort(Names);

  Tensors.reserve(Names.size());
  for (llvm::StringRef Name : Names) {
    const llvm::json::Value &V = *Obj.get(Name);
    if (Name == "__metadata__") {
      if (llvm::Error E = checkMetadata(Path, V))
        return E;
      continue;
    }
    // The JSON parser already refuses invalid UTF-8; names end up in the
    // plan and in messages, so this stays checked where it is relied on.
    if (!llvm::json::isUTF8(Name))
      return fileError(Path, "a tensor name is not valid UTF-8");
    if (Name.empty())
      return fileError(Path, "a tensor has an empty name");
    llvm::Expected<TensorDesc> T =
        parseTensorEntry(Path, Name, V, DataStart, FileSize);
    if (!T)
      return T.takeError();
    Tensors.push_back(std::move(*T));
  }
  return llvm::Error::success();
}

llvm::Expected<TensorTable> parseSafeTensorsHeader(llvm::StringRef Bytes,
                                                   llvm::StringRef Path,
                                                   uint64_t FileSize) {
  if (FileSize < 8)
    return fileError(Path, "file is too short for a safetensors header (" +
                               llvm::Twine(FileSize) +
                               " bytes; the header length alone takes 8)");
  if (Bytes.size() < 8)
    return fileError(Path, "header is truncated: it needs at least 8 bytes, "
                           "got " +
                               llvm::Twine(Bytes.size()));
  uint64_t N = llvm::support::endian::read64le(Bytes.data());
  if (llvm::Error E = checkHeaderLength(Path, N, FileSize))
    return E;
  if (Bytes.size() - 8 < N)
    return fileError(Path, "header is truncated: it needs " +
                               llvm::Twine(8 + N) + " bytes, got " +
                               llvm::Twine(Bytes.size()));
  uint64_t DataStart = 8 + N;

  if (std::optional<size_t> At =
          findJSONNestingBeyond(Bytes.substr(8, N), MaxJSONNesting))
    return fileError(Path, "invalid JSON header: arrays and objects nest "
                           "deeper than " +
                               llvm::Twine(MaxJSONNesting) +
                               " levels at byte " + llvm::Twine(8 + *At));
  llvm::Expected<llvm::json::Value> Root = parseJSON(Bytes.substr(8, N));
  if (!Root)
    return fileError(Path, "invalid JSON header: " +
                               llvm::toString(Root.takeError()));
  const llvm::json::Object *Obj = Root->getAsObject();
  if (!Obj)
    return fileError(Path, "header must be a JSON object");

  TensorTable Table;
  Table.Files.push_back(Path.str());
  Table.FileSizes.push_back(FileSize);
  if (llvm::Error E =
          parseEntries(Path, *Obj, DataStart, FileSize, Table.Tensors))
    return E;

  // File order, so that a reader streams each file front to back; empty
  // tensors may share an offset, so the name breaks ties.
  llvm::sort(Table.Tensors, [](const TensorDesc &A, const TensorDesc &B) {
    return std::tie(A.Offset, A.Bytes, A.Name) <
           std::tie(B.Offset, B.Bytes, B.Name);
  });
  if (llvm::Error E = checkNoOverlap(Path, Table.Tensors, DataStart))
    return E;
  return Table;
}

/// Reads exactly Buf.size() bytes at Offset; a short file is an error.
static llvm::Error readExactly(llvm::StringRef Path, fs::file_t FD,
                               llvm::MutableArrayRef<char> Buf,
                               uint64_t Offset) {
  size_t Done = 0;
  while (Done < Buf.size()) {
    llvm::Expected<size_t> Read =
        fs::readNativeFileSlice(FD, Buf.drop_front(Done), Offset + Done);
    if (!Read)
      return fileError(Path,
                       "cannot read: " + llvm::toString(Read.takeError()));
    if (*Read == 0)
      return fileError(Path, "unexpected end of file at byte " +
                                 llvm::Twine(Offset + Done));
    Done += *Read;
  }
  return llvm::Error::success();
}

llvm::Expected<TensorTable> readSafeTensorsFile(llvm::StringRef Path) {
  llvm::Expected<fs::file_t> FD = fs::openNativeFileForRead(Path);
  if (!FD)
    return fileError(Path, "cannot open: " + llvm::toString(FD.takeError()));
  auto Close = llvm::make_scope_exit([&] { fs::closeFile(*FD); });

  fs::file_status Status;
  if (std::error_code EC = fs::status(*FD, Status))
    return fileError(Path, "cannot stat: " + EC.message());
  if (Status.type() != fs::file_type::regular_file)
    return fileError(Path, "not a regular file");
  uint64_t FileSize = Status.getSize();
  if (FileSize < 8)
    return parseSafeTensorsHeader("", Path, FileSize);

  char LengthBytes[8];
  if (llvm::Error E = readExactly(Path, *FD, LengthBytes, 0))
    return E;
  uint64_t N = llvm::support::endian::read64le(LengthBytes);
  if (llvm::Error E = checkHeaderLength(Path, N, FileSize))
    return E;

  std::string Header(8 + N, '\0');
  if (llvm::Error E = readExactly(
          Path, *FD, llvm::MutableArrayRef<char>(Header.data(), Header.size()),
          0))
    return E;
  return parseSafeTensorsHeader(Header, Path, FileSize);
}

//===----------------------------------------------------------------------===//
// Sharded checkpoints and folders
//===----------------------------------------------------------------------===//

/// Appends a one-file table as the next file of Into.
static void appendFile(TensorTable &Into, TensorTable &&One) {
  assert(One.Files.size() == 1 && "expected a one-file table");
  unsigned Index = Into.Files.size();
  Into.Files.push_back(std::move(One.Files[0]));
  Into.FileSizes.push_back(One.FileSizes[0]);
  for (TensorDesc &T : One.Tensors) {
    T.File = Index;
    Into.Tensors.push_back(std::move(T));
  }
}

/// Reads a whole JSON file of at most MaxSafeTensorsHeaderBytes; index files
/// of the largest models are a few megabytes.
static llvm::Expected<llvm::json::Value> readJSONFile(llvm::StringRef Path) {
  uint64_t Size = 0;
  if (std::error_code EC = fs::file_size(Path, Size))
    return fileError(Path, "cannot open: " + EC.message());
  if (Size > MaxSafeTensorsHeaderBytes)
    return fileError(
        Path, "file size " + llvm::Twine(Size) + " exceeds the limit of " +
                  llvm::Twine(MaxSafeTensorsHeaderBytes) + " bytes");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buf =
      llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return fileError(Path, "cannot read: " + Buf.getError().message());
  if (std::optional<size_t> At =
          findJSONNestingBeyond((*Buf)->getBuffer(), MaxJSONNesting))
    return fileError(Path, "invalid JSON: arrays and objects nest deeper "
                           "than " +
                               llvm::Twine(MaxJSONNesting) +
                               " levels at byte " + llvm::Twine(*At));
  llvm::Expected<llvm::json::Value> V = parseJSON((*Buf)->getBuffer());
  if (!V)
    return fileError(Path, "invalid JSON: " + llvm::toString(V.takeError()));
  return V;
}

/// A shard must be a plain file name: the index must not reach outside its
/// folder.
static bool isPlainFileName(llvm::StringRef Name) {
  return !Name.empty() && Name != "." && Name != ".." &&
         path::filename(Name) == Name &&
         Name.find_first_of("/\\") == llvm::StringRef::npos;
}

/// The index's weight map, tensor -> shard, in name order so that errors are
/// reproducible.
static llvm::Expected<std::map<std::string, std::string>>
readWeightMap(llvm::StringRef IndexPath) {
  llvm::Expected<llvm::json::Value> Root = readJSONFile(IndexPath);
  if (!Root)
    return Root.takeError();
  const llvm::json::Object *Obj = Root->getAsObject();
  if (!Obj)
    return fileError(IndexPath, "must be a JSON object");
  const llvm::json::Value *MapValue = Obj->get("weight_map");
  if (!MapValue)
    return fileError(IndexPath, "missing required key 'weight_map'");
  const llvm::json::Object *Map = MapValue->getAsObject();
  if (!Map)
    return fileError(IndexPath, "weight_map must be an object mapping tensor "
                                "names to shard file names");

  std::map<std::string, const llvm::json::Value *> Sorted;
  for (const auto &KV : *Map)
    Sorted.emplace(KV.first.str(), &KV.second);
  std::map<std::string, std::string> ShardOf;
  for (const auto &[Tensor, Value] : Sorted) {
    llvm::Optional<llvm::StringRef> Shard = Value->getAsString();
    if (!Shard)
      return fileError(IndexPath, "weight_map: tensor '" + Tensor +
                                      "' must map to a shard file name");
    ShardOf.emplace(Tensor, Shard->str());
  }
  if (ShardOf.empty())
    return fileError(IndexPath, "weight_map names no tensors");
  return ShardOf;
}

llvm::Expected<TensorTable> readSafeTensorsIndex(llvm::StringRef IndexPath) {
  llvm::Expected<std::map<std::string, std::string>> Map =
      readWeightMap(IndexPath);
  if (!Map)
    return Map.takeError();
  const std::map<std::string, std::string> &ShardOf = *Map;

  // Shard -> the first tensor (by name) mapped to it, for messages.
  std::map<std::string, std::string> FirstTensorOf;
  for (const auto &[Tensor, Shard] : ShardOf)
    FirstTensorOf.emplace(Shard, Tensor);

  llvm::StringRef Dir = path::parent_path(IndexPath);
  auto ShardPath = [&](llvm::StringRef Shard) {
    llvm::SmallString<256> P(Dir);
    path::append(P, Shard);
    return std::string(P);
  };
  // Cheap checks on every shard before reading any.
  for (const auto &[Shard, Tensor] : FirstTensorOf) {
    if (!isPlainFileName(Shard))
      return fileError(IndexPath, "shard '" + Shard + "' named for tensor '" +
                                      Tensor +
                                      "' must be a file name in the index's "
                                      "folder");
    if (!fs::exists(ShardPath(Shard)))
      return fileError(IndexPath, "shard '" + Shard + "' named for tensor '" +
                                      Tensor + "' does not exist");
  }

  TensorTable Table;
  llvm::StringSet<> Found;
  for (const auto &Entry : FirstTensorOf) {
    const std::string &Shard = Entry.first;
    llvm::Expected<TensorTable> One = readSafeTensorsFile(ShardPath(Shard));
    if (!One)
      return One.takeError();
    for (const TensorDesc &T : One->Tensors) {
      auto It = ShardOf.find(T.Name);
      if (It == ShardOf.end())
        return fileError(IndexPath, "shard '" + Shard + "' holds tensor '" +
                                        T.Name +
                                        "', which the weight map does not "
                                        "name");
      if (It->second != Shard)
        return fileError(IndexPath, "shard '" + Shard + "' holds tensor '" +
                                        T.Name +
                                        "', which the weight map assigns to '" +
                                        It->second + "'");
      Found.insert(T.Name);
    }
    appendFile(Table, std::move(*One));
  }
  for (const auto &[Tensor, Shard] : ShardOf)
    if (!Found.contains(Tensor))
      return fileError(IndexPath, "tensor '" + Tensor +
                                      "' is not in its shard '" + Shard + "'");
  return Table;
}

llvm::Expected<TensorTable> readSafeTensorsFolder(llvm::StringRef Dir) {
  if (!fs::is_directory(Dir))
    return fileError(Dir, "not a directory");
  auto Join = [&](llvm::StringRef Name) {
    llvm::SmallString<256> P(Dir);
    path::append(P, Name);
    return std::string(P);
  };
  std::string Index = Join("model.safetensors.index.json");
  if (fs::exists(Index))
    return readSafeTensorsIndex(Index);
  std::string Single = Join("model.safetensors");
  if (fs::exists(Single))
    return readSafeTensorsFile(Single);

  std::vector<std::string> Names;
  std::error_code EC;
  for (fs::directory_iterator It(Dir, EC), End; It != End && !EC;
       It.increment(EC)) {
    llvm::StringRef Name = path::filename(It->path());
    // is_regular_file follows symlinks, as in Hugging Face's cache folders.
    if (Name.endswith(".safetensors") && fs::is_regular_file(It->path()))
      Names.push_back(Name.str());
  }
  if (EC)
    return fileError(Dir, "cannot list: " + EC.message());
  if (Names.empty())
    return fileError(Dir, "no model.safetensors.index.json, model.safetensors "
                          "or other *.safetensors file");
  llvm::sort(Names);

  TensorTable Table;
  llvm::StringMap<unsigned> FileOf;
  for (const std::string &Name : Names) {
    llvm::Expected<TensorTable> One = readSafeTensorsFile(Join(Name));
    if (!One)
      return One.takeError();
    for (const TensorDesc &T : One->Tensors) {
      auto [It, New] = FileOf.try_emplace(T.Name, Table.Files.size());
      if (!New)
        return fileError(Dir, "tensor '" + T.Name + "' is in both '" +
                                  path::filename(Table.Files[It->second]) +
                                  "' and '" + Name + "'");
    }
    appendFile(Table, std::move(*One));
  }
  return Table;
}

} // namespace strata::import
