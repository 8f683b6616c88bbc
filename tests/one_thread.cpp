// Every suite of slope_tests runs on one thread: the numbers then never depend on the
// machine's cores, and the suites' small matrices gain nothing from more. The threads
// suite (test_threads, its own executable) tests more than one.
#include <gtest/gtest.h>

#include <slope/slope.hpp>

namespace {

class OneThread : public ::testing::Environment {
 public:
  void SetUp() override { slope::set_num_threads(1); }
};
[[maybe_unused]] ::testing::Environment* const kOneThread =
    ::testing::AddGlobalTestEnvironment(new OneThread);

}  // namespace
