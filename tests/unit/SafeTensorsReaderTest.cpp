//===- SafeTensorsReaderTest.cpp - .safetensors headers, indexes, folders -===//

#include "ir/modelfile/SafeTensorsReader.h"

#include "SafeTensorsWriter.h"

#include "gtest/gtest.h"

#include <random>

using namespace strata;
using namespace strata::import;
using namespace strata::test;

namespace {

/// The error of a failed read; a success fails the test.
std::string errorOf(llvm::Expected<TensorTable> T) {
  if (T) {
    ADD_FAILURE() << "expected an error, got " << T->Tensors.size()
                  << " tensors";
    return "";
  }
  return llvm::toString(T.takeError());
}

/// The message for a header built from JSON text with DataBytes of data,
/// parsed from memory as "model.safetensors".
std::string headerError(llvm::StringRef Header, uint64_t DataBytes) {
  std::string Bytes = makeSafeTensorsBytes(Header, DataBytes);
  return errorOf(
      parseSafeTensorsHeader(Bytes, "model.safetensors", Bytes.size()));
}

std::string builderError(const SafeTensorsBuilder &B) {
  return headerError(B.header(), B.dataBytes());
}

TensorTable read(llvm::Expected<TensorTable> T) {
  if (!T) {
    ADD_FAILURE() << llvm::toString(T.takeError());
    return {};
  }
  return std::move(*T);
}

} // namespace

//===----------------------------------------------------------------------===//
// One file
//===----------------------------------------------------------------------===//

TEST(SafeTensorsReader, SingleFile) {
  TempDir Dir;
  std::string Path = Dir.file("model.safetensors");
  // Names sort opposite to data order: the table follows the data.
  SafeTensorsBuilder B;
  B.add("z.embed.weight", "BF16", {4, 8})
      .add("m.norm.weight", "F32", {8})
      .add("a.lm_head.weight", "F16", {4, 8})
      .metadata("format", "pt");
  B.write(Path);
  uint64_t DataStart = 8 + B.header().size();

  TensorTable T = read(readSafeTensorsFile(Path));
  ASSERT_EQ(T.Files.size(), 1u);
  EXPECT_EQ(T.Files[0], Path);
  EXPECT_EQ(T.FileSizes[0], DataStart + 64 + 32 + 64);
  ASSERT_EQ(T.Tensors.size(), 3u);

  const TensorDesc &E = T.Tensors[0];
  EXPECT_EQ(E.Name, "z.embed.weight");
  EXPECT_EQ(E.Type, ir::DType::BF16);
  EXPECT_EQ(E.Dims, (llvm::SmallVector<int64_t, 4>{4, 8}));
  EXPECT_EQ(E.File, 0u);
  EXPECT_EQ(E.Offset, DataStart);
  EXPECT_EQ(E.Bytes, 64u);

  EXPECT_EQ(T.Tensors[1].Name, "m.norm.weight");
  EXPECT_EQ(T.Tensors[1].Type, ir::DType::F32);
  EXPECT_EQ(T.Tensors[1].Dims, (llvm::SmallVector<int64_t, 4>{8}));
  EXPECT_EQ(T.Tensors[1].Offset, DataStart + 64);
  EXPECT_EQ(T.Tensors[1].Bytes, 32u);

  EXPECT_EQ(T.Tensors[2].Name, "a.lm_head.weight");
  EXPECT_EQ(T.Tensors[2].Type, ir::DType::F16);
  EXPECT_EQ(T.Tensors[2].Offset, DataStart + 96);
  EXPECT_EQ(T.Tensors[2].Bytes, 64u);
}

