// Parsing and validating ASL definitions into the compiled form of asl.h, with AWS's
// InvalidDefinition diagnostics.
#include <set>

#include "core/strings.h"
#include "core/time_format.h"

#include "services/stepfunctions/asl.h"

namespace stratus::services::stepfunctions {

std::string_view StateTypeName(StateType t) {
  switch (t) {
    case StateType::kPass: return "Pass";
    case StateType::kTask: return "Task";
    case StateType::kChoice: return "Choice";
    case StateType::kWait: return "Wait";
    case StateType::kSucceed: return "Succeed";
    case StateType::kFail: return "Fail";
    case StateType::kParallel: return "Parallel";
    case StateType::kMap: return "Map";
  }
  return "";
}

namespace {

// Nesting deeper than this is refused (AWS: TOO_DEEPLY_NESTED).
constexpr int kMaxNesting = 32;
constexpr size_t kMaxStateNameLength = 80;

using Diagnostic = DefinitionDiagnostic;

class Compiler {
 public:
  std::vector<Diagnostic> diags;
  size_t state_count = 0;

  void Add(std::string code, std::string message, std::string location) {
    if (diags.size() < 20) diags.push_back({std::move(code), std::move(message), std::move(location)});
  }
  void Schema(std::string message, std::string location) {
    Add("SCHEMA_VALIDATION_FAILED", std::move(message), std::move(location));
  }

  std::optional<ValueRef> Ref(const Json& j, const std::string& loc, bool reference_only) {
    if (!j.is_string()) {
      Schema("Value is not a valid reference path", loc);
      return std::nullopt;
    }
    auto r = ValueRef::Parse(j.get_ref<const std::string&>());
    if (!r.ok() || (reference_only && !r->path.definite())) {
      Schema(reference_only ? "Value is not a valid reference path" : "Value is not a valid JSONPath", loc);
      return std::nullopt;
    }
    return std::move(*r);
  }

  PathField Path(const Json& state, const char* name, const std::string& loc) {
    PathField f;
    auto it = state.find(name);
    if (it == state.end()) return f;
    if (it->is_null()) {
      f.kind = PathField::Kind::kNull;
      return f;
    }
    auto r = Ref(*it, loc + "/" + name, true);
    if (r) {
      f.kind = PathField::Kind::kPath;
      f.ref = std::move(*r);
    }
    return f;
  }

  std::optional<PayloadTemplate> Template(const Json& state, const char* name, const std::string& loc) {
    auto it = state.find(name);
    if (it == state.end()) return std::nullopt;
    auto t = PayloadTemplate::Compile(*it);
    if (!t.ok()) {
      Schema("The value for the field '" + std::string(name) + "' must be a valid JSONPath or a valid intrinsic function call", loc + "/" + name);
      return std::nullopt;
    }
    return std::move(*t);
  }

  std::optional<JsonataTemplate> Jsonata(const Json& state, const char* name, const std::string& loc) {
    auto it = state.find(name);
    if (it == state.end()) return std::nullopt;
    auto t = JsonataTemplate::Compile(*it, name);
    if (!t.ok()) {
      Schema(t.error().message, loc + "/" + name);
      return std::nullopt;
    }
    return std::move(*t);
  }

  NumberOrPath Number(const Json& state, const char* name, const std::string& loc, QueryLanguage ql, bool positive) {
    NumberOrPath n;
    auto it = state.find(name);
    std::string path_name = std::string(name) + "Path";
    auto pit = state.find(path_name);
    if (it != state.end()) {
      n.present = true;
      if (it->is_string() && JsonataExpressionText(it->get_ref<const std::string&>())) {
        if (ql != QueryLanguage::kJsonata) {
          Schema("The field '" + std::string(name) + "' must be a number", loc + "/" + name);
        }
        auto t = JsonataTemplate::Compile(*it, name);
        if (t.ok()) n.jsonata = std::move(*t);
        else Schema(t.error().message, loc + "/" + name);
      } else if (it->is_number()) {
        n.literal = it->get<double>();
        if (positive && *n.literal <= 0) Schema("The value of the field '" + std::string(name) + "' must be positive", loc + "/" + name);
      } else {
        Schema("The field '" + std::string(name) + "' must be a number", loc + "/" + name);
      }
    }
    if (pit != state.end()) {
      if (n.present) Schema("The fields '" + std::string(name) + "' and '" + path_name + "' are mutually exclusive", loc);
      n.present = true;
      n.path = Ref(*pit, loc + "/" + path_name, true);
    }
    return n;
  }

