#include "trace/context.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace stratus::trace {
namespace {

constexpr std::string_view kRoot = "1-5759e988-bd862e3fe1be46a994272793";

TEST(TraceHeader, ParsesAllFields) {
  auto h = ParseTraceHeader(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;"
      "Lineage=a87bd80c:1|68fd508a:5;Self=1-67891234-12456789abcdef012345678;CalledFrom=app");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->root, kRoot);
  EXPECT_EQ(h->parent, "53995c3f42cd8ad8");
  EXPECT_EQ(h->sampled, Sampling::kSampled);
  EXPECT_EQ(h->lineage, "a87bd80c:1|68fd508a:5");
  ASSERT_EQ(h->extra.size(), 2u);
  EXPECT_EQ(h->extra[0],
            (std::pair<std::string, std::string>{"Self", "1-67891234-12456789abcdef012345678"}));
  EXPECT_EQ(h->extra[1], (std::pair<std::string, std::string>{"CalledFrom", "app"}));
}

TEST(TraceHeader, KeysAreCaseInsensitiveAndSpacesAllowed) {
  // Lambda echoes the header with lowercase keys.
  auto h = ParseTraceHeader(
      " root=1-5759e988-bd862e3fe1be46a994272793 ; parent=53995c3f42cd8ad8 ;sampled=0; ");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->root, kRoot);
  EXPECT_EQ(h->parent, "53995c3f42cd8ad8");
  EXPECT_EQ(h->sampled, Sampling::kNotSampled);
}

TEST(TraceHeader, SamplingValues) {
  auto sampled = [](std::string v) {
    return ParseTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=" + v)->sampled;
  };
  EXPECT_EQ(sampled("1"), Sampling::kSampled);
  EXPECT_EQ(sampled("0"), Sampling::kNotSampled);
  EXPECT_EQ(sampled("?"), Sampling::kRequested);
  EXPECT_EQ(sampled("yes"), Sampling::kUnknown);  // dropped, trace kept
  EXPECT_EQ(ParseTraceHeader(std::string("Root=") + std::string(kRoot))->sampled,
            Sampling::kUnknown);
}

TEST(TraceHeader, MalformedHeadersAreRejected) {
  for (std::string bad : {
           "", ";;", "garbage",
           "Parent=53995c3f42cd8ad8;Sampled=1",                // no root
           "Root=",                                            // empty root
           "Root=1-5759e988-bd862e3fe1be46a99427279",          // 23 hex digits
           "Root=1-5759e988-bd862e3fe1be46a9942727933",        // 25 hex digits
           "Root=2-5759e988-bd862e3fe1be46a994272793",         // unknown version
           "Root=1-5759e98g-bd862e3fe1be46a994272793",         // not hex
           "Root=1_5759e988_bd862e3fe1be46a994272793",         // wrong separators
           "Root=1-5759e988-bd862e3fe1be46a994272793;Parent",  // a pair without '='
           "=x;Root=1-5759e988-bd862e3fe1be46a994272793",      // empty key
       }) {
    EXPECT_FALSE(ParseTraceHeader(bad)) << bad;
  }
  std::string huge =
      "Root=1-5759e988-bd862e3fe1be46a994272793;X=" + std::string(kMaxTraceHeaderBytes, 'a');
  EXPECT_FALSE(ParseTraceHeader(huge));
}

TEST(TraceHeader, BadParentIsDroppedTraceKept) {
  auto h = ParseTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz;Sampled=1");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->parent, "");
  EXPECT_EQ(h->sampled, Sampling::kSampled);
}

TEST(TraceHeader, FirstOccurrenceWins) {
  auto h = ParseTraceHeader(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-00000000-000000000000000000000000;"
      "Parent=53995c3f42cd8ad8;Parent=0000000000000001");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->root, kRoot);
  EXPECT_EQ(h->parent, "53995c3f42cd8ad8");
}

