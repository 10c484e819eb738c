// Second compilation pass: rewrites the raw parse tree into the evaluable tree (the
// reference's processAST): path flattening, predicate stages, focus/index/parent binding,
// tail-call thunks and constant folding of negative numbers.
#include <string>

#include "jsonata/ast.h"
#include "jsonata/errors.h"
#include "jsonata/evaluator.h"

namespace stratus::jsonata::internal {

namespace {

const char* TypeName(NodeType t) {
  switch (t) {
    case NodeType::kPath: return "path";
    case NodeType::kBinary: return "binary";
    case NodeType::kNegate: return "unary";
    case NodeType::kArrayCons: return "unary";
    case NodeType::kObjectCons: return "unary";
    case NodeType::kLiteral: return "value";
    case NodeType::kCondition: return "condition";
    case NodeType::kBind: return "bind";
    case NodeType::kRegex: return "regex";
    case NodeType::kCall: return "function";
    case NodeType::kPartial: return "partial";
    case NodeType::kVariable: return "variable";
    case NodeType::kLambda: return "lambda";
    case NodeType::kApply: return "apply";
    case NodeType::kTransform: return "transform";
    case NodeType::kSort: return "sort";
    case NodeType::kDescendant: return "descendant";
    default: return "expression";
  }
}

bool ParseBinOp(const std::string& s, BinOp& op) {
  static const std::pair<const char*, BinOp> kOps[] = {
      {"+", BinOp::kAdd}, {"-", BinOp::kSub}, {"*", BinOp::kMul},   {"/", BinOp::kDiv},
      {"%", BinOp::kMod}, {"=", BinOp::kEq},  {"!=", BinOp::kNe},   {"<", BinOp::kLt},
      {"<=", BinOp::kLe}, {">", BinOp::kGt},  {">=", BinOp::kGe},   {"&", BinOp::kConcat},
      {"..", BinOp::kRange}, {"in", BinOp::kIn}, {"and", BinOp::kAnd}, {"or", BinOp::kOr},
  };
  for (const auto& [text, o] : kOps) {
    if (s == text) {
      op = o;
      return true;
    }
  }
  return false;
}

class Optimizer {
 public:
  explicit Optimizer(Program& p) : p_(p) {}

  Node* Process(Node* expr) {
    Node* result = ProcessInner(expr);
    if (expr->keep_array) result->keep_array = true;
    return result;
  }

  Node* NewPath(Node* first, int position) {
    Node* path = p_.NewNode(NodeType::kPath, position);
    path->items.push_back(first);
    return path;
  }

  void PushAncestry(Node* result, Node* value) {
    if (!value->seeking_parent.empty() || value->type == NodeType::kParent) {
      for (Slot* s : value->seeking_parent) result->seeking_parent.push_back(s);
      if (value->type == NodeType::kParent) result->seeking_parent.push_back(value->slot);
    }
  }

  void SeekParent(Node* node, Slot* slot) {
    switch (node->type) {
      case NodeType::kName:
      case NodeType::kWildcard:
        slot->level--;
        if (slot->level == 0) {
          if (node->ancestor != nullptr) slot->label = node->ancestor->label;
          node->ancestor = slot;
          node->tuple = true;
        }
        break;
      case NodeType::kParent:
        slot->level++;
        break;
      case NodeType::kBlock:
        if (!node->items.empty()) {
          node->tuple = true;
          SeekParent(node->items.back(), slot);
        }
        break;
      case NodeType::kPath: {
        node->tuple = true;
        int index = static_cast<int>(node->items.size()) - 1;
        SeekParent(node->items[static_cast<size_t>(index--)], slot);
        while (slot->level > 0 && index >= 0) SeekParent(node->items[static_cast<size_t>(index--)], slot);
        break;
      }
      default: {
        JError e("S0217", node->position);
        e.Token(TypeName(node->type));
        throw e;
      }
    }
  }

