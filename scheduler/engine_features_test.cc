// Engine tests of case management, hostile input, limits, rebuilding cases
// from the store and commit failures. In-memory or temp-dir RocksDB stores,
// a manual clock, no gRPC.
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "engine/store/fault_store.h"
#include "engine/store/records.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "scheduler/engine.h"
#include "scheduler/manifest_rules.h"

namespace onewindow::scheduler {
namespace {

using nlohmann::json;
namespace v1 = onewindow::v1;

template <typename T>
absl::StatusOr<T> Wait(std::function<void(Engine::Done<T>)> call) {
  std::promise<absl::StatusOr<T>> p;
  auto f = p.get_future();
  call([&p](absl::StatusOr<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

constexpr char kOneTask[] = R"({"StartAt": "Check", "States": {
  "Check": {"Type": "Task", "Resource": "dept:DSF/check", "End": true}}})";

constexpr char kTwoDepts[] = R"({"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Task",
       "Resource": "dept:DSF/a", "End": true}}},
    {"StartAt": "B", "States": {"B": {"Type": "Task",
       "Resource": "dept:CB/b", "End": true}}}]}}})";

constexpr char kManifest[] = R"(
title: {zh-Hant: 測試, pt: Teste, en: Test}
case_prefix: TS
deadline: {working_days: 2}
applicant_field: /applicant/name
input_schema:
  type: object
  required: [applicant]
  properties:
    applicant:
      type: object
      required: [name, id]
      properties:
        name: {type: string, minLength: 1}
        id: {type: string, pattern: "^[0-9]{7}$"}
)";

class FeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ow-features-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  // `memory`: an in-memory store (no reopen); else RocksDB in dir_.
  void Open(bool memory = true, std::unique_ptr<store::Store> st = nullptr,
            std::function<void(EngineOptions*)> tune = nullptr) {
    EngineOptions o;
    o.data_dir = dir_.string();
    o.clock = &clock_;
    o.sync = false;
    o.rules_factory = MakeManifestRulesFactory("");
    if (st != nullptr) {
      o.store = std::move(st);
    } else if (memory) {
      store::StoreOptions so;
      so.sync = false;
      o.store = store::NewMemStore(so);
    }
    if (tune) tune(&o);
    auto e = Engine::Open(std::move(o));
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  void Deploy(const std::string& name, const std::string& def,
              const std::string& manifest = "") {
    auto r = engine_->registry().Deploy(name, def, asl::SourceFormat::kAuto,
                                        "", clock_.NowMs(), manifest, "analyst",
                                        "analyst");
    ASSERT_TRUE(r.ok()) << r.status();
  }
  absl::StatusOr<SubmitResult> Submit(const std::string& service,
                                      const std::string& input,
                                      const std::string& request_id = "",
                                      std::vector<v1::DocumentRef> docs = {}) {
    v1::SubmitCaseRequest req;
    req.set_service(service);
    req.set_input_json(input);
    req.set_request_id(request_id);
    for (auto& d : docs) *req.add_documents() = d;
    return Wait<SubmitResult>([&](Engine::Done<SubmitResult> d) {
      engine_->SubmitCase(req, Actor{"clerk-7", "counter"}, d);
    });
  }
  absl::Status Complete(const std::string& token, const std::string& result,
                        const std::string& department = "") {
    return Wait<bool>([&](Engine::Done<bool> d) {
             engine_->CompleteTask(token, result, department,
                                   Actor{"officer-1", "department"}, d);
           })
        .status();
  }
  absl::StatusOr<v1::Case> Get(const std::string& id) {
    return Wait<v1::Case>(
        [&](Engine::Done<v1::Case> d) { engine_->GetCase(id, d); });
  }
  std::vector<v1::HistoryEvent> History(const std::string& id, int page = 1000) {
    std::vector<v1::HistoryEvent> all;
    for (int i = 0; i < 10000; ++i) {
      auto r = Wait<v1::GetCaseHistoryResponse>(
          [&](Engine::Done<v1::GetCaseHistoryResponse> d) {
            engine_->GetHistory(id, all.empty() ? 0 : all.back().seq(), page,
                                d);
          });
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      for (const auto& e : r->events()) all.push_back(e);
      if (!r->more()) break;
    }
    return all;
  }
  absl::StatusOr<v1::ListCasesResponse> List(v1::ListCasesRequest req) {
    return Wait<v1::ListCasesResponse>(
        [&](Engine::Done<v1::ListCasesResponse> d) {
          engine_->ListCases(req, d);
        });
  }
  std::vector<v1::Task> Take(const std::string& dept, int n) {
    std::vector<v1::Task> got;
    for (int i = 0; i < 400 && static_cast<int>(got.size()) < n; ++i) {
      for (auto& t : engine_->dispatcher().Activate(dept, n - got.size(),
                                                    60'000, "test")) {
        got.push_back(std::move(t));
      }
      if (static_cast<int>(got.size()) < n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return got;
  }
  v1::Case WaitFor(const std::string& id, v1::CaseStatus s) {
    v1::Case c;
    for (int i = 0; i < 1000; ++i) {
      auto r = Get(id);
      if (r.ok()) {
        c = *r;
        if (c.status() == s) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return c;
  }
  static int Count(const std::vector<v1::HistoryEvent>& h,
                   const std::string& type) {
    int n = 0;
    for (const auto& e : h) n += e.type() == type;
    return n;
  }
  static v1::DocumentRef Doc(const std::string& id) {
    v1::DocumentRef d;
    d.set_id(id);
    d.set_name(id + ".pdf");
    d.set_media_type("application/pdf");
    d.set_size_bytes(1234);
    d.set_sha256(std::string(64, 'a'));
    return d;
  }

  ManualClock clock_{1'788'220'800'000};  // 2026-09-01T00:00:00Z, a Tuesday
  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
};

// ---- hostile input --------------------------------------------------------

TEST_F(FeaturesTest, DeepAndMalformedPayloadsAreRefusedNamingTheProblem) {
  Open();
  Deploy("one", kOneTask);
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto r = Submit("one", deep);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("limit of 128"), absl::string_view::npos)
      << r.status();
  r = Submit("one", R"({"a":1e999})");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("out of range"), absl::string_view::npos)
      << r.status();
  r = Submit("one", std::string("{\"a\":1}\0{\"b\":2}", 15));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("NUL"), absl::string_view::npos)
      << r.status();
  r = Submit("one", R"({"a":1} {"b":2})");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  // The same doors for a task's result.
  auto ok = Submit("one", "{}");
  ASSERT_TRUE(ok.ok());
  auto t = Take("DSF", 1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(Complete(t[0].token(), deep).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Complete(t[0].token(), "-1e999").code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing was stored for the refused submissions; the task is still open.
  auto list = List(v1::ListCasesRequest());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->cases_size(), 1);
  EXPECT_TRUE(Complete(t[0].token(), "{}").ok());
}

TEST_F(FeaturesTest, RequestIdReusedWithOtherDataIsAlreadyExists) {
  Open();
  Deploy("one", kOneTask);
  auto a = Submit("one", R"({"x":1})", "counter-3-17");
  ASSERT_TRUE(a.ok());
  auto same = Submit("one", R"({"x":1})", "counter-3-17");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->deduplicated);
  EXPECT_EQ(same->case_id, a->case_id);
  auto other = Submit("one", R"({"x":2})", "counter-3-17");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(other.status().message().find(a->case_id), absl::string_view::npos)
      << other.status();
}

TEST_F(FeaturesTest, ForgedTokensAreUnknownWhateverTheyName) {
  Open();
  Deploy("one", kOneTask);
  ASSERT_TRUE(Submit("one", "{}").ok());
  auto t = Take("DSF", 1);
  ASSERT_EQ(t.size(), 1u);
  TokenParts p;
  ASSERT_TRUE(ParseToken(t[0].token(), &p));
  EXPECT_EQ(p.nonce.size(), 32u) << "128-bit nonces";
  // An issued token's tail reads the same without parsing its case number.
  int attempt = -1;
  std::string_view nonce;
  ASSERT_TRUE(IssuedTail(t[0].token(), &attempt, &nonce));
  EXPECT_EQ(attempt, p.attempt);
  EXPECT_EQ(nonce, p.nonce);
  EXPECT_FALSE(IssuedTail("OW-2026-000001-1/t1/1/ABCDEF", &attempt, &nonce))
      << "upper-case hex is not the issued form";
  EXPECT_FALSE(IssuedTail("t1/x/abcdef", &attempt, &nonce));
  EXPECT_FALSE(IssuedTail("abcdef", &attempt, &nonce));
  // A right case and task with attempt 0 and a made-up nonce: NOT_FOUND,
  // revealing nothing.
  TokenParts forged = p;
  forged.attempt = 0;
  forged.nonce = std::string(32, '0');
  absl::Status s = Complete(FormatToken(forged), "{}");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  forged.attempt = p.attempt;
  s = Complete(FormatToken(forged), "{}");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  // Another department may not answer it, and nothing changes.
  s = Complete(t[0].token(), "{}", "CB");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_TRUE(Complete(t[0].token(), "{}", "DSF").ok());
}

TEST_F(FeaturesTest, HugeDurationsFailTheStateInsteadOfFiringAtOnce) {
  Open();
  Deploy("wait", R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}})");
  Deploy("task", R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "dept:DSF/t",
          "TimeoutSecondsPath": "$.s", "End": true}}})");
  Deploy("beat", R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "dept:DSF/t",
          "HeartbeatSecondsPath": "$.s", "End": true}}})");
  for (const char* svc : {"wait", "task", "beat"}) {
    auto r = Submit(svc, R"({"s": 9223372036854775807})");
    ASSERT_TRUE(r.ok()) << r.status();
    v1::Case c = WaitFor(r->case_id, v1::CASE_STATUS_FAILED);
    EXPECT_EQ(c.status(), v1::CASE_STATUS_FAILED) << svc;
    EXPECT_EQ(c.error(), "States.Runtime") << svc;
    EXPECT_NE(c.cause().find("9223372036854775807"), std::string::npos)
        << c.cause();
  }
}

