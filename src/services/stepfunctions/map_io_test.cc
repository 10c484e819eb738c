#include "services/stepfunctions/map_io.h"

#include <gtest/gtest.h>

namespace stratus::services::stepfunctions {
namespace {

TEST(MapIoTest, JsonArrayWithMaxItems) {
  auto items = ItemsFromObject(Json{{"InputType", "JSON"}, {"MaxItems", 2}}, R"([{"a":1},2,"x"])");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(*items, Json::parse(R"([{"a":1},2])"));
}

TEST(MapIoTest, JsonThatIsNoArrayFails) {
  auto items = ItemsFromObject(Json{{"InputType", "JSON"}}, R"({"a":1})");
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().code, "States.ItemReaderFailed");
  EXPECT_FALSE(ItemsFromObject(Json{{"InputType", "JSON"}}, "[1,").ok());
  EXPECT_FALSE(ItemsFromObject(Json{{"InputType", "MANIFEST"}}, "{}").ok());
}

TEST(MapIoTest, JsonLinesWithMaxItems) {
  auto items = ItemsFromObject(Json{{"InputType", "JSONL"}}, "{\"a\":1}\r\n\n  \n[2,3]\n\"x\"");
  ASSERT_TRUE(items.ok()) << items.error().message;
  EXPECT_EQ(*items, Json::parse(R"([{"a":1},[2,3],"x"])"));
  auto two = ItemsFromObject(Json{{"InputType", "JSONL"}, {"MaxItems", 2}}, "1\n2\n3\n");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, Json::parse("[1,2]"));
  auto bad = ItemsFromObject(Json{{"InputType", "JSONL"}}, "1\n{oops\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "States.ItemReaderFailed");
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos);
}

TEST(MapIoTest, CsvDelimiters) {
  const std::pair<const char*, const char*> cases[] = {
      {"COMMA", "a,b\n1,\"x,y\"\n"}, {"PIPE", "a|b\n1|\"x,y\"\n"}, {"SEMICOLON", "a;b\n1;\"x,y\"\n"},
      {"SPACE", "a b\n1 \"x,y\"\n"}, {"TAB", "a\tb\n1\t\"x,y\"\n"}};
  for (const auto& [name, body] : cases) {
    auto items = ItemsFromObject(Json{{"InputType", "CSV"}, {"CSVDelimiter", name}}, body);
    ASSERT_TRUE(items.ok()) << name << ": " << items.error().message;
    EXPECT_EQ(*items, Json::parse(R"([{"a":"1","b":"x,y"}])")) << name;
  }
  // A comma is data when the delimiter is a pipe; an unknown delimiter fails the read.
  auto piped = ItemsFromObject(Json{{"InputType", "CSV"}, {"CSVDelimiter", "PIPE"}}, "a,b|c\n1,2|3\n");
  ASSERT_TRUE(piped.ok());
  EXPECT_EQ(*piped, Json::parse(R"([{"a,b":"1,2","c":"3"}])"));
  EXPECT_FALSE(ItemsFromObject(Json{{"InputType", "CSV"}, {"CSVDelimiter", "COLON"}}, "a:b\n").ok());
}

TEST(MapIoTest, CsvFirstRowWithQuotes) {
  auto items = ItemsFromObject(Json{{"InputType", "CSV"}},
                               "name,note\r\nann,\"a, \"\"quoted\"\" note\"\nbob,\"two\nlines\"\n\ncid,\n");
  ASSERT_TRUE(items.ok()) << items.error().message;
  EXPECT_EQ(*items, Json::parse(R"([{"name":"ann","note":"a, \"quoted\" note"},
                                   {"name":"bob","note":"two\nlines"},{"name":"cid","note":""}])"));
}

TEST(MapIoTest, CsvGivenHeadersAndMaxItems) {
  Json config{{"InputType", "CSV"}, {"CSVHeaderLocation", "GIVEN"}, {"CSVHeaders", {"x", "y"}}, {"MaxItems", 1}};
  auto items = ItemsFromObject(config, "1,2\n3,4\n");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(*items, Json::parse(R"([{"x":"1","y":"2"}])"));
  config.erase("CSVHeaders");
  EXPECT_FALSE(ItemsFromObject(config, "1,2\n").ok());
}

TEST(MapIoTest, BadCsvFails) {
  Json config{{"InputType", "CSV"}};
  EXPECT_EQ(ItemsFromObject(config, "a,b\n1,2,3\n").error().code, "States.ItemReaderFailed");
  EXPECT_FALSE(ItemsFromObject(config, "a,b\n1\n").ok());
  EXPECT_FALSE(ItemsFromObject(config, "a,b\n\"1,2\n").ok());
  EXPECT_FALSE(ItemsFromObject(config, "a,b\nx\"y\",2\n").ok());
  EXPECT_FALSE(ItemsFromObject(config, "a,b\n\"x\"y,2\n").ok());
}

