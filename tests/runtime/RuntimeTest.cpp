//===- RuntimeTest.cpp - Whole models run against a reference -------------===//
//
// Compiles real models for 1, 2 and 4 CPU virtual devices with the pipeline
// and tensor strategies, runs greedy generation through the plan (after a
// round trip through its JSON, which is what `strata run` reads), and holds
// every run to two standards: the tokens are the same whatever the layout,
// and every run's logits match ReferenceLlama, a double-precision forward
// pass that shares no code with the runtime.
//
// Models: the bundled stories260K (trained, f32, GGUF "normal" RoPE), the
// same weights exported as a Hugging Face f32 checkpoint (q/k rows moved to
// the "neox" halves layout), and a random bf16 Hugging Face Llama written
// here. Beyond greedy generation: two sequences batched at different
// positions, generation up to the last cache row, bad inputs, and prefill
// outputs read after the end-of-prefill cleanup point.
//
//===----------------------------------------------------------------------===//

#include "ReferenceLlama.h"

#include "ir/cluster/Cluster.h"
#include "ir/import/Lowering.h"
#include "ir/import/ModelSource.h"
#include "ir/import/ModelStats.h"
#include "ir/plan/Plan.h"
#include "passes/CompilePlan.h"
#include "runtime/BackendFactory.h"
#include "runtime/DeviceMap.h"
#include "runtime/Executor.h"
#include "runtime/Generator.h"
#include "runtime/cpu/CpuBackend.h"
#include "runtime/tokenizer/GGUFVocabulary.h"
#include "tests/unit/SafeTensorsWriter.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

namespace strata {
namespace {

template <typename T> T unwrap(llvm::Expected<T> E) {
  if (!E) {
    ADD_FAILURE() << llvm::toString(E.takeError());
    std::abort();
  }
  return std::move(*E);
}

const char *const StoriesPath = STRATA_SHARED_DIR "/models/stories260K.gguf";

/// Tokens generated per prompt; with the prompts below the longest sequence
/// stays well inside the context the plans are compiled for.
constexpr unsigned NewTokens = 30;
constexpr int64_t Context = 96;
/// Small, so that prompts of a few words already take whole prefill runs
/// and the decode program finishes them.
constexpr int64_t PrefillChunk = 8;

//===----------------------------------------------------------------------===//
// Compiling and loading
//===----------------------------------------------------------------------===//

/// Devices and placement strategy of one run.
struct Layout {
  unsigned Devices;
  const char *Strategy;
};

std::string describe(const Layout &L) {
  return std::to_string(L.Devices) + "x" + L.Strategy;
}
void PrintTo(const Layout &L, std::ostream *OS) { *OS << describe(L); }

/// The CPU backend, except that bytes handed back with releaseTail are
/// overwritten (with 0xff: NaN as floats) instead of returned to the
/// system. Released bytes are the backend's to give to another user, and
/// whatever that user writes is what a later read of them finds; this makes
/// such a read show every time, where madvise shows it only when a whole
/// page of it lies past the kept bytes, which depends on where the region
/// happens to start.
class ScribblingBackend final : public runtime::Backend {
public:
  ScribblingBackend(std::vector<uint64_t> Caps, runtime::CpuBackend::Options O)
      : Inner(std::move(Caps), std::move(O)) {}

  llvm::StringRef getName() const override { return Inner.getName(); }
  plan::DeviceKind getDeviceKind() const override {
    return Inner.getDeviceKind();
  }
  unsigned getNumDevices() const override { return Inner.getNumDevices(); }
  llvm::Expected<void *> allocate(unsigned D, uint64_t Bytes,
                                  llvm::StringRef What) override {
    return Inner.allocate(D, Bytes, What);
  }
  void deallocate(unsigned D, void *P) override { Inner.deallocate(D, P); }
  uint64_t getAllocatedBytes(unsigned D) const override {
    return Inner.getAllocatedBytes(D);
  }
  std::optional<unsigned> findDevice(const void *P) const override {
    return Inner.findDevice(P);
  }
  llvm::Error copyToDevice(unsigned D, void *Dst, const void *Src,
                           uint64_t Bytes) override {
    return Inner.copyToDevice(D, Dst, Src, Bytes);
  }
  llvm::Error copyFromDevice(unsigned D, void *Dst, const void *Src,
                             uint64_t Bytes) override {
    return Inner.copyFromDevice(D, Dst, Src, Bytes);
  }
  llvm::Error readF32(unsigned D, const runtime::TensorView &T,
                      float *Out) override {
    return Inner.readF32(D, T, Out);
  }
  llvm::Expected<std::unique_ptr<runtime::PreparedProgram>>
  prepare(runtime::BoundProgram P) override {
    return Inner.prepare(std::move(P));
  }
  llvm::Error run(runtime::PreparedProgram &P) override { return Inner.run(P); }
  void synchronize() override { Inner.synchronize(); }
  uint64_t releaseTail(unsigned, void *Region, uint64_t Keep,
                       uint64_t Size) override {
    std::memset(static_cast<char *>(Region) + Keep, 0xff, Size - Keep);
    ++Releases;
    return Size - Keep;
  }
  void setStepObserver(runtime::StepObserver O) override {
    Inner.setStepObserver(std::move(O));
  }

  unsigned Releases = 0;

private:
  runtime::CpuBackend Inner;
};

/// A plan compiled for one layout and loaded onto CPU virtual devices.
class Deployment {
public:
  static std::unique_ptr<Deployment> create(const import::ModelSource &Source,
                                            const Layout &L, int64_t Batch = 1,
                                            int64_t Ctx = Context,
                                            bool Scribble = false);

