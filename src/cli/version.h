#pragma once

namespace stratus {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace stratus
