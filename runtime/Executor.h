//===- Executor.h - A plan made real on a backend ---------------*- C++ -*-===//
//
// Loads a verified plan onto a backend: checks that the model files are the
// ones the plan was made for (names, types and shapes, then sampled bytes)
// and that the backend has the plan's devices, allocates each device's
// regions (weights, KV cache, arena) at exactly the planned sizes, loads
// every weight into its planned place (its shard, for split tensors),
// verifies where each weight and cache actually is, binds each program's
// steps to bytes and prepares them. Then runs programs, acting on the
// plan's cleanup points. Plan devices run on the backend devices a device
// map gives (DeviceMap.h).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_RUNTIME_EXECUTOR_H
#define STRATA_RUNTIME_EXECUTOR_H

#include "runtime/Backend.h"

#include "ir/modelfile/TensorTable.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <atomic>
#include <functional>
#include <map>
#include <set>

namespace strata::runtime {

/// What one plan device holds, as found after loading (not as planned).
struct DeviceContents {
  unsigned PlanDevice = 0;
  unsigned Device = 0; ///< The backend device it runs on.
  unsigned Weights = 0, KVCaches = 0, Misplaced = 0;
  uint64_t WeightBytes = 0, KVBytes = 0;
  std::set<int64_t> Layers, KVLayers;
};

/// Planned against allocated bytes per plan device.
struct MemoryUse {
  unsigned PlanDevice;
  unsigned Device; ///< The backend device it runs on.
  uint64_t Planned, Allocated, Capacity;
};

/// What the executor did at a cleanup point of the plan.
struct CleanupReport {
  plan::CleanupKind Kind = plan::CleanupKind::AfterLoad;
  std::string Program;            ///< Empty for after-load.
  std::optional<unsigned> Device; ///< The backend device, if about one.
  uint64_t Bytes = 0;             ///< Freed or handed back.
  std::string What;               ///< In words, with the bytes.
};

struct ExecutorOptions {
  /// False skips the plan verifier: only for showing what an unverified
  /// plan does (a race that ThreadSanitizer reports).
  bool Verify = true;
  /// Plan device I runs on backend device DeviceMap[I]; empty: on device I.
  std::vector<unsigned> DeviceMap;
  /// The plan in messages (its path).
  std::string PlanName = "the plan";
  /// Told what each cleanup point did (DEBUG=1); from the calling thread.
  std::function<void(const CleanupReport &)> OnCleanup;
};

class Executor {
public:
  /// Progress of loading: bytes done of bytes in all.
  using Progress = std::function<void(uint64_t Done, uint64_t Total)>;

  /// Checks Plan against the model (Tensors, the files it lists: the
  /// fingerprint, then the content digest) and against the backend, and
  /// that the runtime acts on every kind of cleanup point the plan holds;
  /// nothing is allocated yet. A device map that does not fit is a
  /// DeviceMapError.
  static llvm::Expected<std::unique_ptr<Executor>>
  create(std::shared_ptr<const plan::Plan> Plan, import::TensorTable Tensors,
         Backend &B, ExecutorOptions O = {});
  ~Executor();

  /// Allocates, loads every weight, acts on the after-load cleanup point,
  /// verifies where weights are, and prepares the programs. Once Stop is
  /// set (Ctrl-C), loading ends at the next weight with an error; what was
  /// allocated is handed back when the executor goes.
  llvm::Error load(const Progress &P = {},
                   const std::atomic<bool> *Stop = nullptr);

  /// Runs a program once: Tokens and Positions ([batch, tokens] each) are
  /// written to every device that reads them; returns the greedy next
  /// token per sequence and, if asked, the logits of the last position.
  /// Then acts on the program's cleanup points (end-of-prefill).
  llvm::Error run(llvm::StringRef Program, llvm::ArrayRef<int32_t> Tokens,
                  llvm::ArrayRef<int32_t> Positions,
                  std::vector<int32_t> &NextTokens,
                  std::vector<float> *Logits = nullptr);

  /// Tokens per run of Program and sequences per batch.
  int64_t getTokensPerRun(llvm::StringRef Program) const;
  int64_t getBatch() const { return Plan.Opts.Batch; }
  int64_t getContext() const { return Plan.Opts.Context; }
  const plan::Plan &getPlan() const { return Plan; }
  /// The backend device plan device D runs on.
  unsigned getBackendDevice(unsigned D) const { return DeviceMap[D]; }

  /// Where weights and caches are, asked of the backend; per plan device.
  std::vector<DeviceContents> findContents() const;
  std::vector<MemoryUse> getMemoryUse() const;
  /// Host bytes the loader holds: its staging for shards and the model
  /// files' mappings; the after-load cleanup point frees them (the
  /// mappings stay while a disk-offloaded weight is read through them).
  uint64_t getLoaderHostBytes() const;

private:
  Executor(std::shared_ptr<const plan::Plan> P, import::TensorTable T,
           Backend &B, ExecutorOptions O);
  llvm::Error checkModel() const;
  llvm::Error checkContentDigest() const;
  llvm::Error checkDevices() const;
  llvm::Error checkCleanups() const;

  llvm::Error allocateRegions();
  llvm::Error mapFiles();
  llvm::Error loadWeights(const Progress &Report,
                          const std::atomic<bool> *Stop);
  llvm::Error loadWeight(uint32_t Buffer);
  llvm::Error loadOffDevice(uint32_t Buffer, const char *Src, uint64_t Bytes);
  llvm::Error verifyPlacement() const;
  llvm::Expected<TensorView> bind(uint32_t Buffer) const;
  llvm::Error bindProgram(const plan::ProgramSchedule &S);

  llvm::Error writeInput(const plan::ProgramSchedule &S, llvm::StringRef Name,
                         llvm::ArrayRef<int32_t> Values);
  llvm::Error readOutputs(const plan::ProgramSchedule &S,
                          std::vector<int32_t> &NextTokens,
                          std::vector<float> *Logits);

  // Cleanup points.
  void actOnLoadCleanups();
  void actAfterLoad();
  void actEndOfPrefill(const plan::CleanupPoint &C);
  void report(CleanupReport R) const;

  std::shared_ptr<const plan::Plan> PlanRef;
  const plan::Plan &Plan;
  import::TensorTable Tensors;
  llvm::StringMap<size_t> TensorIndex;
  Backend &B;
  ExecutorOptions Opts;
  /// Per plan device: the backend device that runs it.
  std::vector<unsigned> DeviceMap;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> Files;
  /// The loader's host staging: a shard cut from its whole tensor.
  std::vector<char> Staging;

  struct Regions {
    void *Weights = nullptr, *KVCache = nullptr, *Arena = nullptr;
  };
  std::vector<Regions> Devices; ///< Per plan device.
  /// Host copies of host-offloaded weights (the backend's host memory),
  /// and where every off-device weight is read (those, or the mapping).
  std::map<uint32_t, void *> HostWeights;
  std::map<uint32_t, const void *> OffDevice;
  std::map<std::string, std::unique_ptr<PreparedProgram>, std::less<>> Programs;
  bool Loaded = false;
};

} // namespace strata::runtime

#endif // STRATA_RUNTIME_EXECUTOR_H
