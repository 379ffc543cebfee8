add_executable(BM_Arena BM_Arena.cpp)
strata_target_options(BM_Arena)
target_link_libraries(BM_Arena PRIVATE StrataMemory benchmark::benchmark)
