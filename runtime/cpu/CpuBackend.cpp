//===- CpuBackend.cpp - Plans run on CPU virtual devices ------------------===//

#include "runtime/cpu/CpuBackend.h"

#include "runtime/StepDecoder.h"
#include "runtime/cpu/CpuKernels.h"

#include "kernels/cpu/Convert.h"
#include "kernels/cpu/ThreadPool.h"

#include "llvm/Support/FormatVariadic.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

namespace strata::runtime {

/// Waits until A holds at least Target: yields a while first (the other
/// side is usually a step away, and a futex sleep and wake costs tens of
/// microseconds), then sleeps.
static void waitAtLeast(const std::atomic<uint64_t> &A, uint64_t Target) {
  for (int Spin = 0; Spin < 256; ++Spin) {
    if (A.load(std::memory_order_acquire) >= Target)
      return;
    std::this_thread::yield();
  }
  uint64_t V;
  while ((V = A.load(std::memory_order_acquire)) < Target)
    A.wait(V, std::memory_order_acquire);
}

/// Rendezvous of a collective's member devices, reusable many times in a
/// run: each arrival takes a ticket, and a round ends when its last member
/// arrives. abort() releases everyone, and arrive() then returns false.
class Rendezvous {
public:
  explicit Rendezvous(unsigned N) : N(N) {}
  bool arrive() {
    uint64_t Ticket = Arrived.fetch_add(1, std::memory_order_acq_rel);
    uint64_t End = (Ticket / N + 1) * N;
    if (Ticket + 1 == End)
      Arrived.notify_all();
    else
      waitAtLeast(Arrived, End);
    return !Aborted.load(std::memory_order_acquire);
  }
  void abort() {
    Aborted.store(true, std::memory_order_release);
    Arrived.fetch_add(uint64_t(1) << 40, std::memory_order_acq_rel);
    Arrived.notify_all();
  }
  /// Before a run, when nobody is waiting.
  void reset() {
    Aborted.store(false);
    Arrived.store(0);
  }

private:
  const unsigned N;
  std::atomic<uint64_t> Arrived{0};
  std::atomic<bool> Aborted{false};
};

/// One worker thread per device, each running the jobs it is given in
/// order; run() hands out one job per device and waits for all of them.
/// Hand-offs are atomics (a job generation per worker, a count of jobs
/// done), waited on with a short yielding spin before sleeping.
class CpuStreams {
public:
  ~CpuStreams() {
    for (auto &W : Workers) {
      if (!W)
        continue;
      W->Stop.store(true);
      W->Generation.fetch_add(1, std::memory_order_release);
      W->Generation.notify_one();
      W->Thread.join();
    }
  }

  /// Runs each (device, job) on its device's thread; the first job runs on
  /// the calling thread. Returns when all are done.
  void run(std::vector<std::pair<unsigned, std::function<void()>>> &Jobs) {
    if (Jobs.empty())
      return;
    Done.store(0, std::memory_order_relaxed);
    for (size_t I = 1; I < Jobs.size(); ++I) {
      Worker &W = worker(Jobs[I].first);
      W.Job = std::move(Jobs[I].second);
      W.Generation.fetch_add(1, std::memory_order_release);
      W.Generation.notify_one();
    }
    Jobs[0].second();
    waitAtLeast(Done, Jobs.size() - 1);
  }

private:
  struct Worker {
    std::thread Thread;
    std::function<void()> Job;
    std::atomic<uint64_t> Generation{0};
    std::atomic<bool> Stop{false};
  };

  Worker &worker(unsigned Device) {
    if (Device >= Workers.size())
      Workers.resize(Device + 1);
    if (!Workers[Device]) {
      Workers[Device] = std::make_unique<Worker>();
      Worker *W = Workers[Device].get();
      W->Thread = std::thread([this, W] { loop(*W); });
    }
    return *Workers[Device];
  }

  void loop(Worker &W) {
    uint64_t Seen = 0;
    while (true) {
      waitAtLeast(W.Generation, Seen + 1);
      Seen = W.Generation.load(std::memory_order_acquire);
      if (W.Stop.load())
        return;
      W.Job();
      W.Job = nullptr;
      Done.fetch_add(1, std::memory_order_acq_rel);
      Done.notify_all();
    }
  }

