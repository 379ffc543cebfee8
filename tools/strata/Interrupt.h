//===- Interrupt.h - Ctrl-C as a request to stop cleanly --------*- C++ -*-===//
//
// While an InterruptScope lives, the first SIGINT or SIGTERM (unless the
// parent ignores it) only sets a flag: long work (loading weights, generating)
// checks it at safe points, stops, and the command unwinds, so that every
// device is synchronised and its memory handed back. A second signal ends the
// process at once, as usual, for a run that does not reach a safe point.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_INTERRUPT_H
#define STRATA_TOOLS_STRATA_INTERRUPT_H

#include <atomic>

namespace strata::tool {

/// The exit status of a command stopped by a signal, as shells report one
/// killed by SIGINT.
inline constexpr int InterruptedExitCode = 130;

class InterruptScope {
public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope &) = delete;
  InterruptScope &operator=(const InterruptScope &) = delete;

  /// Set once a signal has arrived; lock-free, so the handler may set it.
  static const std::atomic<bool> &flag();
  static bool requested() { return flag().load(); }
};

} // namespace strata::tool

#endif // STRATA_TOOLS_STRATA_INTERRUPT_H
