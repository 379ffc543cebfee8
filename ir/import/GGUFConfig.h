//===- GGUFConfig.h - A GGUF file's metadata as a ModelConfig ---*- C++ -*-===//
//
// What the lowering needs to know of a model, read from the metadata of a
// GGUF file (ir/modelfile/GGUFReader.h reads the file).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_IMPORT_GGUFCONFIG_H
#define STRATA_IR_IMPORT_GGUFCONFIG_H

#include "ir/import/ModelConfig.h"
#include "ir/modelfile/GGUFReader.h"

#include "llvm/Support/Error.h"

namespace strata::import {

/// The hyperparameters of a llama-family GGUF file: general.architecture
/// "llama" (with {arch}.expert_count: Mixtral), "qwen2" or "qwen2moe", read
/// from the {arch}.* keys and the tensor table (tied embeddings when there is
/// no output.weight, q/k/v biases when blk.0.attn_q.bias exists). Fails
/// naming the file when the architecture is unsupported, a key is missing or
/// has the wrong type, or ModelConfig::validate() rejects the result.
llvm::Expected<ModelConfig> modelConfigFromGGUF(const GGUFFile &F);

} // namespace strata::import

#endif // STRATA_IR_IMPORT_GGUFCONFIG_H