  std::vector<std::string> ErrorList(const Json& j, const std::string& loc) {
    std::vector<std::string> out;
    auto it = j.find("ErrorEquals");
    if (it == j.end() || !it->is_array() || it->empty()) {
      Schema("These fields are required: [ErrorEquals]", loc);
      return out;
    }
    for (const auto& e : *it) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == "States.ALL" && (i + 1 != out.size() || out.size() != 1)) {
        Schema("States.ALL must appear alone in ErrorEquals", loc + "/ErrorEquals");
      }
    }
    return out;
  }

  bool ParseRule(const Json& j, ChoiceRule& rule, const std::string& loc, QueryLanguage ql, bool top) {
    if (!j.is_object()) {
      Schema("Choice rules must be objects", loc);
      return false;
    }
    if (ql == QueryLanguage::kJsonata && top) {
      rule.kind = ChoiceRule::Kind::kCondition;
      auto c = j.find("Condition");
      if (c == j.end()) {
        Schema("These fields are required: [Condition]", loc);
        return false;
      }
      auto t = JsonataTemplate::Compile(*c, "Condition");
      if (!t.ok()) {
        Schema(t.error().message, loc + "/Condition");
        return false;
      }
      rule.condition = std::move(*t);
      return true;
    }
    if (auto it = j.find("And"); it != j.end() || j.contains("Or")) {
      bool is_and = it != j.end();
      const Json& list = is_and ? *it : j["Or"];
      rule.kind = is_and ? ChoiceRule::Kind::kAnd : ChoiceRule::Kind::kOr;
      if (!list.is_array() || list.empty()) {
        Schema("The value of 'And'/'Or' must be a non-empty array", loc);
        return false;
      }
      size_t i = 0;
      for (const auto& c : list) {
        ChoiceRule child;
        if (!ParseRule(c, child, loc + (is_and ? "/And[" : "/Or[") + std::to_string(i++) + "]", ql, false)) return false;
        rule.children.push_back(std::move(child));
      }
      return true;
    }
    if (auto it = j.find("Not"); it != j.end()) {
      rule.kind = ChoiceRule::Kind::kNot;
      ChoiceRule child;
      if (!ParseRule(*it, child, loc + "/Not", ql, false)) return false;
      rule.children.push_back(std::move(child));
      return true;
    }
    auto var = j.find("Variable");
    if (var == j.end()) {
      Schema("These fields are required: [Variable]", loc);
      return false;
    }
    rule.variable = Ref(*var, loc + "/Variable", false);
    if (!rule.variable) return false;
    static const std::pair<const char*, ChoiceRule::Op> kOps[] = {
        {"StringEquals", ChoiceRule::Op::kStringEquals},
        {"StringLessThan", ChoiceRule::Op::kStringLessThan},
        {"StringGreaterThan", ChoiceRule::Op::kStringGreaterThan},
        {"StringLessThanEquals", ChoiceRule::Op::kStringLessThanEquals},
        {"StringGreaterThanEquals", ChoiceRule::Op::kStringGreaterThanEquals},
        {"StringMatches", ChoiceRule::Op::kStringMatches},
        {"NumericEquals", ChoiceRule::Op::kNumericEquals},
        {"NumericLessThan", ChoiceRule::Op::kNumericLessThan},
        {"NumericGreaterThan", ChoiceRule::Op::kNumericGreaterThan},
        {"NumericLessThanEquals", ChoiceRule::Op::kNumericLessThanEquals},
        {"NumericGreaterThanEquals", ChoiceRule::Op::kNumericGreaterThanEquals},
        {"BooleanEquals", ChoiceRule::Op::kBooleanEquals},
        {"TimestampEquals", ChoiceRule::Op::kTimestampEquals},
        {"TimestampLessThan", ChoiceRule::Op::kTimestampLessThan},
        {"TimestampGreaterThan", ChoiceRule::Op::kTimestampGreaterThan},
        {"TimestampLessThanEquals", ChoiceRule::Op::kTimestampLessThanEquals},
        {"TimestampGreaterThanEquals", ChoiceRule::Op::kTimestampGreaterThanEquals},
        {"IsNull", ChoiceRule::Op::kIsNull},
        {"IsPresent", ChoiceRule::Op::kIsPresent},
        {"IsNumeric", ChoiceRule::Op::kIsNumeric},
        {"IsString", ChoiceRule::Op::kIsString},
        {"IsBoolean", ChoiceRule::Op::kIsBoolean},
        {"IsTimestamp", ChoiceRule::Op::kIsTimestamp},
    };
    int found = 0;
    for (const auto& [name, op] : kOps) {
      if (auto it = j.find(name); it != j.end()) {
        rule.op = op;
        rule.value = *it;
        ++found;
      }
      std::string path_name = std::string(name) + "Path";
      if (auto it = j.find(path_name); it != j.end()) {
        rule.op = op;
        rule.value_path = Ref(*it, loc + "/" + path_name, false);
        ++found;
      }
    }
    if (found != 1) {
      Schema(found == 0 ? "A choice rule must have exactly one comparison operator"
                        : "A choice rule must have exactly one comparison operator", loc);
      return false;
    }
    return true;
  }