  runtime::Executor &executor() { return *X; }
  const plan::Plan &getPlan() const { return *Plan; }
  std::shared_ptr<const plan::Plan> sharePlan() const { return Plan; }
  /// The backend, when it is a ScribblingBackend.
  ScribblingBackend *getScribbler() const { return Scribbler; }

private:
  std::shared_ptr<const plan::Plan> Plan;
  std::unique_ptr<runtime::Backend> Backend;
  ScribblingBackend *Scribbler = nullptr;
  std::unique_ptr<runtime::Executor> X;
};

/// The plan `strata compile` would write for L, read back from its JSON
/// (what `strata run` reads).
std::shared_ptr<const plan::Plan> compile(const import::ModelSource &S,
                                          const Layout &L, int64_t Batch = 1,
                                          int64_t Ctx = Context,
                                          int64_t Prefill = PrefillChunk) {
  import::LoweringOptions LO;
  LO.Batch = Batch;
  LO.Context = Ctx;
  LO.PrefillTokens = Prefill;
  ir::Graph G = unwrap(import::lowerModel(S.Config, &*S.Tensors, LO));
  import::ModelStats Stats = unwrap(import::computeWeightStats(G));
  // Room for everything on every device, so that placement follows the
  // strategy rather than running out of memory.
  cluster::Cluster C = unwrap(
      cluster::parseClusterSpec("cpu:" + std::to_string(L.Devices) + "x16MiB"));

  passes::CompileRequest R;
  R.Options.Strategy = L.Strategy;
  R.Options.NoOffload = true;
  R.Model.Name = S.Config.Name;
  R.Model.Source = S.Location;
  R.Model.Format = import::getFormatName(S.Kind).str();
  R.Model.Parameters = Stats.Parameters;
  R.Model.WeightBytes = Stats.WeightBytes;
  R.Model.Layers = S.Config.Layers;
  passes::CompileResult Compiled = unwrap(passes::compilePlan(G, C, R));

  // What runs is what the plan file says, as for `strata run`.
  std::string Text = plan::planToString(Compiled.Plan);
  auto P = std::make_shared<const plan::Plan>(
      unwrap(plan::parsePlan(Text, "plan.json")));
  EXPECT_EQ(plan::planToString(*P), Text) << "the plan's JSON round trip";
  return P;
}

/// What each plan device may use of its device (as `strata run` gives),
/// on the backend device Map gives it (empty: the same index).
std::vector<uint64_t> capsFor(const plan::Plan &P,
                              llvm::ArrayRef<unsigned> Map = {},
                              unsigned Devices = 0) {
  std::vector<uint64_t> Caps(std::max<size_t>(Devices, P.Devices.size()), 0);
  for (const plan::Device &Dev : P.Devices)
    Caps[Map.empty() ? Dev.Index : Map[Dev.Index]] =
        Dev.CapacityBytes - std::min(Dev.CapacityBytes, Dev.ReserveBytes);
  return Caps;
}

std::unique_ptr<Deployment> Deployment::create(const import::ModelSource &S,
                                               const Layout &L, int64_t Batch,
                                               int64_t Ctx, bool Scribble) {
  std::unique_ptr<Deployment> D(new Deployment);
  D->Plan = compile(S, L, Batch, Ctx);
  // Each device gets what the plan may use of it, as `strata run` gives.
  std::vector<uint64_t> Caps = capsFor(*D->Plan);
  runtime::CpuBackend::Options BO;
  BO.ThreadsPerDevice = 2; // several kernel threads, on any machine
  if (Scribble) {
    auto B = std::make_unique<ScribblingBackend>(Caps, BO);
    D->Scribbler = B.get();
    D->Backend = std::move(B);
  } else {
    D->Backend = std::make_unique<runtime::CpuBackend>(Caps, BO);
  }
  D->X = unwrap(runtime::Executor::create(D->Plan, *S.Tensors, *D->Backend));
  if (llvm::Error E = D->X->load()) {
    ADD_FAILURE() << describe(L) << ": " << llvm::toString(std::move(E));
    std::abort();
  }
  return D;
}

/// The plan and the loaded executor put the model where the layout says:
/// weights on every device, split tensors under the tensor strategy, and
/// nothing found anywhere but where it was planned.
void expectLayout(Deployment &D, const Layout &L) {
  const plan::Plan &P = D.getPlan();
  ASSERT_EQ(P.Devices.size(), L.Devices);
  EXPECT_TRUE(P.Fallbacks.empty());
  EXPECT_EQ(P.MultiDevice, L.Devices > 1);
  if (L.Devices > 1) {
    EXPECT_EQ(P.Strategy, L.Strategy);
  }
  bool Split = llvm::any_of(P.Buffers, [](const plan::Buffer &B) {
    return B.Kind == plan::BufferKind::Weight && B.ShardInfo;
  });
  EXPECT_EQ(Split, L.Devices > 1 && llvm::StringRef(L.Strategy) == "tensor");
  std::vector<runtime::DeviceContents> Found = D.executor().findContents();
  ASSERT_EQ(Found.size(), L.Devices);
  for (unsigned I = 0; I < L.Devices; ++I) {
    EXPECT_GT(Found[I].Weights, 0u) << "device " << I;
    EXPECT_GT(Found[I].KVCaches, 0u) << "device " << I;
    EXPECT_EQ(Found[I].Misplaced, 0u) << "device " << I;
  }
}

//===----------------------------------------------------------------------===//
// Generating
//===----------------------------------------------------------------------===//

/// One greedy generation, run by run: every run's last position, logits
/// and greedy token, and the tokens generated.
struct Trace {
  std::vector<int64_t> Positions;
  std::vector<std::vector<float>> Logits;
  std::vector<int32_t> Chosen;
  std::vector<int32_t> Generated;
  unsigned PrefillRuns = 0, DecodeRuns = 0;
};

/// Feeds Prompt as the Generator does (whole prefill chunks, then one
/// decode run per remaining token) and generates Count tokens, keeping
/// what every run returns.
llvm::Expected<Trace> generate(runtime::Executor &X,
                               llvm::ArrayRef<int32_t> Prompt,
                               unsigned Count = NewTokens) {
  Trace T;
  int64_t Pos = 0;
  auto Run = [&](llvm::StringRef Program,
                 llvm::ArrayRef<int32_t> Tokens) -> llvm::Expected<int32_t> {
    std::vector<int32_t> Positions(Tokens.size());
    std::iota(Positions.begin(), Positions.end(), static_cast<int32_t>(Pos));
    std::vector<int32_t> Next;
    std::vector<float> Logits;
    if (llvm::Error E = X.run(Program, Tokens, Positions, Next, &Logits))
      return E;
    if (Next.size() != 1)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     Program + " returned " +
                                         llvm::Twine(Next.size()) + " tokens");
    Pos += Tokens.size();
    T.Positions.push_back(Pos - 1);
    T.Logits.push_back(std::move(Logits));
    T.Chosen.push_back(Next[0]);
    ++(Program == "prefill" ? T.PrefillRuns : T.DecodeRuns);
    return Next[0];
  };
  const size_t Chunk = X.getTokensPerRun("prefill");
  size_t At = 0;
  int32_t Next = 0;
  for (; Prompt.size() - At >= Chunk; At += Chunk) {
    auto N = Run("prefill", Prompt.slice(At, Chunk));
    if (!N)
      return N.takeError();
    Next = *N;
  }
  for (; At < Prompt.size(); ++At) {
    auto N = Run("decode", Prompt.slice(At, 1));
    if (!N)
      return N.takeError();
    Next = *N;
  }
  T.Generated.push_back(Next);
  while (T.Generated.size() < Count) {
    auto N = Run("decode", llvm::ArrayRef<int32_t>(Next));
    if (!N)
      return N.takeError();
    Next = *N;
    T.Generated.push_back(Next);
  }
  return T;
}

/// The same generation through runtime::Generator, tokens only.
llvm::Expected<std::vector<int32_t>>
generateWithGenerator(runtime::Executor &X, llvm::ArrayRef<int32_t> Prompt) {
  runtime::Generator Gen(X, runtime::SamplingOptions{});
  std::vector<int32_t> Out;
  auto First = Gen.start(Prompt);
  if (!First)
    return First.takeError();
  Out.push_back(*First);
  while (Out.size() < NewTokens) {
    auto N = Gen.next(Out.back());
    if (!N)
      return N.takeError();
    Out.push_back(*N);
  }
  return Out;
}

//===----------------------------------------------------------------------===//
// Comparing
//===----------------------------------------------------------------------===//

/// The largest differences seen, for the summary each test prints.
struct Agreement {
  double MaxAbs = 0;    ///< max |runtime - reference| over all logits
  double MaxScaled = 0; ///< the same, over the position's max |logit|
  unsigned Runs = 0, NearTies = 0;

