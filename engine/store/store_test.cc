// Store tests: the same checks on the RocksDB store (temp directory) and the
// in-memory store, plus the fault-injecting wrapper and the pinned bytes of
// the layout (keys, index entries, event hashes).
#include "engine/store/store.h"

#include <filesystem>
#include <random>
#include <set>

#include "engine/store/fault_store.h"
#include "engine/store/format.h"
#include "engine/store/records.h"
#include "gtest/gtest.h"

namespace onewindow::store {
namespace {

namespace v1 = onewindow::v1;

class StoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ow-store-test-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  bool rocks() const { return GetParam(); }

  std::unique_ptr<Store> OpenStore() {
    StoreOptions o;
    o.sync = false;
    o.shards = 3;
    if (!rocks()) return NewMemStore(o);
    auto st = OpenRocksStore(dir_.string(), o);
    EXPECT_TRUE(st.ok()) << st.status();
    return st.ok() ? std::move(*st) : nullptr;
  }

  std::filesystem::path dir_;
};

CaseRecord Case(const std::string& id, v1::CaseStatus status,
                const std::string& service, int64_t created) {
  CaseRecord c;
  c.set_id(id);
  c.set_status(status);
  c.set_service(service);
  c.set_created_at_ms(created);
  return c;
}

TEST_P(StoreTest, CommittedBatchIsReadBackAndSurvivesReopen) {
  auto st = OpenStore();
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->meta().shards(), 3);
  EXPECT_EQ(st->meta().format_version(), kFormatVersion);
  auto b = st->NewBatch();
  PutCase(b.get(), Case("FL-2026-000001-1", v1::CASE_STATUS_RUNNING, "fl", 5));
  MarkOpen(b.get(), "FL-2026-000001-1");
  RequestRecord r;
  r.set_case_id("FL-2026-000001-1");
  r.set_digest("d");
  PutRequest(b.get(), "req-1", r);
  PutTimer(b.get(), 1000, "FL-2026-000001-1", "tm1");
  TaskRecord t;
  t.set_case_id("FL-2026-000001-1");
  t.set_task_id("t1");
  t.set_department("DSF");
  PutTask(b.get(), t);
  PutQueued(b.get(), "DSF", 77, "FL-2026-000001-1", "t1");
  EXPECT_EQ(b->ops(), 6u);
  ASSERT_TRUE(st->Commit(b.get()).ok());
  if (rocks()) {
    st.reset();
    st = OpenStore();
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->meta().shards(), 3);
  }
  auto c = GetCase(*st, "FL-2026-000001-1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->service(), "fl");
  auto req = GetRequest(*st, "req-1");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->case_id(), "FL-2026-000001-1");
  EXPECT_EQ(req->digest(), "d");
  auto task = GetTask(*st, "FL-2026-000001-1", "t1");
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(task->department(), "DSF");
  std::vector<std::string> open;
  ASSERT_TRUE(ForEachOpenCase(*st, [&](std::string_view id) {
                open.emplace_back(id);
                return true;
              }).ok());
  EXPECT_EQ(open, std::vector<std::string>{"FL-2026-000001-1"});
  int timers = 0;
  ASSERT_TRUE(ForEachTimer(*st, [&](int64_t due, std::string_view cid,
                                    std::string_view tid) {
                EXPECT_EQ(due, 1000);
                EXPECT_EQ(cid, "FL-2026-000001-1");
                EXPECT_EQ(tid, "tm1");
                ++timers;
                return true;
              }).ok());
  EXPECT_EQ(timers, 1);
  std::vector<int64_t> seqs;
  ASSERT_TRUE(ForEachQueued(*st, "DSF", 0,
                            [&](int64_t seq, std::string_view cid,
                                std::string_view tid) {
                              EXPECT_EQ(cid, "FL-2026-000001-1");
                              EXPECT_EQ(tid, "t1");
                              seqs.push_back(seq);
                              return true;
                            })
                  .ok());
  EXPECT_EQ(seqs, std::vector<int64_t>{77});
}

TEST_P(StoreTest, LayoutOneRequestRowsReadAsCaseIds) {
  auto st = OpenStore();
  auto b = st->NewBatch();
  b->Put(kCfRequests, "old", "OW-0000000007");
  ASSERT_TRUE(st->Commit(b.get()).ok());
  auto r = GetRequest(*st, "old");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->case_id(), "OW-0000000007");
  EXPECT_TRUE(r->digest().empty());
}

