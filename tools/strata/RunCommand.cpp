//===- RunCommand.cpp - strata run: generate text with a plan -------------===//
//
// Loads a plan and its model's weights onto the backend the plan's devices
// need (CPU virtual devices today; --devices maps the plan's devices onto
// this machine's), checks where every weight and KV-cache buffer really
// is, and generates: the prompt, then each new token's text, streamed to
// stdout as they are made; logs and reports go to stderr. DEBUG=1 prints
// what each device holds as found after loading, what each cleanup point
// freed, and planned against allocated memory at load, after prefill and
// during decode; DEBUG=2 every step's timing; --trace writes every step's
// timing as Chrome trace events.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"
#include "Interrupt.h"
#include "OutputFile.h"

#include "ir/Units.h"
#include "ir/import/ModelSource.h"
#include "ir/plan/Plan.h"
#include "runtime/BackendFactory.h"
#include "runtime/DeviceMap.h"
#include "runtime/Executor.h"
#include "runtime/Generator.h"
#include "runtime/tokenizer/GGUFVocabulary.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/strata/viz/ChromeTrace.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include "spdlog/spdlog.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <set>

namespace cl = llvm::cl;

namespace strata::tool {
namespace {

cl::SubCommand RunCmd("run", "Generate text with a compiled plan");

cl::opt<std::string> PlanPath(cl::Positional, cl::Required,
                              cl::desc("<plan.json>"), cl::sub(RunCmd),
                              cl::cat(getStrataCategory()));
cl::opt<std::string> ModelPath("model", cl::Required,
                               cl::desc("The model's weights: a GGUF file or "
                                        "a Hugging Face checkpoint folder"),
                               cl::value_desc("path"), cl::sub(RunCmd),
                               cl::cat(getStrataCategory()));
cl::opt<std::string> Prompt("prompt", cl::desc("Text to continue"),
                            cl::value_desc("text"), cl::sub(RunCmd),
                            cl::cat(getStrataCategory()));
cl::opt<std::string> TokenList("tokens",
                               cl::desc("Token ids to continue, e.g. 1,403"),
                               cl::value_desc("ids"), cl::sub(RunCmd),
                               cl::cat(getStrataCategory()));
cl::opt<int64_t> NumTokens("n", cl::desc("Tokens to generate (default 64)"),
                           cl::init(64), cl::sub(RunCmd),
                           cl::cat(getStrataCategory()));
cl::opt<double> Temperature("temp",
                            cl::desc("Sampling temperature (0: greedy)"),
                            cl::init(0), cl::sub(RunCmd),
                            cl::cat(getStrataCategory()));
cl::opt<int64_t> TopK("top-k",
                      cl::desc("Sample among the K most likely (0: "
                               "all)"),
                      cl::init(0), cl::sub(RunCmd),
                      cl::cat(getStrataCategory()));
cl::opt<double> TopP("top-p",
                     cl::desc("Sample among the most likely whose "
                              "probability reaches P"),
                     cl::init(1.0), cl::sub(RunCmd),
                     cl::cat(getStrataCategory()));
cl::opt<uint64_t> Seed("seed", cl::desc("Random seed for sampling"),
                       cl::init(0), cl::sub(RunCmd),
                       cl::cat(getStrataCategory()));
cl::opt<bool> Bench("bench",
                    cl::desc("Print prefill and decode tokens per second and "
                             "the time per step to stderr"),
                    cl::sub(RunCmd), cl::cat(getStrataCategory()));
cl::opt<std::string> DeviceList(
    "devices",
    cl::desc("This machine's devices for the plan's, in order: plan device "
             "i runs on the i-th (e.g. 1,0); as many as the plan has"),
    cl::value_desc("list"), cl::sub(RunCmd), cl::cat(getStrataCategory()));
cl::opt<bool> UnsafeSkipVerify(
    "unsafe-skip-verify",
    cl::desc("Run the plan without verifying it (to show, under "
             "ThreadSanitizer, what a plan with a missing wait does)"),
    cl::Hidden, cl::sub(RunCmd), cl::cat(getStrataCategory()));
cl::opt<unsigned> Threads("threads",
                          cl::desc("Kernel threads per device (default: the "
                                   "cores shared among the devices)"),
                          cl::init(0), cl::sub(RunCmd),
                          cl::cat(getStrataCategory()));

cl::opt<std::string> TracePath(
    "trace",
    cl::desc("Write every step's measured time as Chrome trace events "
             "(docs/visualisation.md)"),
    cl::value_desc("file"), cl::sub(RunCmd), cl::cat(getStrataCategory()));

constexpr CommandErrors Errors("strata run");

std::string ranges(const std::set<int64_t> &Ls) {
  std::string R = formatRanges(Ls);
  return R.empty() ? "-" : R;
}

/// Every step's measured time, gathered from the backend's step observer
/// for --trace (from the devices' threads).
class StepRecorder {
public:
  explicit StepRecorder(const plan::Plan &P) : P(P), Runs(P.Programs.size()) {
    for (size_t G = 0; G < P.Programs.size(); ++G)
      Runs[G].assign(P.Programs[G].Steps.size(), 0);
  }