TEST(SafeTensorsReader, EveryDType) {
  struct Row {
    const char *Name;
    ir::DType Type;
    uint64_t Bytes; // of a [3] tensor
  } Rows[] = {{"F64", ir::DType::F64, 24},       {"F32", ir::DType::F32, 12},
              {"F16", ir::DType::F16, 6},        {"BF16", ir::DType::BF16, 6},
              {"F8_E4M3", ir::DType::F8E4M3, 3}, {"I64", ir::DType::I64, 24},
              {"I32", ir::DType::I32, 12},       {"I16", ir::DType::I16, 6},
              {"I8", ir::DType::I8, 3}};
  SafeTensorsBuilder B;
  for (const Row &R : Rows)
    B.add(std::string("t.") + R.Name, R.Name, {3});
  std::string Bytes = B.bytes();
  TensorTable T =
      read(parseSafeTensorsHeader(Bytes, "model.safetensors", Bytes.size()));
  ASSERT_EQ(T.Tensors.size(), std::size(Rows));
  for (size_t I = 0; I < std::size(Rows); ++I) {
    EXPECT_EQ(T.Tensors[I].Name, std::string("t.") + Rows[I].Name);
    EXPECT_EQ(T.Tensors[I].Type, Rows[I].Type) << Rows[I].Name;
    EXPECT_EQ(T.Tensors[I].Bytes, Rows[I].Bytes) << Rows[I].Name;
  }
}

TEST(SafeTensorsReader, ScalarsEmptyTensorsAndPadding) {
  // A scalar, an empty tensor sharing an offset with the next one, and a
  // header padded with spaces, as the Python writer pads to 8 bytes.
  SafeTensorsBuilder B;
  B.add("step", "I64", {}).add("empty", "F32", {0, 4}).add("w", "F32", {2});
  std::string Header = B.header() + "      ";
  std::string Bytes = makeSafeTensorsBytes(Header, B.dataBytes());
  TensorTable T =
      read(parseSafeTensorsHeader(Bytes, "model.safetensors", Bytes.size()));
  ASSERT_EQ(T.Tensors.size(), 3u);
  EXPECT_EQ(T.Tensors[0].Name, "step");
  EXPECT_TRUE(T.Tensors[0].Dims.empty());
  EXPECT_EQ(T.Tensors[0].Bytes, 8u);
  // "empty" and "w" both start at 8; the empty one sorts first.
  EXPECT_EQ(T.Tensors[1].Name, "empty");
  EXPECT_EQ(T.Tensors[1].Bytes, 0u);
  EXPECT_EQ(T.Tensors[2].Name, "w");
  EXPECT_EQ(T.Tensors[1].Offset, T.Tensors[2].Offset);
  EXPECT_EQ(T.Tensors[2].Offset, 8 + Header.size() + 8);
}

TEST(SafeTensorsReader, HeaderOnlyIsRead) {
  // The reader needs only the header: the same bytes in memory with the rest
  // of the file left out parse the same.
  SafeTensorsBuilder B;
  B.add("w", "BF16", {1024, 1024});
  std::string Bytes = B.bytes();
  std::string HeaderOnly = Bytes.substr(0, 8 + B.header().size());
  TensorTable T = read(
      parseSafeTensorsHeader(HeaderOnly, "model.safetensors", Bytes.size()));
  ASSERT_EQ(T.Tensors.size(), 1u);
  EXPECT_EQ(T.Tensors[0].Bytes, 2u * 1024 * 1024);
}

//===----------------------------------------------------------------------===//
// Bad files
//===----------------------------------------------------------------------===//

TEST(SafeTensorsReader, FileTooShort) {
  TempDir Dir;
  std::string Path = Dir.file("short.safetensors");
  writeFile(Path, "abcde");
  EXPECT_EQ(errorOf(readSafeTensorsFile(Path)),
            Path + ": file is too short for a safetensors header (5 bytes; "
                   "the header length alone takes 8)");
}

TEST(SafeTensorsReader, HeaderLengthBeyondFile) {
  TempDir Dir;
  std::string Path = Dir.file("model.safetensors");
  std::string Bytes = makeSafeTensorsBytes("{}", 0);
  llvm::support::endian::write64le(Bytes.data(), 1000);
  writeFile(Path, Bytes);
  EXPECT_EQ(errorOf(readSafeTensorsFile(Path)),
            Path + ": header length 1000 exceeds the 2 bytes that follow it "
                   "in the file");
}

