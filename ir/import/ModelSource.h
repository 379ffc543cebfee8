//===- ModelSource.h - Open a model from what the user names ----*- C++ -*-===//
//
// MODEL on the command line is `preset:NAME`, a .gguf file, a Hugging Face
// checkpoint folder (config.json and safetensors), or a config.json. This
// reads its configuration and tensor table (headers only) into one value.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_MODELSOURCE_H
#define STRATA_IR_IMPORT_MODELSOURCE_H

#include "ir/import/ModelConfig.h"
#include "ir/modelfile/TensorTable.h"

#include <optional>

namespace strata::import {

struct ModelSource {
  enum class Format { Preset, GGUF, HuggingFace };
  Format Kind = Format::Preset;
  std::string Location; ///< The preset name or the path given.
  std::string Origin;   ///< Where the values come from, for reports.
  ModelConfig Config;
  /// The checkpoint's tensors; none for presets and a config.json without
  /// safetensors beside it (planning from the configuration alone).
  std::optional<TensorTable> Tensors;
  uint64_t PublishedParameters = 0; ///< Presets only.
};

llvm::StringRef getFormatName(ModelSource::Format F);

llvm::Expected<ModelSource> openModel(llvm::StringRef Spec);

} // namespace strata::import

#endif // STRATA_IR_IMPORT_MODELSOURCE_H
