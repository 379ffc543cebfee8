#include <cstdio>
#include <simdjson.h>
int main() {
  std::printf("On-Demand compiled for (SIMDJSON_BUILTIN_IMPLEMENTATION): %s; "
              "library's builtin: %s; active (runtime dispatch): %s\n",
              SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION),
              simdjson::builtin_implementation()->name().c_str(),
              simdjson::get_active_implementation()->name().c_str());
}