TEST(SafeTensorsReader, HeaderLengthOverLimitIsRejectedBeforeReading) {
  // Only the 8 length bytes are given: the limit is checked before the
  // header would be read or allocated.
  std::string Bytes(8, '\0');
  llvm::support::endian::write64le(Bytes.data(), 200'000'000);
  EXPECT_EQ(
      errorOf(parseSafeTensorsHeader(Bytes, "model.safetensors", 1ull << 40)),
      "model.safetensors: header length 200000000 exceeds the limit of "
      "100000000 bytes");
  // A GGUF file's magic and version read as a length.
  std::string GGUF = std::string("GGUF\x03\0\0\0", 8) + std::string(56, '\0');
  EXPECT_EQ(errorOf(parseSafeTensorsHeader(GGUF, "m.gguf", GGUF.size())),
            "m.gguf: header length 14064895815 exceeds the 56 bytes that "
            "follow it in the file");
}

TEST(SafeTensorsReader, TruncatedHeaderInMemory) {
  SafeTensorsBuilder B;
  B.add("w", "F32", {4});
  std::string Bytes = B.bytes();
  EXPECT_EQ(errorOf(parseSafeTensorsHeader(Bytes.substr(0, 20),
                                           "model.safetensors", Bytes.size())),
            "model.safetensors: header is truncated: it needs " +
                std::to_string(8 + B.header().size()) + " bytes, got 20");
  EXPECT_EQ(errorOf(parseSafeTensorsHeader(Bytes.substr(0, 3),
                                           "model.safetensors", Bytes.size())),
            "model.safetensors: header is truncated: it needs at least 8 "
            "bytes, got 3");
}

TEST(SafeTensorsReader, BadJSON) {
  EXPECT_EQ(headerError("{\"w\": {\"dtype\": \"F32\",}}", 0),
            "model.safetensors: invalid JSON header: [1:23, byte=23]: "
            "Expected object key");
  EXPECT_EQ(headerError("", 0), "model.safetensors: invalid JSON header: "
                                "[1:0, byte=0]: Unexpected EOF");
  // Invalid UTF-8 in a name is refused by the JSON parser.
  EXPECT_EQ(headerError("{\"w\xff\": {}}", 0),
            "model.safetensors: invalid JSON header: [1:3, byte=3]: Invalid "
            "UTF-8 sequence");
  EXPECT_EQ(headerError("[1, 2]", 0),
            "model.safetensors: header must be a JSON object");
}

TEST(SafeTensorsReader, BadDType) {
  SafeTensorsBuilder B;
  B.add("w", "F32", {2}).add("mask", "U8", {4});
  EXPECT_EQ(builderError(B),
            "model.safetensors: tensor 'mask': unsupported dtype 'U8' "
            "(supported: F64, F32, F16, BF16, F8_E4M3, I64, I32, I16, I8)");
  SafeTensorsBuilder Q;
  Q.add("q", "Q4", {32});
  EXPECT_EQ(builderError(Q),
            "model.safetensors: tensor 'q': unsupported dtype 'Q4' "
            "(supported: F64, F32, F16, BF16, F8_E4M3, I64, I32, I16, I8)");
}

TEST(SafeTensorsReader, BadEntryTypes) {
  EXPECT_EQ(headerError("{\"w\": [1]}", 0),
            "model.safetensors: tensor 'w': must be an object with dtype, "
            "shape and data_offsets");
  EXPECT_EQ(headerError(R"({"w": {"dtype": 3, "shape": [], )"
                        R"("data_offsets": [0, 4]}})",
                        4),
            "model.safetensors: tensor 'w': dtype must be a string");
  const char *BadShapes[] = {R"("shape": [2, -1])", R"("shape": [2.5])",
                             R"("shape": ["2"])", R"("shape": 2)", ""};
  for (const char *Shape : BadShapes)
    EXPECT_EQ(headerError(std::string(R"({"w": {"dtype": "F32", )") + Shape +
                              (*Shape ? ", " : "") +
                              R"("data_offsets": [0, 8]}})",
                          8),
              "model.safetensors: tensor 'w': shape must be an array of "
              "non-negative integers")
        << Shape;
  const char *BadOffsets[] = {
      R"("data_offsets": [0])", R"("data_offsets": [0, 4, 8])",
      R"("data_offsets": [0, -4])", R"("data_offsets": "0-4")"};
  for (const char *Offsets : BadOffsets)
    EXPECT_EQ(headerError(std::string(R"({"w": {"dtype": "F32", )"
                                      R"("shape": [1], )") +
                              Offsets + "}}",
                          8),
              "model.safetensors: tensor 'w': data_offsets must be two "
              "non-negative integers [begin, end]")
        << Offsets;
  SafeTensorsBuilder Reversed;
  Reversed.addRaw("w", "F32", {1}, 8, 4);
  EXPECT_EQ(builderError(Reversed),
            "model.safetensors: tensor 'w': data_offsets [8, 4] end before "
            "they begin");
}

