#include "services/stepfunctions/s3_inventory.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace stratus::services::stepfunctions {
namespace {

std::string Gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

constexpr char kManifest[] = R"({
  "sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inv", "version": "2016-11-30",
  "creationTimestamp": "1668560400000", "fileFormat": "CSV",
  "fileSchema": "Bucket, Key, Size, LastModifiedDate",
  "files": [{"key": "src/cfg/data/a.csv.gz", "size": 10, "MD5checksum": "x"},
            {"key": "src/cfg/data/b.csv.gz", "size": 10, "MD5checksum": "y"}]})";

TEST(S3InventoryTest, ManifestNamesFilesInTheDestinationBucket) {
  auto m = ParseInventoryManifest(kManifest, "manifests");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->columns, (std::vector<std::string>{"Bucket", "Key", "Size", "LastModifiedDate"}));
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_EQ(m->files[1].bucket, "inv");
  EXPECT_EQ(m->files[1].key, "src/cfg/data/b.csv.gz");
}

TEST(S3InventoryTest, BadManifestsFail) {
  for (const char* bad : {"not json", "[]", R"({"fileFormat":"ORC","fileSchema":"Bucket","files":[]})",
                          R"({"fileFormat":"CSV","files":[]})", R"({"fileFormat":"CSV","fileSchema":"Bucket, ,Key","files":[]})",
                          R"({"fileFormat":"CSV","fileSchema":"Bucket","files":[{"size":1}]})"}) {
    auto m = ParseInventoryManifest(bad, "b");
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.error().code, "States.ItemReaderFailed");
  }
  auto orc = ParseInventoryManifest(R"({"fileFormat":"ORC","fileSchema":"Bucket","files":[]})", "b");
  EXPECT_NE(orc.error().message.find("ORC"), std::string::npos);
}

TEST(S3InventoryTest, GzipCsvRowsBecomeItemsOfStrings) {
  const std::string csv =
      "\"src\",\"csvDataset/\",\"0\",\"2022-11-16T00:27:19.000Z\"\n"
      "\"src\",\"csvDataset/titles.csv\",\"3399671\",\"2022-11-16T00:29:32.000Z\"\n";
  auto text = Gunzip(Gzip(csv));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, csv);
  auto items = InventoryItems({"Bucket", "Key", "Size", "LastModifiedDate"}, *text, 0);
  ASSERT_TRUE(items.ok()) << items.error().message;
  EXPECT_EQ((*items)[1], Json::parse(R"({"Bucket":"src","Key":"csvDataset/titles.csv","Size":"3399671",
                                         "LastModifiedDate":"2022-11-16T00:29:32.000Z"})"));
  auto one = InventoryItems({"Bucket", "Key", "Size", "LastModifiedDate"}, *text, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto short_row = InventoryItems({"Bucket", "Key"}, "\"a\"\n", 0);
  ASSERT_FALSE(short_row.ok());
  EXPECT_EQ(short_row.error().code, "States.ItemReaderFailed");
}

TEST(S3InventoryTest, GunzipRejectsTruncatedAndCorruptData) {
  const std::string gz = Gzip(std::string(10000, 'a'));
  EXPECT_FALSE(Gunzip(gz.substr(0, gz.size() / 2)).ok());
  EXPECT_FALSE(Gunzip("not gzip at all").ok());
  EXPECT_FALSE(Gunzip("").ok());
  // Two members read in turn.
  auto two = Gunzip(Gzip("ab") + Gzip("cd"));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, "abcd");
}

TEST(S3InventoryTest, AthenaManifestListsS3Uris) {
  auto files = ParseAthenaManifest("s3://b/results/a.parquet\n\ns3://c/x/y.csv\r\n");
  ASSERT_TRUE(files.ok()) << files.error().message;
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[1].bucket, "c");
  EXPECT_EQ((*files)[1].key, "x/y.csv");
  EXPECT_FALSE(ParseAthenaManifest("https://b/k\n").ok());
  EXPECT_FALSE(ParseAthenaManifest("s3://bucket-only\n").ok());
}

}  // namespace
}  // namespace stratus::services::stepfunctions
