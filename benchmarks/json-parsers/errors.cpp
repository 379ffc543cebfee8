// What each parser says about a broken file: jsonerrors FILE...
// For On-Demand, the error's place is current_location() turned into
// line:column by counting newlines (what a reader would have to do itself).
#include "walkers.h"

#include "ir/plan/JSONDocument.h"
#include "ir/plan/Plan.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

static const char *const CodeNames[] = {"SUCCESS",
                                        "CAPACITY",
                                        "MEMALLOC",
                                        "TAPE_ERROR",
                                        "DEPTH_ERROR",
                                        "STRING_ERROR",
                                        "T_ATOM_ERROR",
                                        "F_ATOM_ERROR",
                                        "N_ATOM_ERROR",
                                        "NUMBER_ERROR",
                                        "UTF8_ERROR",
                                        "UNINITIALIZED",
                                        "EMPTY",
                                        "UNESCAPED_CHARS",
                                        "UNCLOSED_STRING",
                                        "UNSUPPORTED_ARCHITECTURE",
                                        "INCORRECT_TYPE",
                                        "NUMBER_OUT_OF_RANGE",
                                        "INDEX_OUT_OF_BOUNDS",
                                        "NO_SUCH_FIELD",
                                        "IO_ERROR",
                                        "INVALID_JSON_POINTER",
                                        "INVALID_URI_FRAGMENT",
                                        "UNEXPECTED_ERROR",
                                        "PARSER_IN_USE",
                                        "OUT_OF_ORDER_ITERATION",
                                        "INSUFFICIENT_PADDING",
                                        "INCOMPLETE_ARRAY_OR_OBJECT",
                                        "SCALAR_DOCUMENT_AS_VALUE",
                                        "OUT_OF_BOUNDS",
                                        "TRAILING_CONTENT"};
static std::string describe(simdjson::error_code E) {
  return std::string(CodeNames[int(E)]) + " \"" + simdjson::error_message(E) +
         "\"";
}

static std::string readFile(const char *Path) {
  std::ifstream In(Path, std::ios::binary);
  std::stringstream SS;
  SS << In.rdbuf();
  return SS.str();
}

static std::string lineCol(const std::string &Text, size_t Offset) {
  size_t Line = 1, Start = 0;
  for (size_t I = 0; I < Offset && I < Text.size(); ++I)
    if (Text[I] == '\n') {
      ++Line;
      Start = I + 1;
    }
  return std::to_string(Line) + ":" + std::to_string(Offset - Start + 1) +
         " (byte " + std::to_string(Offset) + ")";
}

int main(int argc, char **argv) {
  for (int A = 1; A < argc; ++A) {
    std::string Text = readFile(argv[A]);
    simdjson::padded_string Padded(Text);
    std::printf("== %s (%zu bytes)\n", argv[A], Text.size());

    auto P = strata::plan::parsePlan(Text, "plan.json");
    std::printf("  strata parsePlan : %s\n",
                P ? "ok" : llvm::toString(P.takeError()).c_str());

    simdjson::dom::parser DP;
    simdjson::dom::element Root;
    auto DE = DP.parse(Padded).get(Root);
    std::printf("  simdjson DOM     : %s\n", DE ? describe(DE).c_str() : "ok");

    simdjson::ondemand::parser OP;
    simdjson::ondemand::document Doc;
    uint64_t Sum = 0;
    const char *Stage = "iterate";
    auto OE = OP.iterate(Padded).get(Doc);
    if (!OE) {
      Stage = "walk";
      OE = jb::touchODDocument(Doc, Sum);
    }
    std::string Where = "-";
    if (OE && Stage[0] == 'w') {
      const char *Loc;
      if (auto LE = Doc.current_location().get(Loc))
        Where = std::string("none (") + simdjson::error_message(LE) + ")";
      else
        Where = lineCol(Text, size_t(Loc - Padded.data()));
    }
    std::printf("  simdjson OnDemand: %s%s%s; current_location: %s\n",
                OE ? Stage : "ok", OE ? ": " : "",
                OE ? describe(OE).c_str() : "", Where.c_str());
  }
}
