//===- Generator.cpp - Text generation over an executor -------------------===//

#include "runtime/Generator.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace strata::runtime {

Generator::Generator(Executor &X, SamplingOptions O)
    : X(X), Opts(O), Rng(O.Seed) {}

llvm::Expected<int32_t> Generator::step(llvm::StringRef Program,
                                        llvm::ArrayRef<int32_t> Tokens) {
  int64_t N = Tokens.size();
  if (Position + N > X.getContext())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("the context is full: {0} tokens of {1} (compile the "
                      "plan with a larger --context)",
                      Position, X.getContext()));
  std::vector<int32_t> Pos(N);
  std::iota(Pos.begin(), Pos.end(), static_cast<int32_t>(Position));
  std::vector<int32_t> Greedy;
  std::vector<float> Logits;
  bool Sample = Opts.Temperature > 0;
  auto Begin = std::chrono::steady_clock::now();
  if (llvm::Error E =
          X.run(Program, Tokens, Pos, Greedy, Sample ? &Logits : nullptr))
    return E;
  double Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Begin)
          .count();
  if (Program == "prefill") {
    Stats.PrefillSeconds += Seconds;
    ++Stats.PrefillRuns;
    Stats.PrefillTokens += N;
  } else {
    Stats.DecodeSeconds += Seconds;
    ++Stats.DecodeRuns;
  }
  Position += N;
  if (Greedy.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   Program + " returned no token");
  return choose(Greedy[0], Logits);
}

int32_t Generator::choose(int32_t Greedy, std::vector<float> &Logits) {
  if (Opts.Temperature <= 0 || Logits.empty())
    return Greedy;
  // Softmax at the temperature, then the top-k most likely, then the
  // smallest set of them whose probability reaches top-p.
  std::vector<int32_t> Ids(Logits.size());
  std::iota(Ids.begin(), Ids.end(), 0);
  std::stable_sort(Ids.begin(), Ids.end(),
                   [&](int32_t A, int32_t B) { return Logits[A] > Logits[B]; });
  size_t Keep = Ids.size();
  if (Opts.TopK > 0)
    Keep = std::min<size_t>(Keep, Opts.TopK);
  double Max = Logits[Ids[0]];
  std::vector<double> P(Keep);
  double Sum = 0;
  for (size_t I = 0; I < Keep; ++I)
    Sum += P[I] = std::exp((Logits[Ids[I]] - Max) / Opts.Temperature);
  double Acc = 0;
  size_t Cut = Keep;
  for (size_t I = 0; I < Keep; ++I) {
    Acc += P[I] / Sum;
    if (Acc >= Opts.TopP) {
      Cut = I + 1;
      break;
    }
  }
  std::discrete_distribution<size_t> Pick(P.begin(), P.begin() + Cut);
  return Ids[Pick(Rng)];
}

llvm::Expected<int32_t> Generator::start(llvm::ArrayRef<int32_t> Prompt) {
  if (Prompt.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the prompt has no tokens");
  if (X.getBatch() != 1)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("the plan decodes {0} sequences at once; generation "
                      "takes a plan compiled with --batch 1",
                      X.getBatch()));
  // Whole prefill chunks, then one token at a time: a shorter chunk would
  // leave the prefill program's last position on padding.
  int64_t Chunk = X.getTokensPerRun("prefill");
  size_t At = 0;
  int32_t Next = 0;
  while (Chunk > 0 && Prompt.size() - At >= static_cast<size_t>(Chunk)) {
    auto T = step("prefill", Prompt.slice(At, Chunk));
    if (!T)
      return T.takeError();
    Next = *T;
    At += Chunk;
  }
  for (; At < Prompt.size(); ++At) {
    auto T = step("decode", Prompt.slice(At, 1));
    if (!T)
      return T.takeError();
    Next = *T;
  }
  return Next;
}

llvm::Expected<int32_t> Generator::next(int32_t Token) {
  return step("decode", llvm::ArrayRef<int32_t>(Token));
}

} // namespace strata::runtime
