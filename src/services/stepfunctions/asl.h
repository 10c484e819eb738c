#pragma once
// The Amazon States Language, compiled: a definition (ASL JSON) parsed and validated once into
// typed states whose paths, templates, intrinsic calls and JSONata expressions are compiled, so
// that running a state does no parsing. ParseDefinition checks the definition as
// CreateStateMachine does and returns AWS's InvalidDefinition messages.
//
// Thread-safe: a Definition is immutable and shared by every execution of its state machine.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "services/stepfunctions/expressions.h"
#include "services/stepfunctions/jsonata_template.h"

namespace stratus::services::stepfunctions {

enum class QueryLanguage { kJsonPath, kJsonata };
enum class StateType { kPass, kTask, kChoice, kWait, kSucceed, kFail, kParallel, kMap };

std::string_view StateTypeName(StateType t);  // "Pass", ...

// InputPath / OutputPath / ResultPath: absent (default "$"), null, or a reference path.
struct PathField {
  enum class Kind { kDefault, kNull, kPath };
  Kind kind = Kind::kDefault;
  std::optional<ValueRef> ref;  // kPath
  bool IsIdentity() const { return kind == Kind::kDefault || (kind == Kind::kPath && ref->root == ValueRef::Root::kInput && ref->path.is_root()); }
};

// A value given either literally or through a *Path field (Seconds/SecondsPath, ...), or by
// JSONata.
struct NumberOrPath {
  bool present = false;
  std::optional<double> literal;
  std::optional<ValueRef> path;
  std::optional<JsonataTemplate> jsonata;
};

struct Retrier {
  std::vector<std::string> errors;
  double interval_seconds = 1;
  int64_t max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<int64_t> max_delay_seconds;
  bool full_jitter = false;
};

struct Catcher {
  std::vector<std::string> errors;
  int next = -1;
  std::string next_name;
  PathField result_path;                      // JSONPath
  std::optional<JsonataTemplate> output;      // JSONata
  std::optional<PayloadTemplate> assign;      // JSONPath Assign
  std::optional<JsonataTemplate> assign_jsonata;
};

struct ChoiceRule {
  enum class Kind { kAnd, kOr, kNot, kCompare, kCondition };
  enum class Op {
    kStringEquals, kStringLessThan, kStringGreaterThan, kStringLessThanEquals, kStringGreaterThanEquals,
    kStringMatches, kNumericEquals, kNumericLessThan, kNumericGreaterThan, kNumericLessThanEquals,
    kNumericGreaterThanEquals, kBooleanEquals, kTimestampEquals, kTimestampLessThan,
    kTimestampGreaterThan, kTimestampLessThanEquals, kTimestampGreaterThanEquals, kIsNull,
    kIsPresent, kIsNumeric, kIsString, kIsBoolean, kIsTimestamp,
  };
  Kind kind = Kind::kCompare;
  Op op = Op::kStringEquals;
  std::optional<ValueRef> variable;
  Json value;                         // the literal operand
  std::optional<ValueRef> value_path; // the *Path operand
  std::vector<ChoiceRule> children;
  std::optional<JsonataTemplate> condition;  // JSONata
  // Top-level rules only:
  int next = -1;
  std::optional<PayloadTemplate> assign;
  std::optional<JsonataTemplate> assign_jsonata;
  std::optional<JsonataTemplate> output;
};

struct Branch;

struct MapConfig {
  std::shared_ptr<Branch> processor;
  bool distributed = false;
  std::string execution_type;  // distributed: STANDARD/EXPRESS
  std::optional<ValueRef> items_path;           // JSONPath (default $)
  std::optional<JsonataTemplate> items;         // JSONata Items
  std::optional<PayloadTemplate> item_selector; // JSONPath
  std::optional<JsonataTemplate> item_selector_jsonata;
  NumberOrPath max_concurrency;
  NumberOrPath tolerated_failure_count;
  NumberOrPath tolerated_failure_percentage;
  Json item_reader;   // raw (distributed mode)
  Json item_batcher;  // raw
  Json result_writer; // raw
  // ItemReader / ResultWriter: Resource, and Parameters (JSONPath) or Arguments (JSONata);
  // ReaderConfig stays raw (its MaxItemsPath is resolved when the Map starts).
  std::string reader_resource, writer_resource;
  std::optional<PayloadTemplate> reader_parameters, writer_parameters;
  std::optional<JsonataTemplate> reader_arguments, writer_arguments;
  NumberOrPath reader_max_items;  // ReaderConfig MaxItems / MaxItemsPath
  std::string label;
};

struct State {
  std::string name;
  StateType type = StateType::kPass;
  QueryLanguage language = QueryLanguage::kJsonPath;
  int next = -1;  // index in the branch, -1 = End (or none)
  bool end = false;
  Json raw;       // the state's ASL, as written
  bool uses_context = false;  // mentions $$ or $states.context: build the context object

  // JSONPath data flow.
  PathField input_path, output_path, result_path;
  std::optional<PayloadTemplate> parameters, result_selector;
  std::optional<Json> result;  // Pass
  std::optional<PayloadTemplate> assign;
  // JSONata data flow.
  std::optional<JsonataTemplate> arguments, output, assign_jsonata;

  // Task.
  std::string resource;
  NumberOrPath timeout_seconds, heartbeat_seconds;
  Json credentials;

  // Choice.
  std::vector<ChoiceRule> choices;
  int default_next = -1;

  // Wait.
  NumberOrPath seconds;
  std::optional<std::string> timestamp;
  std::optional<ValueRef> timestamp_path;
  std::optional<JsonataTemplate> timestamp_jsonata;

  // Fail.
  std::optional<std::string> error, cause;
  std::optional<DynamicValue> error_path, cause_path;
  std::optional<JsonataTemplate> error_jsonata, cause_jsonata;

  // Parallel.
  std::vector<std::shared_ptr<Branch>> branches;
  // Map.
  std::optional<MapConfig> map;

  std::vector<Retrier> retry;
  std::vector<Catcher> catchers;
};

// A list of states with a start: the top level, a Parallel branch or a Map's ItemProcessor.
struct Branch {
  std::vector<State> states;
  int start = 0;
  std::unordered_map<std::string, int> index;
  QueryLanguage language = QueryLanguage::kJsonPath;
  int Find(const std::string& name) const {
    auto it = index.find(name);
    return it == index.end() ? -1 : it->second;
  }
};

struct Definition {
  Branch top;
  Json raw;
  std::optional<int64_t> timeout_seconds;
  QueryLanguage language = QueryLanguage::kJsonPath;
  size_t state_count = 0;  // every state, nested included
};

// Parses and validates a definition. Errors: InvalidDefinition with AWS's message
// ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ... at /States/X'").
Result<std::shared_ptr<const Definition>> ParseDefinition(std::string_view text);
Result<std::shared_ptr<const Definition>> ParseDefinitionJson(const Json& json);

struct DefinitionDiagnostic {
  std::string code, message, location;
};
// Every problem ValidateStateMachineDefinition reports (empty when the definition is valid).
std::vector<DefinitionDiagnostic> DiagnoseDefinition(std::string_view text);

// The definition limit AWS applies to the definition text (1 MiB).
inline constexpr size_t kMaxDefinitionBytes = 1024 * 1024;

}  // namespace stratus::services::stepfunctions