  std::vector<std::unique_ptr<Worker>> Workers;
  std::atomic<uint64_t> Done{0};
};

namespace {

struct Collective {
  std::unique_ptr<Rendezvous> Meet;
  std::vector<CollectiveParams> Members; ///< In member order.
};

class CpuProgram final : public PreparedProgram {
public:
  BoundProgram Bound;
  std::vector<CpuKernel> Kernels; ///< Per step; empty for collectives.
  std::vector<int> Member;        ///< Per step: index in its collective.
  /// Per device: the steps of all its streams, merged in program order.
  /// Every wait points to an earlier step, so one thread running them in
  /// that order keeps every dependency, and a device needs one thread, not
  /// one per stream, to wake for each run.
  std::vector<std::vector<unsigned>> DeviceSteps;
  std::unique_ptr<std::atomic<uint64_t>[]> Events;
  std::map<uint32_t, Collective> Collectives;
  uint64_t Generation = 0;
  std::atomic<bool> Failed{false};
  std::mutex ErrorMutex;
  std::string Error;

  /// Records the first failure and wakes everyone: waiters see it,
  /// collectives give up.
  void fail(std::string Msg, uint64_t Gen) {
    {
      std::lock_guard<std::mutex> L(ErrorMutex);
      if (Error.empty())
        Error = std::move(Msg);
    }
    Failed.store(true);
    for (uint32_t E = 0; E < Bound.Schedule->NumEvents; ++E) {
      Events[E].store(Gen, std::memory_order_release);
      Events[E].notify_all();
    }
    for (auto &[Id, C] : Collectives)
      C.Meet->abort();
  }
};

} // namespace

CpuBackend::CpuBackend(std::vector<uint64_t> Caps, Options O)
    : Caps(std::move(Caps)), Opts(std::move(O)),
      Streams(std::make_unique<CpuStreams>()) {
  Used.assign(this->Caps.size(), 0);
  unsigned Cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned Threads =
      Opts.ThreadsPerDevice
          ? Opts.ThreadsPerDevice
          : std::max<unsigned>(1,
                               Cores / std::max<size_t>(1, this->Caps.size()));
  for (size_t D = 0; D < this->Caps.size(); ++D)
    Pools.push_back(Threads > 1
                        ? std::make_unique<kernels::cpu::ThreadPool>(Threads)
                        : nullptr);
}

CpuBackend::~CpuBackend() {
  Streams.reset(); // threads first: they may use the pools
  for (auto &[Begin, Rest] : Allocations)
    std::free(reinterpret_cast<void *>(Begin));
}

llvm::Expected<void *> CpuBackend::allocate(unsigned D, uint64_t Bytes,
                                            llvm::StringRef What) {
  std::lock_guard<std::mutex> L(AllocMutex);
  if (D >= Caps.size())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cpu:" + llvm::Twine(D) + " does not exist");
  if (Bytes > Caps[D] - Used[D])
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("out of memory on cpu:{0}: the {1} needs {2} bytes, "
                      "but the device has {3} of its {4} left",
                      D, What, Bytes, Caps[D] - Used[D], Caps[D])
            .str());
  uint64_t Rounded = std::max<uint64_t>(64, (Bytes + 63) / 64 * 64);
  void *P = std::aligned_alloc(64, Rounded);
  if (!P)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("out of memory: this machine could not give cpu:{0}'s "
                      "{1} {2} bytes; free memory, or compile a plan that "
                      "needs less (a smaller --context or --batch)",
                      D, What, Bytes)
            .str());
  std::memset(P, 0, Rounded);
  Used[D] += Bytes;
  uintptr_t Begin = reinterpret_cast<uintptr_t>(P);
  Allocations[Begin] = {Begin + Bytes, D};
  return P;
}

void CpuBackend::deallocate(unsigned D, void *P) {
  std::lock_guard<std::mutex> L(AllocMutex);
  auto It = Allocations.find(reinterpret_cast<uintptr_t>(P));
  if (It == Allocations.end())
    return;
  Used[D] -= It->second.first - It->first;
  Allocations.erase(It);
  std::free(P);
}

uint64_t CpuBackend::getAllocatedBytes(unsigned D) const {
  std::lock_guard<std::mutex> L(AllocMutex);
  return D < Used.size() ? Used[D] : 0;
}

std::optional<unsigned> CpuBackend::findDevice(const void *P) const {
  std::lock_guard<std::mutex> L(AllocMutex);
  uintptr_t A = reinterpret_cast<uintptr_t>(P);
  auto It = Allocations.upper_bound(A);
  if (It == Allocations.begin())
    return std::nullopt;
  --It;
  if (A >= It->second.first)
    return std::nullopt;
  return It->second.second;
}

