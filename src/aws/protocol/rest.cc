// The HTTP binding shared by rest-json and rest-xml.
#include "aws/protocol/rest.h"

#include <algorithm>

#include "core/strings.h"

namespace stratus::aws::internal {
namespace {

// Orders routes so that the first match is the most specific: literal segments before labels
// before greedy labels, position by position; then more required query literals first.
bool MoreSpecific(const Route& a, const Route& b) {
  size_t n = std::min(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.segments[i].kind != b.segments[i].kind) return a.segments[i].kind < b.segments[i].kind;
  }
  if (a.segments.size() != b.segments.size()) return a.segments.size() > b.segments.size();
  auto required = [](const Route& r) {
    return std::count_if(r.query.begin(), r.query.end(), [](const auto& q) { return !q.optional; }) +
           static_cast<long>(r.required_query.size() + r.required_headers.size());
  };
  if (required(a) != required(b)) return required(a) > required(b);
  return !a.operation->deprecated && b.operation->deprecated;
}

Route ParseRoute(const Operation& op) {
  Route r;
  r.operation = &op;
  r.method = op.http_method;
  std::string_view uri = op.request_uri;
  size_t q = uri.find('?');
  std::string_view path = uri.substr(0, q);
  if (q != std::string_view::npos) {
    for (const std::string& part : Split(uri.substr(q + 1), '&')) {
      if (part.empty()) continue;
      Route::QueryLiteral lit;
      size_t eq = part.find('=');
      lit.key = part.substr(0, eq);
      if (eq != std::string::npos) {
        lit.value = part.substr(eq + 1);
        lit.has_value = true;
      }
      lit.optional = lit.key == "x-id";
      r.query.push_back(std::move(lit));
    }
  }
  if (op.input != nullptr) {
    for (size_t i = 0; i < op.input->members.size(); ++i) {
      const Member& m = op.input->members[i];
      if (m.location == Location::kHeader) r.header_members.emplace_back(ToLower(m.WireName()), i);
      if (m.location == Location::kQuery || m.location == Location::kHeaders) r.other_members.push_back(i);
      if (!op.input->IsRequired(m.name)) continue;
      if (m.location == Location::kQuery && m.shape->type != ShapeType::kMap) r.required_query.push_back(m.WireName());
      if (m.location == Location::kHeader) r.required_headers.push_back(m.WireName());
    }
    // By name, and by member index among equal names.
    std::sort(r.header_members.begin(), r.header_members.end());
  }
  for (const std::string& seg : SplitPath(path)) {
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name = seg.substr(1, seg.size() - 2);
      bool greedy = !name.empty() && name.back() == '+';
      if (greedy) name.pop_back();
      Route::Segment label{greedy ? Route::Kind::kGreedy : Route::Kind::kLabel, std::move(name), {}};
      for (size_t i = 0; op.input != nullptr && i < op.input->members.size(); ++i) {
        const Member& m = op.input->members[i];
        if (m.location == Location::kUri && m.WireName() == label.text) label.members.push_back(i);
      }
      r.segments.push_back(std::move(label));
    } else {
      r.segments.push_back({Route::Kind::kLiteral, seg, {}});
    }
  }
  return r;
}

bool QueryHas(const QueryParams& query, const Route::QueryLiteral& lit) {
  for (const auto& [k, v] : query) {
    if (k == lit.key && (!lit.has_value || v == lit.value)) return true;
  }
  return false;
}

bool HasQueryKey(const QueryParams& query, std::string_view key) {
  for (const auto& kv : query) {
    if (kv.first == key) return true;
  }
  return false;
}

