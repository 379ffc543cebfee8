//===- Executor.h - A plan made real on a backend ---------------*- C++ -*-===//
//
// Loads a verified plan onto a backend: checks that the model files are the
// ones the plan was made for and that the backend's devices are the plan's,
// allocates each device's regions (weights, KV cache, arena) at exactly the
// planned sizes, loads every weight into its planned place (its shard, for
// split tensors), verifies where each weight and cache actually is, binds
// each program's steps to bytes and prepares them. Then runs programs.
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

/// What one device holds, as found after loading (not as planned).
struct DeviceContents {
  unsigned Weights = 0, KVCaches = 0, Misplaced = 0;
  uint64_t WeightBytes = 0, KVBytes = 0;
  std::set<int64_t> Layers, KVLayers;
};

/// Planned against allocated bytes per device.
struct MemoryUse {
  unsigned Device;
  uint64_t Planned, Allocated, Capacity;
};

class Executor {
public:
  /// Progress of loading: bytes done of bytes in all.
  using Progress = std::function<void(uint64_t Done, uint64_t Total)>;

  /// Checks Plan against the model (Tensors, the files it lists) and the
  /// backend; nothing is allocated yet.
  /// Verify false skips the plan verifier: only for showing what an
  /// unverified plan does (a race that ThreadSanitizer reports).
  static llvm::Expected<std::unique_ptr<Executor>>
  create(const plan::Plan &Plan, import::TensorTable Tensors, Backend &B,
         bool Verify = true);
  ~Executor();

  /// Allocates, loads every weight, verifies where they are, prepares the
  /// programs, and acts on the after-load cleanup point. Once Stop is set
  /// (Ctrl-C), loading ends at the next weight with an error; what was
  /// allocated is handed back when the executor goes.
  llvm::Error load(const Progress &P = {},
                   const std::atomic<bool> *Stop = nullptr);

  /// Runs a program once: Tokens and Positions ([batch, tokens] each) are
  /// written to every device that reads them; returns the greedy next
  /// token per sequence and, if asked, the logits of the last position.
  llvm::Error run(llvm::StringRef Program, llvm::ArrayRef<int32_t> Tokens,
                  llvm::ArrayRef<int32_t> Positions,
                  std::vector<int32_t> &NextTokens,
                  std::vector<float> *Logits = nullptr);

  /// Tokens per run of Program and sequences per batch.
  int64_t getTokensPerRun(llvm::StringRef Program) const;
  int64_t getBatch() const { return Plan.Opts.Batch; }
  int64_t getContext() const { return Plan.Opts.Context; }
  const plan::Plan &getPlan() const { return Plan; }

  /// Where weights and caches are, asked of the backend.
  std::vector<DeviceContents> findContents() const;
  std::vector<MemoryUse> getMemoryUse() const;

private:
  Executor(const plan::Plan &P, import::TensorTable T, Backend &B);
  llvm::Error loadWeight(uint32_t Buffer, std::vector<char> &Scratch);
  llvm::Expected<TensorView> bind(uint32_t Buffer) const;
  llvm::Error bindProgram(const plan::ProgramSchedule &S);
  llvm::Error writeInput(const plan::ProgramSchedule &S, llvm::StringRef Name,
                         llvm::ArrayRef<int32_t> Values);

  const plan::Plan &Plan;
  import::TensorTable Tensors;
  llvm::StringMap<size_t> TensorIndex;
  Backend &B;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> Files;

  struct Regions {
    void *Weights = nullptr, *KVCache = nullptr, *Arena = nullptr;
  };
  std::vector<Regions> Devices;
  /// Host copies of host-offloaded weights, and where disk ones are mapped.
  std::map<uint32_t, std::vector<char>> HostWeights;
  std::map<uint32_t, const void *> OffDevice;
  std::map<std::string, std::unique_ptr<PreparedProgram>, std::less<>> Programs;
  bool Loaded = false;
};

} // namespace strata::runtime

#endif // STRATA_RUNTIME_EXECUTOR_H
