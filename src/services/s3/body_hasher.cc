#include "services/s3/body_hasher.h"

#include <openssl/evp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::s3 {

namespace {

// A body's task yields its pool thread after this many blocks, so that other bodies' blocks
// are not held up behind one fast upload.
constexpr int kBlocksPerTask = 4;
// Emptied blocks kept for reuse per body, so a long upload does not allocate (and fault in)
// a fresh megabyte per block.
constexpr size_t kSpareBlocks = 1;

// An OpenSSL message digest (its assembly implementations) fed piece by piece.
class EvpHash {
 public:
  explicit EvpHash(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, md_, nullptr);
  }
  ~EvpHash() { EVP_MD_CTX_free(ctx_); }
  EvpHash(const EvpHash&) = delete;
  EvpHash& operator=(const EvpHash&) = delete;
  void Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  // The digest of everything since the last Final (or construction); starts over.
  std::string Final() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    EVP_DigestInit_ex(ctx_, md_, nullptr);
    return std::string(reinterpret_cast<char*>(out), n);
  }

 private:
  const EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

// MD5 and the announced checksums of the payload; final values are taken once, by Finish.
class Digester final : public BodyDigests {
 public:
  explicit Digester(const std::set<std::string>& algorithms) : md5_(EVP_md5()) {
    for (const std::string& a : algorithms) {
      if (a == "SHA1") sha1_ = std::make_unique<EvpHash>(EVP_sha1());
      if (a == "SHA256") sha256_ = std::make_unique<EvpHash>(EVP_sha256());
      if (a == "CRC32" || a == "CRC32C" || a == "CRC64NVME") crcs_.emplace_back(a, 0);
    }
  }
  // True when anything besides MD5 is computed.
  bool HasOthers() const { return sha1_ || sha256_ || !crcs_.empty(); }
  // MD5 and the others are separate state: one thread may feed each at the same time.
  void UpdateMd5(std::string_view data) { md5_.Update(data); }
  void UpdateOthers(std::string_view data) {
    if (sha1_) sha1_->Update(data);
    if (sha256_) sha256_->Update(data);
    for (auto& [a, crc] : crcs_) {
      if (a == "CRC32") crc = Crc32(data, static_cast<uint32_t>(crc));
      if (a == "CRC32C") crc = Crc32c(data, static_cast<uint32_t>(crc));
      if (a == "CRC64NVME") crc = Crc64Nvme(data, crc);
    }
  }
  void Finish() {
    md5_value_ = md5_.Final();
    if (sha1_) values_["SHA1"] = Base64Encode(sha1_->Final());
    if (sha256_) values_["SHA256"] = Base64Encode(sha256_->Final());
    for (const auto& [a, crc] : crcs_) values_[a] = ChecksumValue(a, crc);
  }
  std::string Md5() const override { return md5_value_; }
  std::optional<std::string> Compute(std::string_view algorithm) const override {
    auto it = values_.find(std::string(algorithm));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

 private:
  EvpHash md5_;
  std::unique_ptr<EvpHash> sha1_, sha256_;
  std::vector<std::pair<std::string, uint64_t>> crcs_;
  std::string md5_value_;
  std::map<std::string, std::string> values_;
};

struct Block {
  std::string data;
  // (offset in data where a chunk ends, its claimed signature), in order.
  std::vector<std::pair<size_t, std::string>> ends;
  // Lanes that have yet to hash this block; the last one gives it back.
  std::atomic<int> lanes_left{0};
};

// The MD5 lane hashes MD5 only; the other lane the announced checksums and the chunk signatures.
// A body with nothing but MD5 to compute has one lane.
constexpr int kMd5Lane = 0;
constexpr int kOtherLane = 1;

}  // namespace