  void record(const runtime::BoundStep &S,
              std::chrono::steady_clock::time_point Begin, double Seconds) {
    int64_t BeginNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          Begin.time_since_epoch())
                          .count();
    int64_t Duration = static_cast<int64_t>(Seconds * 1e9);
    std::lock_guard<std::mutex> L(Mutex);
    // The step belongs to the program whose step array holds it.
    for (uint32_t G = 0; G < P.Programs.size(); ++G) {
      const std::vector<plan::Step> &Steps = P.Programs[G].Steps;
      if (Steps.empty() || std::less<>()(S.Step, Steps.data()) ||
          !std::less<>()(S.Step, Steps.data() + Steps.size()))
        continue;
      uint32_t Index = static_cast<uint32_t>(S.Step - Steps.data());
      Timed.push_back({G, Index, Runs[G][Index]++, BeginNs, Duration});
      return;
    }
  }

  /// The steps, from the first step's start.
  std::vector<viz::TimedStep> take() {
    std::lock_guard<std::mutex> L(Mutex);
    int64_t Origin = INT64_MAX;
    for (const viz::TimedStep &T : Timed)
      Origin = std::min(Origin, T.StartNs);
    for (viz::TimedStep &T : Timed)
      T.StartNs -= Origin;
    return std::move(Timed);
  }

private:
  const plan::Plan &P;
  std::mutex Mutex;
  std::vector<std::vector<uint32_t>> Runs; ///< Per program and step.
  std::vector<viz::TimedStep> Timed;
};

/// "cpu:1", and which of the plan's devices it runs when they differ.
std::string deviceName(const runtime::Backend &B, unsigned Device,
                       unsigned PlanDevice) {
  std::string Name = (B.getName() + ":" + llvm::Twine(Device)).str();
  if (Device != PlanDevice)
    Name += " (the plan's device " + std::to_string(PlanDevice) + ")";
  return Name;
}

void reportMemory(const runtime::Executor &X, const runtime::Backend &B,
                  llvm::StringRef When) {
  if (!spdlog::should_log(spdlog::level::info))
    return;
  for (const runtime::MemoryUse &M : X.getMemoryUse())
    spdlog::info("memory {}: {} planned {}, allocated {} of {}", When,
                 deviceName(B, M.Device, M.PlanDevice),
                 ir::formatBytes(M.Planned), ir::formatBytes(M.Allocated),
                 ir::formatBytes(M.Capacity));
}

/// The seed's layer verification, from where the backend finds things.
void reportContents(const runtime::Executor &X, const runtime::Backend &B) {
  if (!spdlog::should_log(spdlog::level::info))
    return;
  for (const runtime::DeviceContents &C : X.findContents())
    spdlog::info("found on {}: {} weight tensors ({}), layers {}; {} KV "
                 "buffers ({}), layers {}",
                 deviceName(B, C.Device, C.PlanDevice), C.Weights,
                 ir::formatBytes(C.WeightBytes), ranges(C.Layers), C.KVCaches,
                 ir::formatBytes(C.KVBytes), ranges(C.KVLayers));
}

//===----------------------------------------------------------------------===//
// Phases of strata run
//===----------------------------------------------------------------------===//

/// The command line's own checks; ExitSuccess when it is good.
int checkOptions() {
  if (Prompt.getNumOccurrences() == TokenList.getNumOccurrences())
    return Errors.usage("give either --prompt TEXT or --tokens IDS");
  if (NumTokens < 0)
    return Errors.usage("-n must be at least 0");
  if (Temperature < 0 || TopP <= 0 || TopP > 1 || TopK < 0)
    return Errors.usage("--temp must be >= 0, --top-p in (0, 1], --top-k >= 0");
  return ExitSuccess;
}

llvm::Expected<std::shared_ptr<const plan::Plan>> readPlan() {
  auto Text = llvm::MemoryBuffer::getFile(PlanPath);
  if (!Text)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   PlanPath + ": " + Text.getError().message());
  auto Plan = plan::parsePlan((*Text)->getBuffer(), PlanPath);
  if (!Plan)
    return Plan.takeError();
  return std::make_shared<const plan::Plan>(std::move(*Plan));
}