bool Matches(const Route& r, const std::vector<std::string>& segs, const QueryParams& query,
             const Headers* headers) {
  size_t i = 0;
  for (const Route::Segment& s : r.segments) {
    if (s.kind == Route::Kind::kGreedy) {
      if (i >= segs.size()) return false;
      i = segs.size();
      continue;
    }
    if (i >= segs.size()) return false;
    if (s.kind == Route::Kind::kLiteral ? segs[i] != s.text : segs[i].empty()) return false;
    ++i;
  }
  if (i != segs.size()) return false;
  for (const auto& lit : r.query) {
    if (!lit.optional && !QueryHas(query, lit)) return false;
    // An explicit x-id names the operation.
    if (lit.optional && HasQueryKey(query, lit.key) && !QueryHas(query, lit)) return false;
  }
  if (headers != nullptr) {
    for (const auto& key : r.required_query) {
      if (!HasQueryKey(query, key)) return false;
    }
    for (const auto& name : r.required_headers) {
      if (!headers->Has(name)) return false;
    }
  }
  return true;
}

// Splits a header list on commas outside double quotes; unquotes quoted items.
std::vector<std::string> SplitHeaderList(std::string_view v, bool http_dates) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  int commas_in_date = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (c == '\\' && quoted && i + 1 < v.size()) {
      cur.push_back(v[++i]);
      continue;
    }
    if (c == ',' && !quoted) {
      // An http-date holds one comma ("Mon, 16 Dec 2019 ..."): split on every second one.
      if (http_dates && ++commas_in_date % 2 == 1) {
        cur.push_back(c);
        continue;
      }
      out.emplace_back(Trim(cur));
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  std::string_view last = Trim(cur);
  if (!last.empty() || !out.empty()) out.emplace_back(last);
  return out;
}

Error BadBinding(std::string_view where, std::string_view value) {
  return SerializationError("Cannot parse value '" + std::string(value.substr(0, 128)) + "' of " +
                            std::string(where));
}

Result<Json> ScalarOrError(const Member& m, std::string_view text, TsFormat ts, std::string_view where) {
  if (m.json_value) {
    auto decoded = Base64Decode(Trim(text));
    if (!decoded) return BadBinding(where, text);
    return Json(std::move(*decoded));
  }
  auto v = ScalarFromText(*m.shape, text, TimestampFormatOf(m, ts));
  if (!v) return BadBinding(where, text);
  return std::move(*v);
}

// A query map receives the parameters no named member or route literal takes.
bool IsBoundQueryKey(const Shape& input, const Route& route, std::string_view key) {
  for (const Member& m : input.members) {
    if (m.location == Location::kQuery && m.shape->type != ShapeType::kMap && m.WireName() == key) {
      return true;
    }
  }
  for (const auto& lit : route.query) {
    if (lit.key == key) return true;
  }
  return false;
}

Status DecodeQueryMember(const Shape& input, const Member& m, const Route& route,
                         const QueryParams& query, Json& out) {
  const Shape& s = *m.shape;
  if (s.type == ShapeType::kMap) {
    Json map = Json::object();
    bool list_values = s.map_value->shape->type == ShapeType::kList;
    for (const auto& [k, v] : query) {
      if (IsBoundQueryKey(input, route, k)) continue;
      if (list_values) {
        if (!map.contains(k)) map[k] = Json::array();
        map[k].push_back(v);
      } else if (!map.contains(k)) {
        map[k] = v;
      }
    }
    if (!map.empty()) out[m.name] = std::move(map);
    return Status::Ok();
  }
  if (s.type == ShapeType::kList) {
    Json list = Json::array();
    for (const auto& [k, v] : query) {
      if (k != m.WireName()) continue;
      STRATUS_ASSIGN_OR_RETURN(Json item, ScalarOrError(*s.list_member, v, TsFormat::kIso8601, k));
      list.push_back(std::move(item));
    }
    if (!list.empty()) out[m.name] = std::move(list);
    return Status::Ok();
  }
  for (const auto& [k, v] : query) {
    if (k != m.WireName()) continue;
    STRATUS_ASSIGN_OR_RETURN(Json value, ScalarOrError(m, v, TsFormat::kIso8601, k));
    out[m.name] = std::move(value);
    break;
  }
  return Status::Ok();
}