  void ResolveAncestry(Node* path) {
    Node* last = path->items.back();
    std::vector<Slot*> slots = last->seeking_parent;
    if (last->type == NodeType::kParent) slots.push_back(last->slot);
    for (Slot* slot : slots) {
      int index = static_cast<int>(path->items.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path->seeking_parent.push_back(slot);
          break;
        }
        Node* step = path->items[static_cast<size_t>(index--)];
        while (index >= 0 && step->has_focus && path->items[static_cast<size_t>(index)]->has_focus) {
          step = path->items[static_cast<size_t>(index--)];
        }
        SeekParent(step, slot);
      }
    }
  }

  Node* ProcessInner(Node* expr) {
    switch (expr->type) {
      case NodeType::kRawBinary:
        return ProcessBinary(expr);
      case NodeType::kRawUnary:
        return ProcessUnary(expr);
      case NodeType::kRawOperator:
        if (expr->op_text == "and" || expr->op_text == "or" || expr->op_text == "in") {
          expr->type = NodeType::kName;
          return ProcessInner(expr);
        }
        expr->type = NodeType::kPlaceholder;
        return expr;
      case NodeType::kName: {
        Node* path = NewPath(expr, expr->position);
        if (expr->keep_array) path->keep_singleton_array = true;
        FinishPath(path);
        return path;
      }
      case NodeType::kParent: {
        p_.slots.emplace_back();
        Slot* slot = &p_.slots.back();
        slot->label = "!" + std::to_string(ancestor_label_++);
        slot->level = 1;
        slot->index = ancestor_index_++;
        expr->slot = slot;
        return expr;
      }
      case NodeType::kCall:
      case NodeType::kPartial: {
        for (auto& arg : expr->items) {
          arg = Process(arg);
          PushAncestry(expr, arg);
        }
        expr->procedure = Process(expr->procedure);
        return expr;
      }
      case NodeType::kLambda: {
        expr->body = TailCallOptimize(Process(expr->body));
        return expr;
      }
      case NodeType::kCondition: {
        if (expr->condition == nullptr) break;
        bool elvis = expr->then == expr->condition;
        expr->condition = Process(expr->condition);
        PushAncestry(expr, expr->condition);
        expr->then = elvis ? expr->condition : Process(expr->then);
        PushAncestry(expr, expr->then);
        if (expr->otherwise != nullptr) {
          expr->otherwise = Process(expr->otherwise);
          PushAncestry(expr, expr->otherwise);
        }
        return expr;
      }
      case NodeType::kBlock: {
        for (auto& item : expr->items) {
          item = Process(item);
          PushAncestry(expr, item);
          if (item->consarray || (item->type == NodeType::kPath && item->items[0]->consarray)) {
            expr->consarray = true;
          }
        }
        return expr;
      }
      case NodeType::kTransform: {
        expr->pattern = Process(expr->pattern);
        expr->update = Process(expr->update);
        if (expr->del != nullptr) expr->del = Process(expr->del);
        return expr;
      }
      default:
        return expr;
    }
    return expr;
  }

  // A lambda body that ends in a function call becomes a thunk, so that a tail-recursive
  // lambda runs in constant stack (the caller's trampoline loop evaluates it).
  Node* TailCallOptimize(Node* expr) {
    if (expr->type == NodeType::kCall && expr->predicate.empty()) {
      Node* thunk = p_.NewNode(NodeType::kLambda, expr->position);
      thunk->thunk = true;
      thunk->body = expr;
      return thunk;
    }
    if (expr->type == NodeType::kCondition) {
      expr->then = TailCallOptimize(expr->then);
      if (expr->otherwise != nullptr) expr->otherwise = TailCallOptimize(expr->otherwise);
      return expr;
    }
    if (expr->type == NodeType::kBlock && !expr->items.empty()) {
      expr->items.back() = TailCallOptimize(expr->items.back());
    }
    return expr;
  }

  static bool Plain(const Node* s) {
    return s->stages.empty() && s->predicate.empty() && !s->group && !s->keep_array && !s->tuple && !s->has_focus &&
           !s->has_index && s->ancestor == nullptr && !s->consarray;
  }

