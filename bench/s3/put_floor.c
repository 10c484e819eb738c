// The floor of a durable small PUT on this machine: a server that does only what any S3 server
// must do for a PUT acknowledged after fsync, and nothing else. It reads `PUT /<bucket>/<key>`
// with a Content-Length body, computes the body's MD5 (S3's ETag), appends a record (key,
// length, ETag) and the body to one log file, and once per batch — the requests that arrived in
// one epoll round — calls fdatasync(2) and only then answers every PUT of the batch with 200 and
// its ETag. No index, no signature checks, no XML, no routing: compare.sh runs it beside stratus
// as the durable-PUT counterpart of nginx's `return 200`.
//
// One thread (group commit needs the batch in one place; a second loop would add a second log
// and a second sync per round). The log file is removed at exit.
//
// Build: cc -O2 -o put_floor put_floor.c -lcrypto
// Usage: put_floor PORT DIR
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { kMaxConns = 4096, kBuf = 1 << 20, kMaxBatch = 4096 };

typedef struct Conn {
  int fd;
  char* in;
  size_t in_len;
  char answer[256];  // the answer of its PUT in the current batch
  size_t answer_len;
} Conn;

static Conn* conns[kMaxConns];
static Conn* batch[kMaxBatch];
static int batch_len;
static int log_fd;
static off_t log_end;
static char log_path[4096];

static void Cleanup(int sig) {
  unlink(log_path);
  _exit(sig == 0 ? 0 : 128 + sig);
}

static void CloseConn(int epfd, Conn* c) {
  for (int i = 0; i < batch_len; i++) {
    if (batch[i] == c) batch[i] = NULL;  // its PUT is still synced; nobody to answer
  }
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  conns[c->fd] = NULL;
  free(c->in);
  free(c);
}

static size_t ContentLength(const char* head, const char* end) {
  for (const char* line = head; line < end;) {
    const char* eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
    if (!eol) break;
    if (strncasecmp(line, "content-length:", 15) == 0) return (size_t)atol(line + 15);
    line = eol + 2;
  }
  return 0;
}

// One PUT: its record and body appended to the log (not yet synced), its answer prepared.
static void Put(Conn* c, const char* req, const char* head_end, const char* body, size_t n) {
  const char* path = memchr(req, ' ', (size_t)(head_end - req));
  const char* path_end = path ? memchr(path + 1, ' ', (size_t)(head_end - path - 1)) : NULL;
  if (!path || !path_end) path = path_end = req;
  unsigned char md5[16];
  unsigned int md5_len = 0;
  EVP_Digest(body, n, md5, &md5_len, EVP_md5(), NULL);
  char etag[33];
  for (int i = 0; i < 16; i++) snprintf(etag + 2 * i, 3, "%02x", md5[i]);
  char record[1024];
  int r = snprintf(record, sizeof(record), "%.*s %zu %s\n", (int)(path_end - path - 1), path + 1,
                   n, etag);
  struct iovec iov[2] = {{record, (size_t)r}, {(void*)body, n}};
  ssize_t w = pwritev(log_fd, iov, 2, log_end);
  if (w != (ssize_t)(r + n)) {
    perror("pwritev");
    Cleanup(1);
  }
  log_end += w;
  c->answer_len = (size_t)snprintf(c->answer, sizeof(c->answer),
                                   "HTTP/1.1 200 OK\r\nETag: \"%s\"\r\n"
                                   "x-amz-request-id: %016llx\r\nContent-Length: 0\r\n\r\n",
                                   etag, (unsigned long long)log_end);
  batch[batch_len++] = c;
}

// Takes the connection's first complete PUT, if any, into the batch.
static void TakeOne(Conn* c) {
  size_t used = 0;
  // One PUT per connection per batch: a pipelined second one waits for the next round, so an
  // answer is never sent before its PUT is synced.
  const char* req = c->in;
  const char* end = memmem(req, c->in_len, "\r\n\r\n", 4);
  if (end) {
    size_t head = (size_t)(end - req) + 4;
    size_t body = ContentLength(req, end);
    if (head + body <= c->in_len && batch_len < kMaxBatch) {
      Put(c, req, end, req + head, body);
      used = head + body;
    }
  }
  memmove(c->in, c->in + used, c->in_len - used);
  c->in_len -= used;
}

static void OnReadable(int epfd, Conn* c) {
  ssize_t r = read(c->fd, c->in + c->in_len, kBuf - c->in_len);
  if (r <= 0) {
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    CloseConn(epfd, c);
    return;
  }
  c->in_len += (size_t)r;
  int before = batch_len;
  TakeOne(c);
  if (batch_len == before && c->in_len == kBuf) CloseConn(epfd, c);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PORT DIR\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, Cleanup);
  signal(SIGINT, Cleanup);
  snprintf(log_path, sizeof(log_path), "%s/put_floor.log", argv[2]);
  log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    perror(log_path);
    return 1;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof(addr)) != 0 || listen(lfd, 1024) != 0) {
    perror("bind/listen");
    Cleanup(1);
  }
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event events[256];
  static Conn* answered[kMaxBatch];
  for (;;) {
    // A batch taken from input read earlier (pipelined PUTs) is synced without waiting.
    int n = epoll_wait(epfd, events, 256, batch_len > 0 ? 0 : -1);
    for (int i = 0; i < n; i++) {
      Conn* c = events[i].data.ptr;
      if (c) {
        OnReadable(epfd, c);
        continue;
      }
      for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (fd >= kMaxConns) {
          close(fd);
          continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = calloc(1, sizeof(Conn));
        c->fd = fd;
        c->in = malloc(kBuf);
        conns[fd] = c;
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
      }
    }
    if (batch_len > 0) {
      if (fdatasync(log_fd) != 0) {
        perror("fdatasync");
        Cleanup(1);
      }
      int count = batch_len;
      memcpy(answered, batch, sizeof(Conn*) * (size_t)count);
      batch_len = 0;
      for (int i = 0; i < count; i++) {
        Conn* b = answered[i];
        if (!b) continue;
        if (write(b->fd, b->answer, b->answer_len) < 0) continue;
        TakeOne(b);  // a pipelined PUT already read joins the next batch
      }
    }
  }
}
