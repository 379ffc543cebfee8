// Small inputs where the parsers' values differ: duplicate keys, integers
// past int64 / uint64, huge doubles, leading zeros, lone surrogates, depth.
#include "ir/plan/JSONDocument.h"
#include "llvm/Support/FormatVariadic.h"
#include <cstdio>
#include <simdjson.h>
#include <string>

static std::string ours(const std::string &Text) {
  auto Doc = strata::parseJSONDocument(Text);
  if (!Doc)
    return "error: " + llvm::toString(Doc.takeError());
  return llvm::formatv("{0}", (*Doc)->root()).str();
}
static std::string dom(const std::string &Text) {
  simdjson::dom::parser P;
  simdjson::dom::element E;
  if (auto Err = P.parse(Text).get(E))
    return std::string("error: ") + simdjson::error_message(Err);
  std::string S = simdjson::minify(E);
  if (E.is_object()) {
    simdjson::dom::element A;
    if (!E["a"].get(A))
      S += "   [\"a\"] -> " + simdjson::minify(A);
  }
  return S;
}
static std::string ondemand(const std::string &Text) {
  simdjson::ondemand::parser P;
  simdjson::padded_string Padded(Text);
  simdjson::ondemand::document D;
  if (auto Err = P.iterate(Padded).get(D))
    return std::string("error: ") + simdjson::error_message(Err);
  simdjson::ondemand::object O;
  if (auto Err = D.get_object().get(O))
    return std::string("error: ") + simdjson::error_message(Err);
  simdjson::ondemand::value V;
  if (auto Err = O.find_field_unordered("a").get(V))
    return std::string("error: ") + simdjson::error_message(Err);
  simdjson::ondemand::number N;
  if (auto Err = V.get_number().get(N)) {
    std::string_view S;
    if (auto SErr = V.get_string().get(S))
      return std::string("[\"a\"] error: ") + simdjson::error_message(SErr);
    return "[\"a\"] -> \"" + std::string(S) + "\"";
  }
  if (N.is_int64())
    return "[\"a\"] -> " + std::to_string(N.get_int64()) + " (int64)";
  if (N.is_uint64())
    return "[\"a\"] -> " + std::to_string(N.get_uint64()) + " (uint64)";
  return "[\"a\"] -> " + std::to_string(N.get_double()) + " (double)";
}

int main() {
  const char *Cases[] = {
      R"({"a": 1, "a": 2})",
      R"({"a": 9223372036854775807})",
      R"({"a": 9223372036854775808})",
      R"({"a": 18446744073709551615})",
      R"({"a": 18446744073709551616})",
      R"({"a": 1e400})",
      R"({"a": 1.0})",
      R"({"a": -0})",
      R"({"a": 0256})",
      R"({"a": "\ud800"})",
      R"({"a": "x"} )",
  };
  for (const char *C : Cases) {
    std::printf("%s\n  strata (parseJSONDocument): %s\n  simdjson DOM: %s\n  "
                "simdjson On-Demand: %s\n",
                C, ours(C).c_str(), dom(C).c_str(), ondemand(C).c_str());
  }
}
