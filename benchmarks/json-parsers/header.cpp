// What including simdjson costs a translation unit: time the compilation of
// this file (docs/json.md, "Packaging").
#include <simdjson.h>

int main() {
  simdjson::dom::parser P;
  auto R = P.parse(simdjson::padded_string(std::string("1")));
  return R.error();
}