uint64_t CpuBackend::releaseTail(unsigned, void *Region, uint64_t Keep,
                                 uint64_t Size) {
  // Whole pages past Keep go back to the system; touching them again
  // faults in zeroed pages. The cap still counts them: the plan says the
  // device needs them for the next prefill.
  long Page = sysconf(_SC_PAGESIZE);
  uintptr_t Begin = reinterpret_cast<uintptr_t>(Region) + Keep;
  uintptr_t End = reinterpret_cast<uintptr_t>(Region) + Size;
  Begin = (Begin + Page - 1) / Page * Page;
  End = End / Page * Page;
  if (End <= Begin ||
      madvise(reinterpret_cast<void *>(Begin), End - Begin, MADV_DONTNEED))
    return 0;
  return End - Begin;
}

uint64_t CpuBackend::getResidentBytes(unsigned D) const {
  std::lock_guard<std::mutex> L(AllocMutex);
  long Page = sysconf(_SC_PAGESIZE);
  uint64_t Resident = 0;
  std::vector<unsigned char> InCore;
  for (const auto &[Begin, Rest] : Allocations) {
    if (Rest.second != D)
      continue;
    uintptr_t First = Begin / Page * Page;
    size_t Pages = (Rest.first - First + Page - 1) / Page;
    InCore.assign(Pages, 0);
    if (mincore(reinterpret_cast<void *>(First), Pages * Page, InCore.data()))
      continue;
    for (unsigned char C : InCore)
      Resident += (C & 1) ? Page : 0;
  }
  return Resident;
}

llvm::Error CpuBackend::copyToDevice(unsigned, void *Dst, const void *Src,
                                     uint64_t Bytes) {
  std::memcpy(Dst, Src, Bytes);
  return llvm::Error::success();
}

llvm::Error CpuBackend::copyFromDevice(unsigned, void *Dst, const void *Src,
                                       uint64_t Bytes) {
  std::memcpy(Dst, Src, Bytes);
  return llvm::Error::success();
}

