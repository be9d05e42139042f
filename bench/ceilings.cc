// ow-ceilings: what this machine can do at best for the two costs every case
// pays, measured beside the engine so its figures can be read as fractions.
//
//   ow-ceilings [--dir DIR] [--seconds S] [--threads 1,8,64] [--json]
//
// (a) RocksDB: synced WriteBatches of one transition (3 keys x 500 B in three
//     column families, as a shard writes a case, a history event and a task)
//     from one writer; then group commit, 64 transitions per synced batch.
//     Reported as transitions/s. Options as the engine's store sets them.
// (b) gRPC: a trivial unary echo (300-byte payload, callback server) on
//     127.0.0.1, driven by N client threads doing blocking calls on one
//     channel, as ow-bench does. Reported as calls/s.

#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Flags {
  std::string dir;
  double seconds = 3;
  std::vector<int> threads = {1, 8, 64};
  bool json = false;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: ow-ceilings [--dir DIR] [--seconds S] "
               "[--threads 1,8,64] [--json]\n");
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--dir") {
      f.dir = next();
    } else if (a == "--seconds") {
      f.seconds = std::stod(next());
    } else if (a == "--threads") {
      f.threads.clear();
      std::stringstream ss(next());
      std::string item;
      while (std::getline(ss, item, ',')) f.threads.push_back(std::stoi(item));
    } else if (a == "--json") {
      f.json = true;
    } else {
      Usage();
    }
  }
  return f;
}

struct RocksResult {
  double transitions_per_s = 0;
  double syncs_per_s = 0;
  double ms_per_sync = 0;
};

// Writes synced batches of `per_batch` transitions for `seconds`.
RocksResult RocksCeiling(const std::string& dir, int per_batch,
                         double seconds) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  options.enable_pipelined_write = true;
  options.write_buffer_size = 32 << 20;
  options.max_total_wal_size = 256 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName,
       rocksdb::ColumnFamilyOptions(options)},
      {"cases", rocksdb::ColumnFamilyOptions(options)},
      {"history", rocksdb::ColumnFamilyOptions(options)},
      {"tasks", rocksdb::ColumnFamilyOptions(options)},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(rocksdb::DBOptions(options), dir, cfs, &handles, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "ow-ceilings: rocksdb open %s: %s\n", dir.c_str(),
                 s.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const std::string value(500, 'v');
  int64_t transitions = 0, syncs = 0;
  char key[64];
  const auto t0 = Clock::now();
  const auto until =
      t0 + std::chrono::duration_cast<Clock::duration>(
               std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
    rocksdb::WriteBatch wb;
    for (int i = 0; i < per_batch; ++i) {
      const long long n = transitions + i;
      std::snprintf(key, sizeof(key), "OW-%010lld", n / 5);
      wb.Put(handles[1], key, value);
      std::snprintf(key, sizeof(key), "OW-%010lld/%08lld", n / 5, n);
      wb.Put(handles[2], key, value);
      std::snprintf(key, sizeof(key), "OW-%010lld/t%lld/1/abc", n / 5, n % 4);
      wb.Put(handles[3], key, value);
    }
    s = db->Write(wo, &wb);
    if (!s.ok()) {
      std::fprintf(stderr, "ow-ceilings: write: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    transitions += per_batch;
    ++syncs;
  }
  const double el = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db.reset();
  std::filesystem::remove_all(dir);
  RocksResult r;
  r.transitions_per_s = static_cast<double>(transitions) / el;
  r.syncs_per_s = static_cast<double>(syncs) / el;
  r.ms_per_sync = syncs ? el * 1000 / static_cast<double>(syncs) : 0;
  return r;
}

class EchoService final : public owbench::v1::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const owbench::v1::EchoRequest* req,
                                 owbench::v1::EchoReply* resp) override {
    resp->set_payload(req->payload());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

double EchoCeiling(const std::string& addr, int threads, double seconds) {
  auto channel =
      grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  channel->WaitForConnected(std::chrono::system_clock::now() +
                            std::chrono::seconds(5));
  auto stub = owbench::v1::Echo::NewStub(channel);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0};
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      owbench::v1::EchoRequest req;
      req.set_payload(std::string(300, 'p'));
      int64_t mine = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        grpc::ClientContext ctx;
        owbench::v1::EchoReply resp;
        if (stub->Echo(&ctx, req, &resp).ok()) ++mine;
      }
      calls += mine;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double el = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(calls.load()) / el;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  std::string tmp;
  if (f.dir.empty()) {
    char tmpl[] = "/tmp/ow-ceilings.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    tmp = tmpl;
    f.dir = tmp;
  }
  const RocksResult single = RocksCeiling(f.dir + "/single", 1, f.seconds);
  const RocksResult group = RocksCeiling(f.dir + "/group", 64, f.seconds);

  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "ow-ceilings: cannot start the echo server\n");
    return 1;
  }
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  Json echo = Json::object();
  for (int t : f.threads) {
    echo[std::to_string(t)] = EchoCeiling(addr, t, f.seconds);
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (!tmp.empty()) std::filesystem::remove_all(tmp);

  Json out = {
      {"rocksdb_single_transitions_per_s", single.transitions_per_s},
      {"rocksdb_single_ms_per_sync", single.ms_per_sync},
      {"rocksdb_group64_transitions_per_s", group.transitions_per_s},
      {"rocksdb_group64_ms_per_sync", group.ms_per_sync},
      {"grpc_echo_calls_per_s", echo},
      {"seconds", f.seconds},
  };
  if (f.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("RocksDB synced, 1 transition/batch : %9.0f transitions/s "
                "(%.2f ms/sync)\n",
                single.transitions_per_s, single.ms_per_sync);
    std::printf("RocksDB synced, 64 transitions/batch: %9.0f transitions/s "
                "(%.2f ms/sync)\n",
                group.transitions_per_s, group.ms_per_sync);
    for (auto& [k, v] : echo.items()) {
      std::printf("gRPC unary echo, %3s client threads: %9.0f calls/s\n",
                  k.c_str(), v.get<double>());
    }
  }
  return 0;
}
