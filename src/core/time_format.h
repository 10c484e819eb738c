#pragma once
// The timestamp forms AWS protocols use. Pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus {

// "2024-01-02T03:04:05Z" or with milliseconds "2024-01-02T03:04:05.123Z" when fraction != 0.
std::string FormatIso8601(double epoch_seconds, bool always_millis = false);
// "20240102T030405Z" (SigV4 x-amz-date).
std::string FormatAmzDate(int64_t epoch_seconds);
// "Tue, 02 Jan 2024 03:04:05 GMT" (RFC 7231 / 822 as AWS writes it).
std::string FormatHttpDate(double epoch_seconds);
// Parses ISO 8601 (with 'Z' or an offset, optional fraction), HTTP dates, or epoch seconds.
std::optional<double> ParseTimestamp(std::string_view text);
std::optional<double> ParseIso8601(std::string_view text);
std::optional<double> ParseHttpDate(std::string_view text);
// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace stratus
