//===- GGUFReaderTest.cpp - GGUF header and tensor table ------------------===//

#include "ir/modelfile/GGUFReader.h"
#include "ir/import/GGUFConfig.h"

#include "GGUFWriter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <random>
#include <unistd.h>

using namespace strata;
using namespace strata::import;
using strata::test::GGUFWriter;
namespace gguf = strata::test::gguf;

namespace {

/// The error message, or "success".
std::string errorOf(llvm::Expected<GGUFFile> R) {
  if (R)
    return "success";
  return llvm::toString(R.takeError());
}

std::string parseError(const std::string &Bytes) {
  return errorOf(parseGGUF(Bytes, "t.gguf", Bytes.size()));
}

GGUFFile parseOk(const std::string &Bytes, llvm::StringRef Path = "t.gguf") {
  llvm::Expected<GGUFFile> F = parseGGUF(Bytes, Path, Bytes.size());
  if (!F) {
    ADD_FAILURE() << llvm::toString(F.takeError());
    return GGUFFile();
  }
  return std::move(*F);
}

/// A small llama with metadata of several types, an aligned and a quantized
/// tensor.
GGUFWriter smallLlama(uint32_t Version = 3) {
  GGUFWriter W(Version);
  W.str("general.architecture", "llama")
      .str("general.name", "tiny")
      .u32("llama.context_length", 128)
      .u32("llama.embedding_length", 32)
      .u32("llama.block_count", 1)
      .u32("llama.feed_forward_length", 64)
      .u32("llama.attention.head_count", 4)
      .u32("llama.attention.head_count_kv", 2)
      .f32("llama.attention.layer_norm_rms_epsilon", 1e-6f)
      .f32("llama.rope.freq_base", 500000.0f)
      .strArray("tokenizer.ggml.tokens", {"<unk>", "a", "b", "c"})
      .f32Array("tokenizer.ggml.scores", {0, -1, -2, -3});
  W.tensor("token_embd.weight", {32, 4})
      .tensor("blk.0.attn_q.weight", {32, 32}, gguf::Q4_0)
      .tensor("output_norm.weight", {32});
  return W;
}

/// A temporary file removed at the end of the scope.
struct TempFile {
  llvm::SmallString<128> Path;
  explicit TempFile(const std::string &Bytes) {
    int FD = -1;
    if (llvm::sys::fs::createTemporaryFile("gguf-test", "gguf", FD, Path)) {
      ADD_FAILURE() << "cannot create a temporary file";
      return;
    }
    llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << Bytes;
  }
  ~TempFile() { llvm::sys::fs::remove(Path); }
};

} // namespace

//===----------------------------------------------------------------------===//
// Valid files
//===----------------------------------------------------------------------===//

TEST(GGUFReader, ReadsMetadataAndTensorsOfV2AndV3) {
  for (uint32_t Version : {2u, 3u}) {
    GGUFWriter W = smallLlama(Version);
    std::string Bytes = W.file();
    GGUFFile F = parseOk(Bytes);
    EXPECT_EQ(F.Version, Version);
    EXPECT_EQ(F.Path, "t.gguf");
    EXPECT_EQ(F.Alignment, 32u);
    EXPECT_EQ(F.FileSize, Bytes.size());
    EXPECT_EQ(F.DataOffset, W.dataOffset());
    EXPECT_EQ(F.DataOffset % 32, 0u);
    EXPECT_EQ(F.HeaderBytesRead, W.header().size());
    ASSERT_EQ(F.Metadata.size(), 12u);
    EXPECT_EQ(F.Metadata[0].first, "general.architecture");
    EXPECT_EQ(F.Metadata[11].first, "tokenizer.ggml.scores");
    EXPECT_EQ(*F.find("general.name")->asString(), "tiny");
    EXPECT_EQ(*F.find("llama.block_count")->asUInt(), 1u);
    EXPECT_EQ(F.find("llama.block_count")->Kind, GGUFValue::Type::UInt32);
    EXPECT_FLOAT_EQ(
        *F.find("llama.attention.layer_norm_rms_epsilon")->asFloat(), 1e-6f);
    EXPECT_EQ(F.find("missing"), nullptr);
    const GGUFValue *Tokens = F.find("tokenizer.ggml.tokens");
    ASSERT_TRUE(Tokens && Tokens->asArray());
    EXPECT_EQ(Tokens->ArrayElemType, GGUFValue::Type::String);
    ASSERT_EQ(Tokens->asArray()->size(), 4u);
    EXPECT_EQ(*(*Tokens->asArray())[3].asString(), "c");

    const TensorTable &T = F.Tensors;
    ASSERT_EQ(T.Files, std::vector<std::string>{"t.gguf"});
    ASSERT_EQ(T.FileSizes, std::vector<uint64_t>{Bytes.size()});
    ASSERT_EQ(T.Tensors.size(), 3u);
    // ne is reversed into slowest-first dims.
    EXPECT_EQ(T.Tensors[0].Name, "token_embd.weight");
    EXPECT_EQ(T.Tensors[0].Dims, (llvm::SmallVector<int64_t, 4>{4, 32}));
    EXPECT_EQ(T.Tensors[0].Type, ir::DType::F32);
    EXPECT_EQ(T.Tensors[0].Offset, F.DataOffset);
    EXPECT_EQ(T.Tensors[0].Bytes, 4u * 32 * 4);
    EXPECT_EQ(T.Tensors[1].Type, ir::DType::Q4_0);
    EXPECT_EQ(T.Tensors[1].Offset, F.DataOffset + 512);
    EXPECT_EQ(T.Tensors[1].Bytes, 32u * 18);
    EXPECT_EQ(T.Tensors[2].Dims, (llvm::SmallVector<int64_t, 4>{32}));
    EXPECT_EQ(T.Tensors[2].Offset, F.DataOffset + 512 + 576);
    for (const TensorDesc &D : T.Tensors)
      EXPECT_EQ(D.File, 0u);
  }
}

