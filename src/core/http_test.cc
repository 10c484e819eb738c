#include "core/http.h"

#include <gtest/gtest.h>

namespace stratus {
namespace {

TEST(Http, HeadersAreCaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "a");
  h.Add("x-amz-meta-A", "1");
  h.Add("X-Amz-Meta-a", "2");
  EXPECT_EQ(h.GetOr("content-type"), "a");
  EXPECT_EQ(h.GetAll("X-AMZ-META-A").size(), 2u);
  h.Set("CONTENT-TYPE", "b");
  EXPECT_EQ(h.GetOr("Content-Type"), "b");
  h.Remove("x-amz-meta-a");
  EXPECT_FALSE(h.Has("x-amz-meta-a"));
}

TEST(Http, UrlCoding) {
  EXPECT_EQ(UrlDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(UrlDecode("a%2"), "a%2");
  EXPECT_EQ(UrlDecode("%zz"), "%zz");
  EXPECT_EQ(UrlEncode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(UrlEncode("a b/c", true), "a%20b/c");
  auto q = ParseQuery("b=2&a&c=x%3Dy");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[1].first, "a");
  EXPECT_EQ(q[2].second, "x=y");
}

TEST(Http, ResponderSendsOnce) {
  int calls = 0;
  Responder r([&](HttpResponse) { ++calls; });
  Responder copy = r;
  r.Send({});
  copy.Send({});
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace stratus