TEST(SafeTensorsReader, ShapeLimits) {
  SafeTensorsBuilder B;
  B.addRaw("w", "F32", {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 4);
  EXPECT_EQ(builderError(B), "model.safetensors: tensor 'w': shape: rank 9 "
                             "exceeds the maximum of 8");
  SafeTensorsBuilder Huge;
  Huge.addRaw("w", "F32", {1 << 30, 1 << 30}, 0, 4);
  EXPECT_EQ(builderError(Huge), "model.safetensors: tensor 'w': shape: shape "
                                "has more than 2^48 elements");
}

TEST(SafeTensorsReader, WrongByteCount) {
  SafeTensorsBuilder B;
  B.addRaw("w", "BF16", {2, 3}, 0, 10);
  EXPECT_EQ(builderError(B),
            "model.safetensors: tensor 'w': data_offsets [0, 10] hold 10 "
            "bytes, but bf16[2, 3] takes 12");
}

TEST(SafeTensorsReader, DataPastEndOfFile) {
  TempDir Dir;
  std::string Path = Dir.file("model.safetensors");
  SafeTensorsBuilder B;
  B.add("a", "F32", {4}).add("b", "F32", {4});
  // The file stops 4 bytes short of b's end.
  writeFile(Path, B.bytes(B.dataBytes() - 4));
  uint64_t DataStart = 8 + B.header().size();
  EXPECT_EQ(errorOf(readSafeTensorsFile(Path)),
            Path +
                ": tensor 'b': data_offsets [16, 32] reach past the end of "
                "the file: data starts at byte " +
                std::to_string(DataStart) + " and the file has " +
                std::to_string(DataStart + 28) + " bytes");
}

TEST(SafeTensorsReader, Overlap) {
  SafeTensorsBuilder B;
  B.addRaw("a", "F32", {4}, 0, 16).addRaw("b", "F32", {4}, 8, 24);
  EXPECT_EQ(builderError(B),
            "model.safetensors: tensors 'a' (data_offsets [0, 16]) and 'b' "
            "(data_offsets [8, 24]) overlap");
  // A tensor inside a longer one.
  SafeTensorsBuilder Inside;
  Inside.addRaw("long", "F32", {16}, 0, 64).addRaw("inner", "F32", {1}, 32, 36);
  EXPECT_EQ(builderError(Inside),
            "model.safetensors: tensors 'long' (data_offsets [0, 64]) and "
            "'inner' (data_offsets [32, 36]) overlap");
  // Empty tensors hold no bytes, so they overlap nothing.
  SafeTensorsBuilder Empty;
  Empty.addRaw("a", "F32", {4}, 0, 16).addRaw("e", "F32", {0}, 8, 8);
  std::string Bytes = Empty.bytes();
  EXPECT_TRUE(
      bool(parseSafeTensorsHeader(Bytes, "model.safetensors", Bytes.size())));
}

TEST(SafeTensorsReader, BadMetadataAndNames) {
  EXPECT_EQ(headerError(R"({"__metadata__": {"format": 1}})", 0),
            "model.safetensors: __metadata__ 'format' must be a string");
  EXPECT_EQ(headerError(R"({"__metadata__": []})", 0),
            "model.safetensors: __metadata__ must be an object of strings");
  SafeTensorsBuilder B;
  B.add("", "F32", {1});
  EXPECT_EQ(builderError(B), "model.safetensors: a tensor has an empty name");
}

TEST(SafeTensorsReader, FirstErrorIsByName) {
  // Two bad tensors: the one first by name is reported, whatever the hash
  // order of the JSON object.
  SafeTensorsBuilder B;
  B.add("zz", "U8", {1}).add("aa", "U16", {1});
  EXPECT_EQ(builderError(B),
            "model.safetensors: tensor 'aa': unsupported dtype 'U16' "
            "(supported: F64, F32, F16, BF16, F8_E4M3, I64, I32, I16, I8)");
}

TEST(SafeTensorsReader, MissingFile) {
  TempDir Dir;
  std::string Path = Dir.file("nope.safetensors");
  EXPECT_EQ(errorOf(readSafeTensorsFile(Path)),
            Path + ": cannot open: No such file or directory");
  EXPECT_EQ(errorOf(readSafeTensorsFile(Dir.path())),
            Dir.path().str() + ": not a regular file");
}

TEST(SafeTensorsReader, MutatedHeadersNeverCrash) {
  // Random byte flips and truncations of a valid file: each must parse or
  // fail with a message, never crash or read out of bounds (run under ASan
  // for full effect).
  SafeTensorsBuilder B;
  B.add("model.embed_tokens.weight", "BF16", {16, 8})
      .add("model.norm.weight", "F32", {8})
      .add("lm_head.weight", "F16", {16, 8})
      .metadata("format", "pt");
  const std::string Good = B.bytes();
  std::mt19937 Rng(1234);
  unsigned Failures = 0;
  for (int Iter = 0; Iter < 3000; ++Iter) {
    std::string Bytes = Good;
    unsigned Flips = 1 + Rng() % 4;
    for (unsigned I = 0; I < Flips; ++I)
      Bytes[Rng() % Bytes.size()] = static_cast<char>(Rng());
    if (Rng() % 4 == 0)
      Bytes.resize(Rng() % Bytes.size());
    llvm::Expected<TensorTable> T =
        parseSafeTensorsHeader(Bytes, "fuzz.safetensors", Bytes.size());
    if (!T) {
      ++Failures;
      std::string Msg = llvm::toString(T.takeError());
      EXPECT_EQ(Msg.rfind("fuzz.safetensors: ", 0), 0u) << Msg;
      continue;
    }
    for (const TensorDesc &D : T->Tensors)
      EXPECT_LE(D.Offset + D.Bytes, Bytes.size());
  }
  EXPECT_GT(Failures, 0u);
}

//===----------------------------------------------------------------------===//
// Sharded checkpoints
//===----------------------------------------------------------------------===//

namespace {

const char *const Shard1 = "model-00001-of-00002.safetensors";
const char *const Shard2 = "model-00002-of-00002.safetensors";

/// A two-shard checkpoint; the index lists shard 2's tensor first.
void writeTwoShards(const TempDir &Dir) {
  SafeTensorsBuilder S1, S2;
  S1.add("model.embed_tokens.weight", "BF16", {16, 8})
      .add("model.layers.0.input_layernorm.weight", "F32", {8})
      .metadata("format", "pt");
  S2.add("model.norm.weight", "F32", {8})
      .add("lm_head.weight", "BF16", {16, 8});
  S1.write(Dir.file(Shard1));
  S2.write(Dir.file(Shard2));
  writeFile(Dir.file("model.safetensors.index.json"),
            makeIndexJSON({{"lm_head.weight", Shard2},
                           {"model.embed_tokens.weight", Shard1},
                           {"model.layers.0.input_layernorm.weight", Shard1},
                           {"model.norm.weight", Shard2}},
                          576));
}

} // namespace

TEST(SafeTensorsReader, TwoShardIndex) {
  TempDir Dir;
  writeTwoShards(Dir);
  TensorTable T =
      read(readSafeTensorsIndex(Dir.file("model.safetensors.index.json")));
  ASSERT_EQ(T.Files.size(), 2u);
  EXPECT_EQ(T.Files[0], Dir.file(Shard1));
  EXPECT_EQ(T.Files[1], Dir.file(Shard2));
  ASSERT_EQ(T.Tensors.size(), 4u);
  const char *Names[] = {"model.embed_tokens.weight",
                         "model.layers.0.input_layernorm.weight",
                         "model.norm.weight", "lm_head.weight"};
  unsigned Files[] = {0, 0, 1, 1};
  for (unsigned I = 0; I < 4; ++I) {
    EXPECT_EQ(T.Tensors[I].Name, Names[I]);
    EXPECT_EQ(T.Tensors[I].File, Files[I]);
  }
  uint64_t Size2 = 0;
  ASSERT_FALSE(llvm::sys::fs::file_size(Dir.file(Shard2), Size2));
  EXPECT_EQ(T.FileSizes[1], Size2);
  // lm_head is the last tensor of shard 2 and ends its file.
  EXPECT_EQ(T.Tensors[3].Offset + T.Tensors[3].Bytes, Size2);
  EXPECT_EQ(T.Tensors[3].Type, ir::DType::BF16);
}

TEST(SafeTensorsReader, IndexMissingShard) {
  TempDir Dir;
  writeTwoShards(Dir);
  llvm::sys::fs::remove(Dir.file(Shard2));
  std::string Index = Dir.file("model.safetensors.index.json");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": shard 'model-00002-of-00002.safetensors' named for "
                    "tensor 'lm_head.weight' does not exist");
}