TEST_P(StoreTest, ScansInBothDirectionsWithinBounds) {
  auto st = OpenStore();
  auto b = st->NewBatch();
  for (const char* k : {"a", "b1", "b2", "b3", "c"}) {
    b->Put(kCfIndexes, k, "");
  }
  ASSERT_TRUE(st->Commit(b.get()).ok());
  auto scan = [&](std::string_view start, std::string_view end, bool rev) {
    std::vector<std::string> keys;
    EXPECT_TRUE(st->Scan(kCfIndexes, start, end, rev,
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return true;
                         })
                    .ok());
    return keys;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(scan("b", "c", false), (V{"b1", "b2", "b3"}));
  EXPECT_EQ(scan("b", "c", true), (V{"b3", "b2", "b1"}));
  EXPECT_EQ(scan("b2", "", false), (V{"b2", "b3", "c"}));
  EXPECT_EQ(scan("", "", true), (V{"c", "b3", "b2", "b1", "a"}));
  std::vector<std::string> prefixed;
  ASSERT_TRUE(st->ScanPrefix(kCfIndexes, "b", true,
                             [&](std::string_view k, std::string_view) {
                               prefixed.emplace_back(k);
                               return prefixed.size() < 2;
                             })
                  .ok());
  EXPECT_EQ(prefixed, (V{"b3", "b2"}));
  EXPECT_EQ(PrefixEnd("b"), "c");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd("\xff"), "");
}

StoredEvent Event(int64_t seq) {
  StoredEvent e;
  e.set_seq(seq);
  e.set_type(onewindow::store::v1::STATE_ENTERED);
  e.set_state("S" + std::to_string(seq));
  return e;
}

