#pragma once
// Test helpers: an EngineHost with a manual clock, recorded dispatches and timers.
#include <map>
#include <string>
#include <vector>

#include "services/stepfunctions/engine.h"

namespace stratus::services::stepfunctions {

class FakeHost : public EngineHost {
 public:
  int64_t now = 1700000000000;
  std::vector<TaskCall> tasks;
  std::multimap<int64_t, std::pair<uint64_t, uint64_t>> timers;
  struct Span {
    std::string state, error;
    int64_t entered_event = 0, entered_ms = 0, exited_ms = 0;
    uint64_t scope = 0;
  };
  std::vector<Span> spans;  // StateEnded reports (when the execution traces its states)
  void StateEnded(const StateSpan& s) override {
    spans.push_back({std::string(s.state_name), std::string(s.error), s.entered_event, s.entered_ms, s.exited_ms,
                     s.span_scope});
  }
  int64_t NowMs() const override { return now; }
  void Dispatch(const TaskCall& call) override { tasks.push_back(call); }
  void ScheduleTimer(uint64_t frame, uint64_t seq, int64_t due_ms) override {
    timers.emplace(due_ms, std::make_pair(frame, seq));
  }
  // Fires every timer in due order, advancing the clock; runs the execution in between.
  void FireAll(Execution& e) {
    e.Run();
    while (!timers.empty() && e.status() == ExecutionStatus::kRunning) {
      auto it = timers.begin();
      now = std::max(now, it->first);
      auto [frame, seq] = it->second;
      timers.erase(it);
      e.OnTimer(frame, seq);
      e.Run();
    }
  }
};

inline ExecutionInfo TestInfo() {
  ExecutionInfo i;
  i.arn = "arn:aws:states:us-east-1:000000000000:execution:sm:exec";
  i.name = "exec";
  i.state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:sm";
  i.state_machine_name = "sm";
  i.role_arn = "arn:aws:iam::000000000000:role/r";
  i.region = "us-east-1";
  i.account = "000000000000";
  i.start_ms = 1700000000000;
  return i;
}

}  // namespace stratus::services::stepfunctions
