#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "slope/activations.hpp"
#include "slope/value.hpp"

namespace slope {

namespace {

using detail::Edge;
using detail::kNone;
using detail::Meta;
using detail::Op;
using detail::Scalar;

std::string fmt4(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", x);
  return buf;
}

std::string op_label(const Meta& m, const Edge& e) {
  switch (m.op) {
    case Op::Leaf:
      return "";
    case Op::Add:
      return "+";
    case Op::Mul:
      return "*";
    case Op::AddConst:
      return "+ " + fmt4(e.db);
    case Op::MulConst:
      return "* " + fmt4(e.db);
    case Op::Pow:
      return "** " + fmt4(e.db);
    case Op::PowValue:
      return "**";
    case Op::Exp:
      return "exp";
    case Op::Log:
      return "log";
    case Op::Act:
      return std::string(act::entries()[m.act].info.name);
  }
  return "?";
}

// A user's name inside a DOT record label: the record syntax characters escaped.
std::string record_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("{}|<>\"\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void write_dot(std::ostream& out, const Value& root,
               const std::vector<std::pair<Value, std::string>>& names) {
  detail::Tape& t = root.tape();
  std::unordered_map<std::uint32_t, std::string> label;
  for (const auto& [v, name] : names) label[v.id()] = name;

  // Nodes reachable from root, found with an explicit stack (graphs can be deep).
  std::vector<char> seen(root.id() + 1, 0);
  std::vector<std::uint32_t> stack{root.id()}, order;
  seen[root.id()] = 1;
  while (!stack.empty()) {
    const std::uint32_t i = stack.back();
    stack.pop_back();
    order.push_back(i);
    for (std::uint32_t c : {t.edge(i).a, t.edge(i).b})
      if (c != kNone && !seen[c]) {
        seen[c] = 1;
        stack.push_back(c);
      }
  }

  out << "digraph slope {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  for (std::uint32_t i : order) {
    const Scalar& n = t.scalar(i);
    const Edge& e = t.edge(i);
    const Meta& m = t.meta(i);
    const auto it = label.find(i);
    const std::string name = it == label.end() ? "" : record_text(it->second) + " | ";
    out << "  v" << i << " [shape=record, label=\"{ " << name << "data " << fmt4(n.data)
        << " | grad " << fmt4(n.grad) << " }\"];\n";
    if (m.op == Op::Leaf) continue;
    out << "  op" << i << " [label=\"" << op_label(m, e) << "\"];\n";
    out << "  op" << i << " -> v" << i << ";\n";
    for (std::uint32_t c : {e.a, e.b})
      if (c != kNone) out << "  v" << c << " -> op" << i << ";\n";
  }
  out << "}\n";
}

}  // namespace slope