  std::shared_ptr<Branch> ParseBranch(const Json& j, const std::string& loc, QueryLanguage inherited, int depth) {
    auto branch = std::make_shared<Branch>();
    if (depth > kMaxNesting) {
      Add("TOO_DEEPLY_NESTED", "The states are too deeply nested", loc);
      return branch;
    }
    if (!j.is_object()) {
      Schema("Value is not an object", loc);
      return branch;
    }
    branch->language = inherited;
    if (auto ql = j.find("QueryLanguage"); ql != j.end()) {
      if (*ql == "JSONata") branch->language = QueryLanguage::kJsonata;
      else if (*ql == "JSONPath") branch->language = QueryLanguage::kJsonPath;
      else Schema("Value is not a valid query language", loc + "/QueryLanguage");
    }
    auto start = j.find("StartAt");
    auto states = j.find("States");
    std::vector<std::string> missing;
    if (start == j.end()) missing.push_back("StartAt");
    if (states == j.end()) missing.push_back("States");
    if (!missing.empty()) {
      Schema("These fields are required: [" + Join(missing, ", ") + "]", loc.empty() ? "/" : loc);
      return branch;
    }
    if (!states->is_object() || states->empty()) {
      Schema("The field 'States' must be a non-empty object", loc + "/States");
      return branch;
    }
    for (auto it = states->begin(); it != states->end(); ++it) {
      branch->index[it.key()] = static_cast<int>(branch->states.size());
      State s;
      s.name = it.key();
      branch->states.push_back(std::move(s));
    }
    int idx = 0;
    for (auto it = states->begin(); it != states->end(); ++it, ++idx) {
      ParseState(it.value(), branch->states[idx], *branch, loc + "/States/" + it.key(), depth);
    }
    if (!start->is_string() || branch->Find(start->get<std::string>()) < 0) {
      Add("MISSING_TRANSITION_TARGET",
          "Missing 'Next' target: " + (start->is_string() ? start->get<std::string>() : DumpJson(*start)),
          loc + "/StartAt");
      return branch;
    }
    branch->start = branch->Find(start->get<std::string>());
    // Reachability and a terminal state.
    std::vector<bool> seen(branch->states.size());
    std::vector<int> todo{branch->start};
    bool terminal = false;
    while (!todo.empty()) {
      int i = todo.back();
      todo.pop_back();
      if (i < 0 || seen[i]) continue;
      seen[i] = true;
      const State& s = branch->states[i];
      if (s.end || s.type == StateType::kSucceed || s.type == StateType::kFail) terminal = true;
      todo.push_back(s.next);
      todo.push_back(s.default_next);
      for (const auto& c : s.choices) todo.push_back(c.next);
      for (const auto& c : s.catchers) todo.push_back(c.next);
    }
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!seen[i]) Add("UNREACHABLE_STATE", "State \"" + branch->states[i].name + "\" is not reachable", loc + "/States/" + branch->states[i].name);
    }
    if (!terminal) Add("MISSING_END_STATE", "Workflow has no terminal state", loc.empty() ? "/" : loc);
    return branch;
  }

  int Target(const Json& v, const Branch& b, const std::string& loc) {
    if (!v.is_string()) {
      Schema("The value of 'Next' must be a string", loc);
      return -1;
    }
    int t = b.Find(v.get<std::string>());
    if (t < 0) Add("MISSING_TRANSITION_TARGET", "Missing 'Next' target: " + v.get<std::string>(), loc);
    return t;
  }

  void ParseState(const Json& j, State& s, const Branch& b, const std::string& loc, int depth) {
    ++state_count;
    if (s.name.empty() || s.name.size() > kMaxStateNameLength) {
      Add("INVALID_STATE_NAME", "State names must be 1 to 80 characters long", loc);
    }
    if (!j.is_object()) {
      Schema("Value is not an object", loc);
      return;
    }
    s.raw = j;
    {
      std::string text = DumpJson(j);
      s.uses_context = text.find("$$") != std::string::npos || text.find("$states") != std::string::npos;
    }
    auto type = j.find("Type");
    if (type == j.end()) {
      Schema("These fields are required: [Type]", loc);
      return;
    }
    static const std::pair<const char*, StateType> kTypes[] = {
        {"Pass", StateType::kPass},       {"Task", StateType::kTask},   {"Choice", StateType::kChoice},
        {"Wait", StateType::kWait},       {"Succeed", StateType::kSucceed}, {"Fail", StateType::kFail},
        {"Parallel", StateType::kParallel}, {"Map", StateType::kMap}};
    bool known = false;
    for (const auto& [name, t] : kTypes) {
      if (*type == name) {
        s.type = t;
        known = true;
      }
    }
    if (!known) {
      Schema("Value is not a valid state type", loc + "/Type");
      return;
    }
    s.language = b.language;
    if (auto ql = j.find("QueryLanguage"); ql != j.end()) {
      if (*ql == "JSONata") s.language = QueryLanguage::kJsonata;
      else if (*ql == "JSONPath") {
        if (b.language == QueryLanguage::kJsonata) {
          Schema("The QueryLanguage of a state cannot be JSONPath when the state machine's is JSONata", loc + "/QueryLanguage");
        }
        s.language = QueryLanguage::kJsonPath;
      } else {
        Schema("Value is not a valid query language", loc + "/QueryLanguage");
      }
    }
    const bool jsonata = s.language == QueryLanguage::kJsonata;
    bool terminal_type = s.type == StateType::kSucceed || s.type == StateType::kFail;
    auto next = j.find("Next");
    auto end = j.find("End");
    if (end != j.end()) s.end = end->is_boolean() && end->get<bool>();
    if (s.type == StateType::kChoice || terminal_type) {
      if (next != j.end()) Schema("Field 'Next' is not supported for state type " + std::string(StateTypeName(s.type)), loc + "/Next");
      if (end != j.end()) Schema("Field 'End' is not supported for state type " + std::string(StateTypeName(s.type)), loc + "/End");
      s.end = false;
    } else {
      if (next != j.end() && s.end) Schema("Next and End are mutually exclusive", loc);
      if (next == j.end() && !s.end) Schema("These fields are required: [Next]", loc);
      if (next != j.end()) s.next = Target(*next, b, loc + "/Next");
    }
    if (jsonata) {
      for (const char* f : {"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath"}) {
        if (j.contains(f)) Schema("The field '" + std::string(f) + "' is not supported in JSONata states", loc + "/" + f);
      }
      s.output = Jsonata(j, "Output", loc);
      s.assign_jsonata = Jsonata(j, "Assign", loc);
      if (s.type == StateType::kTask || s.type == StateType::kParallel) s.arguments = Jsonata(j, "Arguments", loc);
    } else {
      if (j.contains("Arguments") || j.contains("Output")) {
        Schema(std::string("The field '") + (j.contains("Arguments") ? "Arguments" : "Output") +
                   "' is not supported in JSONPath states", loc);
      }
      s.input_path = Path(j, "InputPath", loc);
      s.output_path = Path(j, "OutputPath", loc);
      s.result_path = Path(j, "ResultPath", loc);
      s.parameters = Template(j, "Parameters", loc);
      s.result_selector = Template(j, "ResultSelector", loc);
      s.assign = Template(j, "Assign", loc);
    }
    switch (s.type) {
      case StateType::kPass:
        if (auto r = j.find("Result"); r != j.end()) s.result = *r;
        break;
      case StateType::kTask: {
        auto r = j.find("Resource");
        if (r == j.end() || !r->is_string()) {
          Schema("These fields are required: [Resource]", loc);
        } else {
          s.resource = r->get<std::string>();
          if (!s.resource.starts_with("arn:")) Add("INVALID_RESOURCE", "Invalid resource: " + s.resource, loc + "/Resource");
        }
        s.timeout_seconds = Number(j, "TimeoutSeconds", loc, s.language, true);
        s.heartbeat_seconds = Number(j, "HeartbeatSeconds", loc, s.language, true);
        if (auto c = j.find("Credentials"); c != j.end()) s.credentials = *c;
        break;
      }
      case StateType::kChoice: {
        auto c = j.find("Choices");
        if (c == j.end() || !c->is_array() || c->empty()) {
          Schema("These fields are required: [Choices]", loc);
          break;
        }
        size_t i = 0;
        for (const auto& rj : *c) {
          ChoiceRule rule;
          std::string rloc = loc + "/Choices[" + std::to_string(i++) + "]";
          if (ParseRule(rj, rule, rloc, s.language, true)) {
            auto n = rj.find("Next");
            if (n == rj.end()) Schema("These fields are required: [Next]", rloc);
            else rule.next = Target(*n, b, rloc + "/Next");
            if (jsonata) {
              rule.assign_jsonata = Jsonata(rj, "Assign", rloc);
              rule.output = Jsonata(rj, "Output", rloc);
            } else {
              rule.assign = Template(rj, "Assign", rloc);
            }
          }
          s.choices.push_back(std::move(rule));
        }
        if (auto d = j.find("Default"); d != j.end()) s.default_next = Target(*d, b, loc + "/Default");
        break;
      }
      case StateType::kWait: {
        s.seconds = Number(j, "Seconds", loc, s.language, false);
        if (s.seconds.literal && *s.seconds.literal < 0) Schema("The value of the field 'Seconds' must not be negative", loc + "/Seconds");
        int count = s.seconds.present ? 1 : 0;
        if (auto t = j.find("Timestamp"); t != j.end()) {
          ++count;
          if (jsonata && t->is_string() && JsonataExpressionText(t->get_ref<const std::string&>())) {
            s.timestamp_jsonata = Jsonata(j, "Timestamp", loc);
          } else if (!t->is_string() || !ParseIso8601(t->get<std::string>())) {
            Schema("The value of the field 'Timestamp' must be an ISO-8601 extended offset date-time format string", loc + "/Timestamp");
          } else {
            s.timestamp = t->get<std::string>();
          }
        }
        if (auto t = j.find("TimestampPath"); t != j.end()) {
          ++count;
          s.timestamp_path = Ref(*t, loc + "/TimestampPath", true);
        }
        if (count != 1) Schema("A Wait state must have exactly one of Seconds, Timestamp, SecondsPath, TimestampPath", loc);
        break;
      }
      case StateType::kFail: {
        auto text = [&](const char* name, std::optional<std::string>& lit, std::optional<DynamicValue>& path,
                        std::optional<JsonataTemplate>& jt) {
          if (auto it = j.find(name); it != j.end()) {
            if (jsonata && it->is_string() && JsonataExpressionText(it->get_ref<const std::string&>())) {
              jt = Jsonata(j, name, loc);
            } else if (it->is_string()) {
              lit = it->get<std::string>();
            } else {
              Schema(std::string("The field '") + name + "' must be a string", loc + "/" + name);
            }
          }
          std::string pname = std::string(name) + "Path";
          if (auto it = j.find(pname); it != j.end()) {
            if (lit || jt) Schema("The fields '" + std::string(name) + "' and '" + pname + "' are mutually exclusive", loc);
            auto dv = it->is_string() ? DynamicValue::Parse(it->get_ref<const std::string&>()) : Result<DynamicValue>(Error("x", "x"));
            if (!dv.ok()) Schema("Value is not a valid reference path or intrinsic function", loc + "/" + pname);
            else path = std::move(*dv);
          }
        };
        text("Error", s.error, s.error_path, s.error_jsonata);
        text("Cause", s.cause, s.cause_path, s.cause_jsonata);
        break;
      }
      case StateType::kSucceed:
        break;
      case StateType::kParallel: {
        auto br = j.find("Branches");
        if (br == j.end() || !br->is_array() || br->empty()) {
          Schema("These fields are required: [Branches]", loc);
          break;
        }
        size_t i = 0;
        for (const auto& bj : *br) {
          s.branches.push_back(ParseBranch(bj, loc + "/Branches[" + std::to_string(i++) + "]", s.language, depth + 1));
        }
        break;
      }
      case StateType::kMap: {
        MapConfig m;
        auto proc = j.find("ItemProcessor");
        if (proc == j.end()) proc = j.find("Iterator");
        if (proc == j.end()) {
          Schema("These fields are required: [ItemProcessor]", loc);
          break;
        }
        if (auto pc = proc->find("ProcessorConfig"); pc != proc->end() && pc->is_object()) {
          m.distributed = pc->value("Mode", "INLINE") == "DISTRIBUTED";
          m.execution_type = pc->value("ExecutionType", "STANDARD");
        }
        m.processor = ParseBranch(*proc, loc + "/ItemProcessor", s.language, depth + 1);
        if (jsonata) {
          if (auto it = j.find("Items"); it != j.end()) {
            auto t = JsonataTemplate::Compile(*it, "Items");
            if (t.ok()) m.items = std::move(*t);
            else Schema(t.error().message, loc + "/Items");
          }
          m.item_selector_jsonata = Jsonata(j, "ItemSelector", loc);
        } else {
          if (auto it = j.find("ItemsPath"); it != j.end()) m.items_path = Ref(*it, loc + "/ItemsPath", true);
          m.item_selector = Template(j, "ItemSelector", loc);
          if (!m.item_selector && s.parameters) {
            m.item_selector = std::move(s.parameters);
            s.parameters.reset();
          }
        }
        m.max_concurrency = Number(j, "MaxConcurrency", loc, s.language, false);
        m.tolerated_failure_count = Number(j, "ToleratedFailureCount", loc, s.language, false);
        m.tolerated_failure_percentage = Number(j, "ToleratedFailurePercentage", loc, s.language, false);
        if (auto it = j.find("ItemReader"); it != j.end()) m.item_reader = *it;
        if (m.item_reader.is_object()) {
          m.reader_resource = m.item_reader.value("Resource", "");
          if (jsonata) m.reader_arguments = Jsonata(m.item_reader, "Arguments", loc + "/ItemReader");
          else m.reader_parameters = Template(m.item_reader, "Parameters", loc + "/ItemReader");
          if (auto rc = m.item_reader.find("ReaderConfig"); rc != m.item_reader.end() && rc->is_object()) {
            m.reader_max_items = Number(*rc, "MaxItems", loc + "/ItemReader/ReaderConfig", s.language, false);
          }
        }
        if (auto it = j.find("ResultWriter"); it != j.end() && it->is_object()) {
          m.writer_resource = it->value("Resource", "");
          if (jsonata) m.writer_arguments = Jsonata(*it, "Arguments", loc + "/ResultWriter");
          else m.writer_parameters = Template(*it, "Parameters", loc + "/ResultWriter");
        }
        if (auto it = j.find("ItemBatcher"); it != j.end()) m.item_batcher = *it;
        if (auto it = j.find("ResultWriter"); it != j.end()) m.result_writer = *it;
        m.label = j.value("Label", "");
        s.map = std::move(m);
        break;
      }
    }
    if (s.type == StateType::kTask || s.type == StateType::kParallel || s.type == StateType::kMap) {
      if (auto r = j.find("Retry"); r != j.end()) {
        if (!r->is_array()) Schema("The field 'Retry' must be an array", loc + "/Retry");
        else {
          size_t i = 0;
          for (const auto& rj : *r) {
            std::string rloc = loc + "/Retry[" + std::to_string(i++) + "]";
            Retrier rt;
            rt.errors = ErrorList(rj, rloc);
            rt.interval_seconds = rj.value("IntervalSeconds", 1.0);
            rt.max_attempts = rj.value("MaxAttempts", int64_t{3});
            rt.backoff_rate = rj.value("BackoffRate", 2.0);
            if (rj.contains("MaxDelaySeconds")) rt.max_delay_seconds = rj.value("MaxDelaySeconds", int64_t{0});
            rt.full_jitter = rj.value("JitterStrategy", "NONE") == "FULL";
            if (rt.interval_seconds < 1) Schema("The value of 'IntervalSeconds' must be at least 1", rloc + "/IntervalSeconds");
            if (rt.max_attempts < 0) Schema("The value of 'MaxAttempts' must not be negative", rloc + "/MaxAttempts");
            if (rt.backoff_rate < 1) Schema("The value of 'BackoffRate' must be at least 1.0", rloc + "/BackoffRate");
            s.retry.push_back(std::move(rt));
          }
        }
      }
      if (auto c = j.find("Catch"); c != j.end()) {
        if (!c->is_array()) Schema("The field 'Catch' must be an array", loc + "/Catch");
        else {
          size_t i = 0;
          for (const auto& cj : *c) {
            std::string cloc = loc + "/Catch[" + std::to_string(i++) + "]";
            Catcher ct;
            ct.errors = ErrorList(cj, cloc);
            auto n = cj.find("Next");
            if (n == cj.end()) Schema("These fields are required: [Next]", cloc);
            else {
              ct.next = Target(*n, b, cloc + "/Next");
              ct.next_name = n->is_string() ? n->get<std::string>() : "";
            }
            if (jsonata) {
              ct.output = Jsonata(cj, "Output", cloc);
              ct.assign_jsonata = Jsonata(cj, "Assign", cloc);
            } else {
              ct.result_path = Path(cj, "ResultPath", cloc);
              ct.assign = Template(cj, "Assign", cloc);
            }
            s.catchers.push_back(std::move(ct));
          }
        }
      }
    }
  }
};

