/*===- Clang14Compat.h - LLVM 14's JSON.h under clang < 16 and C++20 ------===//
 *
 * Included before every Strata source when the compiler is clang older than
 * 16 (the fuzz build uses clang-14; see cmake/StrataTargets.cmake).
 *
 * libstdc++ 12 makes std::vector's members constexpr in C++20, and clang
 * before 16 instantiates a constexpr function as soon as it is referenced.
 * LLVM 14's JSON.h defines json::Array, whose inline members use a
 * std::vector<json::Value>, before json::Value is complete, so every file
 * that includes it fails to compile (llvm-project issue 55780). Turning
 * the C++20 constexpr of the library off makes those members ordinary
 * inline functions again, instantiated at the end of the file; the string
 * feature macro goes with it, so that std::string stays consistently
 * non-constexpr. Nothing in Strata evaluates containers at compile time, and
 * constexpr changes neither the ABI nor the generated code.
 *
 *===----------------------------------------------------------------------===*/

#ifndef STRATA_CMAKE_CLANG14COMPAT_H
#define STRATA_CMAKE_CLANG14COMPAT_H

#define _GLIBCXX20_CONSTEXPR
#include <type_traits>
#undef __cpp_lib_is_constant_evaluated
#include <string>

#endif // STRATA_CMAKE_CLANG14COMPAT_H
