#include "services/apigateway/router.h"

#include "core/http.h"
#include "core/strings.h"

namespace stratus::services::apigateway {

std::vector<std::string> PathSegments(std::string_view raw_path) {
  std::vector<std::string> out;
  if (!raw_path.empty() && raw_path.front() == '/') raw_path.remove_prefix(1);
  if (!raw_path.empty() && raw_path.back() == '/') raw_path.remove_suffix(1);
  if (raw_path.empty()) return out;
  for (const auto& s : Split(raw_path, '/')) out.push_back(UrlDecode(s));
  return out;
}

void RouteTrie::Add(const std::string& path, const std::string& id) {
  Node* n = &root_;
  std::string_view p = path;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  if (!p.empty()) {
    for (const auto& seg : Split(p, '/')) {
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        std::string name = seg.substr(1, seg.size() - 2);
        if (!name.empty() && name.back() == '+') {
          name.pop_back();
          if (!n->greedy) n->greedy = std::make_unique<Node>();
          n->greedy_name = name;
          n = n->greedy.get();
        } else {
          if (!n->param) n->param = std::make_unique<Node>();
          n->param_name = name;
          n = n->param.get();
        }
      } else {
        auto& child = n->literal[seg];
        if (!child) child = std::make_unique<Node>();
        n = child.get();
      }
    }
  }
  n->id = id;
  n->path = path;
}

namespace {

bool Walk(const RouteTrie::Node& n, const std::vector<std::string>& segs, size_t i,
          const std::function<bool(const RouteTrie::Node&)>& accept, RouteTrie::Match& m) {
  if (i == segs.size()) {
    if (!n.id.empty() && accept(n)) {
      m.node = &n;
      return true;
    }
    return false;
  }
  if (auto it = n.literal.find(segs[i]); it != n.literal.end()) {
    if (Walk(*it->second, segs, i + 1, accept, m)) return true;
  }
  if (n.param && !segs[i].empty()) {
    m.params.emplace_back(n.param_name, segs[i]);
    if (Walk(*n.param, segs, i + 1, accept, m)) return true;
    m.params.pop_back();
  }
  if (n.greedy && !n.greedy->id.empty() && accept(*n.greedy)) {
    std::string rest;
    for (size_t j = i; j < segs.size(); ++j) {
      if (j > i) rest += '/';
      rest += segs[j];
    }
    m.params.emplace_back(n.greedy_name, rest);
    m.node = n.greedy.get();
    return true;
  }
  return false;
}

}  // namespace

RouteTrie::Match RouteTrie::Find(std::string_view raw_path,
                                 const std::function<bool(const Node&)>& accept) const {
  Match m;
  auto segs = PathSegments(raw_path);
  if (!Walk(root_, segs, 0, accept, m)) return Match{};
  return m;
}

}  // namespace stratus::services::apigateway