  void print(llvm::StringRef What) const {
    llvm::outs() << llvm::formatv("{0}: {1} runs, max |logit diff| {2:e2}, "
                                  "{3:e2} of the logit scale; {4} near ties\n",
                                  What, Runs, MaxAbs, MaxScaled, NearTies);
  }
};

/// Checks every run of T against the reference logits of Seq, the tokens
/// it ran on (position by position). Tol is relative to the position's logit
/// scale (its largest |logit|). The greedy token must then be the reference's
/// argmax unless another token's reference logit is within 2 * Diff of the
/// maximum (Diff the run's largest logit difference): logits that far from the
/// reference may order such a pair either way.
void expectMatchesReference(const Trace &T, llvm::ArrayRef<int32_t> Seq,
                            const test::ReferenceLlama &Ref, double Tol,
                            Agreement &A) {
  std::vector<std::vector<double>> Expected = Ref.forward(Seq);
  for (size_t R = 0; R < T.Positions.size(); ++R) {
    SCOPED_TRACE(
        llvm::formatv("run {0}, position {1}", R, T.Positions[R]).str());
    const std::vector<double> &E = Expected[T.Positions[R]];
    const std::vector<float> &L = T.Logits[R];
    ASSERT_EQ(L.size(), E.size());
    double Scale = 0, Diff = 0, Max = -INFINITY;
    unsigned NotFinite = 0; // std::max would pass over NaN
    for (size_t I = 0; I < E.size(); ++I) {
      Scale = std::max(Scale, std::fabs(E[I]));
      Diff = std::max(Diff, std::fabs(double(L[I]) - E[I]));
      Max = std::max(Max, E[I]);
      NotFinite += !std::isfinite(L[I]);
    }
    EXPECT_EQ(NotFinite, 0u) << "logits that are NaN or infinite";
    EXPECT_LE(Diff, Tol * Scale);
    A.MaxAbs = std::max(A.MaxAbs, Diff);
    A.MaxScaled = std::max(A.MaxScaled, Diff / Scale);
    ++A.Runs;

    // The plan's argmax is the largest of the logits it returned.
    int32_t Chosen = T.Chosen[R];
    ASSERT_TRUE(Chosen >= 0 && size_t(Chosen) < L.size());
    EXPECT_EQ(L[Chosen], *std::max_element(L.begin(), L.end()));

    int32_t Argmax = std::max_element(E.begin(), E.end()) - E.begin();
    unsigned Close =
        llvm::count_if(E, [&](double V) { return V >= Max - 2 * Diff; });
    if (Close > 1)
      ++A.NearTies;
    if (Close == 1)
      EXPECT_EQ(Chosen, Argmax);
    else
      EXPECT_GE(E[Chosen], Max - 2 * Diff);
  }
}

/// The tokens a generation ran on: the prompt, then each generated token
/// but the last.
std::vector<int32_t> fedTokens(llvm::ArrayRef<int32_t> Prompt, const Trace &T) {
  std::vector<int32_t> Seq(Prompt.begin(), Prompt.end());
  Seq.insert(Seq.end(), T.Generated.begin(), T.Generated.end() - 1);
  return Seq;
}

/// Got must be Want token for token. Where they first differ, the
/// difference is accepted only if the reference had a near tie there (two
/// logits within TieWindow of the scale), and the rest is not compared:
/// the sequences have parted. TieWindow 0 demands identity.
void expectSameTokens(llvm::ArrayRef<int32_t> Want, llvm::ArrayRef<int32_t> Got,
                      llvm::ArrayRef<int32_t> Prompt,
                      const test::ReferenceLlama &Ref, double TieWindow,
                      llvm::StringRef What) {
  ASSERT_EQ(Got.size(), Want.size());
  auto Mismatch = std::mismatch(Want.begin(), Want.end(), Got.begin());
  if (Mismatch.first == Want.end())
    return;
  size_t Step = Mismatch.first - Want.begin();
  std::vector<int32_t> Seq(Prompt.begin(), Prompt.end());
  Seq.insert(Seq.end(), Want.begin(), Want.begin() + Step);
  std::vector<double> E = Ref.forward(Seq).back();
  double Scale = 0, Max = -INFINITY;
  for (double V : E) {
    Scale = std::max(Scale, std::fabs(V));
    Max = std::max(Max, V);
  }
  bool BothClose = E[Want[Step]] >= Max - TieWindow * Scale &&
                   E[Got[Step]] >= Max - TieWindow * Scale;
  EXPECT_TRUE(TieWindow > 0 && BothClose)
      << "tokens differ from step " << Step << ": " << Want[Step] << " vs "
      << Got[Step] << " (reference logits " << E[Want[Step]] << " and "
      << E[Got[Step]] << ", max " << Max << ")";
  if (BothClose)
    llvm::outs() << llvm::formatv(
        "{0}: tokens part at step {1} on a near "
        "tie of the reference: {2} and {3}, max {4}\n",
        What, Step, E[Want[Step]], E[Got[Step]], Max);
}

/// One prompt and what the single-device run made of it.
struct Prompt {
  std::string Name;
  std::vector<int32_t> Tokens;
};

/// Runs every prompt on a deployment of L, checks its tokens against
/// Baseline (when given) and its logits against the reference, and returns
/// the tokens generated per prompt.
std::vector<std::vector<int32_t>>
checkLayout(const import::ModelSource &Source, const Layout &L,
            llvm::ArrayRef<Prompt> Prompts, const test::ReferenceLlama &Ref,
            double Tol, double TieWindow, Agreement &A,
            const std::vector<std::vector<int32_t>> *Baseline = nullptr) {
  SCOPED_TRACE(describe(L));
  std::vector<std::vector<int32_t>> Out;
  std::unique_ptr<Deployment> D = Deployment::create(Source, L);
  expectLayout(*D, L);
  // One executor for all prompts, longest first: later, shorter prompts
  // run over KV-cache rows the earlier ones left, which attention must not
  // see.
  for (size_t I = 0; I < Prompts.size(); ++I) {
    const Prompt &P = Prompts[I];
    SCOPED_TRACE("prompt " + P.Name);
    Trace T = unwrap(generate(D->executor(), P.Tokens));
    size_t WholeChunks = P.Tokens.size() / PrefillChunk;
    EXPECT_EQ(T.PrefillRuns, WholeChunks);
    EXPECT_EQ(T.DecodeRuns,
              P.Tokens.size() - WholeChunks * PrefillChunk + NewTokens - 1);
    expectMatchesReference(T, fedTokens(P.Tokens, T), Ref, Tol, A);
    EXPECT_EQ(unwrap(generateWithGenerator(D->executor(), P.Tokens)),
              T.Generated)
        << "runtime::Generator";
    if (Baseline)
      expectSameTokens((*Baseline)[I], T.Generated, P.Tokens, Ref, TieWindow,
                       describe(L) + ", prompt " + P.Name);
    Out.push_back(std::move(T.Generated));
  }
  return Out;
}

//===----------------------------------------------------------------------===//
// Writing Hugging Face checkpoints
//===----------------------------------------------------------------------===//

/// bfloat16 of F, rounded to nearest even (the inputs are finite).
uint16_t toBFloat16(float F) {
  uint32_t Bits;
  std::memcpy(&Bits, &F, 4);
  Bits += 0x7fff + ((Bits >> 16) & 1);
  return uint16_t(Bits >> 16);
}

/// binary16 of F, rounded to nearest even; F must be below 65504 in
/// magnitude. Computed in double from the format's definition.
uint16_t toHalf(float F) {
  double A = std::fabs(double(F));
  uint16_t Sign = std::signbit(F) ? 0x8000 : 0;
  if (A < std::ldexp(1.0, -14)) // subnormal: a multiple of 2^-24
    return Sign | uint16_t(std::nearbyint(std::ldexp(A, 24)));
  int E = std::ilogb(A); // A = 2^E * (1 + M / 1024)
  double M = std::nearbyint((std::ldexp(A, -E) - 1) * 1024);
  // A mantissa rounded up to 1024 carries into the exponent, as the
  // encoding's addition does by itself.
  return Sign | uint16_t(((E + 15) << 10) + int(M));
}

struct NamedTensor {
  std::string Name;
  std::vector<int64_t> Dims;
  std::vector<float> Values;
};

/// Writes Dir/config.json for a LlamaForCausalLM of shape S and
/// Dir/model.safetensors holding Tensors as DType ("F32" or "BF16").
void writeHFCheckpoint(llvm::StringRef Dir, const test::LlamaShape &S,
                       llvm::ArrayRef<NamedTensor> Tensors,
                       llvm::StringRef DType) {
  std::string Config =
      "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": "
      "\"llama\", " +
      llvm::formatv("\"vocab_size\": {0}, \"hidden_size\": {1}, "
                    "\"intermediate_size\": {2}, \"num_hidden_layers\": {3}, "
                    "\"num_attention_heads\": {4}, "
                    "\"num_key_value_heads\": {5}, ",
                    S.Vocab, S.Hidden, S.FFN, S.Layers, S.Heads, S.KVHeads)
          .str() +
      llvm::formatv("\"rms_norm_eps\": {0:e}, \"rope_theta\": {1:f1}, ",
                    S.RMSNormEps, S.RopeTheta)
          .str() +
      "\"max_position_embeddings\": 256, \"hidden_act\": \"silu\", "
      "\"tie_word_embeddings\": false, \"torch_dtype\": \"" +
      (DType == "BF16"  ? "bfloat16"
       : DType == "F16" ? "float16"
                        : "float32") +
      "\"}";
  test::writeFile((Dir + "/config.json").str(), Config);

  test::SafeTensorsBuilder B;
  std::string Data;
  for (const NamedTensor &T : Tensors) {
    B.add(T.Name, DType, T.Dims);
    for (float V : T.Values) {
      char Bytes[4];
      if (DType == "BF16" || DType == "F16") {
        uint16_t H = DType == "BF16" ? toBFloat16(V) : toHalf(V);
        Bytes[0] = char(H & 0xff), Bytes[1] = char(H >> 8);
        Data.append(Bytes, 2);
      } else {
        uint32_t U;
        std::memcpy(&U, &V, 4);
        for (int I = 0; I < 4; ++I)
          Bytes[I] = char(U >> (8 * I));
        Data.append(Bytes, 4);
      }
    }
  }
  ASSERT_EQ(Data.size(), B.dataBytes());
  std::string Header = B.header();
  Header.append((8 - Header.size() % 8) % 8, ' '); // aligned data
  std::string File(8, '\0');
  llvm::support::endian::write64le(File.data(), Header.size());
  test::writeFile((Dir + "/model.safetensors").str(), File + Header + Data);
}

/// Hugging Face names of layer L's tensors and their shapes.
std::vector<std::pair<std::string, std::vector<int64_t>>>
hfLayerTensors(const test::LlamaShape &S, int64_t L) {
  std::string P = "model.layers." + std::to_string(L) + ".";
  int64_t H = S.Hidden, Q = S.Heads * S.HeadDim, KV = S.KVHeads * S.HeadDim;
  return {{P + "input_layernorm.weight", {H}},
          {P + "self_attn.q_proj.weight", {Q, H}},
          {P + "self_attn.k_proj.weight", {KV, H}},
          {P + "self_attn.v_proj.weight", {KV, H}},
          {P + "self_attn.o_proj.weight", {H, Q}},
          {P + "post_attention_layernorm.weight", {H}},
          {P + "mlp.gate_proj.weight", {S.FFN, H}},
          {P + "mlp.up_proj.weight", {S.FFN, H}},
          {P + "mlp.down_proj.weight", {H, S.FFN}}};
}

//===----------------------------------------------------------------------===//
// stories260K
//===----------------------------------------------------------------------===//

/// stories260K as its model card describes it, written out here so that a
/// misread GGUF header cannot reach the reference.
test::LlamaShape storiesShape() {
  test::LlamaShape S;
  S.Vocab = 512;
  S.Hidden = 64;
  S.FFN = 172;
  S.Layers = 5;
  S.Heads = 8;
  S.KVHeads = 4;
  S.HeadDim = 8;
  S.RMSNormEps = 1e-5;
  S.RopeTheta = 10000;
  S.RopeNeoX = false;
  return S;
}

/// f32 kernels against a double reference: the logits of this model are a
/// few units to a few tens, and single-precision rounding through five
/// layers moves them by about 1e-6 of that. 1e-4 leaves two orders of
/// magnitude, yet catches any real error (a wrong rotation pair, a head
/// reading the wrong KV head, a stale cache row) which moves logits by a
/// good fraction of their scale.
constexpr double F32Tol = 1e-4;

/// English prompts through the model's own tokenizer, longest first: one of
/// more than two prefill chunks with a decode tail, one of exactly one
/// chunk (its last run is a prefill), and short ones decoded token by token.
std::vector<Prompt> storiesPrompts() {
  runtime::Tokenizer Tok = unwrap(runtime::loadTokenizerFromGGUF(StoriesPath));
  std::vector<Prompt> Out;
  for (const char *Text :
       {"Lily and Ben went to the park. They saw a big red ball and wanted "
        "to play with it.",
        "Once upon a time, there was a little girl", "A big cat",
        "Tom had a dog"}) {
    Out.push_back({Text, Tok.encode(Text)});
  }
  Out[1].Tokens.resize(PrefillChunk);
  Out[1].Name = "(first 8 tokens of) " + Out[1].Name;
  EXPECT_GT(Out[0].Tokens.size(), 2 * PrefillChunk);
  EXPECT_NE(Out[0].Tokens.size() % PrefillChunk, 0u);
  EXPECT_LT(Out[2].Tokens.size(), PrefillChunk);
  EXPECT_LT(Out[3].Tokens.size(), PrefillChunk);
  return Out;
}

TEST(StoriesModel, ConfigIsTheModelCards) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::LlamaShape W = storiesShape();
  EXPECT_EQ(S.Config.Vocab, W.Vocab);
  EXPECT_EQ(S.Config.Hidden, W.Hidden);
  EXPECT_EQ(S.Config.FFN, W.FFN);
  EXPECT_EQ(S.Config.Layers, W.Layers);
  EXPECT_EQ(S.Config.Heads, W.Heads);
  EXPECT_EQ(S.Config.KVHeads, W.KVHeads);
  EXPECT_EQ(S.Config.HeadDim, W.HeadDim);
  EXPECT_NEAR(S.Config.RMSNormEps, W.RMSNormEps, 1e-12);
  EXPECT_EQ(S.Config.RopeTheta, W.RopeTheta);
  EXPECT_EQ(S.Config.RopeNeoX, W.RopeNeoX);
  EXPECT_FALSE(S.Config.TiedEmbeddings);
  ASSERT_TRUE(S.Tensors);
}