/// --devices: which of this machine's devices runs each of the plan's
/// (empty: device i runs plan device i). Whether they exist is the
/// backend's to say.
int parseDeviceList(const plan::Plan &P, std::vector<unsigned> &Map) {
  if (DeviceList.empty())
    return ExitSuccess;
  llvm::SmallVector<llvm::StringRef, 8> Items;
  llvm::StringRef(DeviceList).split(Items, ',', -1, false);
  std::set<unsigned> Seen;
  for (llvm::StringRef I : Items) {
    unsigned D = 0;
    if (I.trim().getAsInteger(10, D) || !Seen.insert(D).second)
      return Errors.usage("--devices: expected distinct device indices such "
                          "as 0,2, got '" +
                          DeviceList + "'");
    Map.push_back(D);
  }
  if (Items.size() != P.Devices.size())
    return Errors.usage(llvm::formatv("--devices names {0} devices but the "
                                      "plan has {1}; a multi-device plan "
                                      "never runs on fewer devices",
                                      Items.size(), P.Devices.size()));
  return ExitSuccess;
}

/// DEBUG=2's line per step and --trace's record, from the backend.
runtime::StepObserver makeStepObserver(const runtime::Backend &B,
                                       StepRecorder *Recorder) {
  bool LogSteps = spdlog::should_log(spdlog::level::debug);
  if (!LogSteps && !Recorder)
    return nullptr;
  return [Recorder, LogSteps, Kind = B.getName().str()](
             const runtime::BoundStep &S,
             std::chrono::steady_clock::time_point Begin, double Seconds) {
    if (Recorder)
      Recorder->record(S, Begin, Seconds);
    if (LogSteps)
      spdlog::debug("step {:4} {}:{} {:<10} {:<24} {:8.2f} us", S.Index, Kind,
                    S.Device, plan::getKindName(S.Step->Op).str(), S.Step->Name,
                    Seconds * 1e6);
  };
}

/// Loads the weights with a progress bar on a terminal; LoadSeconds is how
/// long it took.
int loadWeights(runtime::Executor &X, double &LoadSeconds) {
  bool Bar = llvm::sys::Process::StandardErrIsDisplayed();
  auto LoadBegin = std::chrono::steady_clock::now();
  int LastPercent = -1;
  llvm::Error E = X.load(
      [&](uint64_t Done, uint64_t Total) {
        if (!Bar || !Total)
          return;
        int Percent = static_cast<int>(100 * Done / Total);
        if (Percent == LastPercent)
          return;
        LastPercent = Percent;
        llvm::errs() << llvm::formatv("\rloading weights [{0,-40}] {1,3}% {2}",
                                      std::string(Percent * 40 / 100, '#'),
                                      Percent, ir::formatBytes(Done));
      },
      &InterruptScope::flag());
  if (Bar && LastPercent >= 0)
    llvm::errs() << "\n";
  if (E)
    return Errors.report(llvm::toString(std::move(E)),
                         InterruptScope::requested() ? InterruptedExitCode
                                                     : ExitFailure);
  LoadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              LoadBegin)
                    .count();
  return ExitSuccess;
}

