//===- Interrupt.cpp - Ctrl-C as a request to stop cleanly ----------------===//

#include "Interrupt.h"

#include <csignal>

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
  sigaction(SIGINT, &Action, &OldInt);
  sigaction(SIGTERM, &Action, &OldTerm);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &OldInt, nullptr);
  sigaction(SIGTERM, &OldTerm, nullptr);
}

const std::atomic<bool> &InterruptScope::flag() { return Requested; }

} // namespace strata::tool
