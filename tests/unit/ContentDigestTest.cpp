//===- ContentDigestTest.cpp - The sampled digest of a checkpoint's bytes -===//

#include "ir/modelfile/ContentDigest.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace strata;
using namespace strata::import;

namespace {

/// A file of Size bytes (byte I is I * 7 mod 251) in a fresh temporary
/// folder, removed with it.
class TempFile {
public:
  explicit TempFile(size_t Size) {
    llvm::SmallString<128> Dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("digest", Dir));
    Folder = std::string(Dir);
    Path = Folder + "/model.bin";
    Bytes.resize(Size);
    for (size_t I = 0; I < Size; ++I)
      Bytes[I] = static_cast<char>(I * 7 % 251);
    write();
  }
  ~TempFile() { llvm::sys::fs::remove_directories(Folder); }

  void write() {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Path, EC);
    ASSERT_FALSE(EC) << EC.message();
    OS.write(Bytes.data(), Bytes.size());
  }

  std::string Folder, Path;
  std::vector<char> Bytes;
};

/// One file, two tensors: a small one (one sample is all of it) and a
/// large one (first, middle and last pages).
TensorTable tableFor(const TempFile &F) {
  TensorTable T;
  T.Files = {F.Path};
  T.FileSizes = {F.Bytes.size()};
  T.Tensors.push_back({"small", ir::DType::F32, {100}, 0, 64, 400});
  T.Tensors.push_back({"large", ir::DType::F32, {65536}, 0, 1024, 262144});
  return T;
}

std::string digestOf(const TensorTable &T) {
  auto D = sampleContentDigest(T);
  EXPECT_TRUE(bool(D)) << (D ? "" : llvm::toString(D.takeError()));
  return D ? *D : "";
}

TEST(ContentDigestTest, SameBytesSameDigest) {
  TempFile F(1024 + 262144);
  std::string A = digestOf(tableFor(F));
  EXPECT_EQ(A.size(), 64u);
  EXPECT_EQ(A, digestOf(tableFor(F)));
}

TEST(ContentDigestTest, ChangesInSampledPagesAndSizesAreSeen) {
  TempFile F(1024 + 262144);
  const std::string Base = digestOf(tableFor(F));
  // A byte in the small tensor, and in the large one's first, middle and
  // last pages.
  for (size_t At : {size_t(64 + 399), size_t(1024), size_t(1024 + 131072),
                    size_t(1024 + 262143)}) {
    SCOPED_TRACE(At);
    F.Bytes[At] ^= 1;
    F.write();
    EXPECT_NE(digestOf(tableFor(F)), Base);
    F.Bytes[At] ^= 1;
    F.write();
    EXPECT_EQ(digestOf(tableFor(F)), Base);
  }
  // A byte appended past every tensor: the file's size differs.
  F.Bytes.push_back(0);
  F.write();
  EXPECT_NE(digestOf(tableFor(F)), Base);
}

TEST(ContentDigestTest, BytesNoSampleCoversAreNot) {
  // The documented limit: a change between the large tensor's samples.
  TempFile F(1024 + 262144);
  const std::string Base = digestOf(tableFor(F));
  F.Bytes[1024 + 65536] ^= 1;
  F.write();
  EXPECT_EQ(digestOf(tableFor(F)), Base);
}

TEST(ContentDigestTest, ATensorPastTheEndIsAnError) {
  TempFile F(1024 + 262144);
  TensorTable T = tableFor(F);
  F.Bytes.resize(1024 + 1000);
  F.write();
  auto D = sampleContentDigest(T);
  ASSERT_FALSE(bool(D));
  EXPECT_EQ(llvm::toString(D.takeError()),
            F.Path + ": tensor 'large' (bytes 1024 to 263168) runs past the "
                     "end of the file (2024 bytes)");
  T.Files = {F.Folder + "/missing.bin"};
  D = sampleContentDigest(T);
  ASSERT_FALSE(bool(D));
  EXPECT_NE(llvm::toString(D.takeError()).find("missing.bin: "),
            std::string::npos);
}

} // namespace