constexpr char kWideMap[] = R"({"StartAt": "Each", "States": {
  "Each": {"Type": "Map", "ItemsPath": "$.items", "End": true,
    "ItemProcessor": {"StartAt": "Do", "States": {
      "Do": {"Type": "Task", "Resource": "dept:MAP/do", "End": true}}}}}})";

std::string Items(int n) {
  json items = json::array();
  for (int i = 0; i < n; ++i) items.push_back(i);
  return json{{"items", items}}.dump();
}

TEST_F(FeaturesTest, MapOverTheItemLimitFailsWithACatchableError) {
  Open();
  Deploy("wide", kWideMap);
  auto r = Submit("wide", Items(20'000));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::Case c = WaitFor(r->case_id, v1::CASE_STATUS_FAILED);
  EXPECT_EQ(c.error(), "States.LimitExceeded");
  EXPECT_NE(c.cause().find("10000"), std::string::npos) << c.cause();
}

TEST_F(FeaturesTest, WideFanOutIsSpreadOverCommitsAndCancelsCheaply) {
  Open();
  Deploy("wide", kWideMap);
  auto r = Submit("wide", Items(5000));
  ASSERT_TRUE(r.ok()) << r.status();
  // Launched 1000 per turn: the rest arrive over later commits while other
  // cases keep being served.
  auto other = Submit("wide", Items(1));
  ASSERT_TRUE(other.ok()) << other.status();
  for (int i = 0; i < 1000; ++i) {
    auto c = Get(r->case_id);
    if (c.ok() && c->history_seq() > 5000 * 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto h = History(r->case_id, 700);
  EXPECT_EQ(Count(h, "MapIterationStarted"), 5000);
  EXPECT_GE(Count(h, "ExecutionContinued"), 4);
  EXPECT_EQ(Count(h, "TaskScheduled"), 5000);
  // Paged by event: every event once, in order.
  for (size_t i = 0; i < h.size(); ++i) {
    ASSERT_EQ(h[i].seq(), static_cast<int64_t>(i) + 1);
  }
  auto cancelled = Wait<v1::Case>([&](Engine::Done<v1::Case> d) {
    engine_->CancelCase(r->case_id, "duplicate application",
                        Actor{"clerk-7", "counter"}, d);
  });
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::CASE_STATUS_CANCELLED);
  for (int i = 0; i < 200 && engine_->dispatcher().ReadyCount("MAP") > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Only the other case's task is left.
  EXPECT_EQ(engine_->dispatcher().ReadyCount("MAP"), 1u);
}

// ---- case numbers, manifests, deadlines, documents ---------------------------

TEST_F(FeaturesTest, ManifestSetsNumbersDueDatesAndChecksTheData) {
  Open();
  Deploy("test", kOneTask, kManifest);
  // The schema names every failing field; nothing is stored.
  auto bad = Submit("test", R"({"applicant": {"name": "", "id": "12"}})");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("/applicant/name"),
            absl::string_view::npos)
      << bad.status();
  EXPECT_NE(bad.status().message().find("/applicant/id"),
            absl::string_view::npos)
      << bad.status();
  EXPECT_EQ(List(v1::ListCasesRequest())->cases_size(), 0);

  auto r = Submit("test", R"({"applicant": {"name": "Chan Tai Man",
                                              "id": "1234567"}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->case_id.substr(0, 8), "TS-2026-");
  // Tuesday 1 September + 2 working days = Thursday 3 September.
  EXPECT_EQ(r->due_date, "2026-09-03");
  // A mistyped number is caught by its check digit, not answered NOT_FOUND.
  std::string typo = r->case_id;
  typo.back() = typo.back() == '9' ? '0' : typo.back() + 1;
  EXPECT_EQ(Get(typo).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Get(typo).status().message().find("check digit"),
            absl::string_view::npos);
  // Lookups ignore letter case.
  std::string lower = r->case_id;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
  auto c = Get(lower);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->due_date(), "2026-09-03");
  EXPECT_EQ(c->submitted_by(), "clerk-7");
  // Applicant search, in any case.
  v1::ListCasesRequest q;
  q.set_applicant("CHAN TAI MAN");
  EXPECT_EQ(List(q)->cases_size(), 1);
  q.set_applicant("someone else");
  EXPECT_EQ(List(q)->cases_size(), 0);
}

TEST_F(FeaturesTest, PassingTheDueDateWritesOverdueOnce) {
  Open();
  Deploy("test", kOneTask, kManifest);
  auto r = Submit("test", R"({"applicant": {"name": "A", "id": "1234567"}})");
  ASSERT_TRUE(r.ok());
  v1::ListCasesRequest overdue;
  overdue.set_overdue(true);
  EXPECT_EQ(List(overdue)->cases_size(), 0);
  clock_.Advance(3 * 86'400'000LL);  // past the end of 3 September
  v1::Case c;
  for (int i = 0; i < 400; ++i) {
    c = *Get(r->case_id);
    if (c.overdue()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(c.overdue());
  auto list = List(overdue);
  ASSERT_EQ(list->cases_size(), 1);
  EXPECT_EQ(list->cases(0).id(), r->case_id);
  auto h = History(r->case_id);
  EXPECT_EQ(Count(h, "Overdue"), 1);
  auto board = engine_->BoardNow();
  ASSERT_TRUE(board.ok());
  ASSERT_EQ(board->overdue_size(), 1);
  EXPECT_EQ(board->overdue(0).count(), 1);
  // Ending the case takes it off the overdue list and the count.
  auto t = Take("DSF", 1);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(Complete(t[0].token(), "{}").ok());
  WaitFor(r->case_id, v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(List(overdue)->cases_size(), 0);
  board = engine_->BoardNow();
  EXPECT_EQ(board->overdue_size(), 0);
}

TEST_F(FeaturesTest, DocumentsAtSubmitLaterAndFromTheCounter) {
  Open();
  Deploy("docs", R"({"StartAt": "Review", "States": {
    "Review": {"Type": "Task", "Resource": "dept:DSF/review",
      "Catch": [{"ErrorEquals": ["Dept.MoreDocumentsNeeded"],
                 "ResultPath": "$.asked", "Next": "Ask"}], "End": true},
    "Ask": {"Type": "Task", "Resource": "dept:COUNTER/more-documents",
            "ResultPath": "$.brought", "Next": "Review"}}})");
  v1::DocumentRef bad = Doc("x");
  bad.clear_sha256();
  auto refused = Submit("docs", "{}", "", {bad});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("documents[0].sha256"),
            absl::string_view::npos)
      << refused.status();

  auto r = Submit("docs", "{}", "", {Doc("id-card")});
  ASSERT_TRUE(r.ok()) << r.status();
  auto added = Wait<v1::Case>([&](Engine::Done<v1::Case> d) {
    engine_->AddDocuments(r->case_id, {Doc("plan")}, Actor{"clerk-2", "counter"},
                          d);
  });
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->documents_size(), 2);
  EXPECT_EQ(added->documents(1).added_by(), "clerk-2");
  // The department asks for more; the counter's queue gets a task; the
  // clerk completes it with the new documents; the review runs again.
  auto review = Take("DSF", 1);
  ASSERT_EQ(review.size(), 1u);
  ASSERT_TRUE(Wait<bool>([&](Engine::Done<bool> d) {
                engine_->FailTask(review[0].token(), "Dept.MoreDocumentsNeeded",
                                  "lease agreement", "DSF",
                                  Actor{"officer", "department"}, d);
              }).ok());
  auto counter = Take("COUNTER", 1);
  ASSERT_EQ(counter.size(), 1u);
  json result = {{"documents",
                  {{{"id", "lease"},
                    {"name", "lease.pdf"},
                    {"media_type", "application/pdf"},
                    {"size_bytes", 10},
                    {"sha256", std::string(64, 'b')}}}}};
  // A bad document in the result is refused and changes nothing.
  json bad_result = result;
  bad_result["documents"][0]["sha256"] = "zz";
  EXPECT_EQ(Complete(counter[0].token(), bad_result.dump(), "COUNTER").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Complete(counter[0].token(), result.dump(), "COUNTER").ok());
  auto again = Take("DSF", 1);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_TRUE(Complete(again[0].token(), "{}").ok());
  v1::Case c = WaitFor(r->case_id, v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(c.documents_size(), 3);
  EXPECT_EQ(c.documents(2).id(), "lease");
  EXPECT_EQ(Count(History(r->case_id), "DocumentsAdded"), 3);
}

// ---- listing ------------------------------------------------------------

TEST_F(FeaturesTest, ListingsCombineFiltersAndPageWithTokens) {
  Open();
  Deploy("one", kOneTask);
  Deploy("two", kTwoDepts);
  std::vector<std::string> ones, twos;
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(1000);
    ones.push_back(Submit("one", "{}")->case_id);
    clock_.Advance(1000);
    twos.push_back(Submit("two", "{}")->case_id);
  }
  // Finish three of "one".
  auto tasks = Take("DSF", 14);  // 7 of one + 7 of two's branch A
  int done = 0;
  for (const auto& t : tasks) {
    if (t.service() == "one" && done < 3) {
      ASSERT_TRUE(Complete(t.token(), "{}").ok());
      ++done;
    }
  }
  for (int i = 0; i < 400; ++i) {
    v1::ListCasesRequest q;
    q.set_status(v1::CASE_STATUS_SUCCEEDED);
    if (List(q)->cases_size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  v1::ListCasesRequest q;
  q.set_service("one");
  q.set_status(v1::CASE_STATUS_RUNNING);
  EXPECT_EQ(List(q)->cases_size(), 4);
  q.set_status(v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(List(q)->cases_size(), 3);
  v1::ListCasesRequest cb;
  cb.set_department("CB");
  EXPECT_EQ(List(cb)->cases_size(), 7);
  cb.set_status(v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(List(cb)->cases_size(), 0);
  // Newest first, in pages of 3, every case once.
  v1::ListCasesRequest all;
  all.set_limit(3);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = List(all);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& c : r->cases()) seen.push_back(c.id());
    if (r->next_page_token().empty()) break;
    all.set_page_token(r->next_page_token());
  }
  ASSERT_EQ(seen.size(), 14u);
  EXPECT_EQ(seen.front(), twos.back());
  EXPECT_EQ(seen.back(), ones.front());
  // A token of another query is refused.
  v1::ListCasesRequest first;
  first.set_limit(2);
  auto page1 = List(first);
  v1::ListCasesRequest other = q;
  other.set_page_token(page1->next_page_token());
  EXPECT_EQ(List(other).status().code(), absl::StatusCode::kInvalidArgument);
  other.set_page_token("garbage!");
  EXPECT_EQ(List(other).status().code(), absl::StatusCode::kInvalidArgument);
  // Submission time windows.
  v1::ListCasesRequest window;
  window.set_submitted_after_ms(clock_.NowMs() - 4500);
  EXPECT_EQ(List(window)->cases_size(), 5);
  window.set_submitted_before_ms(clock_.NowMs() - 1500);
  EXPECT_EQ(List(window)->cases_size(), 3);
}

// ---- cancel, migrate, verify -----------------------------------------------

class Holder : public WorkerSession {
 public:
  void Push(std::vector<v1::Task> tasks) override {
    std::lock_guard lock(mu);
    for (auto& t : tasks) held.push_back(t.token());
  }
  void Cancelled(const v1::TaskCancelled& n) override {
    std::lock_guard lock(mu);
    notices.push_back(n.reason());
  }
  std::mutex mu;
  std::vector<std::string> held, notices;
};

TEST_F(FeaturesTest, CancelReachesTheDepartmentsAndRecordsWhoAndWhy) {
  Open();
  Deploy("two", kTwoDepts);
  Holder dsf;
  SessionOptions so;
  so.department = "DSF";
  engine_->dispatcher().Attach(&dsf, so);
  auto r = Submit("two", "{}");
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 200; ++i) {
    std::lock_guard lock(dsf.mu);
    if (!dsf.held.empty()) break;
  }
  auto c = Wait<v1::Case>([&](Engine::Done<v1::Case> d) {
    engine_->CancelCase(r->case_id, "citizen withdrew",
                        Actor{"clerk-9", "counter"}, d);
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ended_by(), "clerk-9");
  EXPECT_EQ(c->cause(), "citizen withdrew");
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(dsf.mu);
      if (!dsf.notices.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard lock(dsf.mu);
    ASSERT_EQ(dsf.notices.size(), 1u);
    EXPECT_NE(dsf.notices[0].find("citizen withdrew"), std::string::npos);
    absl::Status late = Complete(dsf.held[0], "{}");
    EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(late.message().find("case cancelled"), absl::string_view::npos)
        << late;
  }
  engine_->dispatcher().Detach(&dsf);
  auto h = History(r->case_id);
  ASSERT_EQ(h.back().type(), "ExecutionCancelled");
  EXPECT_EQ(h.back().actor(), "clerk-9");
  EXPECT_EQ(h.back().actor_role(), "counter");
  EXPECT_EQ(h.front().actor(), "clerk-7");
}

TEST_F(FeaturesTest, MigrationMovesAWaitingCaseOrSaysWhyNot) {
  Open();
  Deploy("svc", kOneTask);
  auto r = Submit("svc", R"({"n": 1})");
  ASSERT_TRUE(r.ok());
  // v2: the same Task, then a new Pass.
  Deploy("svc", R"({"StartAt": "Check", "States": {
    "Check": {"Type": "Task", "Resource": "dept:DSF/check", "Next": "Stamp"},
    "Stamp": {"Type": "Pass", "Result": "v2", "ResultPath": "$.stamp",
              "End": true}}})");
  // v3: no state named Check.
  Deploy("svc", R"({"StartAt": "Other", "States": {
    "Other": {"Type": "Task", "Resource": "dept:DSF/check", "End": true}}})");
  auto migrate = [&](int64_t v) {
    return Wait<v1::Case>([&](Engine::Done<v1::Case> d) {
      engine_->MigrateCase(r->case_id, v, Actor{"ana", "analyst"}, d);
    });
  };
  auto no = migrate(3);
  EXPECT_EQ(no.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(no.status().message().find("Check"), absl::string_view::npos)
      << no.status();
  auto yes = migrate(2);
  ASSERT_TRUE(yes.ok()) << yes.status();
  EXPECT_EQ(yes->version(), 2);
  auto t = Take("DSF", 1);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(Complete(t[0].token(), R"({"ok": true})").ok());
  v1::Case c = WaitFor(r->case_id, v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(json::parse(c.output_json())["stamp"], "v2");
  auto h = History(r->case_id);
  EXPECT_EQ(Count(h, "CaseMigrated"), 1);
}

TEST_F(FeaturesTest, VerifyNamesTheFirstChangedEvent) {
  Open(/*memory=*/false);
  Deploy("one", kOneTask);
  auto r = Submit("one", R"({"amount": 100})");
  ASSERT_TRUE(r.ok());
  auto verify = [&]() {
    return Wait<v1::VerifyCaseResponse>(
        [&](Engine::Done<v1::VerifyCaseResponse> d) {
          engine_->VerifyCase(r->case_id, d);
        });
  };
  auto ok = verify();
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->intact()) << ok->message();
  EXPECT_GT(ok->events(), 2);
  // Change the stored input of the first event behind the engine's back.
  store::Store& st = engine_->store();
  auto row = st.Get(store::kCfHistory, store::HistoryKey(r->case_id, 1));
  ASSERT_TRUE(row.ok());
  store::HistoryChunk chunk;
  ASSERT_TRUE(chunk.ParseFromString(*row));
  chunk.mutable_stored(0)->set_value_json(R"({"amount": 1})");
  auto b = st.NewBatch();
  b->Put(store::kCfHistory, store::HistoryKey(r->case_id, 1),
         chunk.SerializeAsString());
  ASSERT_TRUE(st.Commit(b.get()).ok());
  auto bad = verify();
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->intact());
  EXPECT_EQ(bad->first_bad_seq(), 1);
  EXPECT_NE(bad->message().find("#1"), std::string::npos) << bad->message();
}