TEST(GGUFReader, EveryValueType) {
  GGUFWriter W;
  std::string Nested =
      gguf::array(gguf::Array, 2,
                  gguf::array(gguf::Int8, 1, std::string(1, '\xff')) +
                      gguf::array(gguf::Int8, 0, ""));
  W.u8("u8", 200)
      .i8("i8", -5)
      .u16("u16", 60000)
      .i16("i16", -300)
      .u32("u32", 4000000000u)
      .i32("i32", -7)
      .f32("f32", 0.5f)
      .boolean("bool", true)
      .str("str", "h\xc3\xa9")
      .raw("nested", gguf::Array, Nested)
      .u64("u64", ~uint64_t(0))
      .i64("i64", INT64_MIN)
      .f64("f64", 0.1);
  GGUFFile F = parseOk(W.file());
  using Type = GGUFValue::Type;
  ASSERT_EQ(F.Metadata.size(), 13u);
  for (size_t I = 0; I < F.Metadata.size(); ++I)
    EXPECT_EQ(static_cast<size_t>(F.Metadata[I].second.Kind), I)
        << F.Metadata[I].first;

  EXPECT_EQ(*F.find("u8")->asUInt(), 200u);
  EXPECT_EQ(*F.find("i8")->asInt(), -5);
  EXPECT_FALSE(F.find("i8")->asUInt());
  EXPECT_EQ(*F.find("u16")->asInt(), 60000);
  EXPECT_EQ(*F.find("i16")->asInt(), -300);
  EXPECT_EQ(*F.find("u32")->asUInt(), 4000000000u);
  EXPECT_EQ(*F.find("i32")->asFloat(), -7.0);
  EXPECT_EQ(*F.find("f32")->asFloat(), 0.5);
  EXPECT_FALSE(F.find("f32")->asInt());
  EXPECT_EQ(*F.find("bool")->asBool(), true);
  EXPECT_FALSE(F.find("bool")->asUInt());
  EXPECT_FALSE(F.find("u8")->asBool());
  EXPECT_EQ(*F.find("str")->asString(), "h\xc3\xa9");
  EXPECT_FALSE(F.find("str")->asInt());
  EXPECT_EQ(F.find("str")->asArray(), nullptr);
  EXPECT_EQ(*F.find("u64")->asUInt(), ~uint64_t(0));
  EXPECT_FALSE(F.find("u64")->asInt()); // does not fit
  EXPECT_EQ(*F.find("i64")->asInt(), INT64_MIN);
  EXPECT_EQ(*F.find("f64")->asFloat(), 0.1);

  const GGUFValue *N = F.find("nested");
  EXPECT_EQ(N->ArrayElemType, Type::Array);
  ASSERT_EQ(N->asArray()->size(), 2u);
  const GGUFValue &Inner = (*N->asArray())[0];
  EXPECT_EQ(Inner.ArrayElemType, Type::Int8);
  ASSERT_EQ(Inner.asArray()->size(), 1u);
  EXPECT_EQ(*(*Inner.asArray())[0].asInt(), -1);
  EXPECT_TRUE((*N->asArray())[1].asArray()->empty());
  EXPECT_EQ(getGGUFTypeName(Type::Float64), "FLOAT64");
}

TEST(GGUFReader, HonoursGeneralAlignment) {
  GGUFWriter W;
  W.Alignment = 64;
  W.u32("general.alignment", 64);
  W.tensor("a", {3}).tensor("b", {5});
  GGUFFile F = parseOk(W.file());
  EXPECT_EQ(F.Alignment, 64u);
  EXPECT_EQ(F.DataOffset % 64, 0u);
  EXPECT_EQ(F.Tensors.Tensors[1].Offset, F.DataOffset + 64);
}

TEST(GGUFReader, AcceptsMultibyteUTF8Names) {
  GGUFWriter W;
  W.u8("général.clé", 1);
  W.tensor("blk.0.\xe6\x9d\x83\xe9\x87\x8d", {4});
  GGUFFile F = parseOk(W.file());
  EXPECT_EQ(F.Metadata[0].first, "général.clé");
  EXPECT_EQ(F.Tensors.Tensors[0].Name, "blk.0.\xe6\x9d\x83\xe9\x87\x8d");
}

TEST(GGUFReader, NoTensorsAndNoMetadata) {
  GGUFWriter W;
  GGUFFile F = parseOk(W.file());
  EXPECT_TRUE(F.Metadata.empty());
  EXPECT_TRUE(F.Tensors.Tensors.empty());
  EXPECT_EQ(F.DataOffset, 32u);
}

TEST(GGUFReader, BytesMayBeAPrefixOfTheFile) {
  GGUFWriter W = smallLlama();
  std::string Header = W.header();
  std::string File = W.file();
  llvm::Expected<GGUFFile> F = parseGGUF(Header, "t.gguf", File.size());
  ASSERT_TRUE(bool(F)) << llvm::toString(F.takeError());
  EXPECT_EQ(F->Tensors.Tensors.size(), 3u);
  EXPECT_EQ(F->FileSize, File.size());

  // A prefix that ends inside the header is not enough.
  EXPECT_EQ(errorOf(parseGGUF(Header.substr(0, 30), "t.gguf", File.size())),
            "t.gguf: metadata key 0 length at offset 24 lies beyond the 30 "
            "bytes given");
}

//===----------------------------------------------------------------------===//
// Reading files
//===----------------------------------------------------------------------===//

TEST(GGUFReader, FileReadMatchesParseAcrossChunks) {
  // A header of several 64 KiB chunks, with one string larger than a chunk,
  // so that the read window slides and grows.
  GGUFWriter W = smallLlama();
  std::vector<std::string> Tokens;
  for (int I = 0; I < 20000; ++I)
    Tokens.push_back("token" + std::to_string(I));
  W.strArray("tokens", Tokens);
  W.str("big", std::string(100000, 'x'));
  W.tensor("last", {8});
  std::string Bytes = W.file();
  ASSERT_GT(W.header().size(), 3u * 65536);
  TempFile File(Bytes);

  llvm::Expected<GGUFFile> FromFile = readGGUFFile(File.Path);
  ASSERT_TRUE(bool(FromFile)) << llvm::toString(FromFile.takeError());
  GGUFFile FromMemory = parseOk(Bytes, File.Path);
  EXPECT_EQ(FromFile->Path, File.Path.str());
  EXPECT_EQ(FromFile->DataOffset, FromMemory.DataOffset);
  EXPECT_EQ(FromFile->FileSize, Bytes.size());
  ASSERT_EQ(FromFile->Metadata.size(), FromMemory.Metadata.size());
  const GGUFValue *T = FromFile->find("tokens");
  ASSERT_TRUE(T && T->asArray());
  ASSERT_EQ(T->asArray()->size(), 20000u);
  EXPECT_EQ(*(*T->asArray())[19999].asString(), "token19999");
  EXPECT_EQ(FromFile->find("big")->asString()->size(), 100000u);
  ASSERT_EQ(FromFile->Tensors.Tensors.size(), 4u);
  for (size_t I = 0; I < 4; ++I) {
    EXPECT_EQ(FromFile->Tensors.Tensors[I].Name,
              FromMemory.Tensors.Tensors[I].Name);
    EXPECT_EQ(FromFile->Tensors.Tensors[I].Offset,
              FromMemory.Tensors.Tensors[I].Offset);
  }
  // At most one chunk of read-ahead past the tensor infos.
  EXPECT_GE(FromFile->HeaderBytesRead, W.header().size());
  EXPECT_LE(FromFile->HeaderBytesRead, W.header().size() + 65536);
}