  static void FinishPath(Node* path) {
    // Plain-name steps (the most common Step Functions shape) take a fast lookup loop.
    for (Node* s : path->items) s->plain_name = s->type == NodeType::kName && Plain(s);
    const Node* first = path->items[0];
    bool fields = path->items.size() >= 2 && first->type == NodeType::kVariable && !first->op_text.empty() &&
                  Plain(first) && !path->keep_singleton_array && !path->keep_array && !path->tuple &&
                  path->group == nullptr;
    for (size_t i = 1; fields && i < path->items.size(); ++i) fields = path->items[i]->plain_name;
    path->variable_fields = fields;
  }

  Node* ProcessUnary(Node* expr) {
    const std::string& op = expr->op_text;
    if (op == "-") {
      Node* operand = Process(expr->expression);
      if (operand->type == NodeType::kLiteral && operand->is_number_literal) {
        operand->literal = Value::Number(-operand->literal.AsNumber());
        return operand;
      }
      expr->type = NodeType::kNegate;
      expr->expression = operand;
      PushAncestry(expr, operand);
      return expr;
    }
    if (op == "[") {
      expr->type = NodeType::kArrayCons;
      for (auto& item : expr->items) {
        item = Process(item);
        PushAncestry(expr, item);
      }
      return expr;
    }
    // "{"
    expr->type = NodeType::kObjectCons;
    for (auto& [k, v] : expr->pairs) {
      k = Process(k);
      PushAncestry(expr, k);
      v = Process(v);
      PushAncestry(expr, v);
    }
    return expr;
  }

