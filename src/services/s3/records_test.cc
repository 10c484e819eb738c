// ObjectRecord's stored forms: the compact one (Encode) and the JSON one (EncodeJsonForm, what
// older records hold) must both read back as the record they were written from, for every kind
// of record and for strings that need escaping; the JSON form must be the text ToJson().dump()
// gives.
#include "services/s3/records.h"

#include <gtest/gtest.h>

namespace stratus::services::s3 {
namespace {

std::string JsonPart(const std::string& encoded) { return encoded.substr(encoded.find('\n') + 1); }

std::vector<ObjectRecord> Records() {
  std::vector<ObjectRecord> out;
  ObjectRecord plain;
  plain.seq = 7;
  plain.size = 4096;
  plain.etag = "5d41402abc4b2a76b9719d911017c592";
  plain.last_modified_ms = 1'700'000'000'123;
  plain.data_id = "018c0000000000000a1b2c3d000000000001";
  plain.inline_data = true;
  plain.segment = true;
  plain.headers = Json{{"ContentType", "application/octet-stream"}};
  plain.owner = "000000000000";
  out.push_back(plain);

  ObjectRecord full = plain;
  full.version_id = "AbC.def_0123456789abcdefghijklmn";
  full.segment = false;
  full.inline_data = false;
  full.headers = Json{{"ContentType", "text/plain; charset=\"utf-8\""}, {"CacheControl", "no-cache"}};
  full.metadata = Json{{"author", "Zoë \"quoted\" \\ back\tslash\n"}, {"empty", ""}};
  full.storage_class = "REDUCED_REDUNDANCY";
  full.checksum = Checksum{"CRC32", "AAAAAA==", "FULL_OBJECT"};
  full.part_sizes = {5242880, 5242880, 17};
  full.part_blobs = {"b1", "b2", "b3"};
  full.tags = Json{{"k", "v"}, {"ünï", "cødé"}};
  out.push_back(full);

  ObjectRecord marker;
  marker.delete_marker = true;
  marker.version_id = "marker0123456789abcdefghijklmnop";
  marker.seq = 3;
  marker.owner = "111111111111";
  out.push_back(marker);

  ObjectRecord empty;  // an empty object: no data id, no headers
  empty.etag = "d41d8cd98f00b204e9800998ecf8427e";
  out.push_back(empty);

  ObjectRecord odd = plain;
  std::string controls;
  for (int c = 1; c < 0x20; ++c) controls += static_cast<char>(c);
  controls += "\x7f/\"\\";
  // (The listing line before the JSON holds no tab or newline: these go to JSON-only fields.)
  odd.metadata = Json{{"c", controls}};
  odd.part_sizes = {1};
  odd.part_blobs = {controls};
  odd.data_id = "quote\"back\\slash";
  odd.etag = "caf\xc3\xa9";  // non-ASCII: left to Json::dump
  out.push_back(odd);
  return out;
}

TEST(ObjectRecordEncode, JsonFormIsWhatToJsonDumps) {
  for (const ObjectRecord& r : Records()) {
    std::string encoded = r.EncodeJsonForm();
    EXPECT_EQ(JsonPart(encoded), r.ToJson().dump());
    auto back = ObjectRecord::FromJson(encoded);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->EncodeJsonForm(), encoded);
    EXPECT_EQ(back->Encode(), r.Encode());
    EXPECT_EQ(back->owner, r.owner);
    EXPECT_EQ(back->metadata, r.metadata);
    ListingView view;
    ASSERT_TRUE(ParseListingView(encoded, view));
    EXPECT_EQ(view.owner, r.owner);
  }
}

// Every field survives the compact form; its listing line is the JSON form's.
TEST(ObjectRecordEncode, CompactFormReadsBackEveryField) {
  for (const ObjectRecord& r : Records()) {
    std::string encoded = r.Encode();
    auto back = ObjectRecord::FromJson(encoded);
    ASSERT_TRUE(back.ok()) << encoded;
    EXPECT_EQ(back->ToJson().dump(), r.ToJson().dump()) << encoded;
    EXPECT_EQ(back->Encode(), encoded);
    EXPECT_EQ(back->storage_class, r.delete_marker ? "STANDARD" : r.storage_class);
    std::string json_form = r.EncodeJsonForm();
    EXPECT_EQ(encoded.substr(0, encoded.find('\n')), json_form.substr(0, json_form.find('\n')));
    ListingView view;
    ASSERT_TRUE(ParseListingView(encoded, view));
    EXPECT_EQ(view.etag, r.etag);
  }
}

// A plain PUT's record holds no JSON, and is about half its JSON form.
TEST(ObjectRecordEncode, APlainRecordIsCompact) {
  const ObjectRecord plain = Records()[0];
  std::string encoded = plain.Encode();
  EXPECT_EQ(encoded.find('{'), std::string::npos) << encoded;
  EXPECT_NE(encoded.find("\n~"), std::string::npos);
  EXPECT_LT(encoded.size() * 3, plain.EncodeJsonForm().size() * 2)
      << encoded.size() << " vs " << plain.EncodeJsonForm().size();
}

// Fields a tab-separated line cannot hold send the record to the JSON form, read back the same.
TEST(ObjectRecordEncode, FieldsWithTabsOrNewlinesUseTheJsonForm) {
  ObjectRecord r = Records()[0];
  r.data_id = "tab\there";
  EXPECT_EQ(r.Encode(), r.EncodeJsonForm());
  r = Records()[0];
  r.checksum = Checksum{"CRC32", "new\nline", "FULL_OBJECT"};
  EXPECT_EQ(r.Encode(), r.EncodeJsonForm());
  r = Records()[0];
  r.headers = Json{{"ContentType", "text/plain;\tx=1"}};  // in the compact form's JSON part
  std::string encoded = r.Encode();
  EXPECT_NE(encoded, r.EncodeJsonForm());
  auto back = ObjectRecord::FromJson(encoded);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->headers, r.headers);
}

TEST(ObjectRecordEncode, InvalidUtf8FailsAsJsonDumpDoes) {
  ObjectRecord r;
  r.owner = "bad\xff";
  EXPECT_ANY_THROW(r.ToJson().dump());
  EXPECT_ANY_THROW(r.Encode());
  r = Records()[0];
  r.metadata = Json{{"m", "bad\xff"}};
  EXPECT_ANY_THROW(r.Encode());
  r = Records()[0];
  r.headers = Json{{"ContentType", "bad\xff"}};
  EXPECT_ANY_THROW(r.Encode());
}

TEST(ObjectRecordEncode, ACorruptCompactRecordIsAnError) {
  std::string encoded = Records()[0].Encode();
  EXPECT_FALSE(ObjectRecord::FromJson(encoded.substr(0, encoded.size() - 3)).ok());
  std::string bad_seq = encoded;
  bad_seq.insert(bad_seq.find("\n~") + 2, "x");
  EXPECT_FALSE(ObjectRecord::FromJson(bad_seq).ok());
}

}  // namespace
}  // namespace stratus::services::s3