// ---- rebuilding cases, commit failures -------------------------------------

TEST_F(FeaturesTest, EvictedCasesAreRebuiltFromCheckpointsAndHistory) {
  Open(/*memory=*/false, nullptr, [](EngineOptions* o) {
    o->max_resident_cases = 2;
    o->checkpoint_every = 3;
  });
  Deploy("two", kTwoDepts);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(Submit("two", "{}")->case_id);
  auto a = Take("DSF", 12);
  ASSERT_EQ(a.size(), 12u);
  for (const auto& t : a) ASSERT_TRUE(Complete(t.token(), "{\"a\":1}").ok());
  // Restart in the middle: nothing is loaded until needed.
  engine_.reset();
  Open(/*memory=*/false, nullptr, [](EngineOptions* o) {
    o->max_resident_cases = 2;
    o->checkpoint_every = 3;
  });
  EXPECT_EQ(engine_->stats().open_cases_at_start, 12);
  EXPECT_EQ(engine_->stats().resident_cases, 0);
  auto b = Take("CB", 12);
  ASSERT_EQ(b.size(), 12u);
  for (const auto& t : b) ASSERT_TRUE(Complete(t.token(), "{\"b\":2}").ok());
  for (const auto& id : ids) {
    v1::Case c = WaitFor(id, v1::CASE_STATUS_SUCCEEDED);
    ASSERT_EQ(c.status(), v1::CASE_STATUS_SUCCEEDED) << id;
    EXPECT_EQ(json::parse(c.output_json()),
              json::parse(R"([{"a":1},{"b":2}])"));
  }
  EXPECT_GE(engine_->stats().loaded_cases, 12);
  EXPECT_LE(engine_->stats().resident_cases, 2);
}

