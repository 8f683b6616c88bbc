// micrograd's test_more_ops and a tiny MLP, through the one public header.
#include <cmath>
#include <cstdio>
#include <string>

#include <slope/slope.hpp>

int main() {
  slope::Value a = -4.0, b = 2.0;
  auto c = a + b;
  auto d = a * b + b.pow(3);
  c += c + 1;
  c += 1 + c + (-a);
  d += d * 2 + (b + a).relu();
  d += 3 * d + (b - a).relu();
  auto e = c - d;
  auto f = e.pow(2);
  auto g = f / 2.0;
  g += 10.0 / f;
  g.backward();
  const bool micrograd = std::abs(g.data() - 24.70408163265306) < 1e-12 &&
                         std::abs(a.grad() - 138.83381924198252) < 1e-12 &&
                         std::abs(b.grad() - 645.5772594752186) < 1e-12;

  const slope::scalar::MLP model(2, {16, 16, 1}, std::string("tanh"));
  const auto out = model({slope::Value(0.5), slope::Value(-1.0)});
  const bool mlp =
      model.parameters().size() == 337 && std::isfinite(out[0].data()) &&
      std::abs(slope::apply(slope::Value(1.0), "gelu").data() - 0.841344746068543) < 1e-12;

  std::printf("micrograd %s, mlp %s, %zu activations\n", micrograd ? "ok" : "WRONG",
              mlp ? "ok" : "WRONG", slope::activations().size());
  return micrograd && mlp ? 0 : 1;
}
