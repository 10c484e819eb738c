#pragma once
// Internal: where the bytes of a blob-stored object are. An object is either one blob (data_id:
// single PUTs, copies, objects completed before part files were kept) or, for a multipart
// object, the blobs its parts were uploaded as (part_blobs, lengths in part_sizes), so that
// CompleteMultipartUpload commits metadata only (O(parts), not O(bytes)). These helpers map a
// byte range of either layout onto blob ranges, so readers need not know which it is.
// Pure functions of the record; thread-safe.
#include <cstdint>
#include <vector>

#include "core/http.h"
#include "core/result.h"
#include "services/s3/records.h"
#include "store/blob_store.h"
#include "store/store.h"

namespace stratus::services::s3 {

// The blob ranges holding bytes [offset, offset + length) of a blob-stored record (not inline),
// in order, without empty ranges. The range must lie within the object.
std::vector<store::BlobRange> BlobRangesOf(const ObjectRecord& rec, uint64_t offset,
                                           uint64_t length);

// Those bytes as a response body (one file region per blob range; the server sends each).
FileBody BlobBodyOf(const store::BlobStore& blobs, const ObjectRecord& rec, uint64_t offset,
                    uint64_t length);

// Within `txn`: every blob of a blob-stored record is released (deleted after the grace period).
Status UnreferenceBlobs(store::BlobStore& blobs, store::WriteTxn& txn, const ObjectRecord& rec,
                        int64_t now_ms);

}  // namespace stratus::services::s3
