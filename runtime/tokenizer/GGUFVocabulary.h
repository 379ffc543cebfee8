//===- GGUFVocabulary.h - The tokenizer stored in a GGUF file ---*- C++ -*-===//
//
// Builds a Tokenizer from the tokenizer.ggml.* metadata of a GGUF file. Only
// SentencePiece vocabularies (tokenizer.ggml.model "llama") are supported.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_TOKENIZER_GGUFVOCABULARY_H
#define STRATA_RUNTIME_TOKENIZER_GGUFVOCABULARY_H

#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace strata::import {
struct GGUFFile;
} // namespace strata::import

namespace strata::runtime {

/// Reads tokenizer.ggml.model (must be "llama"), .tokens, .scores and
/// .token_type (required, one entry per token), .bos_token_id,
/// .eos_token_id and .unknown_token_id (1, 2 and 0 when absent, as llama.cpp
/// assumes for SentencePiece; 0xFFFFFFFF or -1 means none), .add_bos_token
/// and .add_space_prefix (true when absent). Errors start with Path and name
/// the key.
llvm::Expected<Tokenizer> loadTokenizerFromGGUF(const import::GGUFFile &F,
                                                llvm::StringRef Path);

/// The same, reading the metadata of the GGUF file at Path.
llvm::Expected<Tokenizer> loadTokenizerFromGGUF(llvm::StringRef Path);

} // namespace strata::runtime

#endif // STRATA_RUNTIME_TOKENIZER_GGUFVOCABULARY_H
