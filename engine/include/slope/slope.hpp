// slope: a tiny autograd engine for learning why activation functions matter.
// The one header a program includes.
#pragma once

#include "slope/activations.hpp"
#include "slope/data.hpp"
#include "slope/random.hpp"
#include "slope/scalar_nn.hpp"
#include "slope/value.hpp"
