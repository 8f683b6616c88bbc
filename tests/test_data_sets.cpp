// slope::data: circles, spirals, XOR and the teacher network (shapes, classes, seeds,
// geometry without noise), CSV loading with errors that name the file and line, the
// train/test split and the tensors a data set turns into. Moons has its own suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <slope/slope.hpp>

#include "strings.hpp"

namespace {

namespace data = slope::data;

using slope::test::contains;

std::map<int, std::size_t> class_counts(const data::Dataset& d) {
  std::map<int, std::size_t> out;
  for (int y : d.y) ++out[y];
  return out;
}

void expect_well_formed(const data::Dataset& d, std::size_t n, std::size_t dim, int classes) {
  EXPECT_EQ(d.n, n);
  EXPECT_EQ(d.dim, dim);
  EXPECT_EQ(d.classes, classes);
  EXPECT_EQ(d.x.size(), n * dim);
  ASSERT_EQ(d.y.size(), n);
  for (int y : d.y) {
    EXPECT_GE(y, 0);
    EXPECT_LT(y, classes);
  }
  for (double v : d.x) EXPECT_TRUE(std::isfinite(v));
}

void expect_deterministic(const std::function<data::Dataset(std::uint64_t)>& make) {
  const data::Dataset a = make(7), b = make(7), c = make(8);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_NE(a.x, c.x);
}

// --- generators ----------------------------------------------------------------------

TEST(Circles, ShapesBalancedClassesAndSeed) {
  for (std::size_t n : {200u, 201u}) {
    const data::Dataset d = data::circles(n, 0.05, 1);
    expect_well_formed(d, n, 2, 2);
    const auto counts = class_counts(d);
    EXPECT_EQ(counts.at(0), n / 2) << "scikit-learn: n // 2 on the outer circle";
    EXPECT_EQ(counts.at(1), n - n / 2);
  }
  expect_deterministic([](std::uint64_t s) { return data::circles(100, 0.1, s); });
}

TEST(Circles, WithoutNoiseOuterRadiusIsOneAndInnerIsFactor) {
  for (double factor : {0.5, 0.3}) {
    const data::Dataset d = data::circles(101, 0.0, 3, factor);
    for (std::size_t i = 0; i < d.n; ++i) {
      const double r = std::hypot(d.at(i, 0), d.at(i, 1));
      EXPECT_NEAR(r, d.y[i] == 0 ? 1.0 : factor, 1e-12) << "point " << i;
    }
  }
}

TEST(Spirals, OneClassPerArmBalancedAndSeeded) {
  for (int arms : {2, 3, 5}) {
    const data::Dataset d = data::spirals(300, arms, 0.1, 4);
    expect_well_formed(d, 300, 2, arms);
    const auto counts = class_counts(d);
    ASSERT_EQ(counts.size(), static_cast<std::size_t>(arms));
    for (const auto& [label, count] : counts) {
      EXPECT_GE(count, 300 / static_cast<std::size_t>(arms)) << "arm " << label;
      EXPECT_LE(count, 300 / static_cast<std::size_t>(arms) + 1) << "arm " << label;
    }
  }
  expect_deterministic([](std::uint64_t s) { return data::spirals(90, 3, 0.2, s); });
  EXPECT_THROW(data::spirals(10, 1, 0.0, 1), std::invalid_argument);
}

TEST(Spirals, EachArmRunsFromTheCentreToRadiusOne) {
  const data::Dataset d = data::spirals(300, 3, 0.0, 9);
  for (int arm = 0; arm < 3; ++arm) {
    double rmin = 1e9, rmax = 0;
    for (std::size_t i = 0; i < d.n; ++i)
      if (d.y[i] == arm) {
        const double r = std::hypot(d.at(i, 0), d.at(i, 1));
        rmin = std::min(rmin, r);
        rmax = std::max(rmax, r);
      }
    EXPECT_NEAR(rmin, 0.0, 1e-12) << "arm " << arm;
    EXPECT_NEAR(rmax, 1.0, 1e-12) << "arm " << arm;
  }
  // Noise moves points along the angle only, so radii stay in [0, 1].
  const data::Dataset noisy = data::spirals(300, 3, 0.3, 9);
  for (std::size_t i = 0; i < noisy.n; ++i)
    EXPECT_LE(std::hypot(noisy.at(i, 0), noisy.at(i, 1)), 1.0 + 1e-12);
}

TEST(Xor, WithoutNoiseTheLabelIsTheSignOfX1TimesX2) {
  const data::Dataset d = data::xor_data(500, 0.0, 5);
  expect_well_formed(d, 500, 2, 2);
  for (std::size_t i = 0; i < d.n; ++i) {
    EXPECT_LE(std::abs(d.at(i, 0)), 1.0);
    EXPECT_LE(std::abs(d.at(i, 1)), 1.0);
    EXPECT_EQ(d.y[i], d.at(i, 0) * d.at(i, 1) > 0 ? 1 : 0) << "point " << i;
  }
  const auto counts = class_counts(d);
  EXPECT_GT(counts.at(0), 200u);  // quadrants are equally likely: about 250 each
  EXPECT_GT(counts.at(1), 200u);
  expect_deterministic([](std::uint64_t s) { return data::xor_data(50, 0.1, s); });
}

TEST(Teacher, ShapesSeveralClassesAndSeed) {
  const data::Dataset d = data::teacher(400, 5, 3, 11);
  expect_well_formed(d, 400, 5, 3);
  EXPECT_GT(class_counts(d).size(), 1u) << "labels take more than one class";
  expect_deterministic([](std::uint64_t s) { return data::teacher(100, 4, 2, s); });
  EXPECT_NE(data::teacher(200, 2, 2, 1).y, data::teacher(200, 2, 2, 2).y);
  EXPECT_THROW(data::teacher(10, 2, 1, 1), std::invalid_argument);
}

TEST(Make, EveryRegisteredNameAndAnErrorForOthers) {
  for (const std::string& name : data::names()) {
    const data::Dataset d = data::make(name, 60, 0.1, 3);
    EXPECT_EQ(d.n, 60u) << name;
    EXPECT_GE(d.classes, 2) << name;
  }
  try {
    data::make("swiss_roll", 10, 0.0, 1);
    FAIL();
  } catch (const std::invalid_argument& e) {
    for (const std::string& name : data::names()) EXPECT_TRUE(contains(e.what(), name)) << e.what();
  }
}

// --- CSV -----------------------------------------------------------------------------

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "slope_test_data_sets_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The message of the runtime_error load_csv throws for `text`.
std::string csv_error(const std::string& name, const std::string& text) {
  const std::string path = write_temp(name, text);
  try {
    data::load_csv(path);
  } catch (const std::runtime_error& e) {
    std::remove(path.c_str());
    return e.what();
  }
  std::remove(path.c_str());
  ADD_FAILURE() << name << ": no error";
  return "";
}

bool names_line(const std::string& msg, int line) {
  const std::string n = std::to_string(line);
  return contains(msg, ":" + n + ":") || contains(msg, "line " + n);
}

TEST(LoadCsv, ReadsRowsWithAHeader) {
  const std::string path = write_temp("header.csv", "x1,x2,label\n0.5,-1,0\n2,3.25,1\n1e-3,4,2\n");
  const data::Dataset d = data::load_csv(path);
  std::remove(path.c_str());
  EXPECT_EQ(d.n, 3u);
  EXPECT_EQ(d.dim, 2u);
  EXPECT_EQ(d.classes, 3);
  EXPECT_EQ(d.x, (std::vector<double>{0.5, -1, 2, 3.25, 1e-3, 4}));
  EXPECT_EQ(d.y, (std::vector<int>{0, 1, 2}));
}

TEST(LoadCsv, ReadsRowsWithoutAHeaderAndWindowsLineEnds) {
  const std::string path = write_temp("plain.csv", "1,2,3,1\r\n4,5,6,0\r\n\n7,8,9,1\r\n");
  const data::Dataset d = data::load_csv(path);
  std::remove(path.c_str());
  EXPECT_EQ(d.n, 3u);
  EXPECT_EQ(d.dim, 3u);
  EXPECT_EQ(d.classes, 2);
  EXPECT_EQ(d.x, (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(d.y, (std::vector<int>{1, 0, 1}));
}

TEST(LoadCsv, ARaggedRowNamesTheFileAndLine) {
  const std::string msg = csv_error("ragged.csv", "a,b,label\n1,2,0\n3,1\n");
  EXPECT_TRUE(contains(msg, "slope_test_data_sets_ragged.csv")) << msg;
  EXPECT_TRUE(names_line(msg, 3)) << msg;
}

TEST(LoadCsv, ANonNumericFieldNamesTheFileAndLine) {
  const std::string msg = csv_error("text.csv", "1,2,0\n3,4,1\n5,six,1\n");
  EXPECT_TRUE(contains(msg, "slope_test_data_sets_text.csv")) << msg;
  EXPECT_TRUE(names_line(msg, 3)) << msg;
}

TEST(LoadCsv, ANonIntegerOrNegativeLabelNamesTheFileAndLine) {
  std::string msg = csv_error("frac.csv", "x,label\n1,0\n2,1.5\n");
  EXPECT_TRUE(contains(msg, "slope_test_data_sets_frac.csv")) << msg;
  EXPECT_TRUE(names_line(msg, 3)) << msg;
  msg = csv_error("neg.csv", "1,0\n2,-1\n");
  EXPECT_TRUE(names_line(msg, 2)) << msg;
}

TEST(LoadCsv, MessagesStayShortWhateverTheLine) {
  const std::string msg = csv_error("huge_label.csv", "1,0\n2,1e300\n");
  EXPECT_TRUE(contains(msg, "must be an integer in [0, 1000000], got 1e+300")) << msg;
  const std::string long_line = "1,2,0\n" + std::string(5000, 'x') + ",1\n";
  const std::string msg2 = csv_error("long.csv", long_line);
  EXPECT_TRUE(names_line(msg2, 2)) << msg2;
  EXPECT_LT(msg2.size(), 200u) << msg2;
}

TEST(LoadCsv, ReadsAStreamNamingItInMessages) {
  std::istringstream in("x,label\n0.5,1\n");
  const data::Dataset d = data::load_csv(in, "pasted");
  EXPECT_EQ(d.n, 1u);
  std::istringstream bad("1,0\n2\n");
  try {
    data::load_csv(bad, "pasted");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "pasted:2:")) << e.what();
  }
}

TEST(LoadCsv, AnEmptyOrHeaderOnlyFileNamesTheFile) {
  std::string msg = csv_error("empty.csv", "");
  EXPECT_TRUE(contains(msg, "slope_test_data_sets_empty.csv")) << msg;
  msg = csv_error("header_only.csv", "x1,x2,label\n");
  EXPECT_TRUE(contains(msg, "slope_test_data_sets_header_only.csv")) << msg;
}

TEST(LoadCsv, AMissingFileNamesTheFile) {
  const std::string path = ::testing::TempDir() + "slope_test_no_such_file.csv";
  try {
    data::load_csv(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), path)) << e.what();
  }
}

