// One parse per process, for peak RSS: /usr/bin/time -f %M jsonmem MODE FILE
//   MODE: read, readpadded (the text only), doc (parseJSONDocument),
//         plan (parsePlan), dom (simdjson DOM parse), ondemand (On-Demand,
//         every value touched), domsketch, odsketch (the sketch readers), llvm
//         (llvm::json::parse), parsejson (strata::parseJSON)
// The text is read once: into a std::string for Strata and LLVM, into a
// simdjson::padded_string (the same bytes plus 64) for simdjson.
#include "odsketch.h"
#include "walkers.h"

#include "ir/plan/JSONDocument.h"
#include "ir/plan/JSONParser.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <time.h>

static double ms(clockid_t C) {
  timespec T;
  clock_gettime(C, &T);
  return T.tv_sec * 1e3 + T.tv_nsec / 1e6;
}
static long minorFaults() {
  rusage U;
  getrusage(RUSAGE_SELF, &U);
  return U.ru_minflt;
}
static long maxRSSKiB() {
  rusage U;
  getrusage(RUSAGE_SELF, &U);
  return U.ru_maxrss;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: jsonmem MODE FILE\n");
    return 2;
  }
  std::string Mode = argv[1];
  bool Simd = Mode == "dom" || Mode == "ondemand" || Mode == "domsketch" ||
              Mode == "odsketch" || Mode == "readpadded";
  std::string Text;
  simdjson::padded_string Padded;
  if (Simd) {
    if (auto E = simdjson::padded_string::load(argv[2]).get(Padded)) {
      std::fprintf(stderr, "%s\n", simdjson::error_message(E));
      return 1;
    }
  } else {
    // One copy of the text, as a MemoryBuffer would hold it.
    std::ifstream In(argv[2], std::ios::binary | std::ios::ate);
    Text.resize(size_t(In.tellg()));
    In.seekg(0);
    In.read(Text.data(), std::streamsize(Text.size()));
  }
  long Before = maxRSSKiB(), F0 = minorFaults();
  double W0 = ms(CLOCK_MONOTONIC), C0 = ms(CLOCK_PROCESS_CPUTIME_ID);
  uint64_t Sum = 0;
  bool Ok = true;
  if (Mode == "read" || Mode == "readpadded") {
  } else if (Mode == "doc") {
    auto Doc = strata::parseJSONDocument(Text);
    Ok = bool(Doc);
    if (Ok)
      Sum = (*Doc)->root().kind();
    else
      llvm::consumeError(Doc.takeError());
  } else if (Mode == "plan") {
    auto P = strata::plan::parsePlan(Text, "plan.json");
    Ok = bool(P);
    if (Ok)
      Sum = P->Buffers.size();
    else
      llvm::consumeError(P.takeError());
  } else if (Mode == "dom") {
    simdjson::dom::parser Parser;
    simdjson::dom::element Root;
    Ok = !Parser.parse(Padded).get(Root);
    if (Ok)
      Sum = uint64_t(Root.type());
  } else if (Mode == "ondemand") {
    simdjson::ondemand::parser Parser;
    simdjson::ondemand::document Doc;
    Ok = !Parser.iterate(Padded).get(Doc) && !jb::touchODDocument(Doc, Sum);
  } else if (Mode == "domsketch") {
    simdjson::dom::parser Parser;
    simdjson::dom::element Root;
    strata::plan::Plan P;
    Ok = !Parser.parse(Padded).get(Root) &&
         jb::TreeSketch<jb::DomAdapter>::read({Root, true}, P);
    Sum = P.Buffers.size();
  } else if (Mode == "odsketch") {
    simdjson::ondemand::parser Parser;
    simdjson::ondemand::document Doc;
    strata::plan::Plan P;
    Ok = !Parser.iterate(Padded).get(Doc) && !jb::ODSketch::read(Doc, P);
    Sum = P.Buffers.size();
  } else if (Mode == "llvm") {
    auto V = llvm::json::parse(Text);
    Ok = bool(V);
    if (!Ok)
      llvm::consumeError(V.takeError());
  } else if (Mode == "parsejson") {
    auto V = strata::parseJSON(Text);
    Ok = bool(V);
    if (!Ok)
      llvm::consumeError(V.takeError());
  } else {
    std::fprintf(stderr, "unknown mode %s\n", Mode.c_str());
    return 2;
  }
  double W1 = ms(CLOCK_MONOTONIC), C1 = ms(CLOCK_PROCESS_CPUTIME_ID);
  // RESULT mode wall_ms cpu_ms minor_faults maxrss_before_KiB maxrss_after_KiB
  std::printf("RESULT %s %.2f %.2f %ld %ld %ld\n", Mode.c_str(), W1 - W0,
              C1 - C0, minorFaults() - F0, Before, maxRSSKiB());
  std::fprintf(stderr, "%s: ok=%d sum=%llu\n", Mode.c_str(), Ok,
               (unsigned long long)Sum);
  return Ok ? 0 : 1;
}
