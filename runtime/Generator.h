//===- Generator.h - Text generation over an executor -----------*- C++ -*-===//
//
// Feeds a prompt through the plan's programs and samples what follows:
// full prefill chunks first, then the rest of the prompt and every new
// token one decode step at a time. Greedy at temperature 0 (the plan's own
// argmax), otherwise temperature, top-k and top-p sampling with a seed.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_GENERATOR_H
#define STRATA_RUNTIME_GENERATOR_H

#include "runtime/Executor.h"

#include <random>

namespace strata::runtime {

struct SamplingOptions {
  double Temperature = 0; ///< 0: greedy.
  int64_t TopK = 0;       ///< 0: all tokens.
  double TopP = 1;        ///< 1: all tokens.
  uint64_t Seed = 0;
};

struct GenerationStats {
  uint64_t PrefillTokens = 0, PrefillRuns = 0, DecodeRuns = 0;
  double PrefillSeconds = 0, DecodeSeconds = 0;
};

class Generator {
public:
  Generator(Executor &X, SamplingOptions O);

  /// Feeds Prompt (at least one token) and returns the first new token.
  llvm::Expected<int32_t> start(llvm::ArrayRef<int32_t> Prompt);
  /// Feeds the last token chosen and returns the next one.
  llvm::Expected<int32_t> next(int32_t Token);

  /// Positions used so far, and the most the KV cache holds.
  int64_t getPosition() const { return Position; }
  int64_t getContext() const { return X.getContext(); }
  const GenerationStats &getStats() const { return Stats; }

private:
  llvm::Expected<int32_t> step(llvm::StringRef Program,
                               llvm::ArrayRef<int32_t> Tokens);
  int32_t choose(int32_t Greedy, std::vector<float> &Logits);

  Executor &X;
  SamplingOptions Opts;
  std::mt19937_64 Rng;
  int64_t Position = 0;
  GenerationStats Stats;
};

} // namespace strata::runtime

#endif // STRATA_RUNTIME_GENERATOR_H