TEST(TraceHeader, FormatRoundTrips) {
  std::string text =
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?;"
      "Lineage=a87bd80c:1;Self=x";
  auto h = ParseTraceHeader(text);
  ASSERT_TRUE(h);
  EXPECT_EQ(FormatTraceHeader(*h), text);
  TraceHeader minimal;
  minimal.root = std::string(kRoot);
  EXPECT_EQ(FormatTraceHeader(minimal), "Root=1-5759e988-bd862e3fe1be46a994272793");
}

TEST(TraceIds, Format) {
  std::string id = NewTraceId(0x5759e988);
  EXPECT_TRUE(IsValidTraceId(id)) << id;
  EXPECT_EQ(id.substr(0, 11), "1-5759e988-");
  std::string seg = NewSegmentId();
  EXPECT_TRUE(IsValidSegmentId(seg)) << seg;
  EXPECT_FALSE(IsValidSegmentId("53995c3f42cd8ad"));
  EXPECT_FALSE(IsValidSegmentId("53995c3f42cd8adz"));
}

TEST(TraceIds, UniqueAcrossThreads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 5000; ++i) ids.push_back(NewSegmentId());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(BeginHop, ContinuesAValidTrace) {
  TraceContext ctx = BeginHopWithIds(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=x:1",
      "unused", "1111111111111111");
  EXPECT_TRUE(ctx.continued);
  EXPECT_EQ(ctx.trace_id, kRoot);
  EXPECT_EQ(ctx.parent_id, "53995c3f42cd8ad8");
  EXPECT_EQ(ctx.segment_id, "1111111111111111");
  EXPECT_TRUE(ctx.sampled);
  // Downstream, this hop's segment is the parent; lineage passes on.
  EXPECT_EQ(ctx.DownstreamHeader(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1111111111111111;Sampled=1;"
            "Lineage=x:1");
}

TEST(BeginHop, StartsANewTraceWhenMissingOrMalformed) {
  for (std::optional<std::string_view> incoming :
       {std::optional<std::string_view>(), std::optional<std::string_view>("Root=nonsense"),
        std::optional<std::string_view>("")}) {
    TraceContext ctx =
        BeginHopWithIds(incoming, "1-00000001-000000000000000000000002", "2222222222222222");
    EXPECT_FALSE(ctx.continued);
    EXPECT_EQ(ctx.trace_id, "1-00000001-000000000000000000000002");
    EXPECT_EQ(ctx.parent_id, "");
    EXPECT_TRUE(ctx.sampled);
  }
  TraceContext real = BeginHop("not a header", 1700000000);
  EXPECT_TRUE(IsValidTraceId(real.trace_id));
  EXPECT_EQ(real.trace_id.substr(2, 8), "6553f100");
  EXPECT_TRUE(IsValidSegmentId(real.segment_id));
}

TEST(BeginHop, SamplingDecision) {
  auto decide = [](std::string sampled, bool sample_new) {
    return BeginHopWithIds("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=" + sampled, "",
                           "3333333333333333", sample_new)
        .sampled;
  };
  EXPECT_TRUE(decide("1", false));
  EXPECT_FALSE(decide("0", true));
  EXPECT_TRUE(decide("?", true));
  EXPECT_FALSE(decide("?", false));
  EXPECT_FALSE(BeginHopWithIds(std::nullopt, "t", "s", false).sampled);
  TraceContext off =
      BeginHopWithIds("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0", "", "3333333333333333");
  EXPECT_EQ(off.DownstreamHeader(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=3333333333333333;Sampled=0");
}

TEST(TraceContext, ChildHangsUnderItsCaller) {
  TraceContext ctx = BeginHopWithIds(std::nullopt, std::string(kRoot), "4444444444444444");
  TraceContext child = ctx.ChildWithId("5555555555555555");
  EXPECT_EQ(child.trace_id, kRoot);
  EXPECT_EQ(child.parent_id, "4444444444444444");
  EXPECT_EQ(child.segment_id, "5555555555555555");
  EXPECT_TRUE(child.continued);
  TraceContext generated = ctx.Child();
  EXPECT_TRUE(IsValidSegmentId(generated.segment_id));
  EXPECT_NE(generated.segment_id, ctx.segment_id);
}

}  // namespace
}  // namespace stratus::trace