TEST(GGUFReader, SparseHugeFileReadsOnlyTheHeader) {
  // A 64 GiB file whose data section is a hole: no disk space, and the
  // reader must not touch it.
  const uint64_t GiB = uint64_t(1) << 30;
  GGUFWriter W = smallLlama();
  W.tensor("huge", {1024, 1024, 64}, gguf::F32, 60 * GiB); // 256 MiB
  std::string Header = W.header();
  TempFile File(Header);
  uint64_t Size = W.dataOffset() + 64 * GiB;
  if (::truncate(File.Path.c_str(), static_cast<off_t>(Size)) != 0)
    GTEST_SKIP() << "the file system cannot hold a 64 GiB sparse file";

  llvm::Expected<GGUFFile> F = readGGUFFile(File.Path);
  ASSERT_TRUE(bool(F)) << llvm::toString(F.takeError());
  EXPECT_EQ(F->FileSize, Size);
  ASSERT_EQ(F->Tensors.Tensors.size(), 4u);
  EXPECT_EQ(F->Tensors.Tensors[3].Offset, F->DataOffset + 60 * GiB);
  EXPECT_EQ(F->Tensors.Tensors[3].Bytes, 256u << 20);
  EXPECT_LT(F->HeaderBytesRead, uint64_t(1) << 20);
  EXPECT_GE(F->HeaderBytesRead, Header.size());
}

TEST(GGUFReader, FileErrorsNameThePath) {
  llvm::SmallString<128> Dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("gguf-test", Dir));
  std::string Missing = (Dir + "/missing.gguf").str();
  std::string E = errorOf(readGGUFFile(Missing));
  EXPECT_EQ(E.rfind(Missing + ": cannot open: ", 0), 0u) << E;
  EXPECT_EQ(errorOf(readGGUFFile(Dir)),
            Dir.str().str() + ": is a directory, not a GGUF file");
  llvm::sys::fs::remove(Dir);

  TempFile Short(smallLlama().header());
  E = errorOf(readGGUFFile(Short.Path));
  EXPECT_EQ(
      E.rfind(Short.Path.str().str() + ": tensor 0 'token_embd.weight'", 0), 0u)
      << E;
}

//===----------------------------------------------------------------------===//
// The bundled stories260K model
//===----------------------------------------------------------------------===//

TEST(GGUFReader, Stories260K) {
  std::string Path = STRATA_SHARED_DIR "/models/stories260K.gguf";
  llvm::Expected<GGUFFile> F = readGGUFFile(Path);
  ASSERT_TRUE(bool(F)) << llvm::toString(F.takeError());
  EXPECT_EQ(F->Version, 3u);
  EXPECT_EQ(F->FileSize, 1185376u);
  EXPECT_EQ(F->Alignment, 32u);
  EXPECT_EQ(F->DataOffset, 14176u); // tensor infos end at 14152
  EXPECT_LE(F->HeaderBytesRead, 14152u + 65536);
  ASSERT_EQ(F->Metadata.size(), 19u);
  EXPECT_EQ(*F->find("general.architecture")->asString(), "llama");
  EXPECT_EQ(F->find("tokenizer.ggml.tokens")->asArray()->size(), 512u);
  EXPECT_EQ(*(*F->find("tokenizer.ggml.tokens")->asArray())[1].asString(),
            "<s>");
  EXPECT_EQ(*F->find("tokenizer.ggml.padding_token_id")->asUInt(), 4294967295u);

  std::vector<std::string> Names = {"token_embd.weight", "output_norm.weight",
                                    "output.weight"};
  for (int L = 0; L < 5; ++L)
    for (const char *Suffix :
         {"attn_q", "attn_k", "attn_v", "attn_output", "attn_norm", "ffn_gate",
          "ffn_down", "ffn_up", "ffn_norm"})
      Names.push_back("blk." + std::to_string(L) + "." + Suffix + ".weight");
  const std::vector<TensorDesc> &T = F->Tensors.Tensors;
  ASSERT_EQ(T.size(), 48u);
  uint64_t Elements = 0;
  for (size_t I = 0; I < T.size(); ++I) {
    EXPECT_EQ(T[I].Name, Names[I]);
    EXPECT_EQ(T[I].Type, ir::DType::F32);
    uint64_t N = 1;
    for (int64_t D : T[I].Dims)
      N *= D;
    EXPECT_EQ(T[I].Bytes, N * 4);
    Elements += N;
  }
  EXPECT_EQ(Elements, 292800u);
  EXPECT_EQ(T[0].Dims, (llvm::SmallVector<int64_t, 4>{512, 64}));
  EXPECT_EQ(T[0].Offset, 14176u);
  EXPECT_EQ(T[2].Dims, (llvm::SmallVector<int64_t, 4>{512, 64}));
  EXPECT_EQ(T[4].Name, "blk.0.attn_k.weight");
  EXPECT_EQ(T[4].Dims, (llvm::SmallVector<int64_t, 4>{32, 64}));
  EXPECT_EQ(T[9].Name, "blk.0.ffn_down.weight");
  EXPECT_EQ(T[9].Dims, (llvm::SmallVector<int64_t, 4>{64, 172}));
  EXPECT_EQ(T.back().Offset + T.back().Bytes, F->FileSize);

  llvm::Expected<ModelConfig> C = modelConfigFromGGUF(*F);
  ASSERT_TRUE(bool(C)) << llvm::toString(C.takeError());
  EXPECT_EQ(C->Name, "llama");
  EXPECT_EQ(C->Arch, Architecture::Llama);
  EXPECT_EQ(C->Naming, NamingScheme::GGUF);
  EXPECT_EQ(C->Vocab, 512);
  EXPECT_EQ(C->Hidden, 64);
  EXPECT_EQ(C->FFN, 172);
  EXPECT_EQ(C->Layers, 5);
  EXPECT_EQ(C->Heads, 8);
  EXPECT_EQ(C->KVHeads, 4);
  EXPECT_EQ(C->HeadDim, 8);
  EXPECT_EQ(C->MaxContext, 2048);
  EXPECT_FLOAT_EQ(static_cast<float>(C->RMSNormEps), 1e-5f);
  EXPECT_EQ(C->RopeTheta, 10000.0);
  EXPECT_EQ(C->Scaling.Type, RopeScaling::Kind::None);
  EXPECT_FALSE(C->RopeNeoX);
  EXPECT_FALSE(C->TiedEmbeddings); // the file has its own output.weight
  EXPECT_FALSE(C->QKVBias);
  EXPECT_EQ(C->WeightType, ir::DType::F32);
  EXPECT_FALSE(C->MoE);
  EXPECT_FALSE(C->MLA);
}

