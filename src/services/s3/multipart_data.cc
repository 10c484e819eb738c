#include "services/s3/multipart_data.h"

#include <algorithm>

namespace stratus::services::s3 {

std::vector<store::BlobRange> BlobRangesOf(const ObjectRecord& rec, uint64_t offset,
                                           uint64_t length) {
  std::vector<store::BlobRange> out;
  if (length == 0) return out;
  if (rec.part_blobs.empty()) {
    out.push_back(store::BlobRange{rec.data_id, offset, length});
    return out;
  }
  uint64_t part_start = 0;
  const uint64_t end = offset + length;
  for (size_t i = 0; i < rec.part_blobs.size() && part_start < end; ++i) {
    const uint64_t part_end = part_start + rec.part_sizes[i];
    if (part_end > offset) {
      uint64_t from = std::max(offset, part_start);
      uint64_t to = std::min(end, part_end);
      if (to > from) out.push_back(store::BlobRange{rec.part_blobs[i], from - part_start, to - from});
    }
    part_start = part_end;
  }
  return out;
}

FileBody BlobBodyOf(const store::BlobStore& blobs, const ObjectRecord& rec, uint64_t offset,
                    uint64_t length) {
  std::vector<store::BlobRange> ranges = BlobRangesOf(rec, offset, length);
  if (ranges.empty()) return FileBody{};
  FileBody body = blobs.Body(ranges[0].id, ranges[0].offset, ranges[0].length);
  body.more.reserve(ranges.size() - 1);
  for (size_t i = 1; i < ranges.size(); ++i) {
    FileBody r = blobs.Body(ranges[i].id, ranges[i].offset, ranges[i].length);
    body.more.push_back(FileRegion{std::move(r.path), r.offset, r.length});
  }
  return body;
}

Status UnreferenceBlobs(store::BlobStore& blobs, store::WriteTxn& txn, const ObjectRecord& rec,
                        int64_t now_ms) {
  if (!rec.data_id.empty()) STRATUS_RETURN_IF_ERROR(blobs.Unreference(txn, rec.data_id, now_ms));
  for (const auto& id : rec.part_blobs) {
    STRATUS_RETURN_IF_ERROR(blobs.Unreference(txn, id, now_ms));
  }
  return Status::Ok();
}

}  // namespace stratus::services::s3
