// The floor of the gateway -> Lambda hop on this machine: a server that does nothing but the
// hop's three HTTP exchanges over loopback TCP, the way any Lambda emulator must (the Runtime
// API's protocol fixes them), and none of a gateway's or Lambda service's work: no routing
// table, no JSON library, no logs, traces, metrics or store. compare.sh runs it beside stratus
// as line (e), the Lambda counterpart of nginx's `return 200` for a plain request.
//
//   client --GET /--------------> hop_ceiling --200 event (answer to GET .../next)--> runtime
//   client <-200 "ok"------------ hop_ceiling <-POST .../<id>/response--------------- runtime
//                                             --202------------------------------->
//
// Each of THREADS threads has its own epoll loop, its own SO_REUSEPORT listener for clients on
// PORT and its own Runtime API port (RUNTIME_PORT + thread), and starts RUNTIMES / THREADS
// runtime processes (the same native bootstrap as compare.sh's (b), proxy_echo.c) pointed at
// it: a client's request is handed to an idle runtime of its own thread, or queued until one
// asks for its next event. The event is a small API Gateway v2 proxy event with the request's
// method, path and headers; the client's answer is the `body` of the runtime's response.
//
// Build: cc -O2 -pthread -o hop_ceiling hop_ceiling.c
// Usage: hop_ceiling PORT RUNTIME_PORT THREADS RUNTIMES path/to/bootstrap
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxConns = 4096, kBuf = 64 * 1024, kMaxThreads = 16 };

typedef struct Conn {
  int fd;
  int is_runtime;
  char in[kBuf];
  size_t in_len;
  int waiting_client;       // runtime: index of the client whose event it holds, or -1
  struct Conn* next_idle;   // runtime: link in the idle list
  struct Conn* next_queued; // client: link in the queue of requests waiting for a runtime
  char event[2048];         // client: its queued event body
  size_t event_len;
  unsigned generation;
} Conn;

typedef struct Loop {
  int epfd;
  int client_listener;
  int runtime_listener;
  Conn* conns[kMaxConns];  // by fd
  Conn* idle;               // runtimes waiting in GET .../next
  Conn* queue_head;         // clients waiting for a runtime
  Conn* queue_tail;
  unsigned long long request_counter;
  int thread;
} Loop;

static int Listen(int port, int reuse_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0 || listen(fd, 1024) != 0) {
    perror("bind/listen");
    exit(1);
  }
  return fd;
}

