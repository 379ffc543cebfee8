//===- Logging.cpp - spdlog set-up for the strata tool --------------------===//

#include "Logging.h"

#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

#include <cstdlib>

namespace strata::tool {

static llvm::Error levelError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

llvm::Error setUpLogging(llvm::StringRef LevelFlag) {
  auto Logger = spdlog::stderr_color_mt("strata");
  Logger->set_pattern("%^[%l]%$ %v");
  spdlog::set_default_logger(Logger);

  spdlog::level::level_enum Level = spdlog::level::warn;
  std::string Problem;
  if (const char *Debug = std::getenv("DEBUG"); Debug && *Debug) {
    llvm::StringRef D(Debug);
    if (D == "0")
      Level = spdlog::level::warn;
    else if (D == "1")
      Level = spdlog::level::info;
    else if (D == "2")
      Level = spdlog::level::debug;
    else
      Problem = ("DEBUG=" + D + " is not 0, 1 or 2; ignoring it").str();
  }
  if (!LevelFlag.empty()) {
    static const llvm::StringRef Names[] = {"trace", "debug",    "info", "warn",
                                            "error", "critical", "off"};
    auto It = llvm::find(Names, LevelFlag);
    if (It == std::end(Names))
      return levelError("--log-level=" + LevelFlag +
                        ": expected trace, debug, info, warn, error, critical "
                        "or off");
    Level = spdlog::level::from_str(LevelFlag.str());
  }
  spdlog::set_level(Level);
  if (!Problem.empty())
    spdlog::warn("{}", Problem);
  return llvm::Error::success();
}

} // namespace strata::tool
