# Warnings as errors on Strata's own code only, never on dependencies.
function(strata_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  # GCC 12 at -O2/-O3 reports -Wrestrict inside libstdc++'s std::string
  # operator+ (GCC bug 105329) and -Wmaybe-uninitialized inside LLVM 14's
  # formatv providers once inlined: false positives in code we do not own.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-maybe-uninitialized)
  endif()
  # clang before 16 cannot compile LLVM 14's JSON.h in C++20 against
  # libstdc++ 12; see the header. Used by the fuzz build (clang-14).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND
     CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
    target_compile_options(${target} PRIVATE
      -include ${PROJECT_SOURCE_DIR}/cmake/Clang14Compat.h)
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

function(strata_add_library name)
  add_library(${name} STATIC ${ARGN})
  strata_target_options(${name})
endfunction()
