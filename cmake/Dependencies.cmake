# Every dependency comes from Debian's packages or the CUDA tree; see README.md.

find_package(LLVM 14 REQUIRED CONFIG HINTS /usr/lib/llvm-14/lib/cmake/llvm)
message(STATUS "LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")

# LLVM Support (ADT, JSON, command line, Error/Expected), linked statically.
add_library(strata_llvm_support INTERFACE)
target_include_directories(strata_llvm_support SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
separate_arguments(STRATA_LLVM_DEFINITIONS UNIX_COMMAND "${LLVM_DEFINITIONS}")
target_compile_options(strata_llvm_support INTERFACE ${STRATA_LLVM_DEFINITIONS})
llvm_map_components_to_libnames(STRATA_LLVM_LIBS support)
target_link_libraries(strata_llvm_support INTERFACE ${STRATA_LLVM_LIBS})

find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)

if(STRATA_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_program(STRATA_LIT NAMES lit.py lit
    HINTS /usr/lib/llvm-14/build/utils/lit /usr/lib/llvm-14/bin REQUIRED)
  find_program(STRATA_FILECHECK FileCheck HINTS ${LLVM_TOOLS_BINARY_DIR} REQUIRED)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()
if(STRATA_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# CUDA is optional: found here, built on by the CUDA backend once it exists.
set(STRATA_HAVE_CUDA OFF)
if(NOT STRATA_ENABLE_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(STRATA_HAVE_CUDA ON)
    message(STATUS "CUDA toolkit ${CUDAToolkit_VERSION} at ${CUDAToolkit_BIN_DIR}")
  elseif(STRATA_ENABLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STRATA_ENABLE_CUDA=ON but no CUDA toolkit was found")
  else()
    message(STATUS "CUDA toolkit not found: the CUDA backend will not be built")
  endif()
endif()