// A member bound to one header, from its values joined with ','.
Status DecodeHeaderMember(const Member& m, std::string_view joined, Json& out) {
  if (m.shape->type == ShapeType::kList) {
    const Member& item = *m.shape->list_member;
    bool dates = item.shape->type == ShapeType::kTimestamp &&
                 TimestampFormatOf(item, TsFormat::kHttpDate) == TsFormat::kHttpDate;
    Json list = Json::array();
    for (const std::string& piece : SplitHeaderList(joined, dates)) {
      STRATUS_ASSIGN_OR_RETURN(Json v, ScalarOrError(item, piece, TsFormat::kHttpDate, m.WireName()));
      list.push_back(std::move(v));
    }
    out[m.name] = std::move(list);
    return Status::Ok();
  }
  std::string_view text = m.shape->type == ShapeType::kString ? joined : Trim(joined);
  STRATUS_ASSIGN_OR_RETURN(Json v, ScalarOrError(m, text, TsFormat::kHttpDate, m.WireName()));
  out[m.name] = std::move(v);
  return Status::Ok();
}

}  // namespace

std::vector<std::string> SplitPath(std::string_view raw_path) {
  std::vector<std::string> out;
  if (!raw_path.empty() && raw_path.front() == '/') raw_path.remove_prefix(1);
  if (raw_path.empty()) return out;
  size_t pos = 0;
  while (true) {
    size_t slash = raw_path.find('/', pos);
    std::string_view seg = raw_path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    out.push_back(seg.find('%') == std::string_view::npos ? std::string(seg) : UrlDecode(seg, false));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

RouteTable::RouteTable(const ServiceModel& model) {
  routes_.reserve(model.operations().size());
  for (const auto& op : model.operations()) routes_.push_back(ParseRoute(*op));
  std::stable_sort(routes_.begin(), routes_.end(), MoreSpecific);
  for (const Route& r : routes_) {
    by_method_[r.method].push_back(&r);
    by_operation_[r.operation] = &r;
  }
}

const Route* RouteTable::Match(std::string_view method, const std::vector<std::string>& segments,
                               const QueryParams& query, const Headers& headers) const {
  auto it = by_method_.find(std::string(method));
  if (it == by_method_.end()) return nullptr;
  for (const Route* r : it->second) {
    if (Matches(*r, segments, query, &headers)) return r;
  }
  for (const Route* r : it->second) {
    if (Matches(*r, segments, query, nullptr)) return r;
  }
  return nullptr;
}

const Route* RouteTable::ForOperation(const Operation& op) const {
  auto it = by_operation_.find(&op);
  return it == by_operation_.end() ? nullptr : it->second;
}

Status DecodeBindings(const Shape& input, const Route& route, const std::vector<std::string>& segments,
                      bool trailing_slash, const QueryParams& query, const Headers& headers, Json& out) {
  // uri labels: walk the route again to find each label's text
  size_t i = 0;
  for (const Route::Segment& s : route.segments) {
    if (i > segments.size()) break;
    std::string value;
    if (s.kind == Route::Kind::kLiteral) {
      ++i;
      continue;
    }
    if (s.kind == Route::Kind::kGreedy) {
      for (size_t j = i; j < segments.size(); ++j) {
        if (j > i) value.push_back('/');
        value += segments[j];
      }
      if (trailing_slash) value.push_back('/');
      i = segments.size();
    } else if (i < segments.size()) {
      value = segments[i++];
    }
    for (size_t index : s.members) {
      const Member& m = input.members[index];
      STRATUS_ASSIGN_OR_RETURN(Json v, ScalarOrError(m, value, TsFormat::kIso8601, s.text));
      out[m.name] = std::move(v);
    }
  }
  // Header members: the request's headers are read once against the route's index of the
  // members' header names; a member's values (several headers of its name) are joined in arrival
  // order. Then every bound member is decoded in member order, so that `out` lists them as a
  // walk of the members would.
  struct Hit {
    size_t member;
    size_t header;
  };
  std::vector<Hit> hits;
  const std::vector<Headers::Entry>& entries = headers.entries();
  std::string lower;
  for (size_t h = 0; h < entries.size(); ++h) {
    lower.assign(entries[h].first);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    auto it = std::lower_bound(route.header_members.begin(), route.header_members.end(), lower,
                               [](const auto& e, const std::string& key) { return e.first < key; });
    for (; it != route.header_members.end() && it->first == lower; ++it) hits.push_back({it->second, h});
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.member < b.member; });
  size_t hi = 0;
  size_t oi = 0;
  const std::vector<size_t>& others = route.other_members;
  while (hi < hits.size() || oi < others.size()) {
    if (oi < others.size() && (hi == hits.size() || others[oi] < hits[hi].member)) {
      const Member& m = input.members[others[oi++]];
      if (m.location == Location::kQuery) {
        STRATUS_RETURN_IF_ERROR(DecodeQueryMember(input, m, route, query, out));
        continue;
      }
      const std::string& prefix = m.location_name;
      Json map = Json::object();
      for (const auto& [name, value] : headers) {
        if (name.size() < prefix.size() || !IEquals(std::string_view(name).substr(0, prefix.size()), prefix)) continue;
        map[name.substr(prefix.size())] = value;
      }
      if (!map.empty()) out[m.name] = std::move(map);
      continue;
    }
    const Member& m = input.members[hits[hi].member];
    std::string_view text = entries[hits[hi].header].second;
    std::string joined;
    size_t next = hi + 1;
    if (next < hits.size() && hits[next].member == hits[hi].member) {
      joined.assign(text);
      for (; next < hits.size() && hits[next].member == hits[hi].member; ++next) {
        joined.append(",").append(entries[hits[next].header].second);
      }
      text = joined;
    }
    hi = next;
    STRATUS_RETURN_IF_ERROR(DecodeHeaderMember(m, text, out));
  }
  return Status::Ok();
}

namespace {

std::string HeaderItem(const Member& item, const Json& v) {
  std::string text = ScalarToText(*item.shape, v, TimestampFormatOf(item, TsFormat::kHttpDate));
  if (item.shape->type == ShapeType::kString &&
      text.find_first_of(",\"") != std::string::npos) {
    return "\"" + ReplaceAll(ReplaceAll(text, "\\", "\\\\"), "\"", "\\\"") + "\"";
  }
  return text;
}

}  // namespace

void EncodeBindings(const Shape& shape, const Json& value, HttpResponse& response) {
  if (!value.is_object()) return;
  for (const Member& m : shape.members) {
    if (m.location == Location::kBody || m.location == Location::kUri || m.location == Location::kQuery) continue;
    auto it = value.find(m.name);
    if (it == value.end() || it->is_null()) continue;
    switch (m.location) {
      case Location::kHeader:
        if (m.shape->type == ShapeType::kList) {
          std::string joined;
          for (const Json& item : *it) {
            if (!joined.empty()) joined += ", ";
            joined += HeaderItem(*m.shape->list_member, item);
          }
          response.headers.Add(m.WireName(), joined);
        } else if (m.json_value) {
          response.headers.Add(m.WireName(), Base64Encode(it->is_string() ? it->get<std::string>() : DumpJson(*it)));
        } else {
          response.headers.Add(m.WireName(), ScalarToText(*m.shape, *it, TimestampFormatOf(m, TsFormat::kHttpDate)));
        }
        break;
      case Location::kHeaders:
        if (it->is_object()) {
          for (const auto& [k, v] : it->items()) {
            response.headers.Add(m.location_name + k, v.is_string() ? v.get<std::string>() : DumpJson(v));
          }
        }
        break;
      case Location::kStatusCode:
        if (it->is_number_integer()) response.status = it->get<int>();
        break;
      default: break;
    }
  }
}

bool HasBodyMembers(const Shape& shape) {
  for (const Member& m : shape.members) {
    if (m.location == Location::kBody) return true;
  }
  return false;
}

bool HasResponseBodyMembers(const Shape& shape) {
  for (const Member& m : shape.members) {
    if (!IsResponseBound(m)) return true;
  }
  return false;
}

}  // namespace stratus::aws::internal
