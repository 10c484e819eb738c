#pragma once
// Internal: key construction for LogStore (layout documented in log_store.h).
#include <cstdint>
#include <string>
#include <string_view>

#include "services/logs/log_store.h"

namespace stratus::services::logs::keys {

inline std::string Base(const Scope& s) { return "logs/" + s.account + "/" + s.region + "/"; }
inline std::string Group(const Scope& s, std::string_view g) {
  return Base(s) + "g/" + std::string(g);
}
inline std::string GroupPrefix(const Scope& s) { return Base(s) + "g/"; }
inline std::string StreamPrefix(const Scope& s, std::string_view g) {
  return Base(s) + "s/" + std::string(g) + std::string(1, '\0');
}
inline std::string Stream(const Scope& s, std::string_view g, std::string_view st) {
  return StreamPrefix(s, g) + std::string(st);
}
inline std::string GroupEventPrefix(const Scope& s, std::string_view g) {
  return Base(s) + "e/" + std::string(g) + std::string(1, '\0');
}
inline std::string EventPrefix(const Scope& s, std::string_view g, std::string_view st) {
  return GroupEventPrefix(s, g) + std::string(st) + std::string(1, '\0');
}
inline void AppendBigEndian(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
inline uint64_t ReadBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
// Timestamps are stored offset so that negative values still sort before positive ones.
constexpr uint64_t kTimestampBias = uint64_t{1} << 63;
// Writes Position(ts, seq) into out[0..16) without allocating.
inline void WritePosition(char* out, int64_t ts, uint64_t seq) {
  uint64_t t = static_cast<uint64_t>(ts) + kTimestampBias;
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((t >> ((7 - i) * 8)) & 0xFF);
    out[8 + i] = static_cast<char>((seq >> ((7 - i) * 8)) & 0xFF);
  }
}
inline std::string Position(int64_t ts, uint64_t seq) {
  std::string p;
  AppendBigEndian(p, static_cast<uint64_t>(ts) + kTimestampBias);
  AppendBigEndian(p, seq);
  return p;
}
inline int64_t PositionTimestamp(std::string_view pos) {
  return static_cast<int64_t>(ReadBigEndian(pos.substr(0, 8)) - kTimestampBias);
}
inline uint64_t PositionSeq(std::string_view pos) { return ReadBigEndian(pos.substr(8, 8)); }

}  // namespace stratus::services::logs::keys
