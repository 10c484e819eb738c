#include "services/s3/records.h"

#include <charconv>
#include <cstdio>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::s3 {

namespace {

constexpr std::string_view kVersionAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

Error Corrupt(std::string_view what) {
  return InternalFailure("stored S3 " + std::string(what) + " record is not valid JSON");
}

Json ChecksumJson(const std::optional<Checksum>& c) {
  if (!c) return nullptr;
  return Json{{"a", c->algorithm}, {"v", c->value}, {"t", c->type}};
}
std::optional<Checksum> ChecksumFrom(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  return Checksum{j.value("a", ""), j.value("v", ""), j.value("t", "FULL_OBJECT")};
}

}  // namespace

Json Bucket::ToJson() const {
  return Json{{"owner", owner}, {"region", region}, {"created", created_ms},
              {"versioning", versioning}, {"config", config}};
}

Result<Bucket> Bucket::FromJson(std::string_view name, std::string_view text) {
  Json j = ParseJsonOrDiscarded(text);
  if (!j.is_object()) return Corrupt("bucket");
  Bucket b;
  b.name = std::string(name);
  b.owner = j.value("owner", "");
  b.region = j.value("region", "");
  b.created_ms = j.value("created", int64_t{0});
  b.versioning = j.value("versioning", "");
  if (auto it = j.find("config"); it != j.end() && it->is_object()) b.config = std::move(*it);
  return b;
}

Json ObjectRecord::ToJson() const {
  Json j{{"vid", version_id}, {"q", seq}, {"m", last_modified_ms}};
  if (delete_marker) {
    j["dm"] = true;
  } else {
    j["s"] = size;
    j["e"] = etag;
    if (!data_id.empty()) {
      j["d"] = data_id;
      j["in"] = inline_data;
      if (segment) j["sg"] = true;
    }
    if (!headers.empty()) j["h"] = headers;
    if (!metadata.empty()) j["md"] = metadata;
    if (storage_class != "STANDARD") j["sc"] = storage_class;
    if (checksum) j["ck"] = ChecksumJson(checksum);
    if (!part_sizes.empty()) j["ps"] = part_sizes;
    if (!part_blobs.empty()) j["pb"] = part_blobs;
    if (!tags.empty()) j["t"] = tags;
  }
  j["o"] = owner;
  return j;
}

namespace {

// Appends `s` as a JSON string exactly as Json::dump() writes it (core's AppendJsonString); a
// string that is not valid UTF-8 is left to Json::dump(), which refuses it as it always did.
void AppendString(std::string& out, std::string_view s) {
  const size_t mark = out.size();
  if (stratus::AppendJsonString(out, s)) return;
  out.resize(mark);
  out += Json(std::string(s)).dump();
}

// Appends `"name":` (names are plain ASCII literals).
void AppendName(std::string& out, std::string_view name) {
  out += '"';
  out += name;
  out += "\":";
}

// `[1,2,3]` and `["a","b"]`: the part lists of both record forms.
void AppendSizeArray(std::string& out, const std::vector<uint64_t>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += ']';
}

void AppendStringArray(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    AppendString(out, values[i]);
  }
  out += ']';
}

}  // namespace

namespace {

// The listing line both stored forms begin with (see ListingView).
void AppendListingLine(std::string& out, const ObjectRecord& r) {
  out += r.delete_marker ? '1' : '0';
  auto field = [&](std::string_view v) {
    out += '\t';
    out += v;
  };
  field(std::to_string(r.size));
  field(std::to_string(r.last_modified_ms));
  field(r.version_id);
  field(r.etag);
  field(r.storage_class);
  field(r.owner);
  field(r.checksum ? std::string_view(r.checksum->algorithm) : std::string_view());
  field(r.checksum ? std::string_view(r.checksum->type) : std::string_view());
  out += '\n';
}

// Whether `s` can be a field of a tab-separated line, read back as it is.
bool PlainField(std::string_view s) {
  bool ascii = true;
  for (char c : s) {
    if (c == '\t' || c == '\n') return false;
    ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  }
  return ascii || IsValidUtf8(s);
}

// The compact form's flags (a decimal number).
constexpr unsigned kInline = 1;         // inline_data
constexpr unsigned kSegment = 2;        // segment
constexpr unsigned kContentTypeOnly = 4;  // headers are {"ContentType": <the field>}
constexpr unsigned kHasChecksum = 8;    // checksum (algorithm and type on the listing line)
constexpr char kCompactMark = '~';      // starts the compact form's second line

}  // namespace

