#pragma once
// Route matching for both API kinds: a trie over path segments where a literal segment beats a
// {param}, which beats a greedy {proxy+} (AWS's precedence), with backtracking so that a less
// specific route still matches when a more specific one does not accept the request.
//
// Immutable after Build: thread-safe to Match from many threads.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::services::apigateway {

class RouteTrie {
 public:
  // A route ends at a node; `id` is what the caller gets back (a resource id, a route key).
  struct Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literal;
    std::unique_ptr<Node> param;
    std::string param_name;
    std::unique_ptr<Node> greedy;  // {name+}: one or more remaining segments
    std::string greedy_name;
    std::string id;     // non-empty where a route/resource ends
    std::string path;   // the template path, "/items/{id}"
  };

  struct Match {
    const Node* node = nullptr;
    std::vector<std::pair<std::string, std::string>> params;  // decoded values
  };

  // Adds a template path ("/", "/items/{id}", "/{proxy+}") ending with `id`.
  void Add(const std::string& path, const std::string& id);

  // Finds the most specific route for a raw (percent-encoded) path that `accept` takes
  // (e.g. one that has the request's method); nullopt-like empty Match when none.
  Match Find(std::string_view raw_path, const std::function<bool(const Node&)>& accept) const;

 private:
  Node root_;
};

// Splits a raw path into percent-decoded segments, ignoring the leading '/' and one trailing '/'.
std::vector<std::string> PathSegments(std::string_view raw_path);

}  // namespace stratus::services::apigateway
