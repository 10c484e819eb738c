#include "services/stepfunctions/parquet_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "services/stepfunctions/parquet_thrift.h"

namespace stratus::services::stepfunctions {
namespace {

// Fixtures written by real Parquet writers (testdata/make_parquet_fixtures.mjs says how).
std::string Fixture(const std::string& name) {
  const char* root = std::getenv("STRATUS_SOURCE_DIR");
  std::ifstream in(std::string(root ? root : ".") + "/src/services/stepfunctions/testdata/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// parquetjs-lite writes INT64 through JavaScript numbers: 2^53 + 1 is stored as 2^53.
const Json kLiteRows = Json::parse(R"([
  {"id":1,"big":9007199254740992,"name":"alpha","score":1.5,"ratio":0.25,"ok":true},
  {"id":-2,"big":-5,"name":null,"score":-0.125,"ratio":2.0,"ok":false},
  {"id":3,"big":0,"name":"gamma \"q\"","score":1e100,"ratio":-1.5,"ok":true}])");

TEST(ParquetReaderTest, PagesV1AndV2InEveryCodec) {
  for (const char* name : {"lite_plain_uncompressed.parquet", "lite_plain_gzip.parquet", "lite_plain_snappy.parquet",
                           "lite_v2_snappy.parquet"}) {
    std::string file = Fixture(name);
    ASSERT_GT(file.size(), 100u) << name;
    auto rows = ParquetRows(file, 0);
    ASSERT_TRUE(rows.ok()) << name << ": " << rows.error().message;
    EXPECT_EQ(*rows, kLiteRows) << name << ": " << rows->dump();
  }
}

TEST(ParquetReaderTest, DictionaryPagesUuidsAndNullsAcrossRowGroups) {
  auto rows = ParquetRows(Fixture("hyparquet_dictionary.parquet"), 0);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 50u);
  const char* cities[] = {"Oslo", "Lima", nullptr};
  for (size_t i = 0; i < 50; ++i) {
    const Json& r = (*rows)[i];
    EXPECT_EQ(r["city"], cities[i % 3] ? Json(cities[i % 3]) : Json(nullptr)) << i;
    EXPECT_EQ(r["n"], i);
    EXPECT_EQ(r["flag"], i % 2 == 0);
    std::string hex;
    for (int b = 0; b < 16; ++b) {
      if (b == 4 || b == 6 || b == 8 || b == 10) hex += '-';
      char buf[3];
      std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned>(i));
      hex += buf;
    }
    EXPECT_EQ(r["uuid"], hex) << i;
  }
  // Column order is the schema's.
  EXPECT_EQ((*rows)[0].begin().key(), "city");
}

TEST(ParquetReaderTest, MaxRowsStopsEarly) {
  auto one = ParquetRows(Fixture("lite_plain_snappy.parquet"), 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, Json::array({kLiteRows[0]}));
  auto many = ParquetRows(Fixture("hyparquet_dictionary.parquet"), 23);  // into the second row group
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 23u);
  EXPECT_EQ((*many)[22]["n"], 22);
}

TEST(ParquetReaderTest, RepeatedColumnsFailNamingThem) {
  auto rows = ParquetRows(Fixture("lite_repeated.parquet"), 0);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code, "States.ItemReaderFailed");
  EXPECT_NE(rows.error().message.find("tags"), std::string::npos) << rows.error().message;
}

TEST(ParquetReaderTest, NotParquetOrBadFooterFails) {
  for (const std::string& bad : {std::string(), std::string("PAR1"), std::string("PAR1PAR1PAR1"),
                                 std::string("hello world, not parquet"), std::string("PAR1\0\0\0\0\xff\xff\xff\x7fPAR1", 16)}) {
    auto rows = ParquetRows(bad, 0);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.error().code, "States.ItemReaderFailed");
  }
  std::string file = Fixture("lite_plain_uncompressed.parquet");
  std::string bad_magic = file;
  bad_magic[0] = 'X';
  EXPECT_FALSE(ParquetRows(bad_magic, 0).ok());
  // A footer length that reaches before the file's start.
  std::string long_footer = file;
  uint32_t huge = static_cast<uint32_t>(file.size());
  std::memcpy(long_footer.data() + long_footer.size() - 8, &huge, 4);
  auto r = ParquetRows(long_footer, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("footer length"), std::string::npos) << r.error().message;
}

TEST(ParquetReaderTest, HostileThriftCountsFailWithoutAllocating) {
  // A list header claiming 2^31 i32 elements, then nothing.
  std::string list = std::string("\x19\xf5\x80\x80\x80\x80\x08", 7);
  size_t pos = 0;
  auto v = DecodeThriftStruct(list, pos, "footer");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("claims 2147483648 elements"), std::string::npos) << v.error().message;
  // A string longer than the bytes left; structs nested past the depth limit.
  std::string str = std::string("\x18\xff\xff\xff\xff\x0f", 6);
  pos = 0;
  EXPECT_FALSE(DecodeThriftStruct(str, pos, "footer").ok());
  std::string deep(200, '\x1c');  // field 1, type struct, again and again
  pos = 0;
  auto d = DecodeThriftStruct(deep, pos, "footer");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("nests too deeply"), std::string::npos);
}

// Every truncation and every single-byte corruption of real files either reads or fails with
// States.ItemReaderFailed: never a crash, a hang or a huge allocation (run under ASan too).
TEST(ParquetReaderTest, TruncatedAndCorruptedFilesFailCleanly) {
  for (const char* name : {"lite_plain_gzip.parquet", "lite_v2_snappy.parquet", "hyparquet_dictionary.parquet"}) {
    const std::string file = Fixture(name);
    for (size_t n = 0; n < file.size(); ++n) {
      std::string cut = file.substr(0, n) + (n + 4 <= file.size() ? std::string("PAR1") : std::string());
      auto r = ParquetRows(cut, 0);
      if (!r.ok()) {
        EXPECT_EQ(r.error().code, "States.ItemReaderFailed");
      }
    }
    for (size_t i = 0; i < file.size(); ++i) {
      for (uint8_t x : {0x01, 0xff}) {
        std::string bad = file;
        bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ x);
        auto r = ParquetRows(bad, 0);
        if (!r.ok()) {
          EXPECT_EQ(r.error().code, "States.ItemReaderFailed") << name << " byte " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace stratus::services::stepfunctions
