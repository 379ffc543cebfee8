//===- ContentDigest.cpp - A cheap digest of a checkpoint's bytes ---------===//

#include "ir/modelfile/ContentDigest.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/SHA256.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace strata::import {

namespace {

void hashWord(llvm::SHA256 &Hash, uint64_t Word) {
  uint8_t Bytes[8];
  llvm::support::endian::write64le(Bytes, Word);
  Hash.update(llvm::ArrayRef<uint8_t>(Bytes));
}

llvm::Error digestError(const std::string &File, const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 File + ": " + Msg);
}

/// A file opened for reading, closed when it goes out of scope.
struct OpenFile {
  llvm::sys::fs::file_t Handle = llvm::sys::fs::kInvalidFile;
  OpenFile() = default;
  OpenFile(const OpenFile &) = delete;
  OpenFile &operator=(const OpenFile &) = delete;
  ~OpenFile() {
    if (Handle != llvm::sys::fs::kInvalidFile)
      llvm::sys::fs::closeFile(Handle);
  }
};

} // namespace

llvm::Expected<std::string> sampleContentDigest(const TensorTable &T) {
  llvm::SHA256 Hash;
  Hash.update(llvm::StringRef("strata-content-digest-1"));
  std::vector<OpenFile> Files(T.Files.size());
  std::vector<uint64_t> Sizes(T.Files.size(), 0);
  hashWord(Hash, T.Files.size());
  for (size_t F = 0; F < T.Files.size(); ++F) {
    auto Handle = llvm::sys::fs::openNativeFileForRead(T.Files[F]);
    if (!Handle)
      return digestError(T.Files[F], llvm::toString(Handle.takeError()));
    Files[F].Handle = *Handle;
    llvm::sys::fs::file_status Status;
    if (std::error_code EC = llvm::sys::fs::status(*Handle, Status))
      return digestError(T.Files[F], EC.message());
    Sizes[F] = Status.getSize();
    hashWord(Hash, Sizes[F]);
  }

  std::vector<char> Sample(ContentSampleBytes);
  for (const TensorDesc &D : T.Tensors) {
    if (D.File >= Files.size())
      return digestError("tensor '" + D.Name + "'",
                         "refers to file " + llvm::Twine(D.File) + " of " +
                             llvm::Twine(Files.size()));
    const std::string &Path = T.Files[D.File];
    if (D.Offset > Sizes[D.File] || D.Bytes > Sizes[D.File] - D.Offset)
      return digestError(Path, "tensor '" + D.Name + "' (bytes " +
                                   llvm::Twine(D.Offset) + " to " +
                                   llvm::Twine(D.Offset + D.Bytes) +
                                   ") runs past the end of the file (" +
                                   llvm::Twine(Sizes[D.File]) + " bytes)");
    hashWord(Hash, D.Name.size());
    Hash.update(llvm::StringRef(D.Name));
    hashWord(Hash, D.Offset);
    hashWord(Hash, D.Bytes);
    // First, middle and last pages: a partial write or a re-export almost
    // always touches one of them.
    uint64_t Len = std::min(D.Bytes, ContentSampleBytes);
    uint64_t Starts[] = {0, (D.Bytes - Len) / 2, D.Bytes - Len};
    for (size_t I = 0; I < 3; ++I) {
      if (I > 0 && Starts[I] == Starts[I - 1])
        continue;
      size_t Done = 0;
      while (Done < Len) {
        auto Read = llvm::sys::fs::readNativeFileSlice(
            Files[D.File].Handle,
            llvm::MutableArrayRef<char>(Sample.data() + Done, Len - Done),
            D.Offset + Starts[I] + Done);
        if (!Read)
          return digestError(Path, llvm::toString(Read.takeError()));
        if (*Read == 0)
          return digestError(Path,
                             "ended while reading tensor '" + D.Name + "'");
        Done += *Read;
      }
      Hash.update(llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(Sample.data()), Len));
    }
  }
  return llvm::toHex(Hash.final(), /*LowerCase=*/true);
}

} // namespace strata::import