TEST_F(FeaturesTest, AFailedCommitChangesNothingAndTheEngineGoesOn) {
  store::StoreOptions so;
  so.sync = false;
  auto faulty = std::make_unique<store::FaultStore>(store::NewMemStore(so));
  store::FaultStore* f = faulty.get();
  Open(true, std::move(faulty));
  Deploy("one", kOneTask);
  auto ok = Submit("one", "{}", "r1");
  ASSERT_TRUE(ok.ok());
  auto t = Take("DSF", 1);
  ASSERT_EQ(t.size(), 1u);
  f->FailCommit(1);
  // The next commit (this answer) fails: UNAVAILABLE, nothing changes.
  absl::Status s = Complete(t[0].token(), "{}");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(Get(ok->case_id)->status(), v1::CASE_STATUS_RUNNING);
  // A submission whose commit fails leaves no case behind.
  f->FailCommit(1);
  auto lost = Submit("one", "{}", "r2");
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
  // Retried, both go through.
  ASSERT_TRUE(Complete(t[0].token(), "{}").ok());
  EXPECT_EQ(WaitFor(ok->case_id, v1::CASE_STATUS_SUCCEEDED).status(),
            v1::CASE_STATUS_SUCCEEDED);
  auto again = Submit("one", "{}", "r2");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->deduplicated);
  EXPECT_EQ(f->failed(), 2);
}

