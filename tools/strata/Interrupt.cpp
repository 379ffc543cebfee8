//===- Interrupt.cpp - Ctrl-C as a request to stop cleanly ----------------===//

#include "Interrupt.h"

#include <csignal>
#include <utility>

namespace strata::tool {

namespace {

std::atomic<bool> Requested{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "the signal handler may only touch a lock-free atomic");

struct sigaction OldInt, OldTerm;

extern "C" void onSignal(int Signal) {
  if (!Requested.exchange(true))
    return;
  // The second one: the default action, now.
  std::signal(Signal, SIG_DFL);
  std::raise(Signal);
}

} // namespace

InterruptScope::InterruptScope() {
  Requested.store(false);
  struct sigaction Action = {};
  Action.sa_handler = onSignal;
  sigemptyset(&Action.sa_mask);
  // A signal the parent ignores (a background job, nohup) stays ignored.
  for (auto [Signal, Old] : {std::pair{SIGINT, &OldInt}, {SIGTERM, &OldTerm}}) {
    sigaction(Signal, nullptr, Old);
    if (Old->sa_handler != SIG_IGN)
      sigaction(Signal, &Action, nullptr);
  }
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &OldInt, nullptr);
  sigaction(SIGTERM, &OldTerm, nullptr);
}

const std::atomic<bool> &InterruptScope::flag() { return Requested; }

} // namespace strata::tool