//===----------------------------------------------------------------------===//
// Bad input
//===----------------------------------------------------------------------===//

TEST(GGUFReader, EveryTruncationIsAnError) {
  GGUFWriter W = smallLlama();
  std::string File = W.file();
  size_t HeaderSize = W.header().size();
  for (size_t N = 0; N < File.size(); ++N) {
    std::string E = parseError(File.substr(0, N));
    ASSERT_EQ(E.rfind("t.gguf: ", 0), 0u) << N << ": " << E;
    if (N == 0)
      EXPECT_EQ(E, "t.gguf: file is empty, not a GGUF file");
    else if (N < HeaderSize)
      EXPECT_TRUE(E.find("file is truncated: ") != std::string::npos ||
                  E.find(" at least ") != std::string::npos)
          << N << ": " << E;
    else
      EXPECT_NE(E.find("runs past the end of the file (size " +
                       std::to_string(N) + ")"),
                std::string::npos)
          << N << ": " << E;
  }
  EXPECT_EQ(parseError(File.substr(0, 2)),
            "t.gguf: file is truncated: the magic needs 4 bytes at offset 0, "
            "but the file ends at 2");
  EXPECT_EQ(parseError(File.substr(0, 20)),
            "t.gguf: file is truncated: the key-value count needs 8 bytes at "
            "offset 16, but the file ends at 20");
  EXPECT_EQ(parseError(File.substr(0, 300)),
            "t.gguf: file is truncated: metadata key 7 length needs 8 bytes "
            "at offset 295, but the file ends at 300");
  EXPECT_EQ(parseError(File.substr(0, 40)),
            "t.gguf: 12 key-value pairs and 3 tensor infos need at least 267 "
            "bytes after offset 24, but the file ends at 40");
  EXPECT_EQ(parseError(File.substr(0, HeaderSize - 3)),
            "t.gguf: file is truncated: tensor 2 'output_norm.weight' offset "
            "needs 8 bytes at offset " +
                std::to_string(HeaderSize - 8) + ", but the file ends at " +
                std::to_string(HeaderSize - 3));
  EXPECT_EQ(parseError(File), "success");
}

TEST(GGUFReader, WrongMagic) {
  GGUFWriter W;
  W.Magic = "GGUX";
  EXPECT_EQ(parseError(W.file()), "t.gguf: not a GGUF file: the magic is 47 "
                                  "47 55 58, expected 47 47 55 46 (\"GGUF\")");
  EXPECT_EQ(parseError("\x7f"
                       "ELF" +
                       std::string(60, '\0')),
            "t.gguf: not a GGUF file: the magic is 7f 45 4c 46, expected 47 "
            "47 55 46 (\"GGUF\")");
}

TEST(GGUFReader, UnsupportedVersions) {
  auto ErrorFor = [](uint32_t V) {
    GGUFWriter W(V);
    return parseError(W.file());
  };
  EXPECT_EQ(ErrorFor(1), "t.gguf: GGUF version 1 is not supported");
  EXPECT_EQ(ErrorFor(0),
            "t.gguf: unsupported GGUF version 0 (supported: 2 and 3)");
  EXPECT_EQ(ErrorFor(4),
            "t.gguf: unsupported GGUF version 4 (supported: 2 and 3)");
  EXPECT_EQ(ErrorFor(0x03000000),
            "t.gguf: GGUF version 50331648 looks byte-swapped: big-endian "
            "files are not supported");
}

TEST(GGUFReader, HugeCounts) {
  GGUFWriter W = smallLlama();
  W.TensorCount = uint64_t(1) << 62;
  EXPECT_EQ(parseError(W.file()), "t.gguf: tensor count 4611686018427387904 "
                                  "exceeds the limit of 1048576");
  W.TensorCount = 100000;
  std::string File = W.file();
  EXPECT_EQ(parseError(File),
            "t.gguf: 12 key-value pairs and 100000 tensor infos need at least "
            "3300168 bytes after offset 24, but the file ends at " +
                std::to_string(File.size()));

  GGUFWriter K;
  K.KeyValueCount = ~uint64_t(0);
  EXPECT_EQ(parseError(K.file()), "t.gguf: key-value count "
                                  "18446744073709551615 exceeds the limit of "
                                  "1048576");
  K.KeyValueCount = 10;
  EXPECT_EQ(parseError(K.file()),
            "t.gguf: 10 key-value pairs and 0 tensor infos need at least 140 "
            "bytes after offset 24, but the file ends at 32");
}