// Every timer a case arms (its statutory deadline, each task's working-day
// deadline, each state's TimeoutSeconds) leaves memory with the commit that
// deletes its row: whether the case succeeds, is cancelled or its task
// answers first. What the engine holds is what a restart would read.
TEST_F(FeaturesTest, EndedCasesTakeTheirTimersAlong) {
  constexpr char kTimed[] = R"({"StartAt": "Both", "TimeoutSeconds": 86400,
    "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Task",
         "Resource": "dept:DSF/a", "TimeoutSeconds": 3600, "End": true}}},
      {"StartAt": "B", "States": {"B": {"Type": "Task",
         "Resource": "dept:CB/b", "TimeoutSeconds": 3600, "End": true}}}]}}})";
  constexpr char kDeadlines[] = R"(
title: {en: Timed}
case_prefix: TM
deadline: {working_days: 30}
tasks:
  DSF/a: {deadline: {working_days: 5}}
  CB/b: {deadline: {working_days: 10}}
)";
  Open(/*memory=*/false);
  Deploy("timed", kTimed, kDeadlines);
  auto held = Submit("timed", "{}");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(Take("DSF", 1).size(), 1u);
  ASSERT_EQ(Take("CB", 1).size(), 1u);
  // One open case: its deadline, its execution's timeout, and per task a
  // working-day deadline and a TimeoutSeconds. (The count follows the
  // commit's hand-out of the tasks by a moment.)
  int64_t per_case = 0;
  for (int i = 0; i < 400 && per_case == 0; ++i) {
    per_case = engine_->stats().timers;
    if (per_case == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(per_case, 4);

  std::vector<std::string> ended;
  for (int i = 0; i < 12; ++i) {
    auto r = Submit("timed", "{}");
    ASSERT_TRUE(r.ok()) << r.status();
    ended.push_back(r->case_id);
    auto a = Take("DSF", 1);
    ASSERT_EQ(a.size(), 1u);
    if (i % 3 == 0) {
      // Cancelled with both tasks open.
      auto c = Wait<v1::Case>([&](Engine::Done<v1::Case> d) {
        engine_->CancelCase(r->case_id, "withdrawn", Actor{"clerk-9", "counter"},
                            d);
      });
      ASSERT_TRUE(c.ok()) << c.status();
      continue;
    }
    ASSERT_TRUE(Complete(a[0].token(), "{}").ok());
    auto b = Take("CB", 1);
    ASSERT_EQ(b.size(), 1u);
    if (i % 3 == 1) {
      ASSERT_TRUE(Complete(b[0].token(), "{}").ok());
    } else {
      auto f = Wait<bool>([&](Engine::Done<bool> d) {
        engine_->FailTask(b[0].token(), "Refused", "no", "",
                          Actor{"officer-1", "department"}, d);
      });
      ASSERT_TRUE(f.ok()) << f.status();
    }
  }
  for (const std::string& id : ended) {
    auto c = Get(id);
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 400 && c->status() == v1::CASE_STATUS_RUNNING; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      c = Get(id);
    }
    ASSERT_NE(c->status(), v1::CASE_STATUS_RUNNING) << id;
  }
  int64_t timers = engine_->stats().timers;
  for (int i = 0; i < 400 && timers != per_case; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    timers = engine_->stats().timers;
  }
  EXPECT_EQ(timers, per_case);
  // A restart reads the timer rows: the same count.
  engine_.reset();
  Open(/*memory=*/false);
  EXPECT_EQ(engine_->stats().timers, per_case);
  EXPECT_EQ(Get(held->case_id)->status(), v1::CASE_STATUS_RUNNING);
}

}  // namespace
}  // namespace onewindow::scheduler