static void SendAll(int fd, const char* p, size_t n) {
  // Answers are small and the peers read them at once: a short write means a peer that stopped
  // reading, which this benchmark server does not need to survive.
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void CloseConn(Loop* loop, Conn* c) {
  epoll_ctl(loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  loop->conns[c->fd] = NULL;
  free(c);
}

// Sends a client's event to a runtime as the answer to its GET .../next.
static void Deliver(Loop* loop, Conn* runtime, Conn* client) {
  char head[512];
  unsigned long long id = ++loop->request_counter;
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   "Lambda-Runtime-Aws-Request-Id: %d-%u-%llu\r\n"
                   "Lambda-Runtime-Deadline-Ms: 1900000000000\r\n"
                   "Lambda-Runtime-Invoked-Function-Arn: "
                   "arn:aws:lambda:us-east-1:000000000000:function:echo\r\n"
                   "Content-Length: %zu\r\n\r\n",
                   client->fd, client->generation, id, client->event_len);
  struct iovec iov[2] = {{head, (size_t)n}, {client->event, client->event_len}};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  sendmsg(runtime->fd, &msg, MSG_NOSIGNAL);
  runtime->waiting_client = client->fd;
}

static const char* FindHeaderEnd(const char* p, size_t n) {
  return memmem(p, n, "\r\n\r\n", 4);
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

// A v2 proxy event with the request's method, path and headers (JSON-escaping is skipped: the
// benchmark's requests carry plain ASCII).
static void BuildEvent(Conn* client, const char* req, const char* head_end) {
  const char* sp1 = memchr(req, ' ', (size_t)(head_end - req));
  const char* sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(head_end - sp1 - 1)) : NULL;
  if (!sp1 || !sp2) sp1 = sp2 = req;
  char* out = client->event;
  size_t cap = sizeof(client->event), len = 0;
  len += (size_t)snprintf(out + len, cap - len,
                          "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"%.*s\","
                          "\"rawQueryString\":\"\",\"headers\":{",
                          (int)(sp2 - sp1 - 1), sp1 + 1);
  const char* line = memmem(req, (size_t)(head_end - req) + 2, "\r\n", 2);
  int first = 1;
  while (line && line + 2 < head_end && len < cap - 256) {
    const char* start = line + 2;
    const char* eol = memmem(start, (size_t)(head_end - start) + 2, "\r\n", 2);
    if (!eol) break;
    const char* colon = memchr(start, ':', (size_t)(eol - start));
    if (colon) {
      const char* v = colon + 1;
      while (v < eol && *v == ' ') v++;
      len += (size_t)snprintf(out + len, cap - len, "%s\"%.*s\":\"%.*s\"", first ? "" : ",",
                              (int)(colon - start), start, (int)(eol - v), v);
      first = 0;
    }
    line = eol;
  }
  len += (size_t)snprintf(
      out + len, cap - len,
      "},\"requestContext\":{\"accountId\":\"000000000000\",\"apiId\":\"hop\","
      "\"domainName\":\"127.0.0.1\",\"http\":{\"method\":\"%.*s\",\"path\":\"%.*s\","
      "\"protocol\":\"HTTP/1.1\",\"sourceIp\":\"127.0.0.1\",\"userAgent\":\"wrk\"},"
      "\"requestId\":\"%llu\",\"routeKey\":\"$default\",\"stage\":\"$default\","
      "\"timeEpoch\":1764000000000},\"isBase64Encoded\":false}",
      (int)(sp1 - req), req, (int)(sp2 - sp1 - 1), sp1 + 1, 0ULL);
  client->event_len = len < cap ? len : cap - 1;
}

// The runtime's response for a client: 202 to the runtime, the proxy response's body to the
// client.
static void Respond(Loop* loop, Conn* runtime, const char* body, size_t body_len) {
  static const char k202[] =
      "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
      "{\"status\":\"OK\"}";
  SendAll(runtime->fd, k202, sizeof(k202) - 1);
  int cfd = runtime->waiting_client;
  runtime->waiting_client = -1;
  Conn* client = cfd >= 0 ? loop->conns[cfd] : NULL;
  if (!client) return;
  // {"statusCode": 200, "body": "ok"}: the body string, unescaped as given.
  const char* b = memmem(body, body_len, "\"body\"", 6);
  const char* v = b ? memchr(b + 6, '"', body_len - (size_t)(b + 6 - body)) : NULL;
  const char* e = v ? memchr(v + 1, '"', body_len - (size_t)(v + 1 - body)) : NULL;
  size_t n = (v && e) ? (size_t)(e - v - 1) : 0;
  char out[512];
  int h = snprintf(out, sizeof(out),
                   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "apigw-requestid: %llu\r\n\r\n%.*s",
                   n, loop->request_counter, (int)n, v ? v + 1 : "");
  SendAll(client->fd, out, (size_t)h);
}

static void HandleRequest(Loop* loop, Conn* c, const char* req, const char* head_end,
                          const char* body, size_t body_len) {
  static const char kRuntime[] = "/2018-06-01/runtime/invocation/";
  const char* path = memchr(req, ' ', (size_t)(head_end - req));
  path = path ? path + 1 : req;
  if (c->is_runtime && strncmp(path, kRuntime, sizeof(kRuntime) - 1) == 0) {
    const char* rest = path + sizeof(kRuntime) - 1;
    if (strncmp(rest, "next ", 5) == 0) {
      Conn* client = loop->queue_head;
      if (client) {
        loop->queue_head = client->next_queued;
        if (!loop->queue_head) loop->queue_tail = NULL;
        Deliver(loop, c, client);
      } else {
        c->next_idle = loop->idle;
        loop->idle = c;
      }
    } else {
      Respond(loop, c, body, body_len);
    }
    return;
  }
  BuildEvent(c, req, head_end);
  Conn* runtime = loop->idle;
  if (runtime) {
    loop->idle = runtime->next_idle;
    Deliver(loop, runtime, c);
  } else {
    c->next_queued = NULL;
    if (loop->queue_tail) loop->queue_tail->next_queued = c;
    else loop->queue_head = c;
    loop->queue_tail = c;
  }
}

static void OnReadable(Loop* loop, Conn* c) {
  ssize_t r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
  if (r <= 0) {
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    CloseConn(loop, c);
    return;
  }
  c->in_len += (size_t)r;
  size_t used = 0;
  for (;;) {
    const char* req = c->in + used;
    const char* end = FindHeaderEnd(req, c->in_len - used);
    if (!end) break;
    size_t head = (size_t)(end - req) + 4;
    size_t body = ContentLength(req, end);
    if (used + head + body > c->in_len) break;
    HandleRequest(loop, c, req, end, req + head, body);
    used += head + body;
  }
  memmove(c->in, c->in + used, c->in_len - used);
  c->in_len -= used;
  if (c->in_len == sizeof(c->in)) CloseConn(loop, c);
}

static void Accept(Loop* loop, int listener, int is_runtime) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (fd >= kMaxConns) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Conn* c = calloc(1, sizeof(Conn));
    c->fd = fd;
    c->is_runtime = is_runtime;
    c->waiting_client = -1;
    static unsigned generation;
    c->generation = __atomic_add_fetch(&generation, 1, __ATOMIC_RELAXED);
    loop->conns[fd] = c;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
  }
}

static void* Run(void* arg) {
  Loop* loop = arg;
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(loop->epfd, events, 256, -1);
    for (int i = 0; i < n; i++) {
      void* p = events[i].data.ptr;
      if (p == &loop->client_listener) Accept(loop, loop->client_listener, 0);
      else if (p == &loop->runtime_listener) Accept(loop, loop->runtime_listener, 1);
      else OnReadable(loop, p);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s PORT RUNTIME_PORT THREADS RUNTIMES bootstrap\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), runtime_port = atoi(argv[2]), threads = atoi(argv[3]);
  int runtimes = atoi(argv[4]);
  if (threads < 1 || threads > kMaxThreads) return 2;
  signal(SIGPIPE, SIG_IGN);
  static Loop loops[kMaxThreads];
  for (int t = 0; t < threads; t++) {
    Loop* loop = &loops[t];
    loop->thread = t;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->client_listener = Listen(port, 1);
    loop->runtime_listener = Listen(runtime_port + t, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &loop->client_listener};
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->client_listener, &ev);
    ev.data.ptr = &loop->runtime_listener;
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->runtime_listener, &ev);
  }
  for (int i = 0; i < runtimes; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      char api[64];
      snprintf(api, sizeof(api), "127.0.0.1:%d", runtime_port + i % threads);
      setenv("AWS_LAMBDA_RUNTIME_API", api, 1);
      execl(argv[5], argv[5], (char*)NULL);
      _exit(127);
    }
  }
  pthread_t ids[kMaxThreads];
  for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, Run, &loops[t]);
  Run(&loops[0]);
  return 0;
}
