//===- Presets.h - Published model configurations ---------------*- C++ -*-===//
//
// Real, published configurations (from each model's config.json), so that a
// model can be planned with no file at all: `preset:llama3-70b`. Each keeps
// its published parameter count, which the tests check the lowering against.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_PRESETS_H
#define STRATA_IR_IMPORT_PRESETS_H

#include "ir/import/ModelConfig.h"

#include "llvm/ADT/ArrayRef.h"

namespace strata::import {

struct ModelPreset {
  llvm::StringLiteral Name;
  llvm::StringLiteral Source; ///< The checkpoint the values come from.
  uint64_t PublishedParameters;
  ModelConfig Config;
};

llvm::ArrayRef<ModelPreset> allModelPresets();
/// The preset called Name (without the "preset:" prefix), or an error that
/// lists the known ones.
llvm::Expected<const ModelPreset *> findModelPreset(llvm::StringRef Name);

} // namespace strata::import

#endif // STRATA_IR_IMPORT_PRESETS_H
