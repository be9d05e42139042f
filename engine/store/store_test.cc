#include "engine/store/store.h"

#include <filesystem>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace onewindow::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ow-store-test-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Store> OpenStore(int shards = 2) {
    StoreOptions o;
    o.shards = shards;
    o.now_ms = 1000;
    auto s = Store::Open(dir_.string(), o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::filesystem::path dir_;
};

TEST_F(StoreTest, CommittedBatchSurvivesReopen) {
  {
    auto st = OpenStore();
    Store::Batch b(*st);
    CaseRecord c;
    c.set_id("OW-0000000001");
    c.set_service("food-licence");
    c.set_status(onewindow::v1::CASE_STATUS_RUNNING);
    b.PutCase(c);
    b.MarkOpen(c.id());
    b.PutRequest("req-1", c.id());
    b.PutTimer(5000, c.id(), "w1");
    b.PutNextSeq(0, 7);
    HistoryEvent e;
    e.set_seq(1);
    e.set_type("ExecutionStarted");
    b.PutHistory(c.id(), {e});
    TaskRecord t;
    t.set_case_id(c.id());
    t.set_task_id("t1");
    t.set_department("DSF");
    b.PutTask(t);
    EXPECT_EQ(b.ops(), 7u);
    ASSERT_TRUE(st->Commit(&b).ok());
  }
  auto st = OpenStore(5);
  EXPECT_EQ(st->meta().shards(), 2) << "shard count is fixed at creation";
  auto c = st->GetCase("OW-0000000001");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->service(), "food-licence");
  EXPECT_EQ(*st->GetRequest("req-1"), "OW-0000000001");
  EXPECT_EQ(*st->GetNextSeq(0), 7);
  EXPECT_EQ(*st->GetNextSeq(1), 0);
  int open = 0;
  ASSERT_TRUE(st->ForEachOpenCase([&](const CaseRecord& r) {
                  ++open;
                  EXPECT_EQ(r.id(), "OW-0000000001");
                  return true;
                }).ok());
  EXPECT_EQ(open, 1);
  int timers = 0;
  ASSERT_TRUE(st->ForEachTimer([&](int64_t due, std::string_view cid,
                                   std::string_view tid) {
                  ++timers;
                  EXPECT_EQ(due, 5000);
                  EXPECT_EQ(cid, "OW-0000000001");
                  EXPECT_EQ(tid, "w1");
                  return true;
                }).ok());
  EXPECT_EQ(timers, 1);
  std::vector<HistoryEvent> h;
  ASSERT_TRUE(st->ReadHistory("OW-0000000001", 0, 10, &h).ok());
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].type(), "ExecutionStarted");
  auto t = st->GetTask("OW-0000000001", "t1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->department(), "DSF");
}

TEST_F(StoreTest, HistoryReadsAcrossChunksFromAnyPoint) {
  auto st = OpenStore();
  Store::Batch b(*st);
  int64_t seq = 0;
  for (int chunk : {3, 1, 4}) {
    std::vector<HistoryEvent> events;
    for (int i = 0; i < chunk; ++i) {
      HistoryEvent e;
      e.set_seq(++seq);
      events.push_back(e);
    }
    b.PutHistory("OW-0000000002", events);
  }
  HistoryEvent other;
  other.set_seq(1);
  b.PutHistory("OW-0000000001", {other});
  b.PutHistory("OW-0000000003", {other});
  ASSERT_TRUE(st->Commit(&b).ok());
  for (int64_t after = 0; after <= 8; ++after) {
    std::vector<HistoryEvent> got;
    ASSERT_TRUE(st->ReadHistory("OW-0000000002", after, 0, &got).ok());
    ASSERT_EQ(static_cast<int64_t>(got.size()), 8 - after) << after;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].seq(), after + 1 + static_cast<int64_t>(i));
    }
  }
  std::vector<HistoryEvent> limited;
  ASSERT_TRUE(st->ReadHistory("OW-0000000002", 2, 3, &limited).ok());
  ASSERT_EQ(limited.size(), 3u);
  EXPECT_EQ(limited[0].seq(), 3);
  EXPECT_EQ(limited[2].seq(), 5);
}

TEST_F(StoreTest, MissingThingsAreNotFound) {
  auto st = OpenStore();
  EXPECT_EQ(st->GetCase("OW-9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st->GetRequest("r").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st->GetTask("OW-9", "t1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, ClosedCasesLeaveTheOpenIndexAndTimersGo) {
  auto st = OpenStore();
  Store::Batch b(*st);
  for (int i = 1; i <= 3; ++i) {
    CaseRecord c;
    c.set_id("OW-000000000" + std::to_string(i));
    b.PutCase(c);
    b.MarkOpen(c.id());
  }
  b.PutTimer(10, "OW-0000000002", "w");
  ASSERT_TRUE(st->Commit(&b).ok());
  b.Clear();
  b.MarkClosed("OW-0000000002");
  b.DeleteTimer(10, "OW-0000000002", "w");
  ASSERT_TRUE(st->Commit(&b).ok());
  std::vector<std::string> open;
  ASSERT_TRUE(st->ForEachOpenCase([&](const CaseRecord& c) {
                  open.push_back(c.id());
                  return true;
                }).ok());
  EXPECT_EQ(open, (std::vector<std::string>{"OW-0000000001", "OW-0000000003"}));
  int timers = 0;
  ASSERT_TRUE(st->ForEachTimer([&](int64_t, std::string_view,
                                   std::string_view) {
                  ++timers;
                  return true;
                }).ok());
  EXPECT_EQ(timers, 0);
  std::vector<std::string> newest;
  ASSERT_TRUE(st->ScanCasesNewestFirst("OW-0000000003", [&](const CaseRecord& c) {
                  newest.push_back(c.id());
                  return true;
                }).ok());
  EXPECT_EQ(newest, (std::vector<std::string>{"OW-0000000002", "OW-0000000001"}));
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto st = OpenStore();
  auto again = Store::Open(dir_.string(), StoreOptions{});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition)
      << again.status();
}

}  // namespace
}  // namespace onewindow::store
