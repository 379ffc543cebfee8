// Where a fresh simdjson DOM parser's time goes: allocate, first parse
// (page faults on the new buffers), second parse (warm).
#include <chrono>
#include <cstdio>
#include <simdjson.h>
#include <sys/resource.h>
static long faults() {
  rusage U;
  getrusage(RUSAGE_SELF, &U);
  return U.ru_minflt;
}
static double now() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int main(int argc, char **argv) {
  simdjson::padded_string Text;
  if (simdjson::padded_string::load(argv[1]).get(Text))
    return 1;
  for (int Round = 0; Round < 3; ++Round) {
    simdjson::dom::parser P;
    long F0 = faults();
    double T0 = now();
    if (P.allocate(Text.size()))
      return 1;
    long F1 = faults();
    double T1 = now();
    simdjson::dom::element R;
    if (P.parse(Text).get(R))
      return 1;
    long F2 = faults();
    double T2 = now();
    if (P.parse(Text).get(R))
      return 1;
    long F3 = faults();
    double T3 = now();
    std::printf("allocate %.1f ms (%ld faults), first parse %.1f ms (%ld "
                "faults), second parse %.1f ms (%ld faults)\n",
                T1 - T0, F1 - F0, T2 - T1, F2 - F1, T3 - T2, F3 - F2);
  }
}