// The compact form: the listing line, then "~<seq>\t<flags>\t<data id>\t<checksum value>\t
// <content type>\t<JSON of the rest>", where the rest holds only what is not empty among the
// headers (when not the content type alone), metadata, part sizes, part blobs and tags. The
// listing line's fields are not repeated, and a plain PUT's record needs no JSON at all: half
// the bytes of the JSON form (fewer B-tree pages per PUT) and no JSON to write or parse. A
// record with a field that cannot stand in a tab-separated line (a tab, a newline, invalid
// UTF-8) is written in the JSON form, which also refuses invalid UTF-8 as it always did.
std::string ObjectRecord::Encode() const {
  if (!PlainField(version_id) || !PlainField(etag) || !PlainField(storage_class) ||
      !PlainField(owner) || !PlainField(data_id) || last_modified_ms < 0 ||
      (checksum && (!PlainField(checksum->algorithm) || !PlainField(checksum->type) ||
                    !PlainField(checksum->value)))) {
    return EncodeJsonForm();
  }
  const bool dm = delete_marker;
  std::string out;
  out.reserve(192);
  AppendListingLine(out, *this);
  unsigned flags = 0;
  std::string_view content_type;
  bool headers_in_json = false;
  if (!dm) {
    if (!data_id.empty()) {
      if (inline_data) flags |= kInline;
      if (segment) flags |= kSegment;
    }
    if (checksum) flags |= kHasChecksum;
    if (headers.size() == 1) {
      auto it = headers.find("ContentType");
      if (it != headers.end() && it->is_string() && PlainField(it->get_ref<const std::string&>())) {
        flags |= kContentTypeOnly;
        content_type = it->get_ref<const std::string&>();
      }
    }
    headers_in_json = !(flags & kContentTypeOnly) && !headers.empty();
  }
  out += kCompactMark;
  out += std::to_string(seq);
  out += '\t';
  out += std::to_string(flags);
  out += '\t';
  if (!dm) out += data_id;
  out += '\t';
  if (!dm && checksum) out += checksum->value;
  out += '\t';
  out += content_type;
  out += '\t';
  if (dm) return out;
  bool first = true;
  auto open = [&](std::string_view name) {
    out += first ? '{' : ',';
    first = false;
    AppendName(out, name);
  };
  auto json_member = [&](std::string_view name, const Json& value) {
    if (value.empty()) return;
    open(name);
    out += value.dump();
  };
  if (headers_in_json) json_member("h", headers);
  json_member("md", metadata);
  if (!part_sizes.empty()) {
    open("ps");
    AppendSizeArray(out, part_sizes);
  }
  if (!part_blobs.empty()) {
    open("pb");
    AppendStringArray(out, part_blobs);
  }
  json_member("t", tags);
  if (!first) out += '}';
  return out;
}

// The JSON part is written directly, member by member in ToJson()'s order, instead of building
// ToJson() and dumping it: the same text (records_test.cc checks it), without copying the
// headers, metadata and tags into a temporary object.
std::string ObjectRecord::EncodeJsonForm() const {
  std::string out;
  out.reserve(384);
  AppendListingLine(out, *this);
  out += '{';
  AppendName(out, "vid");
  AppendString(out, version_id);
  out += ',';
  AppendName(out, "q");
  out += std::to_string(seq);
  out += ',';
  AppendName(out, "m");
  out += std::to_string(last_modified_ms);
  if (delete_marker) {
    out += ',';
    AppendName(out, "dm");
    out += "true";
  } else {
    out += ',';
    AppendName(out, "s");
    out += std::to_string(size);
    out += ',';
    AppendName(out, "e");
    AppendString(out, etag);
    if (!data_id.empty()) {
      out += ',';
      AppendName(out, "d");
      AppendString(out, data_id);
      out += ',';
      AppendName(out, "in");
      out += inline_data ? "true" : "false";
      if (segment) {
        out += ',';
        AppendName(out, "sg");
        out += "true";
      }
    }
    auto json_member = [&](std::string_view name, const Json& value) {
      if (value.empty()) return;
      out += ',';
      AppendName(out, name);
      out += value.dump();
    };
    json_member("h", headers);
    json_member("md", metadata);
    if (storage_class != "STANDARD") {
      out += ',';
      AppendName(out, "sc");
      AppendString(out, storage_class);
    }
    if (checksum) {
      out += ',';
      AppendName(out, "ck");
      out += '{';
      AppendName(out, "a");
      AppendString(out, checksum->algorithm);
      out += ',';
      AppendName(out, "v");
      AppendString(out, checksum->value);
      out += ',';
      AppendName(out, "t");
      AppendString(out, checksum->type);
      out += '}';
    }
    if (!part_sizes.empty()) {
      out += ',';
      AppendName(out, "ps");
      AppendSizeArray(out, part_sizes);
    }
    if (!part_blobs.empty()) {
      out += ',';
      AppendName(out, "pb");
      AppendStringArray(out, part_blobs);
    }
    json_member("t", tags);
  }
  out += ',';
  AppendName(out, "o");
  AppendString(out, owner);
  out += '}';
  return out;
}