TEST(GGUFReader, HugeArraysAndStrings) {
  GGUFWriter A;
  A.raw("a", gguf::Array, gguf::array(gguf::UInt32, uint64_t(1) << 40, ""));
  std::string File = A.file();
  EXPECT_EQ(parseError(File),
            "t.gguf: metadata key 0 'a': array of 1099511627776 UINT32 "
            "elements needs at least 4 bytes each, but only " +
                std::to_string(File.size() - 49) + " bytes follow offset 49");

  // Arrays that a (claimed) 1 TiB file could hold still have a limit.
  GGUFWriter B;
  B.raw("b", gguf::Array, gguf::array(gguf::UInt8, uint64_t(1) << 24, ""));
  EXPECT_EQ(errorOf(parseGGUF(B.header(), "t.gguf", uint64_t(1) << 40)),
            "t.gguf: metadata key 0 'b': array of 16777216 elements exceeds "
            "the limit of 8388608 array elements in a file");
  // And so do strings.
  GGUFWriter S;
  std::string Length;
  gguf::putU64(Length, uint64_t(1) << 50);
  S.raw("s", gguf::String, Length);
  EXPECT_EQ(errorOf(parseGGUF(S.header(), "t.gguf", uint64_t(1) << 40)),
            "t.gguf: metadata key 0 's': string length 1125899906842624 "
            "exceeds the limit of 1 GiB");
  // A string longer than the rest of the file.
  GGUFWriter T;
  std::string Short;
  gguf::putU64(Short, 100);
  T.raw("t", gguf::String, Short + "abc");
  EXPECT_EQ(parseError(T.header()),
            "t.gguf: file is truncated: metadata key 0 't' needs 100 bytes at "
            "offset 45, but the file ends at 48");
  // A key length beyond the limit.
  std::string Header = "GGUF";
  gguf::putU32(Header, 3);
  gguf::putU64(Header, 0);
  gguf::putU64(Header, 1);
  gguf::putU64(Header, ~uint64_t(0));
  EXPECT_EQ(parseError(Header + std::string(64, 'k')),
            "t.gguf: metadata key 0: string length 18446744073709551615 "
            "exceeds the limit of 1 GiB");
}

TEST(GGUFReader, BadValues) {
  GGUFWriter Bool;
  Bool.raw("b", gguf::Bool, std::string(1, '\x02'));
  EXPECT_EQ(parseError(Bool.file()),
            "t.gguf: metadata key 0 'b': bool value is 2, expected 0 or 1");

  GGUFWriter Type;
  Type.raw("k", 13, "");
  EXPECT_EQ(parseError(Type.file()),
            "t.gguf: metadata key 0 'k' value type: unknown value type 13");

  GGUFWriter Elem;
  Elem.raw("k", gguf::Array, gguf::array(99, 1, "x"));
  EXPECT_EQ(parseError(Elem.file()), "t.gguf: metadata key 0 'k' array "
                                     "element type: unknown value type 99");

  GGUFWriter Dup;
  Dup.u8("x", 1).u8("y", 2).u8("x", 3);
  EXPECT_EQ(parseError(Dup.file()),
            "t.gguf: metadata key 2: duplicate key 'x'");

  GGUFWriter Elem3;
  Elem3.raw("k", gguf::Array,
            gguf::array(gguf::Bool, 3, std::string("\x01\x00\x07", 3)));
  EXPECT_EQ(parseError(Elem3.file()),
            "t.gguf: metadata key 0 'k'[2]: bool value is 7, expected 0 or 1");
}

TEST(GGUFReader, ArrayNestingIsBounded) {
  auto Nest = [](int Levels) {
    std::string V = gguf::array(gguf::UInt8, 1, "x");
    for (int I = 1; I < Levels; ++I)
      V = gguf::array(gguf::Array, 1, V);
    GGUFWriter W;
    W.raw("deep", gguf::Array, V);
    return W.file();
  };
  GGUFFile F = parseOk(Nest(8));
  const GGUFValue *V = F.find("deep");
  for (int I = 1; I < 8; ++I)
    V = &(*V->asArray())[0];
  EXPECT_EQ(*(*V->asArray())[0].asUInt(), uint64_t('x'));
  EXPECT_EQ(parseError(Nest(9)),
            "t.gguf: metadata key 0 'deep'[0][0][0][0][0][0][0]: arrays are "
            "nested more than 8 levels deep");
}

TEST(GGUFReader, BadGeneralAlignment) {
  auto ErrorFor = [](GGUFWriter W) {
    W.tensor("a", {4});
    return parseError(W.file());
  };
  GGUFWriter S;
  S.str("general.alignment", "32");
  EXPECT_EQ(ErrorFor(S), "t.gguf: metadata key 0 'general.alignment': must be "
                         "UINT32, got STRING");
  GGUFWriter U64;
  U64.u64("general.alignment", 32);
  EXPECT_EQ(ErrorFor(U64), "t.gguf: metadata key 0 'general.alignment': must "
                           "be UINT32, got UINT64");
  GGUFWriter Zero;
  Zero.u32("general.alignment", 0);
  EXPECT_EQ(ErrorFor(Zero),
            "t.gguf: metadata key 0 'general.alignment': alignment must be a "
            "non-zero power of two, got 0");
  GGUFWriter Odd;
  Odd.u32("general.alignment", 48);
  EXPECT_EQ(ErrorFor(Odd),
            "t.gguf: metadata key 0 'general.alignment': alignment must be a "
            "non-zero power of two, got 48");
}

TEST(GGUFReader, TensorDataPastTheEnd) {
  GGUFWriter W = smallLlama();
  std::string File = W.file();
  File.resize(File.size() - 1);
  uint64_t Start = W.dataOffset() + 512 + 576;
  EXPECT_EQ(parseError(File), "t.gguf: tensor 2 'output_norm.weight': data [" +
                                  std::to_string(Start) + ", " +
                                  std::to_string(Start + 128) +
                                  ") runs past the end of the file (size " +
                                  std::to_string(File.size()) + ")");

  GGUFWriter Far;
  Far.tensor("a", {4}, gguf::F32, ~uint64_t(31));
  EXPECT_EQ(parseError(Far.header()),
            "t.gguf: tensor 0 'a': offset 18446744073709551584 plus 16 bytes "
            "overflows 64 bits");
}

