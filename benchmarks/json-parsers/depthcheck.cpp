// Does parseJSONDocument alone report too-deep input where parsePlan's
// pre-scan does? (jsondepth FILE...)
#include "ir/plan/JSONDocument.h"
#include "ir/plan/Plan.h"
#include <cstdio>
#include <fstream>
#include <string>
int main(int argc, char **argv) {
  for (int A = 1; A < argc; ++A) {
    std::ifstream In(argv[A], std::ios::binary | std::ios::ate);
    std::string T(size_t(In.tellg()), '\0');
    In.seekg(0);
    In.read(T.data(), std::streamsize(T.size()));
    auto D = strata::parseJSONDocument(T);
    auto P = strata::plan::parsePlan(T, "plan.json");
    std::printf("%s\n  parseJSONDocument: %s\n  parsePlan: %s\n", argv[A],
                D ? "ok" : llvm::toString(D.takeError()).c_str(),
                P ? "ok" : llvm::toString(P.takeError()).c_str());
  }
}