std::string FormatDiagnostics(const std::vector<Diagnostic>& diags) {
  std::string out = "Invalid State Machine Definition: ";
  for (size_t i = 0; i < diags.size(); ++i) {
    if (i) out += ", ";
    out += "'" + diags[i].code + ": " + diags[i].message;
    if (!diags[i].location.empty()) out += " at " + diags[i].location;
    out += "'";
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const Definition>> ParseDefinitionJson(const Json& json) {
  Compiler c;
  auto def = std::make_shared<Definition>();
  def->raw = json;
  if (!json.is_object()) {
    return Error("InvalidDefinition", FormatDiagnostics({{"SCHEMA_VALIDATION_FAILED", "Value is not an object", "/"}}));
  }
  if (auto ql = json.find("QueryLanguage"); ql != json.end() && *ql == "JSONata") def->language = QueryLanguage::kJsonata;
  if (auto t = json.find("TimeoutSeconds"); t != json.end()) {
    if (!t->is_number_integer() || t->get<int64_t>() <= 0) c.Schema("The value of 'TimeoutSeconds' must be a positive integer", "/TimeoutSeconds");
    else def->timeout_seconds = t->get<int64_t>();
  }
  auto top = c.ParseBranch(json, "", QueryLanguage::kJsonPath, 0);
  if (!c.diags.empty()) return Error("InvalidDefinition", FormatDiagnostics(c.diags));
  def->top = std::move(*top);
  def->language = def->top.language;
  def->state_count = c.state_count;
  return std::shared_ptr<const Definition>(std::move(def));
}

Result<std::shared_ptr<const Definition>> ParseDefinition(std::string_view text) {
  if (Trim(text).empty()) {
    return Error("InvalidDefinition", FormatDiagnostics({{"MISSING_DESCRIPTION", "Received a null or empty workflow input", ""}}));
  }
  if (text.size() > kMaxDefinitionBytes) {
    return Error("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The definition exceeds the maximum size of 1048576 bytes at /'");
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) {
    return Error("InvalidDefinition", FormatDiagnostics({{"INVALID_JSON_DESCRIPTION", "The definition is not valid JSON", ""}}));
  }
  return ParseDefinitionJson(j);
}

}  // namespace stratus::services::stepfunctions

namespace stratus::services::stepfunctions {

std::vector<DefinitionDiagnostic> DiagnoseDefinition(std::string_view text) {
  auto r = ParseDefinition(text);
  if (r.ok()) return {};
  // Split "Invalid State Machine Definition: 'CODE: message at /loc', '...'" into diagnostics.
  std::vector<DefinitionDiagnostic> out;
  std::string_view m = r.error().message;
  constexpr std::string_view kPrefix = "Invalid State Machine Definition: ";
  if (m.starts_with(kPrefix)) m.remove_prefix(kPrefix.size());
  size_t pos = 0;
  while (pos < m.size()) {
    size_t open = m.find('\'', pos);
    if (open == std::string_view::npos) break;
    size_t close = m.find("', '", open + 1);
    if (close == std::string_view::npos) close = m.rfind('\'');
    if (close <= open) break;
    std::string_view item = m.substr(open + 1, close - open - 1);
    DefinitionDiagnostic d;
    auto colon = item.find(": ");
    d.code = std::string(item.substr(0, colon));
    std::string_view rest = colon == std::string_view::npos ? "" : item.substr(colon + 2);
    auto at = rest.rfind(" at /");
    if (at != std::string_view::npos) {
      d.location = std::string(rest.substr(at + 4));
      rest = rest.substr(0, at);
    }
    d.message = std::string(rest);
    out.push_back(std::move(d));
    pos = close + 1;
  }
  if (out.empty()) out.push_back({"SCHEMA_VALIDATION_FAILED", std::string(m), ""});
  return out;
}

}  // namespace stratus::services::stepfunctions