/// The reference on its own: the model continues a story sensibly, which a
/// broken reference (wrong RoPE pairing, wrong KV head) would not.
TEST(StoriesModel, ReferenceTellsAStory) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(storiesShape(), *S.Tensors));
  runtime::Tokenizer Tok = unwrap(runtime::loadTokenizerFromGGUF(StoriesPath));
  std::vector<int32_t> Seq = Tok.encode("Once upon a time");
  size_t PromptSize = Seq.size();
  for (int I = 0; I < 12; ++I) {
    std::vector<double> L = Ref.forward(Seq).back();
    Seq.push_back(std::max_element(L.begin(), L.end()) - L.begin());
  }
  runtime::Detokenizer D(Tok);
  std::string Text;
  for (size_t I = PromptSize; I < Seq.size(); ++I)
    Text += D.decode(Seq[I]);
  Text += D.finish();
  // TinyStories openings: ", there was a little girl named Lily. ..."
  EXPECT_TRUE(llvm::StringRef(Text).startswith(", there was a")) << Text;
}

/// Two sequences in one batch, each at its own positions: after a prefill
/// run of both, sequence 1 feeds its last three prompt tokens again
/// (rewriting cache rows with the same values) and from then on runs three
/// positions behind sequence 0. Each sequence's logits must be the
/// reference's for its own tokens, whatever the other one holds.
TEST(StoriesModel, BatchedSequencesAtTheirOwnPositions) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(storiesShape(), *S.Tensors));
  std::vector<Prompt> Prompts = storiesPrompts();
  const int64_t Vocab = storiesShape().Vocab;
  Agreement A;
  for (Layout L :
       {Layout{1, "pipeline"}, Layout{2, "pipeline"}, Layout{2, "tensor"}}) {
    SCOPED_TRACE(describe(L));
    std::unique_ptr<Deployment> D = Deployment::create(S, L, /*Batch=*/2);
    runtime::Executor &X = D->executor();
    ASSERT_EQ(X.getBatch(), 2);
    // Per sequence: the token at each position (the prompt, then what it
    // generates), the next position to feed, and every run's results.
    std::vector<int32_t> Known[2] = {Prompts[0].Tokens, Prompts[1].Tokens};
    ASSERT_GT(Known[0].size(), PrefillChunk);
    ASSERT_EQ(Known[1].size(), size_t(PrefillChunk));
    int64_t Next[2] = {PrefillChunk, PrefillChunk - 3};
    Trace T[2];
    auto Run = [&](llvm::StringRef Program, std::vector<int32_t> Tokens,
                   std::vector<int32_t> Positions) {
      std::vector<int32_t> Chosen;
      std::vector<float> Logits;
      if (llvm::Error E = X.run(Program, Tokens, Positions, Chosen, &Logits)) {
        ADD_FAILURE() << llvm::toString(std::move(E));
        return false;
      }
      EXPECT_EQ(Chosen.size(), 2u);
      EXPECT_EQ(Logits.size(), size_t(2 * Vocab));
      if (Chosen.size() != 2 || Logits.size() != size_t(2 * Vocab))
        return false;
      for (unsigned B = 0; B < 2; ++B) {
        int64_t Pos = Positions[(B + 1) * Positions.size() / 2 - 1];
        T[B].Positions.push_back(Pos);
        T[B].Logits.emplace_back(Logits.begin() + B * Vocab,
                                 Logits.begin() + (B + 1) * Vocab);
        T[B].Chosen.push_back(Chosen[B]);
        if (size_t(Pos + 1) == Known[B].size())
          Known[B].push_back(Chosen[B]);
      }
      return true;
    };
    std::vector<int32_t> Tokens, Positions;
    for (unsigned B = 0; B < 2; ++B)
      for (int32_t I = 0; I < PrefillChunk; ++I) {
        Tokens.push_back(Known[B][I]);
        Positions.push_back(I);
      }
    ASSERT_TRUE(Run("prefill", Tokens, Positions));
    for (unsigned Step = 0; Step < NewTokens; ++Step) {
      Tokens.clear();
      Positions.clear();
      for (unsigned B = 0; B < 2; ++B) {
        Tokens.push_back(Known[B][Next[B]]);
        Positions.push_back(Next[B]++);
      }
      ASSERT_TRUE(Run("decode", Tokens, Positions));
    }
    for (unsigned B = 0; B < 2; ++B) {
      SCOPED_TRACE("sequence " + std::to_string(B));
      EXPECT_GT(Known[B].size(), Prompts[B].Tokens.size()); // it generated
      expectMatchesReference(
          T[B], llvm::ArrayRef<int32_t>(Known[B]).take_front(Next[B]), Ref,
          F32Tol, A);
    }
  }
  A.print("stories260K, batch of 2");
}