TEST(SafeTensorsReader, IndexTensorMissingFromShard) {
  TempDir Dir;
  writeTwoShards(Dir);
  SafeTensorsBuilder S2;
  S2.add("model.norm.weight", "F32", {8});
  S2.write(Dir.file(Shard2));
  std::string Index = Dir.file("model.safetensors.index.json");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": tensor 'lm_head.weight' is not in its shard "
                    "'model-00002-of-00002.safetensors'");
}

TEST(SafeTensorsReader, IndexExtraTensorInShard) {
  TempDir Dir;
  writeTwoShards(Dir);
  SafeTensorsBuilder S2;
  S2.add("model.norm.weight", "F32", {8})
      .add("lm_head.weight", "BF16", {16, 8})
      .add("model.rotary_emb.inv_freq", "F32", {4});
  S2.write(Dir.file(Shard2));
  std::string Index = Dir.file("model.safetensors.index.json");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": shard 'model-00002-of-00002.safetensors' holds tensor "
                    "'model.rotary_emb.inv_freq', which the weight map does "
                    "not name");
}

TEST(SafeTensorsReader, IndexTensorInTheWrongShard) {
  TempDir Dir;
  writeTwoShards(Dir);
  // Shard 1 also holds lm_head, which the map assigns to shard 2.
  SafeTensorsBuilder S1;
  S1.add("model.embed_tokens.weight", "BF16", {16, 8})
      .add("model.layers.0.input_layernorm.weight", "F32", {8})
      .add("lm_head.weight", "BF16", {16, 8});
  S1.write(Dir.file(Shard1));
  std::string Index = Dir.file("model.safetensors.index.json");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": shard 'model-00001-of-00002.safetensors' holds tensor "
                    "'lm_head.weight', which the weight map assigns to "
                    "'model-00002-of-00002.safetensors'");
}

