# Warnings as errors on Strata's own code only, never on dependencies.
function(strata_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

function(strata_add_library name)
  add_library(${name} STATIC ${ARGN})
  strata_target_options(${name})
endfunction()
