#pragma once
// The compiled form of a JSONata expression: a tree of Nodes owned by a Program. The parser
// builds the raw tree (Pratt parser, as the reference grammar), then Optimize() rewrites it into
// the evaluable form: paths flattened into steps, predicates attached as stages, parent (`%`)
// references resolved to ancestor slots, operators resolved to enums, literals pre-built as
// Values. After compilation a Program is immutable and may be evaluated from many threads.
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "jsonata/signature.h"
#include "jsonata/value.h"

namespace stratus::jsonata::internal {

class Regex;
struct CompiledPicture;  // datetime.cc

enum class NodeType : uint8_t {
  // raw-only types (before Optimize)
  kRawBinary,    // op_text holds the operator
  kRawUnary,     // op_text: "-", "[", "{"
  kRawOperator,  // an operator token in operand position (`?` placeholder, `and` as a name)
  // evaluable types
  kPath,
  kBinary,
  kNegate,
  kArrayCons,
  kObjectCons,
  kName,
  kLiteral,  // string, number, true/false/null
  kWildcard,
  kDescendant,
  kParent,
  kCondition,
  kBlock,
  kBind,
  kRegex,
  kCall,
  kPartial,
  kPlaceholder,
  kVariable,
  kLambda,
  kApply,
  kTransform,
  kSort,
};

enum class BinOp : uint8_t {
  kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe, kConcat, kRange, kIn, kAnd, kOr,
};

struct Node;

// A parent-operator slot: `%` resolved to the step whose input is the wanted ancestor.
struct Slot {
  std::string label;  // the tuple variable that carries the ancestor ("!0", "!1", ...)
  int level = 1;
  int index = 0;
};

struct Stage {
  enum Type : uint8_t { kFilter, kIndex } type = kFilter;
  Node* expr = nullptr;
  std::string var;  // kIndex: the variable bound to the position
  int position = 0;
};

struct SortTerm {
  Node* expr = nullptr;
  bool descending = false;
};

struct Group {
  std::vector<std::pair<Node*, Node*>> pairs;
  int position = 0;
};

struct Node {
  NodeType type;
  int position = 0;
  std::string op_text;  // raw operator text; also the name of names and variables
  BinOp op = BinOp::kAdd;
  Value literal;        // kLiteral; kNegate folded
  bool is_string_literal = false;
  bool is_number_literal = false;

  Node* lhs = nullptr;  // binary, bind (variable), apply, raw forms
  Node* rhs = nullptr;
  Node* expression = nullptr;  // negate
  std::vector<Node*> items;    // path steps, block/array expressions, call arguments
  std::vector<std::pair<Node*, Node*>> pairs;  // object constructor
  Node* procedure = nullptr;                   // call/partial
  Node* condition = nullptr;
  Node* then = nullptr;
  Node* otherwise = nullptr;
  // lambda
  std::vector<std::string> params;
  std::shared_ptr<const Signature> signature;
  Node* body = nullptr;
  bool thunk = false;
  // transform
  Node* pattern = nullptr;
  Node* update = nullptr;
  Node* del = nullptr;
  // sort
  std::vector<SortTerm> terms;
  std::vector<SortTerm> raw_terms;  // raw `^(...)` before Optimize
  // regex
  std::shared_ptr<const Regex> regex;
  // a $fromMillis/$toMillis/$now call whose picture argument is a string literal: the picture
  // analysed at compile time
  std::shared_ptr<const CompiledPicture> picture;

  // step annotations
  std::vector<Stage> stages;     // predicates/index inside a path step
  std::vector<Stage> predicate;  // predicates on a non-path expression
  std::unique_ptr<Group> group;
  bool keep_array = false;
  bool keep_singleton_array = false;
  bool consarray = false;
  bool tuple = false;
  bool has_focus = false;
  std::string focus;
  bool has_index = false;
  std::string index_var;
  Slot* ancestor = nullptr;
  Slot* slot = nullptr;                 // kParent
  std::vector<Slot*> seeking_parent;
  bool has_seeking_parent = false;

  // kVariable: the built-in function of that name (nullptr if none), found at compile time
  const Value* builtin = nullptr;
  // step fast path: a plain name with no annotations (a field lookup)
  bool plain_name = false;
  // path fast path: `$var.name.name...` with no annotations anywhere (`$states.input.x`)
  bool variable_fields = false;
};

struct Program {
  std::string source;
  std::deque<Node> nodes;
  std::deque<Slot> slots;
  Node* root = nullptr;
  Node* NewNode(NodeType t, int position) {
    nodes.emplace_back();
    Node* n = &nodes.back();
    n->type = t;
    n->position = position;
    return n;
  }
};

// The analysed picture of a date/time call whose picture is a string literal; nullptr for any
// other call or an invalid picture (datetime.cc).
std::shared_ptr<const CompiledPicture> PrecompilePicture(const Node& call);

// Compiles source text; throws JError (S0xxx codes) on a syntax error.
std::unique_ptr<Program> ParseProgram(std::string_view source);

}  // namespace stratus::jsonata::internal
