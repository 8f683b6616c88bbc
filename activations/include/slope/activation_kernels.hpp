// The catalogue's activations over arrays, in SIMD batches: the same definitions as
// activations.hpp, instantiated for xsimd::batch instead of a scalar. Every element takes
// the batch path (the tail is padded into one batch), so a result does not depend on where
// an element sits in its array. Without SLOPE_SIMD (the browser build) the scalar
// definitions run element by element.
//
// The kernels are compiled once, in activations/src/kernels.cpp, for every activation in
// float and double; the templates on A below only look up A's position in the catalogue.
#pragma once

#include <cstddef>

#include "slope/activations.hpp"

namespace slope::act {

// For the activation at catalogue position `id` (std::out_of_range for id >= count):
// out[i] = f(x[i]) for i < n (out may be x).
void values(std::size_t id, const float* x, float* out, std::size_t n);
void values(std::size_t id, const double* x, double* out, std::size_t n);
// out[i] = f'(x[i]) for i < n.
void slopes(std::size_t id, const float* x, float* out, std::size_t n);
void slopes(std::size_t id, const double* x, double* out, std::size_t n);
// out[i] = g[i] * f'(x[i]) for i < n: the backward pass of y = f(x) given dL/dy = g, with y
// the forward's values(x). An activation that writes its slope with its value given
// (slope_given(x, y): sigmoid, tanh and gelu) takes it from y, with no exp, tanh or erfc
// for sigmoid and tanh (as PyTorch) and no erfc for gelu; the others read x alone.
void slopes_times(std::size_t id, const float* x, const float* y, const float* g, float* out,
                  std::size_t n);
void slopes_times(std::size_t id, const double* x, const double* y, const double* g, double* out,
                  std::size_t n);

// The same, for activation A by type.
template <class A, class T> void values(const T* x, T* out, std::size_t n) {
  values(id_of<A>, x, out, n);
}
template <class A, class T> void slopes(const T* x, T* out, std::size_t n) {
  slopes(id_of<A>, x, out, n);
}
template <class A, class T>
void slopes_times(const T* x, const T* y, const T* g, T* out, std::size_t n) {
  slopes_times(id_of<A>, x, y, g, out, n);
}

}  // namespace slope::act
