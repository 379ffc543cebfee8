//===- HFConfig.h - Hugging Face config.json to ModelConfig -----*- C++ -*-===//
//
// Reads the config.json of a Hugging Face checkpoint for one of the
// supported architectures (model_type llama, mistral, qwen2, mixtral,
// qwen2_moe, deepseek_v3). Keys that would change the computation but that
// ModelConfig cannot express (another activation, attention biases beyond
// q/k/v, sparse-step MoE layouts, unknown RoPE scalings) are errors rather
// than silently ignored; keys that only matter for training are ignored.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_HFCONFIG_H
#define STRATA_IR_IMPORT_HFCONFIG_H

#include "ir/import/ModelConfig.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace strata::import {

/// Parses a config.json's text. Path names the file in messages, and its
/// folder's name becomes ModelConfig::Name. The result has Naming =
/// HuggingFace and has passed ModelConfig::validate(). RopeNeoX is true
/// except for DeepSeek-V3, whose checkpoints keep RoPE dimensions
/// interleaved (its config's rope_interleave, true by default).
llvm::Expected<ModelConfig> parseHFConfig(llvm::StringRef JsonText,
                                          llvm::StringRef Path);

/// Reads and parses the config.json at Path.
llvm::Expected<ModelConfig> readHFConfig(llvm::StringRef Path);

} // namespace strata::import

#endif // STRATA_IR_IMPORT_HFCONFIG_H