/// Generation up to the last position the KV cache holds; the prefill
/// chunks and decode runs meet the end of the cache exactly.
TEST(StoriesModel, GenerationFillsTheContext) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(storiesShape(), *S.Tensors));
  std::vector<int32_t> Prompt = storiesPrompts()[0].Tokens;
  const int64_t SmallContext = 40;
  // The last generated token is not fed: Count tokens use positions up to
  // Prompt + Count - 2.
  unsigned Count = SmallContext - Prompt.size() + 1;
  Agreement A;
  for (Layout L : {Layout{1, "pipeline"}, Layout{2, "tensor"}}) {
    SCOPED_TRACE(describe(L));
    std::unique_ptr<Deployment> D =
        Deployment::create(S, L, /*Batch=*/1, SmallContext);
    ASSERT_EQ(D->executor().getContext(), SmallContext);
    Trace T = unwrap(generate(D->executor(), Prompt, Count));
    EXPECT_EQ(T.Positions.back(), SmallContext - 1);
    expectMatchesReference(T, fedTokens(Prompt, T), Ref, F32Tol, A);
  }
  A.print("stories260K, full context");
}

/// Inputs outside the model are errors on every layout (not crashes or
/// hangs), and the executor runs correctly afterwards.
TEST(StoriesModel, BadInputsAreErrorsAndLeaveTheExecutorWorking) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(storiesShape(), *S.Tensors));
  std::vector<int32_t> Prompt = storiesPrompts()[3].Tokens;
  const int32_t Vocab = storiesShape().Vocab;
  Agreement A;
  for (Layout L : {Layout{1, "pipeline"}, Layout{2, "pipeline"},
                   Layout{2, "tensor"}, Layout{4, "tensor"}}) {
    SCOPED_TRACE(describe(L));
    std::unique_ptr<Deployment> D = Deployment::create(S, L);
    runtime::Executor &X = D->executor();
    struct Case {
      const char *What, *Program;
      std::vector<int32_t> Tokens, Positions;
    };
    Case Cases[] = {
        {"position past the cache", "decode", {1}, {int32_t(Context)}},
        {"negative position", "decode", {1}, {-1}},
        {"token past the vocabulary", "decode", {Vocab}, {0}},
        {"negative token", "decode", {-3}, {0}},
        {"too few tokens for prefill", "prefill", {1, 2, 3}, {0, 1, 2}},
        {"positions and tokens disagree", "decode", {1}, {0, 1}},
        {"no such program", "encode", {1}, {0}},
    };
    for (const Case &C : Cases) {
      std::vector<int32_t> Next;
      std::vector<float> Logits;
      llvm::Error E = X.run(C.Program, C.Tokens, C.Positions, Next, &Logits);
      EXPECT_TRUE(bool(E)) << C.What;
      llvm::consumeError(std::move(E));
    }
    Trace T = unwrap(generate(X, Prompt));
    expectMatchesReference(T, fedTokens(Prompt, T), Ref, F32Tol, A);
  }
  A.print("stories260K after bad inputs");
}

/// After a prefill run the executor hands back the arena bytes only
/// prefill uses (the end-of-prefill cleanup point), but the run's outputs,
/// the logits and the next token, live in that arena and may lie in those
/// bytes: they must be read out before the bytes are released. (With the
/// plain CPU backend this shows only now and then: stories260K's prefill
/// logits end 128 bytes past what decode keeps, and madvise takes whole
/// pages, so it depends on where the arena starts within a page.)
TEST(StoriesModel, PrefillOutputsAreReadBeforeTheArenaIsReleased) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(storiesShape(), *S.Tensors));
  std::vector<int32_t> Prompt = storiesPrompts()[0].Tokens;
  Agreement A;
  for (Layout L : {Layout{1, "pipeline"}, Layout{2, "tensor"}}) {
    SCOPED_TRACE(describe(L));
    std::unique_ptr<Deployment> D =
        Deployment::create(S, L, /*Batch=*/1, Context, /*Scribble=*/true);
    Trace T = unwrap(generate(D->executor(), Prompt));
    ASSERT_GT(T.PrefillRuns, 0u);
    EXPECT_GT(D->getScribbler()->Releases, 0u);
    expectMatchesReference(T, fedTokens(Prompt, T), Ref, F32Tol, A);
  }
  A.print("stories260K, released bytes overwritten");
}

/// Runtime faults: a step failing on one device's worker mid-program stops
/// the run on every device (no hang at a wait or a collective) with the
/// step named, leaves the executor usable, and every byte goes back when
/// the executor does; so does loading stopped by Ctrl-C.
TEST(StoriesModel, AFailingStepStopsEveryDeviceCleanly) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  std::vector<int32_t> Prompt = storiesPrompts()[0].Tokens;
  for (Layout L : {Layout{2, "tensor"}, Layout{4, "pipeline"}}) {
    SCOPED_TRACE(describe(L));
    std::unique_ptr<Deployment> D = Deployment::create(S, L);
    Trace Want = unwrap(generate(D->executor(), Prompt));
    const plan::Plan &P = D->getPlan();

    std::vector<uint64_t> Caps(P.Devices.size(), 16u << 20);
    std::atomic<bool> Inject{true};
    std::atomic<unsigned> Injected{0};
    runtime::CpuBackend::Options BO;
    BO.ThreadsPerDevice = 2;
    std::shared_ptr<const plan::Plan> Shared = D->sharePlan();
    // The last device fails at its fifth step of decode.
    const unsigned Victim = P.Devices.size() - 1;
    const plan::ProgramSchedule *Decode = P.findProgram("decode");
    ASSERT_NE(Decode, nullptr);
    std::optional<unsigned> FailAt;
    for (unsigned I = 0, Seen = 0; I < Decode->Steps.size() && !FailAt; ++I)
      if (P.Streams[Decode->Steps[I].Stream].Device == Victim && ++Seen == 5)
        FailAt = I;
    ASSERT_TRUE(FailAt.has_value());
    const std::string FailName = Decode->Steps[*FailAt].Name;
    BO.BeforeStep = [&](const runtime::BoundStep &St) -> llvm::Error {
      if (!Inject.load() || St.Device != Victim || St.Index != *FailAt ||
          St.Step->Name != FailName)
        return llvm::Error::success();
      ++Injected;
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "injected fault");
    };
    {
      runtime::CpuBackend B(Caps, BO);
      auto X = unwrap(runtime::Executor::create(Shared, *S.Tensors, B));
      ASSERT_FALSE(bool(X->load()));
      std::vector<int32_t> Next;
      llvm::Error E = X->run("decode", {1}, {0}, Next, nullptr);
      ASSERT_TRUE(bool(E));
      std::string Msg = llvm::toString(std::move(E));
      EXPECT_NE(Msg.find("injected fault"), std::string::npos) << Msg;
      EXPECT_NE(Msg.find("step "), std::string::npos) << Msg;
      EXPECT_EQ(Injected.load(), 1u);

      // Without the fault the same executor generates what a fresh one
      // does.
      Inject.store(false);
      Trace Got = unwrap(generate(*X, Prompt));
      EXPECT_EQ(Got.Generated, Want.Generated) << "after a failed run";
      X.reset();
      for (unsigned Dev = 0; Dev < P.Devices.size(); ++Dev)
        EXPECT_EQ(B.getAllocatedBytes(Dev), 0u) << "cpu:" << Dev;
    }

    // Ctrl-C while loading: an error, and nothing left allocated.
    runtime::CpuBackend B(Caps, {});
    auto X = unwrap(runtime::Executor::create(Shared, *S.Tensors, B));
    std::atomic<bool> Stop{true};
    llvm::Error E = X->load({}, &Stop);
    ASSERT_TRUE(bool(E));
    EXPECT_NE(llvm::toString(std::move(E)).find("interrupted while loading"),
              std::string::npos);
    X.reset();
    for (unsigned Dev = 0; Dev < P.Devices.size(); ++Dev)
      EXPECT_EQ(B.getAllocatedBytes(Dev), 0u) << "cpu:" << Dev;
  }
}

/// An executor of P on B, loaded.
std::unique_ptr<runtime::Executor> loadOn(std::shared_ptr<const plan::Plan> P,
                                          const import::TensorTable &Tensors,
                                          runtime::Backend &B,
                                          runtime::ExecutorOptions O = {}) {
  auto X =
      unwrap(runtime::Executor::create(std::move(P), Tensors, B, std::move(O)));
  if (llvm::Error E = X->load()) {
    ADD_FAILURE() << llvm::toString(std::move(E));
    std::abort();
  }
  return X;
}

