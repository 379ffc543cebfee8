//===- ModelSource.cpp - Open a model from what the user names ------------===//

#include "ir/import/ModelSource.h"

#include "ir/import/GGUFConfig.h"
#include "ir/import/HFConfig.h"
#include "ir/import/Presets.h"
#include "ir/modelfile/GGUFReader.h"
#include "ir/modelfile/SafeTensorsReader.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace strata::import {

llvm::StringRef getFormatName(ModelSource::Format F) {
  switch (F) {
  case ModelSource::Format::Preset:
    return "preset";
  case ModelSource::Format::GGUF:
    return "gguf";
  case ModelSource::Format::HuggingFace:
    return "huggingface";
  }
  llvm_unreachable("unknown format");
}

static llvm::Error sourceError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// Whether Dir holds safetensors weights (an index or any .safetensors).
static bool hasSafeTensors(llvm::StringRef Dir) {
  std::error_code EC;
  for (llvm::sys::fs::directory_iterator It(Dir, EC), End; It != End && !EC;
       It.increment(EC))
    if (llvm::sys::path::extension(It->path()) == ".safetensors" ||
        llvm::sys::path::filename(It->path()) == "model.safetensors.index.json")
      return true;
  return false;
}

static llvm::Expected<ModelSource> openHuggingFace(llvm::StringRef Spec,
                                                   llvm::StringRef Dir,
                                                   llvm::StringRef Config) {
  ModelSource S;
  S.Kind = ModelSource::Format::HuggingFace;
  S.Location = Spec.str();
  auto C = readHFConfig(Config);
  if (!C)
    return C.takeError();
  S.Config = std::move(*C);
  if (hasSafeTensors(Dir)) {
    auto T = readSafeTensorsFolder(Dir);
    if (!T)
      return T.takeError();
    S.Tensors = std::move(*T);
    S.Origin = (Config + " and its safetensors").str();
  } else {
    S.Origin = (Config + " (no weights beside it: planning from the "
                         "configuration alone)")
                   .str();
  }
  return S;
}

llvm::Expected<ModelSource> openModel(llvm::StringRef Spec) {
  if (Spec.consume_front("preset:")) {
    auto P = findModelPreset(Spec);
    if (!P)
      return P.takeError();
    ModelSource S;
    S.Kind = ModelSource::Format::Preset;
    S.Location = Spec.str();
    S.Origin = ("built-in preset of " + (*P)->Source).str();
    S.Config = (*P)->Config;
    S.PublishedParameters = (*P)->PublishedParameters;
    return S;
  }
  if (Spec.empty())
    return sourceError("no model given: name a .gguf file, a checkpoint "
                       "folder, a config.json or preset:NAME");
  if (!llvm::sys::fs::exists(Spec))
    return sourceError(Spec + ": no such file or folder (for a built-in "
                              "model write preset:NAME)");
  if (llvm::sys::fs::is_directory(Spec)) {
    llvm::SmallString<256> Config(Spec);
    llvm::sys::path::append(Config, "config.json");
    if (!llvm::sys::fs::exists(Config))
      return sourceError(Spec + ": the folder has no config.json, so it is "
                                "not a Hugging Face checkpoint");
    return openHuggingFace(Spec, Spec, Config);
  }
  llvm::StringRef Name = llvm::sys::path::filename(Spec);
  if (Name.endswith(".json"))
    return openHuggingFace(Spec,
                           llvm::sys::path::parent_path(Spec).empty()
                               ? "."
                               : llvm::sys::path::parent_path(Spec),
                           Spec);
  if (Name.endswith(".gguf")) {
    auto F = readGGUFFile(Spec);
    if (!F)
      return F.takeError();
    auto C = modelConfigFromGGUF(*F);
    if (!C)
      return C.takeError();
    ModelSource S;
    S.Kind = ModelSource::Format::GGUF;
    S.Location = Spec.str();
    S.Origin = ("GGUF v" + llvm::Twine(F->Version) + " file " + Spec).str();
    S.Config = std::move(*C);
    S.Tensors = std::move(F->Tensors);
    return S;
  }
  return sourceError(Spec + ": not a .gguf file, a checkpoint folder, a "
                            "config.json or preset:NAME");
}

} // namespace strata::import