bool ParseListingView(std::string_view text, ListingView& view) {
  size_t end = text.find('\n');
  if (end == std::string_view::npos) return false;
  std::string_view line = text.substr(0, end);
  std::string_view parts[9];
  size_t n = 0, start = 0;
  while (n < 9) {
    size_t tab = line.find('\t', start);
    parts[n++] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (n != 9) return false;
  auto number = [](std::string_view s, auto& out) {
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  view.delete_marker = parts[0] == "1";
  if (!number(parts[1], view.size) || !number(parts[2], view.last_modified_ms)) return false;
  view.version_id = parts[3];
  view.etag = parts[4];
  view.storage_class = parts[5];
  view.owner = parts[6];
  view.checksum_algorithm = parts[7];
  view.checksum_type = parts[8];
  return true;
}

namespace {

// Reads the compact form (Encode); `line` is the listing line, `rest` what follows its newline,
// without the mark.
// The members both record forms keep as JSON: headers, metadata, the part lists and tags, moved
// out of `j`. False when the part lists do not match.
bool TakeJsonMembers(Json& j, ObjectRecord& r) {
  if (auto it = j.find("h"); it != j.end()) r.headers = std::move(*it);
  if (auto it = j.find("md"); it != j.end()) r.metadata = std::move(*it);
  if (auto it = j.find("ps"); it != j.end() && it->is_array()) {
    for (const auto& v : *it) r.part_sizes.push_back(v.get<uint64_t>());
  }
  if (auto it = j.find("pb"); it != j.end() && it->is_array()) {
    for (const auto& v : *it) r.part_blobs.push_back(v.get<std::string>());
    if (r.part_blobs.size() != r.part_sizes.size()) return false;
  }
  if (auto it = j.find("t"); it != j.end()) r.tags = std::move(*it);
  return true;
}

Result<ObjectRecord> FromCompact(std::string_view text, std::string_view rest) {
  ListingView view;
  if (!ParseListingView(text, view)) return Corrupt("object");
  std::string_view fields[6];
  size_t start = 0;
  for (size_t i = 0; i < 5; ++i) {
    size_t tab = rest.find('\t', start);
    if (tab == std::string_view::npos) return Corrupt("object");
    fields[i] = rest.substr(start, tab - start);
    start = tab + 1;
  }
  fields[5] = rest.substr(start);
  uint64_t flags = 0;
  ObjectRecord r;
  auto number = [](std::string_view s, uint64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  if (!number(fields[0], r.seq) || !number(fields[1], flags)) return Corrupt("object");
  r.version_id = std::string(view.version_id);
  r.last_modified_ms = view.last_modified_ms;
  r.owner = std::string(view.owner);
  if (view.delete_marker) {
    r.delete_marker = true;
    return r;
  }
  r.size = view.size;
  r.etag = std::string(view.etag);
  r.storage_class = std::string(view.storage_class);
  r.data_id = std::string(fields[2]);
  r.inline_data = (flags & kInline) != 0;
  r.segment = (flags & kSegment) != 0;
  if (flags & kHasChecksum) {
    r.checksum = Checksum{std::string(view.checksum_algorithm), std::string(fields[3]),
                          std::string(view.checksum_type)};
  }
  if (flags & kContentTypeOnly) r.headers = Json{{"ContentType", std::string(fields[4])}};
  if (fields[5].empty()) return r;
  Json j = ParseJsonOrDiscarded(fields[5]);
  if (!j.is_object()) return Corrupt("object");
  if (!TakeJsonMembers(j, r)) return Corrupt("object");
  return r;
}

}  // namespace

Result<ObjectRecord> ObjectRecord::FromJson(std::string_view text) {
  if (size_t nl = text.find('\n'); nl != std::string_view::npos && !text.empty() && text[0] != '{') {
    std::string_view rest = text.substr(nl + 1);
    if (!rest.empty() && rest[0] == kCompactMark) return FromCompact(text, rest.substr(1));
    text = rest;
  }
  Json j = ParseJsonOrDiscarded(text);
  if (!j.is_object()) return Corrupt("object");
  ObjectRecord r;
  r.version_id = j.value("vid", "null");
  r.seq = j.value("q", uint64_t{0});
  r.last_modified_ms = j.value("m", int64_t{0});
  r.delete_marker = j.value("dm", false);
  r.size = j.value("s", uint64_t{0});
  r.etag = j.value("e", "");
  r.data_id = j.value("d", "");
  r.inline_data = j.value("in", false);
  r.segment = j.value("sg", false);
  r.storage_class = j.value("sc", "STANDARD");
  if (auto it = j.find("ck"); it != j.end()) r.checksum = ChecksumFrom(*it);
  if (!TakeJsonMembers(j, r)) return Corrupt("object");
  r.owner = j.value("o", "");
  return r;
}

Json PartRecord::ToJson() const {
  Json j{{"n", number}, {"e", etag}, {"s", size}, {"m", last_modified_ms}, {"b", blob}};
  if (checksum) j["ck"] = ChecksumJson(checksum);
  return j;
}

Result<PartRecord> PartRecord::FromJson(std::string_view text) {
  Json j = ParseJsonOrDiscarded(text);
  if (!j.is_object()) return Corrupt("part");
  PartRecord p;
  p.number = j.value("n", 0);
  p.etag = j.value("e", "");
  p.size = j.value("s", uint64_t{0});
  p.last_modified_ms = j.value("m", int64_t{0});
  p.blob = j.value("b", "");
  if (auto it = j.find("ck"); it != j.end()) p.checksum = ChecksumFrom(*it);
  return p;
}

Json UploadRecord::ToJson() const {
  return Json{{"k", key},           {"u", upload_id},      {"i", initiated_ms},
              {"h", headers},       {"md", metadata},      {"sc", storage_class},
              {"ca", checksum_algorithm}, {"ct", checksum_type}, {"t", tags}, {"o", owner}};
}

Result<UploadRecord> UploadRecord::FromJson(std::string_view text) {
  Json j = ParseJsonOrDiscarded(text);
  if (!j.is_object()) return Corrupt("upload");
  UploadRecord u;
  u.key = j.value("k", "");
  u.upload_id = j.value("u", "");
  u.initiated_ms = j.value("i", int64_t{0});
  if (auto it = j.find("h"); it != j.end()) u.headers = std::move(*it);
  if (auto it = j.find("md"); it != j.end()) u.metadata = std::move(*it);
  u.storage_class = j.value("sc", "STANDARD");
  u.checksum_algorithm = j.value("ca", "");
  u.checksum_type = j.value("ct", "");
  if (auto it = j.find("t"); it != j.end()) u.tags = std::move(*it);
  u.owner = j.value("o", "");
  return u;
}

std::string CanonicalUserId(const std::string& account) {
  return Sha256Hex("stratus-canonical-user:" + account);
}

Json OwnerJson(const std::string& account) {
  return Json{{"DisplayName", "webfile"}, {"ID", CanonicalUserId(account)}};
}

std::string NewVersionId() { return RandomAlnum(32, kVersionAlphabet); }

bool ValidVersionId(const std::string& id) {
  if (id == "null") return true;
  if (id.size() != 32) return false;
  return id.find_first_not_of(kVersionAlphabet) == std::string::npos;
}

std::string NewUploadId(int64_t now_ms) {
  char prefix[20];
  std::snprintf(prefix, sizeof(prefix), "%012llx", static_cast<unsigned long long>(now_ms));
  return std::string(prefix) + RandomAlnum(52);
}

}  // namespace stratus::services::s3