/// A device map moves every plan device's memory, streams and worker to
/// the backend device it names: the weights are found there, the bytes are
/// allocated there, and generation is the same to the bit. A device the
/// map leaves out stays empty.
TEST(StoriesModel, DeviceMapMovesEachPlanDevice) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  std::vector<int32_t> Prompt = storiesPrompts()[0].Tokens;
  for (Layout L : {Layout{2, "pipeline"}, Layout{4, "tensor"}}) {
    SCOPED_TRACE(describe(L));
    std::shared_ptr<const plan::Plan> P = compile(S, L);
    runtime::CpuBackend::Options BO;
    BO.ThreadsPerDevice = 2;
    runtime::CpuBackend Plain(capsFor(*P), BO);
    Trace Want = unwrap(generate(*loadOn(P, *S.Tensors, Plain), Prompt));

    // Reversed, on a backend with one device more than the plan: plan
    // device I runs on backend device N - I, and device 0 is left out.
    const unsigned N = L.Devices;
    std::vector<unsigned> Map;
    for (unsigned I = 0; I < N; ++I)
      Map.push_back(N - I);
    runtime::CpuBackend B(capsFor(*P, Map, N + 1), BO);
    runtime::ExecutorOptions O;
    O.DeviceMap = Map;
    std::unique_ptr<runtime::Executor> X = loadOn(P, *S.Tensors, B, O);
    std::vector<runtime::DeviceContents> Found = X->findContents();
    ASSERT_EQ(Found.size(), N);
    for (unsigned I = 0; I < N; ++I) {
      EXPECT_EQ(Found[I].PlanDevice, I);
      EXPECT_EQ(Found[I].Device, Map[I]);
      EXPECT_GT(Found[I].Weights, 0u) << "plan device " << I;
      EXPECT_EQ(Found[I].Misplaced, 0u) << "plan device " << I;
      EXPECT_EQ(B.getAllocatedBytes(Map[I]), P->Devices[I].regionBytes())
          << "plan device " << I;
      EXPECT_EQ(X->getMemoryUse()[I].Device, Map[I]);
    }
    EXPECT_EQ(B.getAllocatedBytes(0), 0u);
    Trace Got = unwrap(generate(*X, Prompt));
    EXPECT_EQ(Got.Generated, Want.Generated);
    EXPECT_EQ(Got.Logits, Want.Logits);
  }
}

/// Maps that do not fit are refused before anything is allocated, as
/// device map errors (a command-line mistake for `strata run`).
TEST(StoriesModel, BadDeviceMapsAreRefused) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  std::shared_ptr<const plan::Plan> P = compile(S, {2, "pipeline"});
  runtime::CpuBackend B(capsFor(*P), {});
  struct Case {
    std::vector<unsigned> Map;
    const char *Message;
  } Cases[] = {
      {{1}, "the device map names 1 devices but the plan has 2"},
      {{1, 1}, "cpu:1 is given to both of the plan's devices 0 and 1"},
      {{0, 2},
       "cpu:2 (for the plan's device 1) does not exist: this machine "
       "has 2 cpu device(s), 0 to 1"},
  };
  for (const Case &C : Cases) {
    runtime::ExecutorOptions O;
    O.DeviceMap = C.Map;
    auto X = runtime::Executor::create(P, *S.Tensors, B, O);
    ASSERT_FALSE(bool(X));
    llvm::Error E = X.takeError();
    EXPECT_TRUE(E.isA<runtime::DeviceMapError>());
    std::string Msg = llvm::toString(std::move(E));
    EXPECT_NE(Msg.find(C.Message), std::string::npos) << Msg;
  }
  for (unsigned D = 0; D < 2; ++D)
    EXPECT_EQ(B.getAllocatedBytes(D), 0u);
}

/// The factory makes the backend a plan's devices need: CPU virtual
/// devices with the plan's caps, moved by the device map; a GPU plan and a
/// plan of mixed kinds are refused by name.
TEST(StoriesModel, TheBackendComesFromThePlansDeviceKind) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  plan::Plan P = *compile(S, {2, "pipeline"});
  P.Devices[0].CapacityBytes = 12 << 20;
  P.Devices[0].ReserveBytes = 0;
  runtime::BackendOptions O;
  O.DeviceMap = {1, 0};
  std::unique_ptr<runtime::Backend> B = unwrap(runtime::createBackend(P, O));
  EXPECT_EQ(B->getName(), "cpu");
  ASSERT_EQ(B->getNumDevices(), 2u);
  // Plan device 0's 12 MiB are cpu:1's.
  void *Fits = unwrap(B->allocate(1, 12 << 20, "test"));
  llvm::Expected<void *> Over = B->allocate(1, 1, "test");
  EXPECT_FALSE(bool(Over));
  llvm::consumeError(Over.takeError());
  B->deallocate(1, Fits);

  O.DeviceMap = {0, 0};
  auto Twice = runtime::createBackend(P, O);
  ASSERT_FALSE(bool(Twice));
  EXPECT_TRUE(Twice.errorIsA<runtime::DeviceMapError>());
  llvm::consumeError(Twice.takeError());

  plan::Plan GPU = P;
  for (plan::Device &D : GPU.Devices) {
    D.Kind = plan::DeviceKind::GPU;
    D.Name = "H100-80GB";
  }
  auto NoCuda = runtime::createBackend(GPU, {});
  ASSERT_FALSE(bool(NoCuda));
  EXPECT_EQ(llvm::toString(NoCuda.takeError()),
            "the plan was made for GPU devices (0 is a H100-80GB) but this "
            "build has no CUDA backend yet; compile for cpu:NxSIZE to run "
            "here");
  GPU.Devices[0].Kind = plan::DeviceKind::CPU;
  auto Mixed = runtime::createBackend(GPU, {});
  ASSERT_FALSE(bool(Mixed));
  EXPECT_NE(llvm::toString(Mixed.takeError())
                .find("the plan mixes device "
                      "kinds"),
            std::string::npos);
}

/// The backend groups steps by the plan's streams, however many a device
/// has and in whatever order the plan lists them: here the streams no step
/// uses are dropped (a device may have a compute stream only) and the rest
/// listed backwards.
TEST(StoriesModel, StreamsAreThePlans) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  std::vector<int32_t> Prompt = storiesPrompts()[0].Tokens;
  for (Layout L : {Layout{2, "tensor"}, Layout{4, "pipeline"}}) {
    SCOPED_TRACE(describe(L));
    std::shared_ptr<const plan::Plan> P = compile(S, L);
    auto Q = std::make_shared<plan::Plan>(*P);
    std::vector<bool> Used(Q->Streams.size(), false);
    for (const plan::ProgramSchedule &G : Q->Programs)
      for (const plan::Step &St : G.Steps)
        Used[St.Stream] = true;
    std::vector<unsigned> NewIndex(Q->Streams.size(), 0);
    std::vector<plan::Stream> Streams;
    for (unsigned I = Q->Streams.size(); I-- > 0;)
      if (Used[I]) {
        NewIndex[I] = Streams.size();
        Streams.push_back(Q->Streams[I]);
      }
    EXPECT_LT(Streams.size(), 2 * L.Devices) << "some stream is unused";
    Q->Streams = Streams;
    for (plan::ProgramSchedule &G : Q->Programs)
      for (plan::Step &St : G.Steps)
        St.Stream = NewIndex[St.Stream];

    runtime::CpuBackend::Options BO;
    BO.ThreadsPerDevice = 2;
    runtime::CpuBackend Before(capsFor(*P), BO), After(capsFor(*Q), BO);
    Trace Want = unwrap(generate(*loadOn(P, *S.Tensors, Before), Prompt));
    Trace Got = unwrap(generate(*loadOn(Q, *S.Tensors, After), Prompt));
    EXPECT_EQ(Got.Generated, Want.Generated);
    EXPECT_EQ(Got.Logits, Want.Logits);
  }
}

/// after-load: every device synchronised and the loader's host memory
/// freed (its staging for the shards it cut and the model file's mapping),
/// because the plan says so; without the point, they stay.
TEST(StoriesModel, AfterLoadFreesTheLoadersHostMemory) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  std::shared_ptr<const plan::Plan> P = compile(S, {2, "tensor"});
  std::vector<runtime::CleanupReport> Reports;
  runtime::ExecutorOptions O;
  O.OnCleanup = [&](const runtime::CleanupReport &R) { Reports.push_back(R); };
  runtime::CpuBackend B(capsFor(*P), {});
  std::unique_ptr<runtime::Executor> X = loadOn(P, *S.Tensors, B, O);
  EXPECT_EQ(X->getLoaderHostBytes(), 0u);
  ASSERT_EQ(Reports.size(), 1u);
  EXPECT_EQ(Reports[0].Kind, plan::CleanupKind::AfterLoad);
  // A shard's staging, and the whole file's mapping.
  EXPECT_GT(Reports[0].Bytes, S.Tensors->FileSizes[0]);
  EXPECT_NE(Reports[0].What.find("the loader's host staging freed"),
            std::string::npos)
      << Reports[0].What;

  auto Q = std::make_shared<plan::Plan>(*P);
  llvm::erase_if(Q->Cleanups, [](const plan::CleanupPoint &C) {
    return C.Kind == plan::CleanupKind::AfterLoad;
  });
  Reports.clear();
  runtime::CpuBackend B2(capsFor(*Q), {});
  std::unique_ptr<runtime::Executor> Kept = loadOn(Q, *S.Tensors, B2, O);
  EXPECT_GT(Kept->getLoaderHostBytes(), S.Tensors->FileSizes[0]);
  EXPECT_TRUE(Reports.empty());
}

