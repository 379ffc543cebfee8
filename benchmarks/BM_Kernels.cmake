add_executable(BM_Kernels BM_Kernels.cpp)
strata_target_options(BM_Kernels)
target_link_libraries(BM_Kernels PRIVATE StrataKernels benchmark::benchmark)