// --- split and tensors -----------------------------------------------------------------

std::multiset<std::vector<double>> rows(const data::Dataset& d) {
  std::multiset<std::vector<double>> out;
  for (std::size_t i = 0; i < d.n; ++i) {
    std::vector<double> r(d.x.begin() + static_cast<std::ptrdiff_t>(i * d.dim),
                          d.x.begin() + static_cast<std::ptrdiff_t>((i + 1) * d.dim));
    r.push_back(d.y[i]);
    out.insert(r);
  }
  return out;
}

TEST(TrainTestSplit, SizesAndAPermutationOfTheRows) {
  const data::Dataset d = data::spirals(101, 3, 0.2, 1);
  const auto [train, test] = data::train_test_split(d, 0.25, 42);
  EXPECT_EQ(test.n, 25u);  // round(0.25 * 101)
  EXPECT_EQ(train.n, 76u);
  EXPECT_EQ(train.dim, d.dim);
  EXPECT_EQ(test.classes, d.classes);
  EXPECT_EQ(train.x.size(), train.n * d.dim);
  EXPECT_EQ(test.y.size(), test.n);
  auto together = rows(train);
  for (const auto& r : rows(test)) together.insert(r);
  EXPECT_EQ(together, rows(d));
  // Seeded: the same seed splits the same way, another seed differently.
  const auto again = data::train_test_split(d, 0.25, 42);
  EXPECT_EQ(again.first.x, train.x);
  EXPECT_NE(data::train_test_split(d, 0.25, 43).first.x, train.x);
  EXPECT_EQ(data::train_test_split(d, 0.0, 1).second.n, 0u);
  EXPECT_THROW(data::train_test_split(d, 1.0, 1), std::invalid_argument);
  EXPECT_THROW(data::train_test_split(d, -0.1, 1), std::invalid_argument);
}

TEST(DatasetTensors, FeaturesOneHotAndSigns) {
  data::Dataset d;
  d.n = 3;
  d.dim = 2;
  d.classes = 2;
  d.x = {1, 2, 3, 4, 5, 6};
  d.y = {0, 1, 1};
  const slope::TensorD f = d.features<double>();
  EXPECT_EQ(f.value(), slope::TensorD::from({{1, 2}, {3, 4}, {5, 6}}).value());
  EXPECT_FALSE(f.requires_grad());
  EXPECT_EQ(d.one_hot<double>().value(), slope::TensorD::from({{1, 0}, {0, 1}, {0, 1}}).value());
  EXPECT_EQ(d.signs<double>().value(), slope::TensorD::from({{-1}, {1}, {1}}).value());
  const slope::Tensor ff = d.features();  // float by default
  EXPECT_EQ(ff.value()(2, 1), 6.0f);
  d.classes = 3;
  d.y = {0, 2, 1};
  EXPECT_EQ(d.one_hot<double>().value(),
            slope::TensorD::from({{1, 0, 0}, {0, 0, 1}, {0, 1, 0}}).value());
  EXPECT_THROW(d.signs(), std::invalid_argument);
}

}  // namespace
