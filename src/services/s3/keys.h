#pragma once
// Internal: the S3 service's store layout. Bucket names are global (one namespace for every
// account and region, as in AWS); keys inside a bucket are any UTF-8 without NUL, so "\0"
// separates a bucket from a key and a key from what follows.
//
//   s3/b/<bucket>                          bucket record (JSON: owner, region, configurations)
//   s3/a/<account>/<bucket>                "" — the account's buckets, for ListBuckets
//   s3/o/<bucket>\0<key>                   the key's current version (JSON object record; may be
//                                          a delete marker in a versioned bucket)
//   s3/v/<bucket>\0<key>\0<~seq:8>         noncurrent versions, newest first
//   s3/d/<data id>                         the bytes of a small object stored before the
//                                          segment store (newer ones: seg/x/<data id>, an
//                                          extent of store::SegmentStore)
//   s3/u/<bucket>\0<key>\0<upload id>      multipart upload record
//   s3/p/<upload id>\0<part:4>             uploaded part record
// Queues: "s3/events" (notification deliveries).
#include <cstdint>
#include <string>
#include <string_view>

namespace stratus::services::s3::keys {

inline constexpr char kSep = '\0';
inline constexpr std::string_view kEventQueue = "s3/events";

inline std::string Bucket(std::string_view b) { return "s3/b/" + std::string(b); }
inline std::string AccountBucketPrefix(std::string_view account) {
  return "s3/a/" + std::string(account) + "/";
}
inline std::string AccountBucket(std::string_view account, std::string_view b) {
  return AccountBucketPrefix(account) + std::string(b);
}
inline std::string ObjectPrefix(std::string_view b) {
  std::string k = "s3/o/";
  k += b;
  k += kSep;
  return k;
}
inline std::string Object(std::string_view b, std::string_view key) {
  return ObjectPrefix(b) + std::string(key);
}
inline std::string VersionPrefix(std::string_view b) {
  std::string k = "s3/v/";
  k += b;
  k += kSep;
  return k;
}
inline std::string KeyVersionPrefix(std::string_view b, std::string_view key) {
  std::string k = VersionPrefix(b);
  k += key;
  k += kSep;
  return k;
}
inline std::string Version(std::string_view b, std::string_view key, uint64_t seq) {
  std::string k = KeyVersionPrefix(b, key);
  uint64_t inv = ~seq;
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((inv >> (i * 8)) & 0xFF));
  return k;
}
inline std::string Data(std::string_view id) { return "s3/d/" + std::string(id); }
inline std::string UploadPrefix(std::string_view b) {
  std::string k = "s3/u/";
  k += b;
  k += kSep;
  return k;
}
inline std::string Upload(std::string_view b, std::string_view key, std::string_view upload_id) {
  std::string k = UploadPrefix(b);
  k += key;
  k += kSep;
  k += upload_id;
  return k;
}
inline std::string PartPrefix(std::string_view upload_id) {
  std::string k = "s3/p/";
  k += upload_id;
  k += kSep;
  return k;
}
inline std::string Part(std::string_view upload_id, int part) {
  std::string k = PartPrefix(upload_id);
  uint32_t p = static_cast<uint32_t>(part);
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((p >> (i * 8)) & 0xFF));
  return k;
}
inline int PartNumberOf(std::string_view part_key) {
  uint32_t p = 0;
  for (size_t i = part_key.size() - 4; i < part_key.size(); ++i) {
    p = (p << 8) | static_cast<unsigned char>(part_key[i]);
  }
  return static_cast<int>(p);
}

}  // namespace stratus::services::s3::keys