llvm::Error CpuBackend::readF32(unsigned D, const TensorView &T, float *Out) {
  if (!kernels::isFloat(T.Type) && T.Type != kernels::ElementType::Q8_0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("cpu:{0}: cannot read {1} elements as f32", D,
                      kernels::getName(T.Type))
            .str());
  kernels::cpu::readF32({T.Data, T.Type}, 0, T.numElements(), Out);
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<PreparedProgram>>
CpuBackend::prepare(BoundProgram B) {
  auto P = std::make_unique<CpuProgram>();
  P->Bound = std::move(B);
  const plan::ProgramSchedule &S = *P->Bound.Schedule;
  size_t N = P->Bound.Steps.size();
  P->Kernels.resize(N);
  P->Member.assign(N, -1);
  P->DeviceSteps.resize(Caps.size());
  P->Events = std::make_unique<std::atomic<uint64_t>[]>(S.NumEvents);
  for (uint32_t E = 0; E < S.NumEvents; ++E)
    P->Events[E].store(0);
  for (unsigned I = 0; I < N; ++I) {
    const BoundStep &St = P->Bound.Steps[I];
    unsigned Stream = St.Step->Stream;
    if (Stream >= P->Bound.Streams.size() ||
        P->Bound.Streams[Stream].Device >= Caps.size())
      return stepError(St, llvm::formatv("stream {0} is not on a device of "
                                         "this backend ({1} streams, {2} "
                                         "devices)",
                                         Stream, P->Bound.Streams.size(),
                                         Caps.size()));
    P->DeviceSteps[P->Bound.Streams[Stream].Device].push_back(I);
    if (St.Step->Collective) {
      if (!plan::isCollective(St.Step->Op))
        return stepError(St, "is not a collective the CPU backend runs");
      auto Params = decodeStep(St);
      if (!Params)
        return Params.takeError();
      Collective &C = P->Collectives[*St.Step->Collective];
      P->Member[I] = C.Members.size();
      C.Members.push_back(std::get<CollectiveParams>(*Params));
      continue;
    }
    auto K = bindCpuKernel(St);
    if (!K)
      return K.takeError();
    P->Kernels[I] = std::move(*K);
    if (Opts.SkipKernels)
      P->Kernels[I] = [](const kernels::cpu::CpuContext &) {
        return llvm::Error::success();
      };
  }
  for (auto &[Id, C] : P->Collectives)
    C.Meet = std::make_unique<Rendezvous>(C.Members.size());
  return std::unique_ptr<PreparedProgram>(std::move(P));
}

namespace {

/// Runs a collective's step for its member: every member meets, reads what
/// it needs of the others, meets again (so that nobody's input is reused
/// while another still reads it), then writes its own output.
bool runCollective(CpuProgram &P, const BoundStep &S, unsigned Step,
                   std::string &Err) {
  Collective &C = P.Collectives[*S.Step->Collective];
  const CollectiveParams &Me = C.Members[P.Member[Step]];
  if (!C.Meet->arrive())
    return false;
  const TensorView &Out = Me.Out;
  if (S.Step->Op == plan::StepOp::AllReduce) {
    int64_t N = Out.numElements();
    std::vector<float> Sum(N, 0.0f), Part(N);
    for (const CollectiveParams &M : C.Members) {
      if (M.In.numElements() != N) {
        Err = "all_reduce members disagree on the size";
        return false;
      }
      kernels::cpu::readF32({M.In.Data, M.In.Type}, 0, N, Part.data());
      for (int64_t I = 0; I < N; ++I)
        Sum[I] += Part[I];
    }
    if (!C.Meet->arrive())
      return false;
    kernels::cpu::writeF32(Sum.data(), {Out.Data, Out.Type}, 0, N);
    return true;
  }
  // all_gather: the members' parts side by side along the axis.
  int64_t Outer = 1;
  for (int64_t A = 0; A < Me.Axis; ++A)
    Outer *= Out.Shape[A];
  uint64_t OutRow = Out.Bytes / std::max<int64_t>(1, Outer), At = 0;
  for (const CollectiveParams &M : C.Members) {
    uint64_t Row = M.In.Bytes / std::max<int64_t>(1, Outer);
    for (int64_t O = 0; O < Outer; ++O)
      std::memcpy(static_cast<char *>(Out.Data) + O * OutRow + At,
                  static_cast<const char *>(M.In.Data) + O * Row, Row);
    At += Row;
  }
  return C.Meet->arrive();
}

std::string describeStep(const BoundStep &St, const llvm::Twine &Msg) {
  return llvm::formatv("step {0} ({1} '{2}'): ", St.Index,
                       plan::getKindName(St.Step->Op), St.Step->Name)
             .str() +
         Msg.str();
}

} // namespace

void CpuBackend::runDevice(PreparedProgram &Prepared, unsigned Device,
                           uint64_t Gen) {
  CpuProgram &P = static_cast<CpuProgram &>(Prepared);
  const StepObserver &Observe = getStepObserver();
  kernels::cpu::CpuContext Ctx;
  Ctx.Threads = Device < Pools.size() ? Pools[Device].get() : nullptr;
  for (unsigned I : P.DeviceSteps[Device]) {
    const BoundStep &St = P.Bound.Steps[I];
    for (uint32_t E : St.Step->Waits)
      waitAtLeast(P.Events[E], Gen);
    if (P.Failed.load())
      return;
    if (Opts.BeforeStep)
      if (llvm::Error E = Opts.BeforeStep(St)) {
        P.fail(describeStep(St, llvm::toString(std::move(E))), Gen);
        return;
      }
    // A collective's time includes waiting for its other members.
    auto Begin = Observe ? std::chrono::steady_clock::now()
                         : std::chrono::steady_clock::time_point();
    if (St.Step->Collective) {
      std::string Err;
      if (!runCollective(P, St, I, Err)) {
        if (!Err.empty() || !P.Failed.load())
          P.fail(describeStep(St, Err.empty() ? "aborted" : Err), Gen);
        return;
      }
    } else if (llvm::Error E = P.Kernels[I](Ctx)) {
      P.fail(llvm::toString(std::move(E)), Gen);
      return;
    }
    if (Observe)
      Observe(St, Begin,
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            Begin)
                  .count());
    if (St.Step->Record) {
      P.Events[*St.Step->Record].store(Gen, std::memory_order_release);
      P.Events[*St.Step->Record].notify_all();
    }
  }
}

llvm::Error CpuBackend::run(PreparedProgram &Prepared) {
  CpuProgram &P = static_cast<CpuProgram &>(Prepared);
  const uint64_t Gen = ++P.Generation;
  P.Failed.store(false);
  P.Error.clear();
  for (auto &[Id, C] : P.Collectives)
    C.Meet->reset();
  std::vector<std::pair<unsigned, std::function<void()>>> Jobs;
  for (unsigned Device = 0; Device < P.DeviceSteps.size(); ++Device)
    if (!P.DeviceSteps[Device].empty())
      Jobs.push_back(
          {Device, [this, &P, Device, Gen] { runDevice(P, Device, Gen); }});
  Streams->run(Jobs);
  if (P.Failed.load())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   P.Bound.Schedule->Name + ": " + P.Error);
  return llvm::Error::success();
}

} // namespace strata::runtime
