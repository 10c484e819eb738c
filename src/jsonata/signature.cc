#include "jsonata/signature.h"

#include <array>

#include "jsonata/errors.h"

namespace stratus::jsonata::internal {

char TypeSymbol(const Value& v) {
  switch (v.kind()) {
    case Kind::kFunction:
      return 'f';
    case Kind::kString:
      return 's';
    case Kind::kNumber:
      return 'n';
    case Kind::kBool:
      return 'b';
    case Kind::kNull:
      return 'l';
    case Kind::kArray:
    case Kind::kTuples:
      return 'a';
    case Kind::kObject:
      return 'o';
    default:
      return 'm';
  }
}

namespace {

size_t FindClosing(std::string_view s, size_t start, char open, char close) {
  int depth = 1;
  for (size_t i = start + 1; i < s.size(); ++i) {
    if (s[i] == open) {
      ++depth;
    } else if (s[i] == close) {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

// Greedy backtracking match of the parameter patterns against the argument symbols, the way
// the reference matches its generated regular expression.
bool MatchParams(const std::vector<SigParam>& ps, const std::string& syms, size_t pi, size_t si,
                 std::pair<size_t, size_t>* spans) {
  if (pi == ps.size()) return si == syms.size();
  const SigParam& p = ps[pi];
  auto accepts = [&](size_t i) { return i < syms.size() && p.accept.find(syms[i]) != std::string::npos; };
  size_t max_take = 0;
  while (accepts(si + max_take)) {
    ++max_take;
    if (p.quant != '+') break;
  }
  size_t min_take = p.quant == '?' ? 0 : 1;
  for (size_t take = max_take + 1; take-- > min_take;) {
    spans[pi] = {si, take};
    if (MatchParams(ps, syms, pi + 1, si + take, spans)) return true;
    if (take == 0) break;
  }
  return false;
}

}  // namespace

std::shared_ptr<const Signature> ParseSignature(std::string_view text) {
  auto sig = std::make_shared<Signature>();
  sig->text = std::string(text);
  SigParam param;
  bool have_prev = false;
  auto next = [&]() {
    sig->params.push_back(param);
    param = SigParam();
    have_prev = true;
  };
  for (size_t pos = 1; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == ':') break;
    switch (c) {
      case 'b':
      case 'n':
      case 's':
      case 'l':
        param.type = c;
        param.accept = std::string(1, c) + "m";
        next();
        break;
      case 'a':
        param.type = 'a';
        param.accept = "asnblfom";
        next();
        break;
      case 'o':
        param.type = 'o';
        param.accept = "om";
        next();
        break;
      case 'f':
        param.type = 'f';
        param.accept = "fm";
        next();
        break;
      case 'j':
        param.type = 'j';
        param.accept = "asnblom";
        next();
        break;
      case 'x':
        param.type = 'x';
        param.accept = "asnblfom";
        next();
        break;
      case '-':
        if (have_prev) {
          sig->params.back().context = true;
          sig->params.back().quant = '?';
        }
        break;
      case '?':
      case '+':
        if (have_prev) sig->params.back().quant = c;
        break;
      case '(': {
        size_t end = FindClosing(text, pos, '(', ')');
        if (end == std::string_view::npos) throw JError("S0402", static_cast<int>(pos));
        std::string choice(text.substr(pos + 1, end - pos - 1));
        if (choice.find('<') != std::string::npos) {
          JError e("S0402", static_cast<int>(pos));
          e.value = Value::String(choice);
          throw e;
        }
        param.type = '(';
        param.accept = choice + "m";
        pos = end;
        next();
        break;
      }
      case '<': {
        if (!have_prev || (sig->params.back().type != 'a' && sig->params.back().type != 'f')) {
          JError e("S0401", static_cast<int>(pos));
          e.value = Value::String(have_prev ? std::string(1, sig->params.back().type) : "");
          throw e;
        }
        size_t end = FindClosing(text, pos, '<', '>');
        if (end == std::string_view::npos) throw JError("S0401", static_cast<int>(pos));
        sig->params.back().subtype = std::string(text.substr(pos + 1, end - pos - 1));
        pos = end;
        break;
      }
      default:
        break;
    }
  }
  return sig;
}

namespace {

// The member type check of an array parameter (`a<n>`): throws T0412 on a mismatch.
void CheckArrayMembers(const SigParam& p, char single, size_t len, const Value& arg, size_t arg_index) {
  if (p.subtype.empty()) return;
  bool ok = true;
  if (single != 'a') {
    ok = (len == 1 && p.subtype.size() == 1 && p.subtype[0] == single);
  } else if (arg.IsArray() && !arg.AsArray().items.empty()) {
    const auto& items = arg.AsArray().items;
    char it = TypeSymbol(items[0]);
    if (it != p.subtype[0]) {
      ok = false;
    } else {
      for (const auto& m : items) {
        if (TypeSymbol(m) != it) {
          ok = false;
          break;
        }
      }
    }
  }
  if (!ok) {
    JError e("T0412");
    e.value = arg;
    e.index = static_cast<int>(arg_index) + 1;
    e.detail = p.subtype;
    throw e;
  }
}

}  // namespace

void Signature::Validate(std::vector<Value>& args, const Value& context) const {
  std::string syms;
  syms.reserve(args.size());
  for (const auto& a : args) syms.push_back(TypeSymbol(a));
  constexpr size_t kInlineParams = 8;
  std::array<std::pair<size_t, size_t>, kInlineParams> inline_spans;
  std::vector<std::pair<size_t, size_t>> heap_spans;
  std::pair<size_t, size_t>* spans = inline_spans.data();
  if (params.size() > kInlineParams) {
    heap_spans.resize(params.size());
    spans = heap_spans.data();
  }
  if (!MatchParams(params, syms, 0, 0, spans)) {
    // Find the first argument that the prefix of the pattern cannot match.
    size_t good_to = 0;
    std::vector<std::pair<size_t, size_t>> scratch(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      // longest prefix of syms matched by params[0..i]
      std::vector<SigParam> prefix(params.begin(), params.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      size_t best = std::string::npos;
      for (size_t len = syms.size() + 1; len-- > 0;) {
        if (MatchParams(prefix, syms.substr(0, len), 0, 0, scratch.data())) {
          best = len;
          break;
        }
      }
      if (best == std::string::npos) break;
      good_to = best;
    }
    JError e("T0410");
    e.index = static_cast<int>(good_to) + 1;
    if (good_to < args.size()) e.value = args[good_to];
    throw e;
  }
  // The common case: one argument per parameter, none to wrap or substitute; the arguments
  // stay as they are (no new vector).
  bool identity = params.size() == args.size();
  for (size_t pi = 0; identity && pi < params.size(); ++pi) {
    const SigParam& p = params[pi];
    if (spans[pi].first != pi || spans[pi].second != 1) {
      identity = false;
    } else if (p.type == 'a' && syms[pi] != 'a' && syms[pi] != 'm') {
      identity = false;
    }
  }
  if (identity) {
    for (size_t pi = 0; pi < params.size(); ++pi) {
      if (params[pi].type == 'a' && syms[pi] != 'm') CheckArrayMembers(params[pi], syms[pi], 1, args[pi], pi);
    }
    return;
  }
  std::vector<Value> out;
  out.reserve(params.size());
  size_t arg_index = 0;
  for (size_t pi = 0; pi < params.size(); ++pi) {
    const SigParam& p = params[pi];
    auto [start, len] = spans[pi];
    if (len == 0) {
      if (p.context) {
        char ct = TypeSymbol(context);
        std::string_view acc(p.accept);
        if (acc.find(ct) != std::string_view::npos) {
          out.push_back(context);
        } else {
          JError e("T0411");
          e.value = context;
          e.index = static_cast<int>(arg_index) + 1;
          throw e;
        }
      } else {
        // as the reference: an unmatched optional parameter takes the next argument slot
        out.push_back(arg_index < args.size() ? args[arg_index] : Value());
        ++arg_index;
      }
      continue;
    }
    for (size_t k = 0; k < len; ++k) {
      char single = syms[start + k];
      const Value arg = arg_index < args.size() ? args[arg_index] : Value();
      if (p.type == 'a') {
        if (single == 'm') {
          out.push_back(Value());
        } else {
          CheckArrayMembers(p, single, len, arg, arg_index);
          if (single != 'a') {
            Value wrapped = NewArray();
            wrapped.MutArray().items.push_back(arg);
            out.push_back(std::move(wrapped));
          } else {
            out.push_back(arg);
          }
        }
      } else {
        out.push_back(arg);
      }
      ++arg_index;
    }
  }
  args.swap(out);
}

}  // namespace stratus::jsonata::internal
