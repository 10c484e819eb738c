// The fuzz target's body under a deterministic mutation loop, so every build runs it (the
// libFuzzer target needs clang; see fuzz/). Seeds are realistic documents; mutations flip,
// insert, delete and splice bytes and repeat wildcards. Nothing may crash or take long.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

#include "identity/policy/fuzz/fuzz_body.h"

namespace stratus::identity::policy {
namespace {

using namespace std::string_view_literals;

const std::string_view kSeeds[] = {
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"ForAnyValue:StringLike":{"aws:TagKeys":"e*"}}}]})"sv,
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","NotAction":["s3:Get*"],"NotResource":"arn:aws:s3:::b","Condition":{"NumericLessThanIfExists":{"s3:max-keys":"10"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"Null":{"aws:PrincipalTag/team":"false"}}}]})"sv,
    R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::1:role/r"],"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"},"BinaryEquals":{"k":"QUJD"},"ForAllValues:StringEqualsIgnoreCase":{"aws:TagKeys":["A","b"]}}}})"sv,
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*a*a*a*a*a*a*a*b\",\"Resource\":\"*a*a*a*a*a*a*b\"}]}\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac"sv,
};

TEST(PolicyFuzzLoop, MutationsNeverCrashOrStall) {
  std::mt19937 rng(20260601);
  const std::string alphabet = "{}[]\":,*?$/\\ \0aAsS3:-.0123456789${}";
  auto start = std::chrono::steady_clock::now();
  int runs = 0;
  for (std::string_view seed_text : kSeeds) {
    std::string seed(seed_text);
    for (int i = 0; i < 1500; ++i) {
      std::string s = seed;
      int edits = 1 + static_cast<int>(rng() % 6);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        size_t pos = rng() % s.size();
        switch (rng() % 5) {
          case 0: s[pos] = static_cast<char>(rng() % 256); break;
          case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          case 2: s.erase(pos, 1 + rng() % 8); break;
          case 3: s.insert(pos, std::string(1 + rng() % 64, '*')); break;
          case 4: {
            const std::string other(kSeeds[rng() % 3]);
            size_t from = rng() % other.size();
            s.insert(pos, other.substr(from, rng() % 40));
            break;
          }
        }
      }
      FuzzPolicyOnce(s);
      ++runs;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(runs, 6000);
  EXPECT_LT(seconds, 120.0);  // a generous bound: a super-linear matcher blows far past it
}

TEST(PolicyFuzzLoop, HostileWildcardsStayLinear) {
  std::string pattern;
  for (int i = 0; i < 2000; ++i) pattern += "*a";
  pattern += "b";
  std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::)" +
                    pattern + R"("}]})";
  auto start = std::chrono::steady_clock::now();
  FuzzPolicyOnce(doc + std::string(1, '\0') + std::string(20000, 'a'));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
}

}  // namespace
}  // namespace stratus::identity::policy