TEST(GGUFReader, OverlappingTensors) {
  GGUFWriter W;
  W.tensor("a", {16})
      .tensor("b", {8}, gguf::F32, 64)
      .tensor("c", {16}, gguf::F32, 64);
  std::string File = W.file();
  uint64_t D = W.dataOffset();
  EXPECT_EQ(parseError(File), "t.gguf: tensors 1 'b' [" +
                                  std::to_string(D + 64) + ", " +
                                  std::to_string(D + 96) + ") and 2 'c' [" +
                                  std::to_string(D + 64) + ", " +
                                  std::to_string(D + 128) + ") overlap");

  // One tensor inside another, listed out of order.
  GGUFWriter Inside;
  Inside.tensor("small", {8}, gguf::F32, 32).tensor("big", {64}, gguf::F32, 0);
  D = Inside.dataOffset();
  EXPECT_EQ(parseError(Inside.file()),
            "t.gguf: tensors 1 'big' [" + std::to_string(D) + ", " +
                std::to_string(D + 256) + ") and 0 'small' [" +
                std::to_string(D + 32) + ", " + std::to_string(D + 64) +
                ") overlap");

  // Adjacent is fine.
  GGUFWriter Adjacent;
  Adjacent.tensor("a", {8}, gguf::F32, 32).tensor("b", {8}, gguf::F32, 0);
  EXPECT_EQ(parseError(Adjacent.file()), "success");
}

TEST(GGUFReader, DuplicateTensorNames) {
  GGUFWriter W;
  W.tensor("a", {4}).tensor("b", {4}).tensor("a", {4});
  EXPECT_EQ(parseError(W.file()),
            "t.gguf: tensor 2 'a': duplicate name (also tensor 0)");
}

TEST(GGUFReader, UnknownAndRetiredGGMLTypes) {
  for (uint32_t Id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 1000u}) {
    GGUFWriter W;
    W.tensor("a", {256}, Id, 0);
    EXPECT_EQ(parseError(W.file()),
              "t.gguf: tensor 0 'a': unknown ggml type " + std::to_string(Id));
  }
}

TEST(GGUFReader, BadDimensions) {
  // Only the header: the data of some of these shapes would not fit in
  // memory.
  auto ErrorFor = [](std::vector<uint64_t> Ne, uint32_t Type = gguf::F32) {
    GGUFWriter W;
    W.tensor("a", std::move(Ne), Type, 0);
    return parseError(W.header() + std::string(64, '\0'));
  };
  EXPECT_EQ(ErrorFor({}),
            "t.gguf: tensor 0 'a': dimension count 0 is not in 1..4");
  EXPECT_EQ(ErrorFor({1, 1, 1, 1, 1}),
            "t.gguf: tensor 0 'a': dimension count 5 is not in 1..4");
  EXPECT_EQ(ErrorFor({0}), "t.gguf: tensor 0 'a': ne[0] is 0");
  EXPECT_EQ(ErrorFor({4, 0}), "t.gguf: tensor 0 'a': ne[1] is 0");
  EXPECT_EQ(ErrorFor({uint64_t(1) << 41}),
            "t.gguf: tensor 0 'a': ne[0] = 2199023255552 exceeds the limit "
            "of 2^40");
  EXPECT_EQ(ErrorFor({4, ~uint64_t(0)}),
            "t.gguf: tensor 0 'a': ne[1] = 18446744073709551615 exceeds the "
            "limit of 2^40");
  EXPECT_EQ(ErrorFor({uint64_t(1) << 30, uint64_t(1) << 30}),
            "t.gguf: tensor 0 'a': shape has more than 2^48 elements");
  EXPECT_EQ(ErrorFor({16, 2}, gguf::Q4_0),
            "t.gguf: tensor 0 'a': ne[0] = 16 is not a multiple of q4_0's "
            "block size 32");
  EXPECT_EQ(ErrorFor({128, 3}, gguf::Q4_K),
            "t.gguf: tensor 0 'a': ne[0] = 128 is not a multiple of q4_k's "
            "block size 256");
  GGUFWriter Valid;
  Valid.tensor("a", {32, 3}, gguf::Q4_0);
  EXPECT_EQ(parseError(Valid.file()), "success");
}

TEST(GGUFReader, InvalidUTF8Names) {
  GGUFWriter Tensor;
  Tensor.tensor("a\xff", {4});
  EXPECT_EQ(parseError(Tensor.file()),
            "t.gguf: tensor 0: name \"a\\FF\" is not valid UTF-8");
  GGUFWriter Surrogate;
  Surrogate.tensor("ok", {4}).tensor("\xed\xa0\x80", {4});
  EXPECT_EQ(parseError(Surrogate.file()),
            "t.gguf: tensor 1: name \"\\ED\\A0\\80\" is not valid UTF-8");
  GGUFWriter Key;
  Key.u8("k\xc0\x80", 1); // an overlong NUL
  EXPECT_EQ(parseError(Key.file()),
            "t.gguf: metadata key 0: key \"k\\C0\\80\" is not valid UTF-8");
  GGUFWriter Empty;
  Empty.tensor("", {4});
  EXPECT_EQ(parseError(Empty.file()), "t.gguf: tensor 0: empty name");
}

TEST(GGUFReader, MisalignedOffset) {
  GGUFWriter W;
  W.tensor("a", {4}, gguf::F32, 16);
  EXPECT_EQ(parseError(W.file()), "t.gguf: tensor 0 'a': offset 16 is not a "
                                  "multiple of the alignment 32");
}

TEST(GGUFReader, RandomCorruptionNeverCrashes) {
  std::string Valid = smallLlama().file();
  std::mt19937 Rng(42);
  size_t Parsed = 0;
  for (int Iter = 0; Iter < 3000; ++Iter) {
    std::string Bytes = Valid;
    int Flips = 1 + Iter % 4;
    for (int I = 0; I < Flips; ++I) {
      // Mostly the header, where the structure is.
      size_t Pos = Rng() % (Iter % 8 == 0 ? Bytes.size() : 400);
      Bytes[Pos] = static_cast<char>(Rng());
    }
    if (Iter % 5 == 0)
      Bytes.resize(Rng() % Bytes.size());
    llvm::Expected<GGUFFile> F = parseGGUF(Bytes, "t.gguf", Bytes.size());
    if (!F) {
      std::string E = llvm::toString(F.takeError());
      ASSERT_EQ(E.rfind("t.gguf: ", 0), 0u) << E;
      continue;
    }
    ++Parsed;
    llvm::Expected<ModelConfig> C = modelConfigFromGGUF(*F);
    if (!C)
      llvm::consumeError(C.takeError());
  }
  EXPECT_GT(Parsed, 0u);
}