TEST(SafeTensorsReader, BadIndexFiles) {
  TempDir Dir;
  writeTwoShards(Dir);
  std::string Index = Dir.file("model.safetensors.index.json");
  writeFile(Index, R"({"metadata": {"total_size": 576}})");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": missing required key 'weight_map'");
  writeFile(Index, R"({"weight_map": {"w": )");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": invalid JSON: [1:21, byte=21]: Unexpected EOF");
  writeFile(Index, R"({"weight_map": ["w"]})");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": weight_map must be an object mapping tensor names to "
                    "shard file names");
  writeFile(Index, R"({"weight_map": {"w": 1}})");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": weight_map: tensor 'w' must map to a shard file name");
  writeFile(Index, R"({"weight_map": {}})");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": weight_map names no tensors");
  writeFile(Index, R"({"weight_map": {"w": "../model.safetensors"}})");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": shard '../model.safetensors' named for tensor 'w' must "
                    "be a file name in the index's folder");
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Dir.file("none.json"))),
            Dir.file("none.json") + ": cannot open: No such file or directory");
}

// Found by fuzz/FuzzSafeTensors: json::parse recursed once per level of
// nesting, so a header (up to 100 MB are accepted) or an index of nested
// '[' overflowed the stack.
TEST(SafeTensorsReader, DeepNestingIsAnErrorNotACrash) {
  EXPECT_EQ(headerError(std::string(4 << 20, '['), 0),
            "model.safetensors: invalid JSON header: arrays and objects nest "
            "deeper than 256 levels at byte 264");
  TempDir Dir;
  std::string Index = Dir.file("model.safetensors.index.json");
  writeFile(Index, R"({"weight_map": )" + std::string(4 << 20, '{'));
  EXPECT_EQ(errorOf(readSafeTensorsIndex(Index)),
            Index + ": invalid JSON: arrays and objects nest deeper than 256 "
                    "levels at byte 270");
}