/// The GGUF vocabulary, when the model has one and a text prompt needs it.
int loadTokenizer(const import::ModelSource &Source,
                  std::optional<runtime::Tokenizer> &Tok) {
  if (Source.Kind != import::ModelSource::Format::GGUF)
    return ExitSuccess;
  auto T = runtime::loadTokenizerFromGGUF(ModelPath);
  if (T) {
    Tok = std::move(*T);
    return ExitSuccess;
  }
  if (TokenList.empty())
    return Errors.fail(llvm::toString(T.takeError()));
  llvm::consumeError(T.takeError());
  return ExitSuccess;
}

/// The prompt's tokens: given, or the text encoded.
int readPromptTokens(const std::optional<runtime::Tokenizer> &Tok,
                     std::vector<int32_t> &Ids) {
  if (!TokenList.empty()) {
    llvm::SmallVector<llvm::StringRef, 16> Items;
    llvm::StringRef(TokenList).split(Items, ',', -1, false);
    for (llvm::StringRef I : Items) {
      int32_t Id = 0;
      if (I.trim().getAsInteger(10, Id) || Id < 0)
        return Errors.usage(
            "--tokens: expected token ids such as 1,403,407, got '" + I + "'");
      Ids.push_back(Id);
    }
  } else {
    if (!Tok)
      return Errors.fail(ModelPath +
                         ": no tokenizer for text prompts (only GGUF "
                         "vocabularies are read); give --tokens");
    Ids = Tok->encode(Prompt);
  }
  if (Ids.empty())
    return Errors.usage("the prompt has no tokens");
  return ExitSuccess;
}

/// The prompt, then the text as it is made, on stdout; Made counts the
/// tokens generated.
int generate(runtime::Executor &X, const runtime::Backend &B,
             runtime::Generator &Gen, llvm::ArrayRef<int32_t> Ids,
             const std::optional<runtime::Tokenizer> &Tok, int64_t &Made) {
  std::optional<runtime::Detokenizer> Detok;
  if (Tok) {
    Detok.emplace(*Tok);
    for (int32_t Id : Ids)
      llvm::outs() << Detok->decode(Id);
  } else {
    llvm::outs() << llvm::join(
        llvm::map_range(Ids, [](int32_t I) { return std::to_string(I); }), " ");
  }
  llvm::outs().flush();
  if (NumTokens > 0) {
    auto Next = Gen.start(Ids);
    if (!Next)
      return Errors.fail(llvm::toString(Next.takeError()));
    reportMemory(X, B, "after prefill");
    int32_t Token = *Next;
    while (!(Tok && Token == Tok->eos())) {
      ++Made;
      if (Detok)
        llvm::outs() << Detok->decode(Token);
      else
        llvm::outs() << " " << Token;
      llvm::outs().flush();
      if (Made >= NumTokens || InterruptScope::requested())
        break;
      if (Gen.getPosition() >= Gen.getContext()) {
        spdlog::warn("stopped: the context of {} tokens is full",
                     Gen.getContext());
        break;
      }
      auto N = Gen.next(Token);
      if (!N)
        return Errors.fail(llvm::toString(N.takeError()));
      Token = *N;
    }
    if (Detok)
      llvm::outs() << Detok->finish();
  }
  llvm::outs() << "\n";
  llvm::outs().flush();
  return ExitSuccess;
}

/// --bench: prompt and decode tokens per second, and the load time.
void printBench(const runtime::GenerationStats &S, size_t PromptTokens,
                double LoadSeconds) {
  double PromptSeconds = S.PrefillSeconds;
  // Prompt tokens fed one by one ran as decode steps.
  uint64_t PromptDecodes = PromptTokens - S.PrefillTokens;
  double PerStep = S.DecodeRuns ? S.DecodeSeconds / S.DecodeRuns : 0;
  PromptSeconds += PerStep * PromptDecodes;
  llvm::errs() << llvm::formatv(
      "prompt   {0} tokens in {1:f3} ms: {2:f1} tokens/s ({3} prefill "
      "runs)\n",
      PromptTokens, PromptSeconds * 1e3,
      PromptSeconds > 0 ? PromptTokens / PromptSeconds : 0.0, S.PrefillRuns);
  llvm::errs() << llvm::formatv(
      "decode   {0} steps in {1:f3} ms: {2:f1} tokens/s, {3:f3} ms per "
      "step\n",
      S.DecodeRuns, S.DecodeSeconds * 1e3,
      S.DecodeSeconds > 0 ? S.DecodeRuns / S.DecodeSeconds : 0.0,
      PerStep * 1e3);
  llvm::errs() << llvm::formatv("load     {0:f3} s\n", LoadSeconds);
}

