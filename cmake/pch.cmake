# Precompiled headers, built twice per build directory and shared by every C++ target
# (docs/PERFORMANCE.md "Build time"): stratus_pch for libraries, executables and benches,
# stratus_test_pch (the same plus GoogleTest) for stratus_test binaries. A target can reuse a
# PCH only if it compiles with the same flags, so each PCH target links the dependencies that
# bring the shared definitions (spdlog/fmt's, GoogleTest's); GCC rejects a mismatch with an
# -Winvalid-pch warning and compiles that file without the PCH.
option(STRATUS_PCH "Share precompiled headers across all C++ targets" ON)

# Headers that nearly every file pays for: the standard library, nlohmann/json (core/json.h,
# reached through core/result.h), spdlog and fmt, and core/fmt_extern.h (must come after fmt).
set(STRATUS_PCH_HEADERS
  <algorithm> <array> <atomic> <chrono> <cstdint> <cstring> <deque> <functional> <map> <memory>
  <mutex> <optional> <set> <string> <string_view> <unordered_map> <utility> <variant> <vector>
  <nlohmann/json.hpp> <spdlog/spdlog.h> <fmt/format.h>
  ${PROJECT_SOURCE_DIR}/src/core/fmt_extern.h)

if(STRATUS_PCH)
  add_library(stratus_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch.cc)
  target_link_libraries(stratus_pch PRIVATE nlohmann_json::nlohmann_json spdlog::spdlog fmt::fmt
    Threads::Threads)
  target_precompile_headers(stratus_pch PRIVATE ${STRATUS_PCH_HEADERS})

  add_library(stratus_test_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch.cc)
  target_link_libraries(stratus_test_pch PRIVATE nlohmann_json::nlohmann_json spdlog::spdlog
    fmt::fmt Threads::Threads GTest::gtest GTest::gmock)
  target_precompile_headers(stratus_test_pch PRIVATE ${STRATUS_PCH_HEADERS}
    <gtest/gtest.h> <gmock/gmock.h>)
  # The test binaries' optimisation level (cmake/stratus.cmake): GCC rejects a PCH built at
  # another one.
  target_compile_options(stratus_test_pch PRIVATE ${STRATUS_TEST_OPT_FLAGS})
endif()

function(stratus_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    stratus_collect_targets(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# Called once at the end of the top-level CMakeLists: every static library and executable
# whose sources are all C++ (no C, since the headers are C++) reuses one of the two PCHs.
function(stratus_use_shared_pch)
  if(NOT STRATUS_PCH)
    return()
  endif()
  stratus_collect_targets(${PROJECT_SOURCE_DIR} targets)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "STATIC_LIBRARY" AND NOT type STREQUAL "EXECUTABLE")
      continue()
    endif()
    get_target_property(sources ${target} SOURCES)
    get_target_property(options ${target} COMPILE_OPTIONS)
    if(NOT sources MATCHES "\\.cc" OR sources MATCHES "\\.c(;|$)" OR options MATCHES "-fsanitize")
      continue()
    endif()
    get_target_property(libs ${target} LINK_LIBRARIES)
    if(libs MATCHES "GTest::")
      target_precompile_headers(${target} REUSE_FROM stratus_test_pch)
    else()
      target_precompile_headers(${target} REUSE_FROM stratus_pch)
    endif()
  endforeach()
endfunction()
