#pragma once
// Build-time only: every translation unit that logs through spdlog instantiates fmt 9's
// formatting engine (detail::vformat_to<char>, with its float writers and Dragon4), ~80 KB of
// -O3 code per object file and ~25% of a typical service file's compile time. fmt 9 has no
// extern declaration for it, so this one tells the compiler that the instantiation lives
// elsewhere: in fmt_extern.cc (stratus_core, compiled once at the same -O3). The precompiled
// header (cmake/pch.cmake) includes this file first in every C++ target; nothing includes it
// by hand. fmt 10 declares the engine itself, hence the version guard.
#include <fmt/format.h>

#if FMT_VERSION >= 90000 && FMT_VERSION < 100000
FMT_BEGIN_NAMESPACE
namespace detail {
extern template FMT_API void vformat_to<char>(buffer<char>&, basic_string_view<char>,
                                              basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                                              locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
#endif