/// end-of-prefill: once a prefill run's outputs are read, the arena pages
/// only prefill needs leave physical memory (the resident bytes of every
/// device drop by what each reports), until the next prefill touches them;
/// without the point, nothing drops. Prefill takes 64 tokens here, so that
/// what only it needs spans many pages wherever the arena starts.
TEST(StoriesModel, EndOfPrefillHandsArenaPagesBack) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  const int64_t Prefill = 64;
  for (Layout L : {Layout{1, "pipeline"}, Layout{2, "tensor"}}) {
    SCOPED_TRACE(describe(L));
    std::shared_ptr<const plan::Plan> P = compile(S, L, 1, Context, Prefill);
    auto Q = std::make_shared<plan::Plan>(*P);
    llvm::erase_if(Q->Cleanups, [](const plan::CleanupPoint &C) {
      return C.Kind == plan::CleanupKind::EndOfPrefill;
    });
    for (const auto &Plan : {std::shared_ptr<const plan::Plan>(P),
                             std::shared_ptr<const plan::Plan>(Q)}) {
      bool Acts = Plan == P;
      std::map<unsigned, uint64_t> Released;
      runtime::ExecutorOptions O;
      O.OnCleanup = [&](const runtime::CleanupReport &R) {
        if (R.Kind == plan::CleanupKind::EndOfPrefill && R.Device)
          Released[*R.Device] += R.Bytes;
      };
      runtime::CpuBackend B(capsFor(*Plan), {});
      std::unique_ptr<runtime::Executor> X = loadOn(Plan, *S.Tensors, B, O);
      std::vector<uint64_t> Before;
      for (unsigned D = 0; D < L.Devices; ++D)
        Before.push_back(B.getResidentBytes(D));
      std::vector<int32_t> Tokens(Prefill, 1), Pos(Prefill), Next;
      std::iota(Pos.begin(), Pos.end(), 0);
      ASSERT_FALSE(bool(X->run("prefill", Tokens, Pos, Next)));
      for (unsigned D = 0; D < L.Devices; ++D) {
        uint64_t After = B.getResidentBytes(D);
        SCOPED_TRACE("cpu:" + std::to_string(D) + (Acts ? "" : ", no point"));
        EXPECT_EQ(Before[D] - After, Released[D]);
        if (Acts)
          EXPECT_GT(Released[D], 0u);
        else
          EXPECT_EQ(After, Before[D]);
      }
    }
  }
}

class StoriesLayouts : public testing::TestWithParam<Layout> {};

TEST_P(StoriesLayouts, GreedyTokensAndLogitsMatchReference) {
  const Layout L = GetParam();
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(storiesShape(), *S.Tensors));
  std::vector<Prompt> Prompts = storiesPrompts();
  Agreement A;
  std::vector<std::vector<int32_t>> Baseline;
  if (L.Devices > 1)
    Baseline = checkLayout(S, {1, "pipeline"}, Prompts, Ref, F32Tol, 0, A);
  checkLayout(S, L, Prompts, Ref, F32Tol, 0, A,
              L.Devices > 1 ? &Baseline : nullptr);
  A.print("stories260K " + describe(L));
}

INSTANTIATE_TEST_SUITE_P(
    Runtime, StoriesLayouts,
    testing::Values(Layout{1, "pipeline"}, Layout{2, "pipeline"},
                    Layout{2, "tensor"}, Layout{4, "pipeline"},
                    Layout{4, "tensor"}),
    [](const testing::TestParamInfo<Layout> &I) {
      return std::to_string(I.param.Devices) + "Devices" +
             (llvm::StringRef(I.param.Strategy) == "tensor" ? "Tensor"
                                                            : "Pipeline");
    });

/// stories260K's weights as a Hugging Face checkpoint: the GGUF converter
/// permuted q and k rows of each head from halves (HF row s * D/2 + i) to
/// adjacent pairs (GGUF row 2i + s); undoing it gives the same model in the
/// "neox" RoPE layout. Runtime and reference must both give the GGUF
/// model's tokens and logits.
TEST(StoriesModel, HuggingFaceExportRunsLikeTheGGUF) {
  import::ModelSource G = unwrap(import::openModel(StoriesPath));
  test::LlamaShape S = storiesShape();
  S.RopeNeoX = true;
  auto Read = [&](const std::string &Name, std::vector<int64_t> Dims) {
    std::vector<double> V = unwrap(test::readTensor(*G.Tensors, Name, Dims));
    return std::vector<float>(V.begin(), V.end()); // exact: they are f32
  };
  auto Unpermute = [&](std::vector<float> W, int64_t Heads) {
    std::vector<float> Out(W.size());
    int64_t D = S.HeadDim, H = S.Hidden;
    for (int64_t Hd = 0; Hd < Heads; ++Hd)
      for (int64_t Half = 0; Half < 2; ++Half)
        for (int64_t I = 0; I < D / 2; ++I)
          std::copy_n(&W[(Hd * D + 2 * I + Half) * H], H,
                      &Out[(Hd * D + Half * D / 2 + I) * H]);
    return Out;
  };
  const int64_t H = S.Hidden, V = S.Vocab;
  std::vector<NamedTensor> Tensors;
  Tensors.push_back(
      {"model.embed_tokens.weight", {V, H}, Read("token_embd.weight", {V, H})});
  const char *GGUFNames[] = {"attn_norm", "attn_q",      "attn_k",
                             "attn_v",    "attn_output", "ffn_norm",
                             "ffn_gate",  "ffn_up",      "ffn_down"};
  for (int64_t L = 0; L < S.Layers; ++L) {
    auto Names = hfLayerTensors(S, L);
    for (size_t I = 0; I < Names.size(); ++I) {
      std::vector<float> W =
          Read(llvm::formatv("blk.{0}.{1}.weight", L, GGUFNames[I]).str(),
               Names[I].second);
      if (I == 1)
        W = Unpermute(std::move(W), S.Heads);
      if (I == 2)
        W = Unpermute(std::move(W), S.KVHeads);
      Tensors.push_back({Names[I].first, Names[I].second, std::move(W)});
    }
  }
  Tensors.push_back(
      {"model.norm.weight", {H}, Read("output_norm.weight", {H})});
  Tensors.push_back({"lm_head.weight", {V, H}, Read("output.weight", {V, H})});

  test::TempDir Dir;
  std::string Folder = Dir.makeDir("stories260K-hf");
  writeHFCheckpoint(Folder, S, Tensors, "F32");
  import::ModelSource HF = unwrap(import::openModel(Folder));
  EXPECT_TRUE(HF.Config.RopeNeoX);
  test::ReferenceLlama RefGGUF =
      unwrap(test::ReferenceLlama::load(storiesShape(), *G.Tensors));
  test::ReferenceLlama RefHF =
      unwrap(test::ReferenceLlama::load(S, *HF.Tensors));

  std::vector<Prompt> Prompts = storiesPrompts();
  // The reference's two RoPE layouts agree to double precision.
  for (const Prompt &P : Prompts) {
    std::vector<std::vector<double>> A = RefGGUF.forward(P.Tokens),
                                     B = RefHF.forward(P.Tokens);
    for (size_t Pos = 0; Pos < A.size(); ++Pos)
      for (size_t I = 0; I < A[Pos].size(); ++I)
        ASSERT_NEAR(A[Pos][I], B[Pos][I], 1e-9) << P.Name << " at " << Pos;
  }

  Agreement A;
  std::vector<std::vector<int32_t>> Baseline =
      checkLayout(G, {1, "pipeline"}, Prompts, RefGGUF, F32Tol, 0, A);
  for (Layout L : {Layout{1, "pipeline"}, Layout{2, "tensor"}})
    checkLayout(HF, L, Prompts, RefHF, F32Tol, 0, A, &Baseline);
  A.print("stories260K as Hugging Face f32");
}

//===----------------------------------------------------------------------===//
// A random bf16 Hugging Face Llama
//===----------------------------------------------------------------------===//