  Node* ProcessBinary(Node* expr) {
    const std::string op = expr->op_text;
    if (op == ".") {
      Node* lstep = Process(expr->lhs);
      Node* result;
      if (lstep->type == NodeType::kPath) {
        result = lstep;
      } else {
        result = NewPath(lstep, expr->position);
      }
      if (lstep->type == NodeType::kParent) result->seeking_parent = {lstep->slot};
      Node* rest = Process(expr->rhs);
      if (rest->type == NodeType::kPath) {
        for (Node* s : rest->items) result->items.push_back(s);
      } else {
        if (!rest->predicate.empty()) {
          rest->stages = std::move(rest->predicate);
          rest->predicate.clear();
        }
        result->items.push_back(rest);
      }
      for (Node* step : result->items) {
        if (step->type == NodeType::kLiteral) {
          if (!step->is_string_literal) {
            JError e("S0213", step->position);
            e.value = step->literal;
            e.Token(step->is_number_literal ? "number" : step->op_text);
            throw e;
          }
          step->type = NodeType::kName;
          step->op_text = step->literal.AsString();
        }
        if (step->keep_array) result->keep_singleton_array = true;
      }
      Node* first = result->items.front();
      if (first->type == NodeType::kArrayCons) first->consarray = true;
      Node* last = result->items.back();
      if (last->type == NodeType::kArrayCons) last->consarray = true;
      ResolveAncestry(result);
      FinishPath(result);
      return result;
    }
    if (op == "[") {
      Node* result = Process(expr->lhs);
      Node* step = result;
      bool stages = false;
      if (result->type == NodeType::kPath) {
        step = result->items.back();
        stages = true;
      }
      if (step->group != nullptr) throw JError("S0209", expr->position);
      Node* pred = Process(expr->rhs);
      if (!pred->seeking_parent.empty()) {
        for (Slot* slot : pred->seeking_parent) {
          if (slot->level == 1) {
            SeekParent(step, slot);
          } else {
            slot->level--;
          }
        }
        PushAncestry(step, pred);
      }
      Stage st;
      st.type = Stage::kFilter;
      st.expr = pred;
      st.position = expr->position;
      (stages ? step->stages : step->predicate).push_back(st);
      if (result->type == NodeType::kPath) FinishPath(result);
      return result;
    }
    if (op == "{") {
      Node* result = Process(expr->lhs);
      if (result->group != nullptr) throw JError("S0210", expr->position);
      result->group = std::make_unique<Group>();
      result->group->position = expr->position;
      for (auto& [k, v] : expr->pairs) result->group->pairs.emplace_back(Process(k), Process(v));
      if (result->type == NodeType::kPath) FinishPath(result);
      return result;
    }
    if (op == "^") {
      Node* result = Process(expr->lhs);
      if (result->type != NodeType::kPath) result = NewPath(result, expr->position);
      Node* sort = p_.NewNode(NodeType::kSort, expr->position);
      for (const SortTerm& t : expr->raw_terms) {
        SortTerm term;
        term.descending = t.descending;
        term.expr = Process(t.expr);
        PushAncestry(sort, term.expr);
        sort->terms.push_back(term);
      }
      result->items.push_back(sort);
      ResolveAncestry(result);
      FinishPath(result);
      return result;
    }
    if (op == ":=") {
      expr->type = NodeType::kBind;
      expr->lhs = Process(expr->lhs);
      expr->rhs = Process(expr->rhs);
      PushAncestry(expr, expr->rhs);
      return expr;
    }
    if (op == "@") {
      Node* result = Process(expr->lhs);
      Node* step = result;
      if (result->type == NodeType::kPath) step = result->items.back();
      if (!step->stages.empty() || !step->predicate.empty()) throw JError("S0215", expr->position);
      if (step->type == NodeType::kSort) throw JError("S0216", expr->position);
      if (expr->keep_array) step->keep_array = true;
      step->focus = expr->rhs->op_text;
      step->has_focus = true;
      step->tuple = true;
      if (result->type == NodeType::kPath) FinishPath(result);
      return result;
    }
    if (op == "#") {
      Node* result = Process(expr->lhs);
      Node* step = result;
      if (result->type == NodeType::kPath) {
        step = result->items.back();
      } else {
        result = NewPath(result, expr->position);
        if (!step->predicate.empty()) {
          step->stages = std::move(step->predicate);
          step->predicate.clear();
        }
      }
      if (step->stages.empty()) {
        step->index_var = expr->rhs->op_text;
        step->has_index = true;
      } else {
        Stage st;
        st.type = Stage::kIndex;
        st.var = expr->rhs->op_text;
        st.position = expr->position;
        step->stages.push_back(st);
      }
      step->tuple = true;
      FinishPath(result);
      return result;
    }
    if (op == "~>") {
      expr->type = NodeType::kApply;
      expr->lhs = Process(expr->lhs);
      expr->rhs = Process(expr->rhs);
      expr->keep_array = expr->lhs->keep_array || expr->rhs->keep_array;
      return expr;
    }
    if (op == "??") {
      // lhs ?? rhs  =>  $exists(lhs) ? lhs : rhs
      Node* cond = p_.NewNode(NodeType::kCondition, expr->position);
      Node* lhs = Process(expr->lhs);
      Node* call = p_.NewNode(NodeType::kCall, expr->position);
      Node* proc = p_.NewNode(NodeType::kVariable, expr->position);
      proc->op_text = "exists";
      call->procedure = proc;
      call->items.push_back(lhs);
      cond->condition = call;
      cond->then = lhs;
      cond->otherwise = Process(expr->rhs);
      PushAncestry(cond, lhs);
      PushAncestry(cond, cond->otherwise);
      return cond;
    }
    BinOp bop;
    if (!ParseBinOp(op, bop)) {
      JError e("S0201", expr->position);
      e.Token(op);
      throw e;
    }
    expr->type = NodeType::kBinary;
    expr->op = bop;
    expr->lhs = Process(expr->lhs);
    expr->rhs = Process(expr->rhs);
    PushAncestry(expr, expr->lhs);
    PushAncestry(expr, expr->rhs);
    return expr;
  }

  Program& p_;  // NOLINT: internal helper, members public for Optimize()
  int ancestor_label_ = 0;
  int ancestor_index_ = 0;
};

}  // namespace

Node* Optimize(Program& program, Node* raw) {
  Optimizer opt(program);
  Node* root = opt.Process(raw);
  // Tuple/ancestor flags are final only now: decide the fast paths last.
  for (Node& n : program.nodes) {
    if (n.type == NodeType::kPath) Optimizer::FinishPath(&n);
    if (n.type == NodeType::kCall) n.picture = PrecompilePicture(n);
    if (n.type == NodeType::kVariable) n.builtin = FindBuiltinValue(n.op_text);
  }
  return root;
}

}  // namespace stratus::jsonata::internal
