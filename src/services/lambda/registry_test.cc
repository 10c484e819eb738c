#include "services/lambda/registry.h"

#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::lambda {
namespace {

namespace fs = std::filesystem;

std::string Zip(const std::string& name, const std::string& content) {
  fs::path path = fs::temp_directory_path() / ("regtest-" + std::to_string(::getpid()) + ".zip");
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
  zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  zip_close(z);
  std::ifstream in(path, std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(path);
  return out;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("regtest-dir-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{.clock = &clock_}).value());
    cache_ = std::make_unique<CodeCache>(dir_.string(), [this](const std::string& sha) {
      return registry_->LoadZip(sha);
    });
    registry_ = std::make_unique<Registry>(*store_, clock_, *cache_,
                                           [this](const std::string& key, const std::string&) {
                                             retired_.push_back(key);
                                           });
  }
  void TearDown() override { fs::remove_all(dir_); }

  Json Create(const std::string& name, Json extra = Json::object()) {
    Json in{{"FunctionName", name}, {"Runtime", "python3.12"}, {"Handler", "app.handler"},
            {"Role", "arn:aws:iam::000000000000:role/r"}};
    for (auto& [k, v] : extra.items()) in[k] = v;
    auto r = registry_->CreateFunction(s_, in, Zip("app.py", "def handler(e, c): return 1\n"));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : Json();
  }

  ManualClock clock_;
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<CodeCache> cache_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::string> retired_;
  Scope s_{"000000000000", "us-east-1"};
};

TEST_F(RegistryTest, CreateGetDelete) {
  Json cfg = Create("f1", Json{{"Environment", Json{{"Variables", Json{{"KEY", "v"}}}}}});
  EXPECT_EQ(cfg["State"], "Pending");
  EXPECT_EQ(cfg["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:f1");
  EXPECT_EQ(cfg["CodeSha256"].get<std::string>().size(), 44u);
  auto got = registry_->GetFunctionConfiguration(s_, FunctionRef{"f1", "", "", ""});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["State"], "Active");
  EXPECT_EQ((*got)["Environment"]["Variables"]["KEY"], "v");
  auto dup = registry_->CreateFunction(s_, Json{{"FunctionName", "f1"}, {"Runtime", "python3.12"}, {"Handler", "a.b"}},
                                       Zip("a.py", "x"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "ResourceConflictException");
  ASSERT_TRUE(registry_->DeleteFunction(s_, FunctionRef{"f1", "", "", ""}).ok());
  auto gone = registry_->GetFunction(s_, FunctionRef{"f1", "", "", ""});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "ResourceNotFoundException");
  EXPECT_EQ(gone.error().http_status, 404);
  // The zip went with the last function that used it.
  auto rows = store_->Scan(store::PrefixScan("lambda/code/"));
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(RegistryTest, RefusesBadInput) {
  auto bad_zip = registry_->CreateFunction(
      s_, Json{{"FunctionName", "z"}, {"Runtime", "python3.12"}, {"Handler", "a.b"}}, "not a zip");
  ASSERT_FALSE(bad_zip.ok());
  EXPECT_EQ(bad_zip.error().code, "InvalidParameterValueException");
  auto java = registry_->CreateFunction(
      s_, Json{{"FunctionName", "j"}, {"Runtime", "java21"}, {"Handler", "a.b"}}, Zip("a", "b"));
  ASSERT_FALSE(java.ok());
  EXPECT_NE(java.error().message.find("not supported by stratus"), std::string::npos);
  auto reserved = registry_->CreateFunction(
      s_, Json{{"FunctionName", "r"}, {"Runtime", "python3.12"}, {"Handler", "a.b"},
               {"Environment", Json{{"Variables", Json{{"AWS_REGION", "x"}}}}}},
      Zip("a", "b"));
  ASSERT_FALSE(reserved.ok());
  EXPECT_NE(reserved.error().message.find("AWS_REGION"), std::string::npos);
  auto image = registry_->CreateFunction(
      s_, Json{{"FunctionName", "i"}, {"PackageType", "Image"}}, Zip("a", "b"));
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.error().message.find("container images"), std::string::npos);
}

TEST_F(RegistryTest, VersionsAliasesAndResolve) {
  Create("f2");
  auto v1 = registry_->PublishVersion(s_, FunctionRef{"f2", "", "", ""}, Json::object());
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ((*v1)["Version"], "1");
  // Unchanged $LATEST: the same version again.
  EXPECT_EQ((*registry_->PublishVersion(s_, FunctionRef{"f2", "", "", ""}, Json::object()))["Version"], "1");
  ASSERT_TRUE(registry_->UpdateFunctionCode(s_, FunctionRef{"f2", "", "", ""}, Json::object(),
                                            Zip("app.py", "def handler(e, c): return 2\n")).ok());
  EXPECT_EQ((*registry_->PublishVersion(s_, FunctionRef{"f2", "", "", ""}, Json::object()))["Version"], "2");
  ASSERT_TRUE(registry_->CreateAlias(s_, FunctionRef{"f2", "", "", ""},
                                     Json{{"Name", "live"}, {"FunctionVersion", "1"}}).ok());
  auto t = registry_->Resolve(s_, FunctionRef{"f2", "live", "", ""});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->executed_version, "1");
  EXPECT_EQ(t->invoked_arn, "arn:aws:lambda:us-east-1:000000000000:function:f2:live");
  auto latest = registry_->Resolve(s_, FunctionRef{"f2", "", "", ""});
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->executed_version, "$LATEST");
  EXPECT_NE(latest->spec->code_sha, t->spec->code_sha);
  // Weights send some invocations to version 2.
  ASSERT_TRUE(registry_->UpdateAlias(s_, FunctionRef{"f2", "", "", ""}, "live",
                                     Json{{"RoutingConfig", Json{{"AdditionalVersionWeights", Json{{"2", 1.0}}}}}}).ok());
  EXPECT_EQ(registry_->Resolve(s_, FunctionRef{"f2", "live", "", ""})->executed_version, "2");
  // A version an alias points at cannot be deleted.
  auto del = registry_->DeleteFunction(s_, FunctionRef{"f2", "1", "", ""});
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, "ResourceConflictException");
  auto missing = registry_->Resolve(s_, FunctionRef{"f2", "9", "", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "ResourceNotFoundException");
}

