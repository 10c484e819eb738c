# Helpers that keep every folder's CMakeLists short: one library per folder, tests beside code.

# stratus_library(NAME SRCS a.cc b.cc DEPS x y)
function(stratus_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# Test sources (and their precompiled header, cmake/pch.cmake) compile at -Og, not the build
# type's -O3: a third of the cold build's CPU was test code, which runs for seconds, while the
# libraries under test, built once for the tests and the binary, stay at -O3 (docs/PERFORMANCE.md
# "Build time"). Set it to "" to build tests like production code.
set(STRATUS_TEST_OPT_FLAGS "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-Og>" CACHE STRING
  "Optimisation flags of test sources, after the build type's")

# stratus_test(NAME SRCS a_test.cc DEPS lib) — a GoogleTest binary registered with CTest.
function(stratus_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${STRATUS_TEST_OPT_FLAGS})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES LABELS "unit;${ARG_LABELS}"
    ENVIRONMENT "STRATUS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