struct BodyHasher::State : std::enable_shared_from_this<State> {
  State(HashingPool& p, const std::set<std::string>& algorithms,
        std::optional<aws::ChunkSigningContext> s)
      : pool(p), digester(algorithms), signing(std::move(s)) {
    if (signing) {
      chunk_sha = std::make_unique<EvpHash>(EVP_sha256());
      previous = signing->seed_signature;
    }
    lane_count = p.split_digests() && (digester.HasOthers() || signing) ? 2 : 1;
  }

  // Runs on the pool: hashes the lane's queued blocks in order, a few at a time.
  void Drain(int lane) {
    for (int i = 0; i < kBlocksPerTask; ++i) {
      std::shared_ptr<Block> block;
      std::vector<std::shared_ptr<Block>> dropped;
      {
        std::lock_guard lock(mu);
        std::deque<std::shared_ptr<Block>>& queue = lanes[lane].queue;
        if (queue.empty() || cancelled) {
          dropped.assign(queue.begin(), queue.end());
          queue.clear();
          lanes[lane].running = false;
          cv.notify_all();
        } else {
          block = std::move(queue.front());
          queue.pop_front();
        }
      }
      if (!block) {
        for (auto& d : dropped) Finished(std::move(d));
        return;
      }
      Process(lane, *block);
      Finished(std::move(block));
    }
    pool.workers().Submit([self = shared_from_this(), lane] { self->Drain(lane); });
  }

  // A lane is done with `block`: the last one gives its budget back and keeps it for reuse.
  void Finished(std::shared_ptr<Block> block) {
    if (block->lanes_left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    size_t n = block->data.size();
    pool.Release(n);
    block->data.clear();
    block->ends.clear();
    std::lock_guard lock(mu);
    queued_bytes -= std::min(queued_bytes, n);
    if (spare.size() < kSpareBlocks) spare.push_back(std::move(block));
    cv.notify_all();
  }

  void HashOthers(std::string_view data) {
    if (data.empty()) return;
    digester.UpdateOthers(data);
    if (chunk_sha && !bad_signature.load(std::memory_order_relaxed)) chunk_sha->Update(data);
  }

  void Process(int lane, const Block& block) {
    std::string_view data = block.data;
    if (lane == kMd5Lane) {
      digester.UpdateMd5(data);
      if (lane_count == 2) return;
    }
    size_t pos = 0;
    for (const auto& [end, claimed] : block.ends) {
      HashOthers(data.substr(pos, end - pos));
      pos = end;
      if (!chunk_sha || bad_signature.load(std::memory_order_relaxed)) continue;
      std::string expected =
          aws::AwsChunkSignature(*signing, previous, HexEncode(chunk_sha->Final()));
      if (claimed.empty() || !ConstantTimeEquals(expected, claimed)) {
        bad_signature.store(true);
      } else {
        previous = std::move(expected);
      }
    }
    HashOthers(data.substr(pos));
  }

  // Receiver side: queues a block on every lane, waiting while too much is queued already.
  void Submit(std::shared_ptr<Block> block) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return queued_bytes < kMaxQueuedBytes || cancelled; });
      if (cancelled) return;
    }
    // Not under mu: the budget is given back by Finished, which takes mu.
    pool.Acquire(block->data.size());
    std::lock_guard lock(mu);
    if (cancelled) {
      pool.Release(block->data.size());
      return;
    }
    queued_bytes += block->data.size();
    block->lanes_left.store(lane_count, std::memory_order_relaxed);
    for (int lane = 0; lane < lane_count; ++lane) {
      lanes[lane].queue.push_back(block);
      if (!lanes[lane].running) {
        lanes[lane].running = true;
        pool.workers().Submit([self = shared_from_this(), lane] { self->Drain(lane); });
      }
    }
  }

  std::shared_ptr<Block> NewBlock() {
    std::shared_ptr<Block> block;
    {
      std::lock_guard lock(mu);
      if (!spare.empty()) {
        block = std::move(spare.back());
        spare.pop_back();
      }
    }
    if (!block) {
      block = std::make_shared<Block>();
      block->data.reserve(kBlockBytes);
    }
    return block;
  }

  bool Idle() const {  // mu held
    for (int lane = 0; lane < lane_count; ++lane) {
      if (lanes[lane].running || !lanes[lane].queue.empty()) return false;
    }
    return true;
  }

  HashingPool& pool;
  // Hashing state: the MD5 lane's digest and the other lane's (digests, chunk signatures) are
  // each used by one Drain of their lane at a time (handed between pool threads under mu), then
  // by Wait's caller once nothing runs.
  Digester digester;
  const std::optional<aws::ChunkSigningContext> signing;
  std::unique_ptr<EvpHash> chunk_sha;  // the current chunk's SHA-256, when verifying
  std::string previous;                // the last verified chunk signature
  std::atomic<bool> bad_signature{false};
  int lane_count = 1;  // set once in the constructor

  std::shared_ptr<Block> current;  // the receiver's block being filled; receiver only

  struct Lane {
    std::deque<std::shared_ptr<Block>> queue;
    bool running = false;  // a Drain task of this lane is queued or running
  };
  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  Lane lanes[2];
  std::vector<std::shared_ptr<Block>> spare;
  size_t queued_bytes = 0;  // bytes of blocks some lane has yet to hash
  bool cancelled = false;
};