TEST_F(RegistryTest, ConfigurationChangesRetireInstances) {
  Create("f3");
  retired_.clear();
  ASSERT_TRUE(registry_->UpdateFunctionConfiguration(s_, FunctionRef{"f3", "", "", ""},
                                                     Json{{"Timeout", 9}}).ok());
  ASSERT_EQ(retired_.size(), 1u);
  EXPECT_EQ(retired_[0], "000000000000/us-east-1/f3");
  EXPECT_EQ(registry_->Resolve(s_, FunctionRef{"f3", "", "", ""})->spec->timeout_s, 9);
  auto stale = registry_->UpdateFunctionConfiguration(
      s_, FunctionRef{"f3", "", "", ""}, Json{{"Timeout", 5}, {"RevisionId", "not-current"}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, "PreconditionFailedException");
}

TEST_F(RegistryTest, ConcurrencyPoliciesUrlsAndEventInvokeConfig) {
  Create("f4");
  FunctionRef f4{"f4", "", "", ""};
  ASSERT_TRUE(registry_->PutConcurrency(s_, f4, 5).ok());
  EXPECT_EQ(*registry_->Resolve(s_, f4)->spec->reserved_concurrency, 5);
  auto too_much = registry_->PutConcurrency(s_, f4, 950);
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.error().code, "InvalidParameterValueException");

  ASSERT_TRUE(registry_->AddPermission(s_, f4, Json{{"StatementId", "s1"}, {"Action", "lambda:InvokeFunction"},
                                                    {"Principal", "sns.amazonaws.com"}}).ok());
  auto dup = registry_->AddPermission(s_, f4, Json{{"StatementId", "s1"}, {"Action", "x"}, {"Principal", "*"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "ResourceConflictException");
  Json policy = ParseJsonOrDiscarded((*registry_->GetPolicy(s_, f4))["Policy"].get<std::string>());
  EXPECT_EQ(policy["Statement"][0]["Principal"]["Service"], "sns.amazonaws.com");
  ASSERT_TRUE(registry_->RemovePermission(s_, f4, "s1", "").ok());
  EXPECT_FALSE(registry_->GetPolicy(s_, f4).ok());

  auto url = registry_->CreateUrlConfig(s_, f4, Json{{"AuthType", "NONE"}}, "localhost:4566");
  ASSERT_TRUE(url.ok());
  std::string u = (*url)["FunctionUrl"];
  std::string id = u.substr(7, u.find('.') - 7);
  auto target = registry_->FindUrl(id);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->name, "f4");
  EXPECT_EQ(target->auth_type, "NONE");
  ASSERT_TRUE(registry_->DeleteFunction(s_, f4).ok());
  EXPECT_FALSE(registry_->FindUrl(id).ok());
}

TEST_F(RegistryTest, Layers) {
  auto l1 = registry_->PublishLayerVersion(s_, "lib", Json::object(), Zip("python/x.py", "y = 1\n"));
  ASSERT_TRUE(l1.ok());
  EXPECT_EQ((*l1)["Version"], 1);
  Json cfg = Create("f5", Json{{"Layers", Json::array({(*l1)["LayerVersionArn"]})}});
  EXPECT_EQ(cfg["Layers"][0]["Arn"], (*l1)["LayerVersionArn"]);
  auto spec = registry_->Resolve(s_, FunctionRef{"f5", "", "", ""});
  ASSERT_TRUE(spec.ok());
  ASSERT_EQ(spec->spec->layer_shas.size(), 1u);
  auto opt = cache_->OptDir(spec->spec->layer_shas);
  ASSERT_TRUE(opt.ok());
  EXPECT_TRUE(fs::exists(*opt + "/python/x.py"));
  auto bad = registry_->CreateFunction(
      s_, Json{{"FunctionName", "f6"}, {"Runtime", "python3.12"}, {"Handler", "a.b"},
               {"Layers", Json::array({"arn:aws:lambda:us-east-1:000000000000:layer:nope:1"})}},
      Zip("a", "b"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidParameterValueException");
  ASSERT_TRUE(registry_->DeleteLayerVersion(s_, "lib", 1).ok());
  auto l2 = registry_->PublishLayerVersion(s_, "lib", Json::object(), Zip("python/x.py", "y = 2\n"));
  EXPECT_EQ((*l2)["Version"], 2);  // versions are never reused
}

}  // namespace
}  // namespace stratus::services::lambda
