//===- OutputFile.cpp - Write outputs whole or not at all -----------------===//

#include "OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace strata::tool {

llvm::Error
writeOutputFile(llvm::StringRef Path,
                llvm::function_ref<llvm::Error(llvm::raw_ostream &)> Write) {
  if (Path == "-") {
    if (llvm::Error E = Write(llvm::outs()))
      return E;
    llvm::outs().flush();
    return llvm::Error::success();
  }
  auto Temp = llvm::sys::fs::TempFile::create(Path + ".tmp-%%%%%%");
  if (!Temp)
    return llvm::createFileError(Path, Temp.takeError());
  llvm::Error Result = [&]() -> llvm::Error {
    llvm::raw_fd_ostream OS(Temp->FD, /*shouldClose=*/false);
    if (llvm::Error E = Write(OS))
      return E;
    OS.flush();
    if (OS.has_error())
      return llvm::createFileError(Path, llvm::errorCodeToError(OS.error()));
    return llvm::Error::success();
  }();
  if (Result)
    return llvm::joinErrors(std::move(Result), Temp->discard());
  if (llvm::Error E = Temp->keep(Path))
    return llvm::createFileError(Path, std::move(E));
  return llvm::Error::success();
}

} // namespace strata::tool