HashingPool::HashingPool(size_t threads, size_t max_backlog_bytes, Lanes lanes)
    : workers_(threads, /*idle_exit_ms=*/5'000),
      max_backlog_bytes_(max_backlog_bytes),
      split_digests_(lanes == Lanes::kTwo ||
                     (lanes == Lanes::kAuto && threads >= kMinThreadsToSplit)) {}

void HashingPool::Acquire(size_t n) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return used_ == 0 || used_ + n <= max_backlog_bytes_; });
  used_ += n;
}

void HashingPool::Release(size_t n) {
  {
    std::lock_guard lock(mu_);
    used_ -= std::min(used_, n);
  }
  cv_.notify_all();
}

BodyHasher::BodyHasher(HashingPool& pool, std::set<std::string> algorithms,
                       std::optional<aws::ChunkSigningContext> signing)
    : state_(std::make_shared<State>(pool, algorithms, std::move(signing))) {}

BodyHasher::~BodyHasher() {
  // Queued blocks are of no use to anyone any more.
  std::lock_guard lock(state_->mu);
  state_->cancelled = true;
  state_->cv.notify_all();
}

void BodyHasher::Data(std::string_view data) {
  State& s = *state_;
  while (!data.empty()) {
    if (!s.current) s.current = s.NewBlock();
    size_t n = std::min(kBlockBytes - std::min(kBlockBytes, s.current->data.size()), data.size());
    s.current->data.append(data.substr(0, n));
    data.remove_prefix(n);
    if (s.current->data.size() >= kBlockBytes) s.Submit(std::move(s.current));
  }
}

void BodyHasher::ChunkEnd(std::string_view signature) {
  State& s = *state_;
  if (!s.current) s.current = s.NewBlock();
  s.current->ends.emplace_back(s.current->data.size(), std::string(signature));
}

void BodyHasher::Close() {
  State& s = *state_;
  if (s.current && (!s.current->data.empty() || !s.current->ends.empty())) {
    s.Submit(std::move(s.current));
  }
  s.current.reset();
}

void BodyHasher::Cancel() {
  std::lock_guard lock(state_->mu);
  state_->cancelled = true;
  state_->cv.notify_all();
}

bool BodyHasher::Failed() const { return state_->bad_signature.load(std::memory_order_relaxed); }

Status BodyHasher::Wait() {
  State& s = *state_;
  {
    std::unique_lock lock(s.mu);
    s.cv.wait(lock, [&] { return s.Idle(); });
  }
  if (s.bad_signature.load()) return aws::AwsChunkedSignatureMismatch();
  s.digester.Finish();
  return Status::Ok();
}

const BodyDigests& BodyHasher::digests() const { return state_->digester; }
const std::string& BodyHasher::last_signature() const { return state_->previous; }

}  // namespace stratus::services::s3