//===----------------------------------------------------------------------===//
// modelConfigFromGGUF
//===----------------------------------------------------------------------===//

namespace {

std::string configError(const GGUFWriter &W, llvm::StringRef Path = "t.gguf") {
  std::string Bytes = W.file();
  llvm::Expected<GGUFFile> F = parseGGUF(Bytes, Path, Bytes.size());
  if (!F)
    return "parse: " + llvm::toString(F.takeError());
  llvm::Expected<ModelConfig> C = modelConfigFromGGUF(*F);
  if (!C)
    return llvm::toString(C.takeError());
  return "success";
}

ModelConfig configOk(const GGUFWriter &W, llvm::StringRef Path = "t.gguf") {
  GGUFFile F = parseOk(W.file(), Path);
  llvm::Expected<ModelConfig> C = modelConfigFromGGUF(F);
  if (!C) {
    ADD_FAILURE() << llvm::toString(C.takeError());
    return ModelConfig();
  }
  return *C;
}

/// qwen2 hyperparameters with an output head absent (tied).
GGUFWriter smallQwen2() {
  GGUFWriter W;
  W.str("general.architecture", "qwen2")
      .u32("qwen2.context_length", 32768)
      .u32("qwen2.embedding_length", 64)
      .u32("qwen2.block_count", 2)
      .u32("qwen2.feed_forward_length", 128)
      .u32("qwen2.attention.head_count", 4)
      .u32("qwen2.attention.head_count_kv", 2)
      .f32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f)
      .f32("qwen2.rope.freq_base", 1000000.0f)
      .strArray("tokenizer.ggml.tokens", {"a", "b", "c", "d", "e", "f"});
  W.tensor("token_embd.weight", {64, 6}, gguf::Q8_0)
      .tensor("blk.0.attn_q.weight", {64, 64}, gguf::Q8_0)
      .tensor("blk.0.attn_q.bias", {64});
  return W;
}

} // namespace

TEST(GGUFConfig, Llama) {
  ModelConfig C = configOk(smallLlama());
  EXPECT_EQ(C.Name, "tiny");
  EXPECT_EQ(C.Arch, Architecture::Llama);
  EXPECT_EQ(C.Vocab, 4);
  EXPECT_EQ(C.Hidden, 32);
  EXPECT_EQ(C.FFN, 64);
  EXPECT_EQ(C.Layers, 1);
  EXPECT_EQ(C.Heads, 4);
  EXPECT_EQ(C.KVHeads, 2);
  EXPECT_EQ(C.HeadDim, 8);
  EXPECT_EQ(C.MaxContext, 128);
  EXPECT_FLOAT_EQ(static_cast<float>(C.RMSNormEps), 1e-6f);
  EXPECT_EQ(C.RopeTheta, 500000.0);
  EXPECT_FALSE(C.RopeNeoX);
  EXPECT_TRUE(C.TiedEmbeddings);
  EXPECT_FALSE(C.QKVBias);
  EXPECT_EQ(C.WeightType, ir::DType::Q4_0);
}

TEST(GGUFConfig, Qwen2) {
  GGUFWriter W = smallQwen2();
  ModelConfig C = configOk(W, "models/Qwen2-0.5B.Q8_0.gguf");
  EXPECT_EQ(C.Name, "Qwen2-0.5B.Q8_0"); // no general.name: the file's stem
  EXPECT_EQ(C.Arch, Architecture::Qwen2);
  EXPECT_EQ(C.Naming, NamingScheme::GGUF);
  EXPECT_EQ(C.Vocab, 6);
  EXPECT_EQ(C.HeadDim, 16);
  EXPECT_EQ(C.RopeTheta, 1000000.0);
  EXPECT_TRUE(C.RopeNeoX);
  EXPECT_TRUE(C.TiedEmbeddings);
  EXPECT_TRUE(C.QKVBias);
  EXPECT_EQ(C.WeightType, ir::DType::Q8_0);

  // vocab_size wins over the token list; key_length over hidden / heads.
  W.u32("qwen2.vocab_size", 1000).u32("qwen2.attention.key_length", 32);
  W.tensor("output.weight", {64, 6}, gguf::Q8_0);
  C = configOk(W);
  EXPECT_EQ(C.Vocab, 1000);
  EXPECT_EQ(C.HeadDim, 32);
  EXPECT_FALSE(C.TiedEmbeddings);
}

TEST(GGUFConfig, RopeScaling) {
  GGUFWriter Yarn = smallQwen2();
  Yarn.str("qwen2.rope.scaling.type", "yarn")
      .f32("qwen2.rope.scaling.factor", 4.0f)
      .u32("qwen2.rope.scaling.original_context_length", 32768);
  ModelConfig C = configOk(Yarn);
  EXPECT_EQ(C.Scaling.Type, RopeScaling::Kind::YaRN);
  EXPECT_EQ(C.Scaling.Factor, 4.0);
  EXPECT_EQ(C.Scaling.OriginalContext, 32768);

  GGUFWriter Linear = smallLlama();
  Linear.str("llama.rope.scaling.type", "linear")
      .f32("llama.rope.scaling.factor", 2.0f);
  C = configOk(Linear);
  EXPECT_EQ(C.Scaling.Type, RopeScaling::Kind::Linear);
  EXPECT_EQ(C.Scaling.Factor, 2.0);

  GGUFWriter Old = smallLlama();
  Old.f32("llama.rope.scale_linear", 8.0f);
  C = configOk(Old);
  EXPECT_EQ(C.Scaling.Type, RopeScaling::Kind::Linear);
  EXPECT_EQ(C.Scaling.Factor, 8.0);

  GGUFWriter Long = smallLlama();
  Long.str("llama.rope.scaling.type", "longrope");
  EXPECT_EQ(configError(Long),
            "t.gguf: unsupported RoPE scaling type 'longrope' in "
            "'llama.rope.scaling.type' (supported: none, linear, yarn)");
  GGUFWriter NoFactor = smallLlama();
  NoFactor.str("llama.rope.scaling.type", "linear");
  EXPECT_EQ(configError(NoFactor),
            "t.gguf: missing metadata key 'llama.rope.scaling.factor'");
}

