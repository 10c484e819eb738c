// A tiny `provided` runtime for benchmarks: speaks the Lambda Runtime API over one keep-alive
// connection and echoes every event back. Written for stratus's benchmarks.
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

static char buf[8 << 20];

static int connect_api(void) {
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api) return -1;
  char host[256];
  snprintf(host, sizeof(host), "%s", api);
  char* colon = strrchr(host, ':');
  if (!colon) return -1;
  *colon = 0;
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(colon + 1));
  inet_pton(AF_INET, host, &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) return -1;
  return fd;
}

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// Reads one response; returns the body length (body at *body) or -1. Copies the request id.
static long read_response(int fd, char** body, char* request_id, size_t id_size) {
  size_t have = 0;
  char* end = NULL;
  while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - have);
    if (r <= 0) return -1;
    have += (size_t)r;
  }
  size_t header_len = (size_t)(end - buf) + 4;
  long length = 0;
  for (char* line = buf; line < end;) {
    char* eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
    if (!eol) break;
    if (strncasecmp(line, "content-length:", 15) == 0) length = atol(line + 15);
    if (request_id && strncasecmp(line, "lambda-runtime-aws-request-id:", 30) == 0) {
      char* v = line + 30;
      while (*v == ' ') v++;
      size_t n = (size_t)(eol - v);
      if (n >= id_size) n = id_size - 1;
      memcpy(request_id, v, n);
      request_id[n] = 0;
    }
    line = eol + 2;
  }
  while (have < header_len + (size_t)length) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - have);
    if (r <= 0) return -1;
    have += (size_t)r;
  }
  *body = buf + header_len;
  return length;
}

int main(void) {
  int fd = connect_api();
  if (fd < 0) return 1;
  static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n";
  static char out[8 << 20];
  for (;;) {
    if (write_all(fd, next, sizeof(next) - 1) != 0) return 1;
    char id[128] = {0};
    char* body = NULL;
    long n = read_response(fd, &body, id, sizeof(id));
    if (n < 0) return 1;
    int head = snprintf(out, sizeof(out),
                        "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: runtime\r\n"
                        "Content-Length: %ld\r\n\r\n", id, n);
    memcpy(out + head, body, (size_t)n);
    if (write_all(fd, out, (size_t)head + (size_t)n) != 0) return 1;
    char* ignored;
    if (read_response(fd, &ignored, NULL, 0) < 0) return 1;
  }
}