TEST(SafeTensorsReader, IndexReportsBadShardByItsPath) {
  TempDir Dir;
  writeTwoShards(Dir);
  writeFile(Dir.file(Shard1), "short");
  EXPECT_EQ(
      errorOf(readSafeTensorsIndex(Dir.file("model.safetensors.index.json"))),
      Dir.file(Shard1) + ": file is too short for a safetensors header (5 "
                         "bytes; the header length alone takes 8)");
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

TEST(SafeTensorsReader, FolderPrefersIndex) {
  TempDir Dir;
  writeTwoShards(Dir);
  // A stray consolidated file beside the index is not read.
  SafeTensorsBuilder Stray;
  Stray.add("lm_head.weight", "F32", {1});
  Stray.write(Dir.file("model.safetensors"));
  TensorTable T = read(readSafeTensorsFolder(Dir.path()));
  EXPECT_EQ(T.Files.size(), 2u);
  EXPECT_EQ(T.Tensors.size(), 4u);
}

TEST(SafeTensorsReader, FolderSingleFile) {
  TempDir Dir;
  SafeTensorsBuilder B;
  B.add("w", "F32", {2});
  B.write(Dir.file("model.safetensors"));
  B.write(Dir.file("other.safetensors")); // ignored: model.safetensors wins
  TensorTable T = read(readSafeTensorsFolder(Dir.path()));
  ASSERT_EQ(T.Files.size(), 1u);
  EXPECT_EQ(T.Files[0], Dir.file("model.safetensors"));
}

TEST(SafeTensorsReader, FolderOfLooseFiles) {
  TempDir Dir;
  SafeTensorsBuilder A, B;
  A.add("a", "F32", {2});
  B.add("b", "F16", {2});
  B.write(Dir.file("b.safetensors"));
  A.write(Dir.file("a.safetensors"));
  writeFile(Dir.file("config.json"), "{}");
  TensorTable T = read(readSafeTensorsFolder(Dir.path()));
  ASSERT_EQ(T.Files.size(), 2u);
  EXPECT_EQ(T.Files[0], Dir.file("a.safetensors"));
  EXPECT_EQ(T.Files[1], Dir.file("b.safetensors"));
  ASSERT_EQ(T.Tensors.size(), 2u);
  EXPECT_EQ(T.Tensors[1].Name, "b");
  EXPECT_EQ(T.Tensors[1].File, 1u);

  // The same name in two loose files is ambiguous.
  A.write(Dir.file("c.safetensors"));
  EXPECT_EQ(errorOf(readSafeTensorsFolder(Dir.path())),
            Dir.path().str() +
                ": tensor 'a' is in both 'a.safetensors' and 'c.safetensors'");
}

TEST(SafeTensorsReader, FolderErrors) {
  TempDir Dir;
  writeFile(Dir.file("config.json"), "{}");
  EXPECT_EQ(errorOf(readSafeTensorsFolder(Dir.path())),
            Dir.path().str() + ": no model.safetensors.index.json, "
                               "model.safetensors or other *.safetensors file");
  EXPECT_EQ(errorOf(readSafeTensorsFolder(Dir.file("config.json"))),
            Dir.file("config.json") + ": not a directory");
}