TEST(GGUFConfig, MixtralAndQwen2MoE) {
  GGUFWriter Mixtral = smallLlama();
  Mixtral.u32("llama.expert_count", 8).u32("llama.expert_used_count", 2);
  ModelConfig C = configOk(Mixtral);
  EXPECT_EQ(C.Arch, Architecture::Mixtral);
  ASSERT_TRUE(C.MoE);
  EXPECT_EQ(C.MoE->NumExperts, 8);
  EXPECT_EQ(C.MoE->ExpertsPerToken, 2);
  EXPECT_EQ(C.MoE->ExpertFFN, 64);
  EXPECT_EQ(C.MoE->NumSharedExperts, 0);
  EXPECT_FALSE(C.RopeNeoX);

  GGUFWriter Q;
  Q.str("general.architecture", "qwen2moe")
      .str("general.name", "moe")
      .u32("qwen2moe.embedding_length", 64)
      .u32("qwen2moe.block_count", 2)
      .u32("qwen2moe.attention.head_count", 4)
      .u32("qwen2moe.attention.head_count_kv", 4)
      .f32("qwen2moe.attention.layer_norm_rms_epsilon", 1e-6f)
      .u32("qwen2moe.vocab_size", 100)
      .u32("qwen2moe.expert_count", 60)
      .u32("qwen2moe.expert_used_count", 4)
      .u32("qwen2moe.expert_feed_forward_length", 32)
      .u32("qwen2moe.expert_shared_feed_forward_length", 128);
  Q.tensor("blk.0.attn_q.bias", {64})
      .tensor("blk.0.ffn_gate_inp_shexp.weight", {64});
  C = configOk(Q);
  EXPECT_EQ(C.Arch, Architecture::Qwen2MoE);
  EXPECT_EQ(C.FFN, 0);
  ASSERT_TRUE(C.MoE);
  EXPECT_EQ(C.MoE->NumExperts, 60);
  EXPECT_EQ(C.MoE->ExpertsPerToken, 4);
  EXPECT_EQ(C.MoE->ExpertFFN, 32);
  EXPECT_EQ(C.MoE->NumSharedExperts, 1);
  EXPECT_EQ(C.MoE->SharedExpertFFN, 128);
  EXPECT_TRUE(C.MoE->SharedExpertGate);
  EXPECT_TRUE(C.QKVBias);
  EXPECT_TRUE(C.RopeNeoX);

  GGUFWriter NoUsed = smallLlama();
  NoUsed.u32("llama.expert_count", 8);
  EXPECT_EQ(configError(NoUsed),
            "t.gguf: missing metadata key 'llama.expert_used_count'");
}

TEST(GGUFConfig, Errors) {
  GGUFWriter Gemma;
  Gemma.str("general.architecture", "gemma");
  EXPECT_EQ(configError(Gemma, "models/g.gguf"),
            "models/g.gguf: unsupported architecture 'gemma' "
            "(general.architecture; supported: llama, qwen2, qwen2moe)");

  GGUFWriter NoArch;
  NoArch.u32("llama.block_count", 2);
  EXPECT_EQ(configError(NoArch),
            "t.gguf: missing metadata key 'general.architecture'");

  GGUFWriter ArchType;
  ArchType.u32("general.architecture", 2);
  EXPECT_EQ(configError(ArchType), "t.gguf: metadata key "
                                   "'general.architecture' must be a string, "
                                   "got UINT32 2");

  GGUFWriter NoLayers;
  NoLayers.str("general.architecture", "llama")
      .u32("llama.embedding_length", 32);
  EXPECT_EQ(configError(NoLayers),
            "t.gguf: missing metadata key 'llama.block_count'");

  GGUFWriter StrLayers = smallLlama();
  StrLayers.str("llama.block_count", "x"); // a second key of the same name
  EXPECT_EQ(
      configError(StrLayers),
      "parse: t.gguf: metadata key 12: duplicate key 'llama.block_count'");

  GGUFWriter Typed;
  Typed.str("general.architecture", "llama")
      .str("llama.embedding_length", "32");
  EXPECT_EQ(configError(Typed), "t.gguf: metadata key "
                                "'llama.embedding_length' must be a "
                                "non-negative integer, got STRING");

  GGUFWriter Negative;
  Negative.str("general.architecture", "llama")
      .i32("llama.embedding_length", -32);
  EXPECT_EQ(configError(Negative), "t.gguf: metadata key "
                                   "'llama.embedding_length' must be a "
                                   "non-negative integer, got INT32 -32");

  GGUFWriter PerLayer;
  PerLayer.str("general.architecture", "llama")
      .u32("llama.embedding_length", 32)
      .u32("llama.block_count", 2)
      .u32("llama.feed_forward_length", 64)
      .i32Array("llama.attention.head_count", {4, 4});
  EXPECT_EQ(configError(PerLayer),
            "t.gguf: metadata key 'llama.attention.head_count' must be a "
            "non-negative integer, got ARRAY of INT32 (per-layer values are "
            "not supported)");

  GGUFWriter NoEps;
  NoEps.str("general.architecture", "llama")
      .u32("llama.embedding_length", 32)
      .u32("llama.block_count", 1)
      .u32("llama.feed_forward_length", 64)
      .u32("llama.attention.head_count", 4);
  EXPECT_EQ(configError(NoEps), "t.gguf: missing metadata key "
                                "'llama.attention.layer_norm_rms_epsilon'");

  GGUFWriter Heads(3);
  Heads.str("general.architecture", "llama")
      .str("general.name", "bad")
      .u32("llama.embedding_length", 48)
      .u32("llama.block_count", 1)
      .u32("llama.feed_forward_length", 64)
      .u32("llama.attention.head_count", 8)
      .u32("llama.attention.head_count_kv", 3)
      .f32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
      .u32("llama.vocab_size", 10);
  EXPECT_EQ(configError(Heads), "t.gguf: bad: attention heads (8) must be a "
                                "multiple of KV heads (3)");

  GGUFWriter Uneven = smallLlama();
  Uneven.u32("llama.rope.dimension_count", 4);
  EXPECT_EQ(configError(Uneven),
            "t.gguf: 'llama.rope.dimension_count' (4) differs from the head "
            "size (8); partial rotary embeddings are unsupported");
}
