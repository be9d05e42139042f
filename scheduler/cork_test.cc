#include "scheduler/cork.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace onewindow::scheduler {
namespace {

TEST(WriteCorkTest, WithoutACorkWritesStartAtOnce) {
  EXPECT_FALSE(WriteCork::Active());
  bool ran = false;
  EXPECT_FALSE(WriteCork::Defer(&ran, [&] { ran = true; }));
  EXPECT_FALSE(ran);  // the caller writes itself
}

TEST(WriteCorkTest, OneFlushPerStreamWhenTheCorkEnds) {
  int a = 0, b = 0;
  std::vector<std::string> order;
  {
    WriteCork cork;
    EXPECT_TRUE(WriteCork::Active());
    EXPECT_TRUE(WriteCork::Defer(&a, [&] { order.push_back("a"); }));
    EXPECT_TRUE(WriteCork::Defer(&b, [&] { order.push_back("b"); }));
    EXPECT_TRUE(WriteCork::Defer(&a, [&] { order.push_back("a again"); }));
    EXPECT_TRUE(order.empty());
  }
  EXPECT_FALSE(WriteCork::Active());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST(WriteCorkTest, ManyStreamsEachFlushOnce) {
  std::vector<int> streams(100);
  std::vector<int> flushed(100);
  {
    WriteCork cork;
    for (int round = 0; round < 3; ++round) {
      for (size_t i = 0; i < streams.size(); ++i) {
        WriteCork::Defer(&streams[i], [&flushed, i] { ++flushed[i]; });
      }
    }
  }
  for (size_t i = 0; i < flushed.size(); ++i) {
    EXPECT_EQ(flushed[i], 1) << "stream " << i;
  }
}

TEST(WriteCorkTest, OnlyTheOutermostCorkFlushes) {
  int key = 0;
  int flushed = 0;
  {
    WriteCork outer;
    {
      WriteCork inner;
      WriteCork::Defer(&key, [&] { ++flushed; });
    }
    EXPECT_EQ(flushed, 0);
    EXPECT_TRUE(WriteCork::Active());
  }
  EXPECT_EQ(flushed, 1);
}

TEST(WriteCorkTest, AFlushThatWritesAgainIsNotCorked) {
  int key = 0;
  bool second_deferred = true;
  {
    WriteCork cork;
    WriteCork::Defer(&key, [&] {
      second_deferred = WriteCork::Defer(&key, [] {});
    });
  }
  EXPECT_FALSE(second_deferred);
}

TEST(WriteCorkTest, ACorkCoversOnlyItsOwnThread) {
  WriteCork cork;
  bool other_active = true;
  std::thread([&] { other_active = WriteCork::Active(); }).join();
  EXPECT_FALSE(other_active);
}

}  // namespace
}  // namespace onewindow::scheduler