/// A failure to set up: a device map that does not fit is the command
/// line's fault.
int failSetup(llvm::Error E) {
  bool Usage = E.isA<runtime::DeviceMapError>();
  std::string Msg = PlanPath + " with " + ModelPath + ": ";
  if (Usage)
    Msg = "--devices " + DeviceList + ": ";
  Msg += llvm::toString(std::move(E));
  return Usage ? Errors.usage(Msg) : Errors.fail(Msg);
}

int runRun() {
  if (int Code = checkOptions())
    return Code;
  // From here on Ctrl-C stops the run at the next weight or token, and
  // everything is released on the way out.
  InterruptScope Interrupt;

  auto Plan = readPlan();
  if (!Plan)
    return Errors.fail(llvm::toString(Plan.takeError()));
  runtime::BackendOptions BO;
  BO.ThreadsPerDevice = Threads;
  if (int Code = parseDeviceList(**Plan, BO.DeviceMap))
    return Code;
  auto Source = import::openModel(ModelPath);
  if (!Source)
    return Errors.fail(llvm::toString(Source.takeError()));
  if (!Source->Tensors)
    return Errors.fail(ModelPath +
                       ": has no weights to run (give a GGUF file or a "
                       "checkpoint folder with safetensors)");

  auto Backend = runtime::createBackend(**Plan, BO);
  if (!Backend)
    return failSetup(Backend.takeError());
  std::optional<StepRecorder> Recorder;
  if (!TracePath.empty())
    Recorder.emplace(**Plan);
  (*Backend)->setStepObserver(
      makeStepObserver(**Backend, Recorder ? &*Recorder : nullptr));
  runtime::ExecutorOptions XO;
  XO.Verify = !UnsafeSkipVerify;
  XO.DeviceMap = BO.DeviceMap;
  XO.PlanName = PlanPath;
  XO.OnCleanup = [](const runtime::CleanupReport &R) {
    spdlog::info("cleanup {}: {}", plan::getKindName(R.Kind).str(), R.What);
  };
  auto X = runtime::Executor::create(*Plan, std::move(*Source->Tensors),
                                     **Backend, std::move(XO));
  if (!X)
    return failSetup(X.takeError());

  double LoadSeconds = 0;
  if (int Code = loadWeights(**X, LoadSeconds))
    return Code;
  spdlog::info("loaded {} onto {} {} device(s) in {:.3f} s",
               (*Plan)->Model.Name, (*Plan)->Devices.size(),
               (*Backend)->getName().str(), LoadSeconds);
  reportContents(**X, **Backend);
  reportMemory(**X, **Backend, "after load");

  std::optional<runtime::Tokenizer> Tok;
  if (int Code = loadTokenizer(*Source, Tok))
    return Code;
  std::vector<int32_t> Ids;
  if (int Code = readPromptTokens(Tok, Ids))
    return Code;
  runtime::SamplingOptions SO;
  SO.Temperature = Temperature;
  SO.TopK = TopK;
  SO.TopP = TopP;
  SO.Seed = Seed;
  runtime::Generator Gen(**X, SO);
  int64_t Made = 0;
  if (int Code = generate(**X, **Backend, Gen, Ids, Tok, Made))
    return Code;
  reportMemory(**X, **Backend, "during decode");
  if (Recorder)
    if (llvm::Error E = writeOutputFile(TracePath, [&](llvm::raw_ostream &OS) {
          viz::writeChromeTrace(OS, **Plan, Recorder->take(), "measured");
          return llvm::Error::success();
        }))
      return Errors.fail(llvm::toString(std::move(E)));
  if (InterruptScope::requested())
    return Errors.report(llvm::Twine("interrupted after ") + llvm::Twine(Made) +
                             " generated token(s)",
                         InterruptedExitCode);
  if (Bench)
    printBench(Gen.getStats(), Ids.size(), LoadSeconds);
  return ExitSuccess;
}

} // namespace

Command getRunCommand() { return {&RunCmd, &runRun}; }

} // namespace strata::tool