test::LlamaShape randomShape() {
  test::LlamaShape S;
  S.Vocab = 128;
  S.Hidden = 64;
  S.FFN = 96;
  S.Layers = 3;
  S.Heads = 4;
  S.KVHeads = 2;
  S.HeadDim = 16;
  S.RMSNormEps = 1e-5;
  S.RopeTheta = 10000;
  S.RopeNeoX = true;
  return S;
}

/// bf16 activations: every op's result is rounded to 8 significant bits
/// (relative error up to 2^-9, about 0.2%), and about a dozen roundings per
/// layer compound through three layers and the final norm and head, against
/// a reference that rounds nothing. A few percent of the logit scale is what
/// that costs; a real error (wrong pairing, wrong head, stale cache) costs
/// tens of percent.
constexpr double BF16Tol = 0.04;
constexpr double F16Tol = BF16Tol / 4;

/// Uniform values in [-Amp, Amp] from a generator whose sequence the C++
/// standard fixes (unlike its distributions), so every platform writes the
/// same model.
class Uniform {
public:
  explicit Uniform(uint32_t Seed) : Gen(Seed) {}
  float operator()(double Amp) {
    double U = double(Gen() >> 8) / double(1 << 24); // [0, 1)
    return float((2 * U - 1) * Amp);
  }

private:
  std::mt19937 Gen;
};

/// A random Llama: embeddings of about unit size, linear layers that keep
/// the activations' scale (uniform in +-sqrt(3 / fan-in)), norm weights
/// near 1, and a head that makes logits of a few units, as a trained
/// model's are.
std::vector<NamedTensor> randomLlama(const test::LlamaShape &S, uint32_t Seed) {
  Uniform U(Seed);
  auto Make = [&](const std::string &Name, std::vector<int64_t> Dims,
                  double Amp, double Offset = 0) {
    int64_t Count = 1;
    for (int64_t D : Dims)
      Count *= D;
    NamedTensor T{Name, Dims, std::vector<float>(Count)};
    for (float &V : T.Values)
      V = float(Offset + U(Amp));
    return T;
  };
  std::vector<NamedTensor> Out;
  Out.push_back(Make("model.embed_tokens.weight", {S.Vocab, S.Hidden}, 1.0));
  for (int64_t L = 0; L < S.Layers; ++L)
    for (auto &[Name, Dims] : hfLayerTensors(S, L))
      Out.push_back(Dims.size() == 1
                        ? Make(Name, Dims, 0.2, 1.0)
                        : Make(Name, Dims, std::sqrt(3.0 / double(Dims[1]))));
  Out.push_back(Make("model.norm.weight", {S.Hidden}, 0.2, 1.0));
  Out.push_back(Make("lm_head.weight", {S.Vocab, S.Hidden},
                     3 * std::sqrt(3.0 / double(S.Hidden))));
  return Out;
}

/// Token ids drawn at random, longest first, in the shapes the stories
/// prompts have: chunks with a tail, exactly one chunk, decode only.
std::vector<Prompt> randomPrompts(const test::LlamaShape &S) {
  std::mt19937 Gen(7);
  std::vector<Prompt> Prompts;
  for (size_t Len : {21, 8, 5, 1}) {
    Prompt P{"random " + std::to_string(Len), {}};
    for (size_t I = 0; I < Len; ++I)
      P.Tokens.push_back(int32_t(Gen() % S.Vocab));
    Prompts.push_back(std::move(P));
  }
  return Prompts;
}

/// The random model, written to a temporary folder and opened.
class RandomBF16Model : public testing::Test {
protected:
  void SetUp() override {
    std::string Folder = Dir.makeDir("random-llama");
    writeHFCheckpoint(Folder, S, randomLlama(S, 20240611), "BF16");
    Source = unwrap(import::openModel(Folder));
    ASSERT_TRUE(Source.Tensors);
  }

  test::LlamaShape S = randomShape();
  test::TempDir Dir;
  import::ModelSource Source;
};

TEST_F(RandomBF16Model, GreedyTokensAndLogitsMatchReference) {
  EXPECT_EQ(Source.Config.HeadDim, S.HeadDim);
  EXPECT_TRUE(Source.Config.RopeNeoX);
  EXPECT_EQ(Source.Config.WeightType, ir::DType::BF16);
  for (const import::TensorDesc &T : Source.Tensors->Tensors)
    EXPECT_EQ(T.Type, ir::DType::BF16) << T.Name;
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(S, *Source.Tensors));
  std::vector<Prompt> Prompts = randomPrompts(S);

  // Pipeline stages run the single device's kernels on the same inputs, so
  // their tokens must be identical. Tensor parallelism sums partial
  // products in another order and rounds them to bf16 on the way, which
  // moves logits by about a bf16 step of the largest logit (0.03 at 4 to
  // 8): generation may part where the top two are that close, and only
  // there.
  Agreement A;
  std::vector<std::vector<int32_t>> Baseline =
      checkLayout(Source, {1, "pipeline"}, Prompts, Ref, BF16Tol, 0, A);
  checkLayout(Source, {2, "pipeline"}, Prompts, Ref, BF16Tol, 0, A, &Baseline);
  checkLayout(Source, {2, "tensor"}, Prompts, Ref, BF16Tol, 2 * BF16Tol, A,
              &Baseline);
  A.print("random bf16 Llama");
}

/// The same random model in f16 (11 significant bits, a quarter of
/// bf16's rounding error): its own kernels and conversions, the same
/// standards with a tolerance a quarter of bf16's.
TEST(RandomF16Model, GreedyTokensAndLogitsMatchReference) {
  test::LlamaShape S = randomShape();
  test::TempDir Dir;
  std::string Folder = Dir.makeDir("random-llama-f16");
  writeHFCheckpoint(Folder, S, randomLlama(S, 20240611), "F16");
  import::ModelSource Source = unwrap(import::openModel(Folder));
  ASSERT_TRUE(Source.Tensors);
  for (const import::TensorDesc &T : Source.Tensors->Tensors)
    EXPECT_EQ(T.Type, ir::DType::F16) << T.Name;
  test::ReferenceLlama Ref =
      unwrap(test::ReferenceLlama::load(S, *Source.Tensors));
  std::vector<Prompt> Prompts = randomPrompts(S);
  Agreement A;
  std::vector<std::vector<int32_t>> Baseline =
      checkLayout(Source, {1, "pipeline"}, Prompts, Ref, F16Tol, 0, A);
  checkLayout(Source, {2, "tensor"}, Prompts, Ref, F16Tol, 2 * F16Tol, A,
              &Baseline);
  A.print("random f16 Llama");
}

/// The largest move of any logit, relative to its position's logit scale,
/// when the reference rotates the wrong RoPE pairs: what the tolerance must
/// stay well below to catch such a bug.
double wrongPairingMove(const test::LlamaShape &S,
                        const import::TensorTable &Table,
                        llvm::ArrayRef<int32_t> Tokens) {
  test::LlamaShape Wrong = S;
  Wrong.RopeNeoX = !S.RopeNeoX;
  std::vector<std::vector<double>> A =
      unwrap(test::ReferenceLlama::load(S, Table)).forward(Tokens);
  std::vector<std::vector<double>> B =
      unwrap(test::ReferenceLlama::load(Wrong, Table)).forward(Tokens);
  double Move = 0;
  for (size_t P = 0; P < A.size(); ++P) {
    double Scale = 0, Diff = 0;
    for (size_t I = 0; I < A[P].size(); ++I) {
      Scale = std::max(Scale, std::fabs(A[P][I]));
      Diff = std::max(Diff, std::fabs(A[P][I] - B[P][I]));
    }
    Move = std::max(Move, Diff / Scale);
  }
  return Move;
}

TEST_F(RandomBF16Model, ToleranceIsFarBelowAWrongRopePairing) {
  double Move =
      wrongPairingMove(S, *Source.Tensors, randomPrompts(S)[0].Tokens);
  llvm::outs() << llvm::formatv("random bf16 Llama, wrong RoPE pairing: "
                                "{0:e2} of the logit scale\n",
                                Move);
  EXPECT_GT(Move, 10 * BF16Tol);
}

TEST(StoriesModel, ToleranceIsFarBelowAWrongRopePairing) {
  import::ModelSource S = unwrap(import::openModel(StoriesPath));
  double Move =
      wrongPairingMove(storiesShape(), *S.Tensors, storiesPrompts()[0].Tokens);
  llvm::outs() << llvm::formatv("stories260K, wrong RoPE pairing: {0:e2} of "
                                "the logit scale\n",
                                Move);
  EXPECT_GT(Move, 100 * F32Tol);
}

} // namespace
} // namespace strata
