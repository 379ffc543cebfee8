//===- GGUFReader.cpp - Header and tensor table of a GGUF file ------------===//
//
// The layout follows ggml's gguf.cpp: magic "GGUF", u32 version, u64 tensor
// count, u64 key-value count, the key-value pairs, the tensor infos, then the
// data section at the next multiple of general.alignment. Integers are
// little-endian; strings are a u64 length and that many bytes.
//
//===----------------------------------------------------------------------===//

#include "ir/modelfile/GGUFReader.h"

#include "ir/TensorType.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <bit>
#include <limits>

namespace strata::import {

//===----------------------------------------------------------------------===//
// GGUFValue
//===----------------------------------------------------------------------===//

std::optional<uint64_t> GGUFValue::asUInt() const {
  if (const auto *U = std::get_if<uint64_t>(&Data))
    return *U;
  if (const auto *I = std::get_if<int64_t>(&Data); I && *I >= 0)
    return static_cast<uint64_t>(*I);
  return std::nullopt;
}

std::optional<int64_t> GGUFValue::asInt() const {
  if (const auto *I = std::get_if<int64_t>(&Data))
    return *I;
  if (const auto *U = std::get_if<uint64_t>(&Data);
      U && *U <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(*U);
  return std::nullopt;
}

std::optional<double> GGUFValue::asFloat() const {
  if (const auto *D = std::get_if<double>(&Data))
    return *D;
  if (const auto *U = std::get_if<uint64_t>(&Data))
    return static_cast<double>(*U);
  if (const auto *I = std::get_if<int64_t>(&Data))
    return static_cast<double>(*I);
  return std::nullopt;
}

std::optional<llvm::StringRef> GGUFValue::asString() const {
  if (const auto *S = std::get_if<std::string>(&Data))
    return llvm::StringRef(*S);
  return std::nullopt;
}

std::optional<bool> GGUFValue::asBool() const {
  if (const auto *B = std::get_if<bool>(&Data))
    return *B;
  return std::nullopt;
}

const std::vector<GGUFValue> *GGUFValue::asArray() const {
  return std::get_if<std::vector<GGUFValue>>(&Data);
}

llvm::StringRef getGGUFTypeName(GGUFValue::Type T) {
  using Type = GGUFValue::Type;
  switch (T) {
  case Type::UInt8:
    return "UINT8";
  case Type::Int8:
    return "INT8";
  case Type::UInt16:
    return "UINT16";
  case Type::Int16:
    return "INT16";
  case Type::UInt32:
    return "UINT32";
  case Type::Int32:
    return "INT32";
  case Type::Float32:
    return "FLOAT32";
  case Type::Bool:
    return "BOOL";
  case Type::String:
    return "STRING";
  case Type::Array:
    return "ARRAY";
  case Type::UInt64:
    return "UINT64";
  case Type::Int64:
    return "INT64";
  case Type::Float64:
    return "FLOAT64";
  }
  return "unknown";
}

const GGUFValue *GGUFFile::find(llvm::StringRef Key) const {
  for (const auto &KV : Metadata)
    if (KV.first == Key)
      return &KV.second;
  return nullptr;
}

namespace {

//===----------------------------------------------------------------------===//
// Limits
//===----------------------------------------------------------------------===//

// Each limit is far above any real model and is named in its error. They
// bound what a hostile file can make the reader allocate: counts are checked
// against them and against the bytes left in the file before any reserve.

/// Bytes read from a file per pread, and the read-ahead past what is needed.
constexpr uint64_t ChunkBytes = 64 << 10;
/// The header (metadata and tensor infos). Real ones are a few MiB: the
/// tokenizer's vocabulary and merges.
constexpr uint64_t MaxHeaderBytes = uint64_t(2) << 30;
constexpr uint64_t MaxStringBytes = uint64_t(1) << 30;
/// Array elements in all the metadata together; a 256K-token vocabulary with
/// scores, token types and merges is about 1M.
constexpr uint64_t MaxMetadataValues = uint64_t(1) << 23;
/// Key-value pairs; real files have a few dozen.
constexpr uint64_t MaxKeyValues = uint64_t(1) << 20;
constexpr uint64_t MaxTensors = uint64_t(1) << 20;
/// Levels of arrays within arrays.
constexpr unsigned MaxArrayDepth = 8;
/// GGML_MAX_DIMS.
constexpr uint32_t MaxTensorDims = 4;

/// The fewest bytes a key-value pair takes: key length, a one-byte key,
/// value type, a one-byte value.
constexpr uint64_t MinKeyValueBytes = 8 + 1 + 4 + 1;
/// The fewest bytes a tensor info takes: name length, a one-byte name,
/// dimension count, one dimension, type, offset.
constexpr uint64_t MinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;

llvm::Error makeError(llvm::StringRef Path, const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 Path + ": " + Msg);
}

bool isValidUTF8(llvm::StringRef S) {
  const auto *Begin = reinterpret_cast<const llvm::UTF8 *>(S.begin());
  const auto *End = reinterpret_cast<const llvm::UTF8 *>(S.end());
  return llvm::isLegalUTF8String(&Begin, End);
}

/// S with quotes, backslashes and non-printable bytes escaped, so that a
/// message never carries invalid UTF-8 or control characters.
std::string escape(llvm::StringRef S) {
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  llvm::printEscapedString(S, OS);
  return Out;
}

std::string hexBytes(llvm::StringRef S) {
  std::string Out;
  for (unsigned char C : S) {
    if (!Out.empty())
      Out += ' ';
    Out += llvm::hexdigit(C >> 4, /*LowerCase=*/true);
    Out += llvm::hexdigit(C & 15, /*LowerCase=*/true);
  }
  return Out;
}

//===----------------------------------------------------------------------===//
// ByteReader
//===----------------------------------------------------------------------===//

/// The bytes of a GGUF header, consumed in order. From a file they are read
/// through pread into a window that slides forward, so memory stays bounded
/// by the largest single item plus a chunk, and nothing past the tensor infos
/// is read but the last chunk's read-ahead.
class ByteReader {
public:
  /// Bytes in memory: a prefix of a file of FileSize bytes.
  ByteReader(llvm::StringRef Path, llvm::StringRef Bytes, uint64_t FileSize)
      : Path(Path), FileSize(FileSize), Window(Bytes.take_front(FileSize)) {}
  /// An open file of FileSize bytes, read on demand.
  ByteReader(llvm::StringRef Path, llvm::sys::fs::file_t FD, uint64_t FileSize)
      : Path(Path), FileSize(FileSize), FD(FD) {}

  uint64_t pos() const { return Pos; }
  uint64_t remaining() const { return FileSize - Pos; }
  uint64_t fileSize() const { return FileSize; }
  /// Bytes read from the file; from memory, the bytes consumed.
  uint64_t bytesRead() const { return FD ? BytesRead : Pos; }

  llvm::Error error(const llvm::Twine &Msg) const {
    return makeError(Path, Msg);
  }

  /// The next N bytes, valid until the next call. What names them in errors.
  llvm::Expected<llvm::StringRef> take(uint64_t N, const llvm::Twine &What);

  /// The next little-endian unsigned integer.
  template <typename T> llvm::Expected<T> read(const llvm::Twine &What) {
    llvm::Expected<llvm::StringRef> Bytes = take(sizeof(T), What);
    if (!Bytes)
      return Bytes.takeError();
    return llvm::support::endian::read<T, llvm::support::little,
                                       llvm::support::unaligned>(Bytes->data());
  }

private:
  /// Makes [Pos, End) available in the window.
  llvm::Error fill(uint64_t End, const llvm::Twine &What);

  llvm::StringRef Path;
  uint64_t FileSize;
  std::optional<llvm::sys::fs::file_t> FD;
  /// Bytes [WindowStart, WindowStart + Window.size()) of the file; backed by
  /// Storage when reading a file.
  llvm::StringRef Window;
  uint64_t WindowStart = 0;
  std::string Storage;
  uint64_t Pos = 0;
  uint64_t BytesRead = 0;
};

llvm::Expected<llvm::StringRef> ByteReader::take(uint64_t N,
                                                 const llvm::Twine &What) {
  if (N > remaining())
    return error("file is truncated: " + What + " needs " + llvm::Twine(N) +
                 " bytes at offset " + llvm::Twine(Pos) +
                 ", but the file ends at " + llvm::Twine(FileSize));
  uint64_t End = Pos + N;
  if (End > MaxHeaderBytes)
    return error(What + " at offset " + llvm::Twine(Pos) +
                 " ends beyond the limit of 2 GiB on the header");
  if (End > WindowStart + Window.size())
    if (llvm::Error E = fill(End, What))
      return E;
  llvm::StringRef Bytes = Window.substr(Pos - WindowStart, N);
  Pos = End;
  return Bytes;
}

llvm::Error ByteReader::fill(uint64_t End, const llvm::Twine &What) {
  if (!FD)
    return error(What + " at offset " + llvm::Twine(Pos) + " lies beyond the " +
                 llvm::Twine(Window.size()) + " bytes given");
  // Keep the unconsumed bytes and read at least a chunk more, but never past
  // the end of the file. End - Pos is bounded by the callers' checks against
  // the file size and the limits, so this allocation is too.
  uint64_t WindowEnd = WindowStart + Window.size();
  uint64_t ReadEnd = std::min(FileSize, std::max(End, Pos + ChunkBytes));
  Storage.erase(0, Pos - WindowStart);
  Storage.resize(ReadEnd - Pos);
  WindowStart = Pos;
  Window = Storage;
  for (uint64_t Off = WindowEnd; Off < ReadEnd;) {
    llvm::MutableArrayRef<char> Buf(Storage.data() + (Off - Pos),
                                    ReadEnd - Off);
    llvm::Expected<size_t> Got =
        llvm::sys::fs::readNativeFileSlice(*FD, Buf, Off);
    if (!Got)
      return error("cannot read " + llvm::Twine(Buf.size()) +
                   " bytes at offset " + llvm::Twine(Off) + ": " +
                   llvm::toString(Got.takeError()));
    if (*Got == 0)
      return error("file is truncated: it ends at offset " + llvm::Twine(Off) +
                   " while reading " + What + ", though its size was " +
                   llvm::Twine(FileSize));
    Off += *Got;
    BytesRead += *Got;
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// GGUFParser
//===----------------------------------------------------------------------===//

/// The fewest bytes one value of type T takes in the file.
uint64_t minEncodedBytes(GGUFValue::Type T) {
  using Type = GGUFValue::Type;
  switch (T) {
  case Type::UInt8:
  case Type::Int8:
  case Type::Bool:
    return 1;
  case Type::UInt16:
  case Type::Int16:
    return 2;
  case Type::UInt32:
  case Type::Int32:
  case Type::Float32:
    return 4;
  case Type::UInt64:
  case Type::Int64:
  case Type::Float64:
  case Type::String: // its length
    return 8;
  case Type::Array: // element type and count
    return 12;
  }
  llvm_unreachable("type ids are checked when read");
}

class GGUFParser {
public:
  GGUFParser(ByteReader &R, GGUFFile &F) : R(R), F(F) {}

  llvm::Error parse() {
    uint64_t NumTensors = 0, NumKeyValues = 0;
    if (llvm::Error E = readPreamble(NumTensors, NumKeyValues))
      return E;
    if (llvm::Error E = readMetadata(NumKeyValues))
      return E;
    if (llvm::Error E = readTensorInfos(NumTensors))
      return E;
    return placeTensors();
  }

private:
  llvm::Error readPreamble(uint64_t &NumTensors, uint64_t &NumKeyValues);
  llvm::Error readMetadata(uint64_t NumKeyValues);
  llvm::Error readTensorInfos(uint64_t NumTensors);
  llvm::Error placeTensors();

  llvm::Error checkAlignment(const GGUFValue &V, const llvm::Twine &Where);
  llvm::Error checkTensor(TensorDesc &T, uint32_t GGMLType,
                          llvm::ArrayRef<uint64_t> Ne, uint64_t RelOffset,
                          const llvm::Twine &Where);

  llvm::Expected<std::string> readString(const llvm::Twine &What);
  llvm::Expected<GGUFValue::Type> readType(const llvm::Twine &What);
  llvm::Expected<GGUFValue> readValue(GGUFValue::Type T, unsigned Depth,
                                      const llvm::Twine &What);
  llvm::Error readArray(GGUFValue &V, unsigned Depth, const llvm::Twine &What);

  ByteReader &R;
  GGUFFile &F;
  /// Array elements read so far, against MaxMetadataValues.
  uint64_t NumValues = 0;
};

llvm::Error GGUFParser::readPreamble(uint64_t &NumTensors,
                                     uint64_t &NumKeyValues) {
  if (R.fileSize() == 0)
    return R.error("file is empty, not a GGUF file");
  llvm::Expected<llvm::StringRef> Magic = R.take(4, "the magic");
  if (!Magic)
    return Magic.takeError();
  if (*Magic != "GGUF")
    return R.error("not a GGUF file: the magic is " + hexBytes(*Magic) +
                   ", expected 47 47 55 46 (\"GGUF\")");

  llvm::Expected<uint32_t> Version = R.read<uint32_t>("the version");
  if (!Version)
    return Version.takeError();
  F.Version = *Version;
  if (F.Version == 1)
    return R.error("GGUF version 1 is not supported");
  // A big-endian file's version reads as 0x02000000 or 0x03000000 here.
  if (F.Version != 0 && (F.Version & 0xFFFF) == 0)
    return R.error("GGUF version " + llvm::Twine(F.Version) +
                   " looks byte-swapped: big-endian files are not supported");
  if (F.Version != 2 && F.Version != 3)
    return R.error("unsupported GGUF version " + llvm::Twine(F.Version) +
                   " (supported: 2 and 3)");

  llvm::Expected<uint64_t> Tensors = R.read<uint64_t>("the tensor count");
  if (!Tensors)
    return Tensors.takeError();
  llvm::Expected<uint64_t> KeyValues = R.read<uint64_t>("the key-value count");
  if (!KeyValues)
    return KeyValues.takeError();
  NumTensors = *Tensors;
  NumKeyValues = *KeyValues;

  // Reject counts that the rest of the file cannot hold before anything is
  // allocated for them.
  if (NumKeyValues > MaxKeyValues)
    return R.error("key-value count " + llvm::Twine(NumKeyValues) +
                   " exceeds the limit of " + llvm::Twine(MaxKeyValues));
  if (NumTensors > MaxTensors)
    return R.error("tensor count " + llvm::Twine(NumTensors) +
                   " exceeds the limit of " + llvm::Twine(MaxTensors));
  uint64_t Needed = NumKeyValues * MinKeyValueBytes +
                    NumTensors * MinTensorInfoBytes; // both small: no wrap
  if (Needed > R.remaining())
    return R.error(llvm::Twine(NumKeyValues) + " key-value pairs and " +
                   llvm::Twine(NumTensors) + " tensor infos need at least " +
                   llvm::Twine(Needed) + " bytes after offset " +
                   llvm::Twine(R.pos()) + ", but the file ends at " +
                   llvm::Twine(R.fileSize()));
  return llvm::Error::success();
}

llvm::Expected<std::string> GGUFParser::readString(const llvm::Twine &What) {
  llvm::Expected<uint64_t> Length = R.read<uint64_t>(What + " length");
  if (!Length)
    return Length.takeError();
  if (*Length > MaxStringBytes)
    return R.error(What + ": string length " + llvm::Twine(*Length) +
                   " exceeds the limit of 1 GiB");
  llvm::Expected<llvm::StringRef> Bytes = R.take(*Length, What);
  if (!Bytes)
    return Bytes.takeError();
  return Bytes->str();
}

llvm::Expected<GGUFValue::Type> GGUFParser::readType(const llvm::Twine &What) {
  llvm::Expected<uint32_t> Id = R.read<uint32_t>(What);
  if (!Id)
    return Id.takeError();
  if (*Id > static_cast<uint32_t>(GGUFValue::Type::Float64))
    return R.error(What + ": unknown value type " + llvm::Twine(*Id));
  return static_cast<GGUFValue::Type>(*Id);
}

llvm::Expected<GGUFValue> GGUFParser::readValue(GGUFValue::Type T,
                                                unsigned Depth,
                                                const llvm::Twine &What) {
  using Type = GGUFValue::Type;
  GGUFValue V;
  V.Kind = T;
  // Reads an integer stored as U and keeps it widened to Wide.
  auto ReadInt = [&](auto Stored, auto Wide) -> llvm::Error {
    using U = decltype(Stored);
    llvm::Expected<std::make_unsigned_t<U>> Bits =
        R.read<std::make_unsigned_t<U>>(What);
    if (!Bits)
      return Bits.takeError();
    V.Data = static_cast<decltype(Wide)>(static_cast<U>(*Bits));
    return llvm::Error::success();
  };
  switch (T) {
  case Type::UInt8:
    if (llvm::Error E = ReadInt(uint8_t(), uint64_t()))
      return E;
    break;
  case Type::Int8:
    if (llvm::Error E = ReadInt(int8_t(), int64_t()))
      return E;
    break;
  case Type::UInt16:
    if (llvm::Error E = ReadInt(uint16_t(), uint64_t()))
      return E;
    break;
  case Type::Int16:
    if (llvm::Error E = ReadInt(int16_t(), int64_t()))
      return E;
    break;
  case Type::UInt32:
    if (llvm::Error E = ReadInt(uint32_t(), uint64_t()))
      return E;
    break;
  case Type::Int32:
    if (llvm::Error E = ReadInt(int32_t(), int64_t()))
      return E;
    break;
  case Type::UInt64:
    if (llvm::Error E = ReadInt(uint64_t(), uint64_t()))
      return E;
    break;
  case Type::Int64:
    if (llvm::Error E = ReadInt(int64_t(), int64_t()))
      return E;
    break;
  case Type::Float32: {
    llvm::Expected<uint32_t> Bits = R.read<uint32_t>(What);
    if (!Bits)
      return Bits.takeError();
    V.Data = static_cast<double>(std::bit_cast<float>(*Bits));
    break;
  }
  case Type::Float64: {
    llvm::Expected<uint64_t> Bits = R.read<uint64_t>(What);
    if (!Bits)
      return Bits.takeError();
    V.Data = std::bit_cast<double>(*Bits);
    break;
  }
  case Type::Bool: {
    llvm::Expected<uint8_t> Byte = R.read<uint8_t>(What);
    if (!Byte)
      return Byte.takeError();
    if (*Byte > 1)
      return R.error(What + ": bool value is " + llvm::Twine(unsigned(*Byte)) +
                     ", expected 0 or 1");
    V.Data = *Byte == 1;
    break;
  }
  case Type::String: {
    llvm::Expected<std::string> S = readString(What);
    if (!S)
      return S.takeError();
    V.Data = std::move(*S);
    break;
  }
  case Type::Array:
    if (llvm::Error E = readArray(V, Depth, What))
      return E;
    break;
  }
  return V;
}

llvm::Error GGUFParser::readArray(GGUFValue &V, unsigned Depth,
                                  const llvm::Twine &What) {
  llvm::Expected<GGUFValue::Type> ElemType =
      readType(What + " array element type");
  if (!ElemType)
    return ElemType.takeError();
  if (*ElemType == GGUFValue::Type::Array && Depth + 1 >= MaxArrayDepth)
    return R.error(What + ": arrays are nested more than " +
                   llvm::Twine(MaxArrayDepth) + " levels deep");
  llvm::Expected<uint64_t> Count = R.read<uint64_t>(What + " array length");
  if (!Count)
    return Count.takeError();
  uint64_t MinBytes = minEncodedBytes(*ElemType);
  if (*Count > R.remaining() / MinBytes)
    return R.error(What + ": array of " + llvm::Twine(*Count) + " " +
                   getGGUFTypeName(*ElemType) + " elements needs at least " +
                   llvm::Twine(MinBytes) + " bytes each, but only " +
                   llvm::Twine(R.remaining()) + " bytes follow offset " +
                   llvm::Twine(R.pos()));
  if (*Count > MaxMetadataValues - NumValues)
    return R.error(What + ": array of " + llvm::Twine(*Count) +
                   " elements exceeds the limit of " +
                   llvm::Twine(MaxMetadataValues) +
                   " array elements in a file");
  NumValues += *Count;

  V.ArrayElemType = *ElemType;
  std::vector<GGUFValue> Elems;
  Elems.reserve(*Count);
  for (uint64_t I = 0; I < *Count; ++I) {
    llvm::Expected<GGUFValue> Elem =
        readValue(*ElemType, Depth + 1, What + "[" + llvm::Twine(I) + "]");
    if (!Elem)
      return Elem.takeError();
    Elems.push_back(std::move(*Elem));
  }
  V.Data = std::move(Elems);
  return llvm::Error::success();
}

llvm::Error GGUFParser::checkAlignment(const GGUFValue &V,
                                       const llvm::Twine &Where) {
  // ggml reads general.alignment as a u32 only.
  if (V.Kind != GGUFValue::Type::UInt32)
    return R.error(Where + ": must be UINT32, got " + getGGUFTypeName(V.Kind));
  uint64_t Align = *V.asUInt();
  if (!llvm::isPowerOf2_64(Align))
    return R.error(Where + ": alignment must be a non-zero power of two, got " +
                   llvm::Twine(Align));
  F.Alignment = Align;
  return llvm::Error::success();
}

llvm::Error GGUFParser::readMetadata(uint64_t NumKeyValues) {
  llvm::StringSet<> Keys;
  F.Metadata.reserve(NumKeyValues);
  for (uint64_t I = 0; I < NumKeyValues; ++I) {
    llvm::Expected<std::string> Key =
        readString("metadata key " + llvm::Twine(I));
    if (!Key)
      return Key.takeError();
    if (!isValidUTF8(*Key))
      return R.error("metadata key " + llvm::Twine(I) + ": key \"" +
                     escape(*Key) + "\" is not valid UTF-8");
    if (!Keys.insert(*Key).second)
      return R.error("metadata key " + llvm::Twine(I) + ": duplicate key '" +
                     *Key + "'");
    llvm::Expected<GGUFValue::Type> Type = readType(
        "metadata key " + llvm::Twine(I) + " '" + *Key + "' value type");
    if (!Type)
      return Type.takeError();
    llvm::Expected<GGUFValue> Value = readValue(
        *Type, 0, "metadata key " + llvm::Twine(I) + " '" + *Key + "'");
    if (!Value)
      return Value.takeError();
    if (*Key == "general.alignment")
      if (llvm::Error E = checkAlignment(
              *Value, "metadata key " + llvm::Twine(I) + " '" + *Key + "'"))
        return E;
    F.Metadata.emplace_back(std::move(*Key), std::move(*Value));
  }
  return llvm::Error::success();
}

llvm::Error GGUFParser::checkTensor(TensorDesc &T, uint32_t GGMLType,
                                    llvm::ArrayRef<uint64_t> Ne,
                                    uint64_t RelOffset,
                                    const llvm::Twine &Where) {
  std::optional<ir::DType> Type = ir::dtypeFromGGML(GGMLType);
  if (!Type)
    return R.error(Where + ": unknown ggml type " + llvm::Twine(GGMLType));
  T.Type = *Type;

  for (size_t J = 0; J < Ne.size(); ++J) {
    if (Ne[J] == 0)
      return R.error(Where + ": ne[" + llvm::Twine(J) + "] is 0");
    if (Ne[J] > static_cast<uint64_t>(ir::Shape::MaxDim))
      return R.error(Where + ": ne[" + llvm::Twine(J) + "] = " +
                     llvm::Twine(Ne[J]) + " exceeds the limit of 2^40");
  }
  // ne[0] varies fastest; TensorDesc::Dims are slowest first.
  for (uint64_t D : llvm::reverse(Ne))
    T.Dims.push_back(static_cast<int64_t>(D));
  llvm::Expected<ir::Shape> Shape = ir::Shape::get(T.Dims);
  if (!Shape)
    return R.error(Where + ": " + llvm::toString(Shape.takeError()));

  const ir::DTypeInfo &Info = ir::getDTypeInfo(*Type);
  if (Ne[0] % Info.BlockElems != 0)
    return R.error(Where + ": ne[0] = " + llvm::Twine(Ne[0]) +
                   " is not a multiple of " + Info.Name + "'s block size " +
                   llvm::Twine(Info.BlockElems));
  llvm::Expected<uint64_t> Bytes = ir::getByteSize(*Type, Shape->numElements());
  if (!Bytes)
    return R.error(Where + ": " + llvm::toString(Bytes.takeError()));
  T.Bytes = *Bytes;

  if (RelOffset % F.Alignment != 0)
    return R.error(Where + ": offset " + llvm::Twine(RelOffset) +
                   " is not a multiple of the alignment " +
                   llvm::Twine(F.Alignment));
  T.Offset = RelOffset; // made absolute in placeTensors
  return llvm::Error::success();
}

llvm::Error GGUFParser::readTensorInfos(uint64_t NumTensors) {
  std::vector<TensorDesc> &Tensors = F.Tensors.Tensors;
  Tensors.reserve(NumTensors);
  llvm::StringMap<uint64_t> Seen;
  for (uint64_t I = 0; I < NumTensors; ++I) {
    TensorDesc T;
    llvm::Expected<std::string> Name =
        readString("tensor " + llvm::Twine(I) + " name");
    if (!Name)
      return Name.takeError();
    if (!isValidUTF8(*Name))
      return R.error("tensor " + llvm::Twine(I) + ": name \"" + escape(*Name) +
                     "\" is not valid UTF-8");
    if (Name->empty())
      return R.error("tensor " + llvm::Twine(I) + ": empty name");
    T.Name = std::move(*Name);
    std::string Where =
        ("tensor " + llvm::Twine(I) + " '" + T.Name + "'").str();
    auto [It, Inserted] = Seen.try_emplace(T.Name, I);
    if (!Inserted)
      return R.error(Where + ": duplicate name (also tensor " +
                     llvm::Twine(It->second) + ")");

    llvm::Expected<uint32_t> NDims =
        R.read<uint32_t>(Where + " dimension count");
    if (!NDims)
      return NDims.takeError();
    if (*NDims == 0 || *NDims > MaxTensorDims)
      return R.error(Where + ": dimension count " + llvm::Twine(*NDims) +
                     " is not in 1.." + llvm::Twine(MaxTensorDims));
    uint64_t Ne[MaxTensorDims];
    for (uint32_t J = 0; J < *NDims; ++J) {
      llvm::Expected<uint64_t> D =
          R.read<uint64_t>(Where + " ne[" + llvm::Twine(J) + "]");
      if (!D)
        return D.takeError();
      Ne[J] = *D;
    }
    llvm::Expected<uint32_t> Type = R.read<uint32_t>(Where + " type");
    if (!Type)
      return Type.takeError();
    llvm::Expected<uint64_t> Offset = R.read<uint64_t>(Where + " offset");
    if (!Offset)
      return Offset.takeError();
    if (llvm::Error E = checkTensor(T, *Type, llvm::makeArrayRef(Ne, *NDims),
                                    *Offset, Where))
      return E;
    Tensors.push_back(std::move(T));
  }
  return llvm::Error::success();
}

llvm::Error GGUFParser::placeTensors() {
  // The header is below MaxHeaderBytes, so this cannot wrap.
  F.DataOffset = llvm::alignTo(R.pos(), F.Alignment);
  std::vector<TensorDesc> &Tensors = F.Tensors.Tensors;
  for (size_t I = 0; I < Tensors.size(); ++I) {
    TensorDesc &T = Tensors[I];
    bool StartOverflow = false, EndOverflow = false;
    uint64_t Start =
        llvm::SaturatingAdd<uint64_t>(F.DataOffset, T.Offset, &StartOverflow);
    uint64_t End = llvm::SaturatingAdd<uint64_t>(Start, T.Bytes, &EndOverflow);
    if (StartOverflow || EndOverflow)
      return R.error("tensor " + llvm::Twine(I) + " '" + T.Name + "': offset " +
                     llvm::Twine(T.Offset) + " plus " + llvm::Twine(T.Bytes) +
                     " bytes overflows 64 bits");
    if (End > F.FileSize)
      return R.error("tensor " + llvm::Twine(I) + " '" + T.Name + "': data [" +
                     llvm::Twine(Start) + ", " + llvm::Twine(End) +
                     ") runs past the end of the file (size " +
                     llvm::Twine(F.FileSize) + ")");
    T.Offset = Start;
  }

  // Sorted by start, two ranges overlap only if some neighbours do. Ties
  // are broken by index so the pair reported does not depend on the sort.
  std::vector<size_t> Order(Tensors.size());
  for (size_t I = 0; I < Order.size(); ++I)
    Order[I] = I;
  llvm::sort(Order, [&](size_t A, size_t B) {
    return std::make_pair(Tensors[A].Offset, A) <
           std::make_pair(Tensors[B].Offset, B);
  });
  for (size_t K = 1; K < Order.size(); ++K) {
    const TensorDesc &Prev = Tensors[Order[K - 1]];
    const TensorDesc &Next = Tensors[Order[K]];
    if (Next.Offset < Prev.Offset + Prev.Bytes)
      return R.error("tensors " + llvm::Twine(Order[K - 1]) + " '" + Prev.Name +
                     "' [" + llvm::Twine(Prev.Offset) + ", " +
                     llvm::Twine(Prev.Offset + Prev.Bytes) + ") and " +
                     llvm::Twine(Order[K]) + " '" + Next.Name + "' [" +
                     llvm::Twine(Next.Offset) + ", " +
                     llvm::Twine(Next.Offset + Next.Bytes) + ") overlap");
  }
  return llvm::Error::success();
}

llvm::Expected<GGUFFile> parseWith(ByteReader &R, llvm::StringRef Path) {
  GGUFFile F;
  F.Path = Path.str();
  F.FileSize = R.fileSize();
  F.Tensors.Files = {F.Path};
  F.Tensors.FileSizes = {F.FileSize};
  if (llvm::Error E = GGUFParser(R, F).parse())
    return E;
  F.HeaderBytesRead = R.bytesRead();
  return F;
}

} // namespace

llvm::Expected<GGUFFile> parseGGUF(llvm::StringRef Bytes, llvm::StringRef Path,
                                   uint64_t FileSize) {
  ByteReader R(Path, Bytes, FileSize);
  return parseWith(R, Path);
}

llvm::Expected<GGUFFile> readGGUFFile(llvm::StringRef Path) {
  llvm::Expected<llvm::sys::fs::file_t> FD =
      llvm::sys::fs::openNativeFileForRead(Path);
  if (!FD)
    return makeError(Path, "cannot open: " + llvm::toString(FD.takeError()));
  auto Close = llvm::make_scope_exit([&] { llvm::sys::fs::closeFile(*FD); });
  llvm::sys::fs::file_status Status;
  if (std::error_code EC = llvm::sys::fs::status(*FD, Status))
    return makeError(Path, "cannot stat: " + EC.message());
  if (Status.type() == llvm::sys::fs::file_type::directory_file)
    return makeError(Path, "is a directory, not a GGUF file");
  ByteReader R(Path, *FD, Status.getSize());
  return parseWith(R, Path);
}

} // namespace strata::import