TEST(MapIoTest, ListingShapedAsAws) {
  Json contents = Json::parse(R"([{"Key":"a.txt","ETag":"\"e1\"","Size":3,"LastModified":1700000000.5,
                                   "StorageClass":"STANDARD"},{"Key":"b.txt","ETag":"\"e2\"","Size":0,
                                   "LastModified":1700000001.0,"StorageClass":"STANDARD"}])");
  Json items = ItemsFromListing(Json{{"MaxItems", 1}}, contents);
  EXPECT_EQ(items, Json::parse(R"([{"Etag":"\"e1\"","Key":"a.txt","LastModified":1700000000,"Size":3,
                                    "StorageClass":"STANDARD"}])"));
  EXPECT_EQ(ItemsFromListing(Json::object(), contents).size(), 2u);
}

TEST(MapIoTest, ResultFilesAndManifest) {
  MapRunNames names;
  names.map_run_id = "run-1";
  names.map_run_arn = "arn:aws:states:us-east-1:000000000000:mapRun:m/Map:run-1";
  names.execution_arn_prefix = "arn:aws:states:us-east-1:000000000000:execution:m/Map:run-1_";
  std::vector<IterationOutcome> outcomes(3);
  outcomes[0].status = IterationOutcome::Status::kSucceeded;
  outcomes[0].input = 1;
  outcomes[0].output = Json{{"r", 1}};
  outcomes[1].status = IterationOutcome::Status::kFailed;
  outcomes[1].error = "E";
  outcomes[1].cause = "C";
  outcomes[2].status = IterationOutcome::Status::kSucceeded;
  auto files = ResultFiles("bkt", "out", names, outcomes);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].key, "out/run-1/FAILED_0.json");
  EXPECT_EQ(files[1].key, "out/run-1/SUCCEEDED_0.json");
  EXPECT_EQ(files[2].key, "out/run-1/manifest.json");
  Json failed = Json::parse(files[0].body);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["Error"], "E");
  EXPECT_EQ(failed[0]["Status"], "FAILED");
  Json succeeded = Json::parse(files[1].body);
  ASSERT_EQ(succeeded.size(), 2u);
  EXPECT_EQ(succeeded[0]["Output"], R"({"r":1})");
  EXPECT_EQ(succeeded[0]["Input"], "1");
  Json manifest = Json::parse(files[2].body);
  EXPECT_EQ(manifest["DestinationBucket"], "bkt");
  EXPECT_EQ(manifest["MapRunArn"], names.map_run_arn);
  EXPECT_EQ(manifest["ResultFiles"]["PENDING"], Json::array());
  EXPECT_EQ(manifest["ResultFiles"]["SUCCEEDED"][0]["Size"], files[1].body.size());
  EXPECT_EQ(ManifestKey("out/", "run-1"), "out/run-1/manifest.json");
  EXPECT_EQ(ManifestKey("", "run-1"), "run-1/manifest.json");
}

TEST(MapIoTest, WriterConfigValues) {
  auto none = ParseWriterConfig(Json::object());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->transformation, WriterConfig::Transformation::kNone);
  EXPECT_FALSE(none->json_lines);
  auto flat = ParseWriterConfig(Json::parse(R"({"WriterConfig":{"Transformation":"FLATTEN","OutputType":"JSONL"}})"));
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->transformation, WriterConfig::Transformation::kFlatten);
  EXPECT_TRUE(flat->json_lines);
  for (const char* bad : {R"({"WriterConfig":{"Transformation":"compact"}})", R"({"WriterConfig":{"OutputType":"CSV"}})",
                          R"({"WriterConfig":[]})"}) {
    auto r = ParseWriterConfig(Json::parse(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "States.Runtime");
  }
}

TEST(MapIoTest, CompactAndFlattenKeepFailuresWhole) {
  MapRunNames names;
  names.map_run_id = "run-1";
  names.execution_arn_prefix = "arn:exec:run-1_";
  std::vector<IterationOutcome> outcomes(3);
  outcomes[0].status = IterationOutcome::Status::kSucceeded;
  outcomes[0].output = Json::parse("[1,[2]]");
  outcomes[1].status = IterationOutcome::Status::kFailed;
  outcomes[1].error = "E";
  outcomes[2].status = IterationOutcome::Status::kSucceeded;
  outcomes[2].output = Json{{"x", 1}};
  WriterConfig flatten{WriterConfig::Transformation::kFlatten, false};
  Json flat = TransformedResults(flatten, names, outcomes);
  ASSERT_EQ(flat.size(), 4u);
  EXPECT_EQ(flat[0], 1);
  EXPECT_EQ(flat[1], Json::parse("[2]"));  // one level only
  EXPECT_EQ(flat[2]["Error"], "E");
  EXPECT_EQ(flat[2]["ExecutionArn"], "arn:exec:run-1_1");
  EXPECT_EQ(flat[3], (Json{{"x", 1}}));
  WriterConfig compact{WriterConfig::Transformation::kCompact, true};
  auto files = ResultFiles("bkt", "out", names, outcomes, compact);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].key, "out/run-1/FAILED_0.jsonl");
  EXPECT_EQ(Json::parse(files[0].body)["Error"], "E");
  EXPECT_EQ(files[1].key, "out/run-1/SUCCEEDED_0.jsonl");
  EXPECT_EQ(files[1].body, "[1,[2]]\n{\"x\":1}\n");
  EXPECT_EQ(Json::parse(files[2].body)["ResultFiles"]["SUCCEEDED"][0]["Key"], files[1].key);
}

}  // namespace
}  // namespace stratus::services::stepfunctions
