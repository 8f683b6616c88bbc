// slope: a tiny autograd engine for learning why activation functions matter.
// The one header a program includes.
#pragma once

#include "slope/activations.hpp"
#include "slope/data.hpp"
#include "slope/errors.hpp"
#include "slope/gemm.hpp"
#include "slope/gpt.hpp"
#include "slope/gradcheck.hpp"
#include "slope/nn.hpp"
#include "slope/optim.hpp"
#include "slope/probes.hpp"
#include "slope/random.hpp"
#include "slope/safetensors.hpp"
#include "slope/scalar_nn.hpp"
#include "slope/tensor.hpp"
#include "slope/text.hpp"
#include "slope/threads.hpp"
#include "slope/value.hpp"
