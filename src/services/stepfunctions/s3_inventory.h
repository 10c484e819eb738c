#pragma once
// The Distributed Map's manifest readers (ItemReader InputType MANIFEST, and ManifestType
// ATHENA_DATA): parsing an S3 Inventory manifest.json and its gzip-compressed CSV inventory
// files, and an Athena UNLOAD manifest (one s3:// URI per line). The reads themselves are
// integrations_map.cc's; these are pure functions, thread-safe. Errors carry the cause of
// States.ItemReaderFailed.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::stepfunctions {

// An inflated gzip (or zlib) stream larger than this fails rather than being allocated.
inline constexpr size_t kMaxInflatedBytes = 512 * 1024 * 1024;

struct S3Location {
  std::string bucket;
  std::string key;
};

// What an S3 Inventory manifest.json names: the inventory files (in its destinationBucket,
// "arn:aws:s3:::<name>", or `manifest_bucket` when it has none) and the columns of their rows
// (fileSchema, "Bucket, Key, Size, LastModifiedDate"). Only fileFormat CSV is read (ORC and
// Parquet inventories fail naming it).
struct InventoryManifest {
  std::vector<S3Location> files;
  std::vector<std::string> columns;
};
Result<InventoryManifest> ParseInventoryManifest(std::string_view body, const std::string& manifest_bucket);

// Inflates a gzip member (several concatenated members are read in turn).
Result<std::string> Gunzip(std::string_view data);

// The items of one inflated CSV inventory file: each row an object of column → string, as
// AWS shapes inventory items ({"Bucket": …, "Key": …, "Size": "…", …}). At most `max_items`
// (0 = all). A row whose field count differs from the columns fails the read.
Result<Json> InventoryItems(const std::vector<std::string>& columns, std::string_view csv, size_t max_items);

// The data files an Athena manifest lists, one s3://bucket/key per line (blank lines skipped).
Result<std::vector<S3Location>> ParseAthenaManifest(std::string_view body);

}  // namespace stratus::services::stepfunctions
