// What tracing costs a request: parsing and continuing X-Amzn-Trace-Id, building a typical
// segment and recording it (alone and from several threads at once), and exporting it as an
// X-Ray segment document. Figures go to docs/tracing.md.
//
//   bench_trace [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "trace/context.h"
#include "trace/recorder.h"

namespace stratus::trace {
namespace {

constexpr std::string_view kIncoming =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

void BM_ParseTraceHeader(benchmark::State& state) {
  for (auto _ : state) {
    auto h = ParseTraceHeader(kIncoming);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ParseTraceHeader);

void BM_BeginHopAndDownstreamHeader(benchmark::State& state) {
  for (auto _ : state) {
    TraceContext ctx = BeginHop(kIncoming, 1700000000);
    std::string header = ctx.DownstreamHeader();
    benchmark::DoNotOptimize(header);
  }
}
BENCHMARK(BM_BeginHopAndDownstreamHeader);

void BM_BeginHopNewTrace(benchmark::State& state) {
  for (auto _ : state) {
    TraceContext ctx = BeginHop(std::nullopt, 1700000000);
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(BM_BeginHopNewTrace);

// What a gateway hop records per request.
Segment TypicalSegment(const TraceContext& ctx) {
  Segment seg = NewSegment(ctx, "my-api", "AWS::ApiGateway::Stage", 1700000000.125);
  seg.http_request =
      HttpRequestInfo{"POST",     "http://localhost:4566/restapis/abc/prod/_user_request_/items",
                      "curl/8.0", "127.0.0.1",
                      false,      false};
  SetHttpStatus(seg, 200);
  seg.end_time = 1700000000.131;
  return seg;
}

InMemoryRecorder& SharedRecorder() {
  static InMemoryRecorder recorder(10000);
  return recorder;
}

void BM_BuildAndRecordSegment(benchmark::State& state) {
  InMemoryRecorder& recorder = SharedRecorder();
  TraceContext ctx = BeginHop(kIncoming, 1700000000);
  for (auto _ : state) {
    recorder.Record(TypicalSegment(ctx));
  }
}
BENCHMARK(BM_BuildAndRecordSegment)->Threads(1)->Threads(2)->Threads(4);

// The part the recorder adds: building the same segment without recording it.
void BM_BuildSegmentOnly(benchmark::State& state) {
  TraceContext ctx = BeginHop(kIncoming, 1700000000);
  for (auto _ : state) {
    Segment seg = TypicalSegment(ctx);
    benchmark::DoNotOptimize(seg);
  }
}
BENCHMARK(BM_BuildSegmentOnly);

void BM_SegmentDocumentJson(benchmark::State& state) {
  Segment seg = TypicalSegment(BeginHop(kIncoming, 1700000000));
  for (auto _ : state) {
    std::string json = SegmentDocumentJson(seg);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_SegmentDocumentJson);

void BM_TraceSegmentsQuery(benchmark::State& state) {
  InMemoryRecorder recorder(10000);
  std::string wanted;
  for (int i = 0; i < 10000; ++i) {
    TraceContext ctx = BeginHop(std::nullopt, 1700000000);
    if (i == 5000) wanted = ctx.trace_id;
    recorder.Record(TypicalSegment(ctx));
  }
  for (auto _ : state) {
    auto segs = recorder.TraceSegments(wanted);
    benchmark::DoNotOptimize(segs);
  }
}
BENCHMARK(BM_TraceSegmentsQuery);

}  // namespace
}  // namespace stratus::trace