TEST_P(StoreTest, HistoryPagesByEventAcrossRowsAndWideCommits) {
  auto st = OpenStore();
  auto b = st->NewBatch();
  int64_t seq = 0;
  // Commits of 3, 1, 600 (split into 256-event rows) and 4 events.
  for (int commit : {3, 1, 600, 4}) {
    std::vector<StoredEvent> events;
    for (int i = 0; i < commit; ++i) events.push_back(Event(++seq));
    PutHistory(b.get(), "FL-2026-000002-9", events);
  }
  PutHistory(b.get(), "FL-2026-000001-1", {Event(1)});
  PutHistory(b.get(), "FL-2026-000003-7", {Event(1)});
  ASSERT_TRUE(st->Commit(b.get()).ok());
  for (int64_t after : {0, 1, 3, 4, 5, 259, 260, 261, 603, 604, 607, 608}) {
    std::vector<HistoryEvent> got;
    bool more = true;
    ASSERT_TRUE(
        ReadHistory(*st, "FL-2026-000002-9", after, 0, &got, &more).ok());
    ASSERT_EQ(static_cast<int64_t>(got.size()), 608 - after) << after;
    EXPECT_FALSE(more);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].seq(), after + 1 + static_cast<int64_t>(i));
      EXPECT_EQ(got[i].type(), "StateEntered");
    }
  }
  std::vector<HistoryEvent> page;
  bool more = false;
  ASSERT_TRUE(
      ReadHistory(*st, "FL-2026-000002-9", 300, 50, &page, &more).ok());
  ASSERT_EQ(page.size(), 50u);
  EXPECT_TRUE(more);
  EXPECT_EQ(page.front().seq(), 301);
  int64_t n = 0;
  ASSERT_TRUE(ForEachStoredEvent(*st, "FL-2026-000002-9", 600,
                                 [&](StoredEvent& e) {
                                   EXPECT_EQ(e.seq(), 601 + n);
                                   ++n;
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(n, 8);
}

TEST_P(StoreTest, HistoryRowsAreTheChunksWireForm) {
  // Rows are written without building a HistoryChunk: their bytes must be
  // exactly what serializing one would give, for small and large events.
  auto st = OpenStore();
  auto b = st->NewBatch();
  std::vector<StoredEvent> events;
  for (int i = 1; i <= 300; ++i) {
    StoredEvent e = Event(i);
    e.set_value_json(
        std::string(static_cast<size_t>(i % 3 == 0 ? 70000 : i), 'v'));
    e.set_hash(std::string(32, static_cast<char>(i)));
    events.push_back(std::move(e));
  }
  PutHistory(b.get(), "FL-2026-000004-5", events);
  ASSERT_TRUE(st->Commit(b.get()).ok());
  for (int64_t first : {1, 257}) {
    HistoryChunk want;
    for (int64_t s = first; s < std::min<int64_t>(first + 256, 301); ++s) {
      *want.add_stored() = events[static_cast<size_t>(s - 1)];
    }
    absl::StatusOr<std::string> got =
        st->Get(kCfHistory, HistoryKey("FL-2026-000004-5", first));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want.SerializeAsString()) << first;
  }
}

TEST_P(StoreTest, IndexEntriesFollowTheCase) {
  auto st = OpenStore();
  CaseRecord c = Case("FL-2026-000004-3", v1::CASE_STATUS_RUNNING, "fl", 100);
  c.add_open_departments("DSF");
  c.add_open_departments("CB");
  c.set_due_at_ms(5000);
  c.set_applicant("chan tai man");
  auto b = st->NewBatch();
  UpdateIndexes(b.get(), nullptr, c);
  ASSERT_TRUE(st->Commit(b.get()).ok());
  auto entries = [&]() {
    std::vector<std::string> ids;
    EXPECT_TRUE(st->Scan(kCfIndexes, "", "", false,
                         [&](std::string_view k, std::string_view) {
                           EXPECT_EQ(CaseIdOfIndexKey(k), "FL-2026-000004-3");
                           ids.push_back(std::string(1, k[0]));
                           return true;
                         })
                    .ok());
    return ids;
  };
  // Created, status, service, status+service, 2 departments, due, applicant.
  EXPECT_EQ(entries().size(), 8u);
  CaseRecord done = c;
  done.set_status(v1::CASE_STATUS_SUCCEEDED);
  done.clear_open_departments();
  b->Clear();
  UpdateIndexes(b.get(), &c, done);
  ASSERT_TRUE(st->Commit(b.get()).ok());
  // Departments and due are for running cases only.
  EXPECT_EQ(entries(),
            (std::vector<std::string>{"A", "C", "S", "V", "W"}));
}

// Whatever a write changes (status, departments, deadline, applicant),
// the index holds exactly the entries of the case as written, and a write
// that changes none of them writes no index row.
TEST_P(StoreTest, IndexUpdatesLeaveExactlyTheEntriesOfTheNewRecord) {
  std::vector<CaseRecord> states;
  for (v1::CaseStatus status :
       {v1::CASE_STATUS_RUNNING, v1::CASE_STATUS_SUCCEEDED,
        v1::CASE_STATUS_FAILED}) {
    for (int depts = 0; depts < 3; ++depts) {
      for (int64_t due : {0, 5000, 6000}) {
        for (const char* applicant : {"", "chan tai man", "wong"}) {
          CaseRecord c = Case("FL-2026-000004-3", status, "fl", 100);
          if (depts >= 1) c.add_open_departments("CB");
          if (depts >= 2) c.add_open_departments("DSF");
          c.set_due_at_ms(due);
          c.set_applicant(applicant);
          states.push_back(std::move(c));
        }
      }
    }
  }
  auto st = OpenStore();
  auto entries = [&]() {
    std::set<std::string> keys;
    EXPECT_TRUE(st->Scan(kCfIndexes, "", "", false,
                         [&](std::string_view k, std::string_view) {
                           keys.insert(std::string(k));
                           return true;
                         })
                    .ok());
    return keys;
  };
  auto b = st->NewBatch();
  UpdateIndexes(b.get(), nullptr, states[0]);
  ASSERT_TRUE(st->Commit(b.get()).ok());
  const CaseRecord* at = &states[0];
  // Every state to every other, in a walk that visits all pairs.
  for (size_t i = 0; i < states.size(); ++i) {
    for (size_t j = 0; j < states.size(); ++j) {
      for (const CaseRecord* next : {&states[i], &states[j]}) {
        b->Clear();
        UpdateIndexes(b.get(), at, *next);
        if (at == next) EXPECT_TRUE(b->empty());
        if (!b->empty()) ASSERT_TRUE(st->Commit(b.get()).ok());
        std::vector<std::string> want = IndexKeys(*next);
        ASSERT_EQ(entries(), std::set<std::string>(want.begin(), want.end()))
            << i << " -> " << j;
        at = next;
      }
    }
  }
}

// Sealing serializes an event once for its hash and its row: the same
// hash as ChainHash, the same bytes as serializing it, the same rows as
// PutHistory, whatever fields it carries.
TEST_P(StoreTest, SealedEventsAreTheBytesAndHashOfTheEvent) {
  std::vector<StoredEvent> events;
  std::vector<std::string> wire;
  std::string prev;
  for (int i = 1; i <= 300; ++i) {
    StoredEvent e = Event(i);
    if (i % 3 == 0) e.set_value_json(std::string(static_cast<size_t>(i), 'v'));
    if (i % 5 == 0) {
      e.set_actor("clerk");
      e.add_documents()->set_name("plan.pdf");
      e.mutable_limits()->set_max_map_items(7);
    }
    if (i % 7 == 0) e.set_version(3);
    if (i % 2 == 0) e.set_hash("stale");  // replaced
    wire.push_back(SealEvent(prev, &e));
    StoredEvent unhashed = e;
    unhashed.clear_hash();
    EXPECT_EQ(e.hash(), ChainHash(prev, unhashed)) << i;
    EXPECT_EQ(wire.back(), e.SerializeAsString()) << i;
    prev = e.hash();
    events.push_back(std::move(e));
  }
  auto st = OpenStore();
  auto b = st->NewBatch();
  PutSealedHistory(b.get(), "FL-2026-000001-1", events, wire);
  PutHistory(b.get(), "FL-2026-000002-9", events);
  ASSERT_TRUE(st->Commit(b.get()).ok());
  for (int64_t first : {1, 257}) {
    auto sealed = st->Get(kCfHistory, HistoryKey("FL-2026-000001-1", first));
    auto plain = st->Get(kCfHistory, HistoryKey("FL-2026-000002-9", first));
    ASSERT_TRUE(sealed.ok() && plain.ok()) << first;
    EXPECT_EQ(*sealed, *plain) << first;
  }
}

TEST_P(StoreTest, ChecksumChainNamesChanges) {
  StoredEvent a = Event(1), b = Event(2);
  a.set_hash(ChainHash("", a));
  b.set_hash(ChainHash(a.hash(), b));
  EXPECT_EQ(a.hash().size(), kHashBytes);
  // Recomputing from the stored bytes gives the stored hash...
  EXPECT_EQ(ChainHash("", a), a.hash());
  EXPECT_EQ(ChainHash(a.hash(), b), b.hash());
  // ...and any change of an event, or of one before it, does not.
  StoredEvent changed = a;
  changed.set_state("X");
  EXPECT_NE(ChainHash("", changed), a.hash());
  EXPECT_NE(ChainHash(ChainHash("", changed), b), b.hash());
}

TEST_P(StoreTest, MissingThingsAreNotFound) {
  auto st = OpenStore();
  EXPECT_EQ(GetCase(*st, "OW-9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetRequest(*st, "r").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(GetTask(*st, "OW-9", "t1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(GetCheckpoint(*st, "OW-9").status().code(),
            absl::StatusCode::kNotFound);
  auto v = GetBe64(*st, kCfMeta, "nothing", 42);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
}

TEST_P(StoreTest, UndecodableValuesAreDataLoss) {
  auto st = OpenStore();
  auto b = st->NewBatch();
  b->Put(kCfCases, "OW-1", "\xff\xff\xff");
  ASSERT_TRUE(st->Commit(b.get()).ok());
  EXPECT_EQ(GetCase(*st, "OW-1").status().code(), absl::StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(true, false),
                         [](const auto& info) {
                           return info.param ? "RocksDB" : "Memory";
                         });

TEST(RocksStoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ow-store-lock-" + std::to_string(std::random_device{}()));
  StoreOptions o;
  o.sync = false;
  auto st = OpenRocksStore(dir.string(), o);
  ASSERT_TRUE(st.ok());
  auto again = OpenRocksStore(dir.string(), o);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition)
      << again.status();
  st->reset();
  std::filesystem::remove_all(dir);
}

TEST(RocksStoreTest, CheckpointIsAStoreOfItsOwn) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ow-store-cp-" + std::to_string(std::random_device{}()));
  StoreOptions o;
  o.sync = false;
  std::filesystem::create_directories(dir);
  {
    auto st = OpenRocksStore((dir / "a").string(), o);
    ASSERT_TRUE(st.ok());
    auto b = (*st)->NewBatch();
    PutCase(b.get(), Case("OW-0000000001", v1::CASE_STATUS_RUNNING, "s", 1));
    ASSERT_TRUE((*st)->Commit(b.get()).ok());
    uint64_t seq = 0;
    ASSERT_TRUE((*st)->Checkpoint((dir / "copy").string(), &seq).ok());
    EXPECT_GT(seq, 0u);
    // Later writes are not in the copy.
    b->Clear();
    PutCase(b.get(), Case("OW-0000000002", v1::CASE_STATUS_RUNNING, "s", 2));
    ASSERT_TRUE((*st)->Commit(b.get()).ok());
  }
  auto copy = OpenRocksStore((dir / "copy").string(), o);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE(GetCase(**copy, "OW-0000000001").ok());
  EXPECT_EQ(GetCase(**copy, "OW-0000000002").status().code(),
            absl::StatusCode::kNotFound);
  copy->reset();
  std::filesystem::remove_all(dir);
}

TEST(FaultStoreTest, InjectedFailureWritesNothingAndLaterCommitsWork) {
  StoreOptions o;
  FaultStore f(NewMemStore(o));
  f.FailCommit(2);
  auto b = f.NewBatch();
  b->Put(kCfCases, "a", "1");
  EXPECT_TRUE(f.Commit(b.get()).ok());
  b->Clear();
  b->Put(kCfCases, "b", "2");
  EXPECT_EQ(f.Commit(b.get()).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(f.Get(kCfCases, "b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(f.Commit(b.get()).ok());
  EXPECT_TRUE(f.Get(kCfCases, "b").ok());
  EXPECT_EQ(f.commits(), 3);
  EXPECT_EQ(f.failed(), 1);
}

// The layout is pinned: these bytes must never change (FORMAT.md).
TEST(FormatTest, KeyEncodingsArePinned) {
  EXPECT_EQ(std::string(kColumnFamilies[kCfTaskQueue]), "task_queue");
  EXPECT_EQ(std::string(kColumnFamilies[kCfIndexes]), "indexes");
  EXPECT_EQ(HistoryKey("A", 258), std::string("A\0\0\0\0\0\0\0\x01\x02", 10));
  EXPECT_EQ(TimerKey(1, "C", "t"),
            std::string("\0\0\0\0\0\0\0\x01"
                        "C\0t",
                        11));
  EXPECT_EQ(TaskQueueKey("DSF", 3), std::string("DSF\0\0\0\0\0\0\0\0\x03", 12));
  EXPECT_EQ(NumberKey("FL", 2026, 1), "cn/FL/2026/1");
  CaseRecord c = Case("X", v1::CASE_STATUS_RUNNING, "s", 0);
  std::vector<std::string> keys = IndexKeys(c);
  const std::string newest(8, '\xff');
  EXPECT_EQ(keys[0], "C" + newest + "X");
  EXPECT_EQ(keys[1], "S\x01" + newest + "X");
  EXPECT_EQ(keys[2], std::string("Vs\0", 3) + newest + "X");
  EXPECT_EQ(CaseCounterKey("s", 2, 1), std::string("Ss\0\x02\x01", 5));
}

TEST(FormatTest, EventBytesAndTheirHashArePinned) {
  StoredEvent e;
  e.set_seq(1);
  e.set_at_ms(1767225600000);
  e.set_type(onewindow::store::v1::EXECUTION_STARTED);
  e.set_value_json("{}");
  e.set_command(true);
  EXPECT_EQ(Hex(e.SerializeAsString()),
            "08011080d0eab6b733180132027b7d880101");
  EXPECT_EQ(Hex(ChainHash("", e)),
            Hex(ChainHash(std::string(kHashBytes, '\0'), e)));
  EXPECT_EQ(Hex(ChainHash("", e)), "bebb1738d2c9c0fbc3b6d703d4511dcbfb1d650fd93db641b358a4a8a3d62f27");
}

}  // namespace
}  // namespace onewindow::store
