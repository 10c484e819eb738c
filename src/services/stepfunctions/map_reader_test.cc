// The distributed Map's reader, batcher and writer options run through the engine
// (map_reader.cc, map_parallel.cc's ItemBatcher): items a reader answers with, the ItemBatcher's
// *Path limits, and ResultWriter.WriterConfig with and without an S3 export.
#include <gtest/gtest.h>

#include "services/stepfunctions/engine.h"
#include "services/stepfunctions/engine_test_util.h"

namespace stratus::services::stepfunctions {
namespace {

std::shared_ptr<const Definition> Def(const std::string& text) {
  auto d = ParseDefinition(text);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : nullptr;
}

// A distributed Map whose iterations pass their input through, with `extra` fields.
std::string MapDef(const std::string& extra) {
  return R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,)J" + extra +
         R"J(,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
             "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}})J";
}

Json RunMap(const std::string& extra, const Json& input) {
  static FakeHost host;
  auto def = Def(MapDef(extra));
  Execution e(def, TestInfo(), host);
  e.Start(input);
  e.Run();
  EXPECT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << ": " << e.cause();
  return e.status() == ExecutionStatus::kSucceeded ? e.output() : Json{{"Error", e.error()}, {"Cause", e.cause()}};
}

TEST(MapReaderTest, ItemBatcherPathsReadTheStateInput) {
  Json out = RunMap(R"J("ItemsPath":"$.items","ItemBatcher":{"MaxItemsPerBatchPath":"$.n"})J",
                 Json::parse(R"({"n":2,"items":[1,2,3]})"));
  EXPECT_EQ(out, Json::parse(R"([{"Items":[1,2]},{"Items":[3]}])"));
  // A numeric string is read as its number; bytes: each of 1, 22, 333 dumps to 1-3 bytes.
  out = RunMap(R"J("ItemsPath":"$.items","ItemBatcher":{"MaxInputBytesPerBatchPath":"$.limits.bytes"})J",
            Json::parse(R"({"limits":{"bytes":"3"},"items":[1,22,333]})"));
  EXPECT_EQ(out, Json::parse(R"([{"Items":[1,22]},{"Items":[333]}])"));
}

TEST(MapReaderTest, ItemBatcherPathErrorsFailTheState) {
  FakeHost host;
  for (const char* input : {R"({"items":[1]})", R"({"n":"many","items":[1]})", R"({"n":-1,"items":[1]})"}) {
    auto def = Def(MapDef(R"J("ItemsPath":"$.items","ItemBatcher":{"MaxItemsPerBatchPath":"$.n"})J"));
    Execution e(def, TestInfo(), host);
    e.Start(Json::parse(input));
    e.Run();
    EXPECT_EQ(e.status(), ExecutionStatus::kFailed) << input;
    EXPECT_EQ(e.error(), "States.Runtime") << input;
  }
}

TEST(MapReaderTest, WriterConfigWithoutResourceTransformsTheOutput) {
  const Json input = Json::parse(R"([[1,2],{"a":1},[3]])");
  EXPECT_EQ(RunMap(R"J("ResultWriter":{"WriterConfig":{"Transformation":"COMPACT","OutputType":"JSON"}})J", input),
            input);
  EXPECT_EQ(RunMap(R"J("ResultWriter":{"WriterConfig":{"Transformation":"FLATTEN","OutputType":"JSONL"}})J", input),
            Json::parse(R"([1,2,{"a":1},3])"));
  Json none = RunMap(R"J("ResultWriter":{"WriterConfig":{"Transformation":"NONE"}})J", input);
  ASSERT_EQ(none.size(), 3u);
  EXPECT_EQ(none[1]["Status"], "SUCCEEDED");
  EXPECT_EQ(Json::parse(none[1]["Output"].get<std::string>()), Json::parse(R"({"a":1})"));
  EXPECT_TRUE(none[1]["ExecutionArn"].get<std::string>().ends_with("_1"));
}

TEST(MapReaderTest, BadWriterConfigFailsTheState) {
  FakeHost host;
  for (const char* wc : {R"({"Transformation":"SQUASH"})", R"({"OutputType":"CSV"})", R"("NONE")"}) {
    auto def = Def(MapDef(std::string(R"J("ResultWriter":{"WriterConfig":)J") + wc + "}"));
    Execution e(def, TestInfo(), host);
    e.Start(Json::parse("[1]"));
    e.Run();
    EXPECT_EQ(e.status(), ExecutionStatus::kFailed) << wc;
    EXPECT_EQ(e.error(), "States.Runtime") << wc;
  }
}

TEST(MapReaderTest, ExportedCompactJsonLinesFiles) {
  FakeHost host;
  auto def = Def(MapDef(R"J("ItemReader":{"Resource":"arn:aws:states:::s3:getObject",
      "ReaderConfig":{"InputType":"PARQUET"},"Parameters":{"Bucket":"in","Key":"k.parquet"}},
    "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p"},
                    "WriterConfig":{"Transformation":"COMPACT","OutputType":"JSONL"}})J"));
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  ASSERT_EQ(host.tasks.size(), 1u);
  EXPECT_EQ(host.tasks[0].parameters["ReaderConfig"]["InputType"], "PARQUET");
  // PARQUET (like MANIFEST) readers answer with the items themselves.
  TaskResult read;
  read.output = Json{{"Items", Json::parse(R"([{"a":1},{"a":2}])")}};
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, read);
  e.Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  const Json& files = host.tasks[1].parameters["Files"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(files[0]["Key"].get<std::string>().ends_with("/SUCCEEDED_0.jsonl"));
  EXPECT_EQ(files[0]["Body"], "{\"a\":1}\n{\"a\":2}\n");
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, TaskResult{});
  e.Run();
  EXPECT_EQ(e.status(), ExecutionStatus::kSucceeded);
}

}  // namespace
}  // namespace stratus::services::stepfunctions
