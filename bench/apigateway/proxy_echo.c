// The `provided` function behind benchmark (b): a native bootstrap that speaks the Lambda
// Runtime API over one keep-alive connection and answers every proxy event with the same
// small proxy response the python bootstrap of earlier runs sent, {"statusCode": 200,
// "body": "ok"}, so the figures measure the gateway and the invoke path, not an interpreter.
// Build: cc -O2 -o bootstrap proxy_echo.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufferBytes = 8 << 20 };
static char in[kBufferBytes];
static size_t in_len;  // bytes buffered in `in` (a response may arrive with the next's start)

static int Connect(void) {
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api) return -1;
  char host[256];
  snprintf(host, sizeof(host), "%s", api);
  char* colon = strrchr(host, ':');
  if (!colon) return -1;
  *colon = '\0';
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) return -1;
  return fd;
}

static int SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// Reads one HTTP response and drops it from the buffer; copies the
// Lambda-Runtime-Aws-Request-Id header into `id` when asked. Returns 0, or -1 on a closed or
// malformed connection.
static int ReadResponse(int fd, char* id, size_t id_size) {
  char* end;
  while ((end = memmem(in, in_len, "\r\n\r\n", 4)) == NULL) {
    if (in_len == sizeof(in)) return -1;
    ssize_t r = read(fd, in + in_len, sizeof(in) - in_len);
    if (r <= 0) return -1;
    in_len += (size_t)r;
  }
  size_t head = (size_t)(end - in) + 4;
  size_t body = 0;
  for (char* line = in; line < end;) {
    char* eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
    if (!eol) break;
    if (strncasecmp(line, "content-length:", 15) == 0) body = (size_t)atol(line + 15);
    if (id && strncasecmp(line, "lambda-runtime-aws-request-id:", 30) == 0) {
      const char* v = line + 30;
      while (*v == ' ') v++;
      size_t n = (size_t)(eol - v);
      if (n >= id_size) n = id_size - 1;
      memcpy(id, v, n);
      id[n] = '\0';
    }
    line = eol + 2;
  }
  if (head + body > sizeof(in)) return -1;
  while (in_len < head + body) {
    ssize_t r = read(fd, in + in_len, sizeof(in) - in_len);
    if (r <= 0) return -1;
    in_len += (size_t)r;
  }
  memmove(in, in + head + body, in_len - head - body);
  in_len -= head + body;
  return 0;
}

int main(void) {
  int fd = Connect();
  if (fd < 0) return 1;
  static const char kNext[] =
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n";
  static const char kAnswer[] = "{\"statusCode\": 200, \"body\": \"ok\"}";
  char out[512];
  for (;;) {
    char id[128] = {0};
    if (SendAll(fd, kNext, sizeof(kNext) - 1) != 0) return 1;
    if (ReadResponse(fd, id, sizeof(id)) != 0) return 1;
    int n = snprintf(out, sizeof(out),
                     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n"
                     "Host: runtime\r\nContent-Length: %zu\r\n\r\n%s",
                     id, sizeof(kAnswer) - 1, kAnswer);
    if (n < 0 || (size_t)n >= sizeof(out)) return 1;
    if (SendAll(fd, out, (size_t)n) != 0) return 1;
    if (ReadResponse(fd, NULL, 0) != 0) return 1;
  }
}
