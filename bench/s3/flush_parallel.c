// Whether this machine's disk overlaps concurrent device flushes: THREADS threads each append
// 4 KiB to a file of their own (its first 4 MiB written and fsync'd first, so an append allocates
// nothing) and fdatasync it, in a loop, for 3 s; prints the fdatasyncs per second of all threads
// together. If 2 threads reach about twice 1 thread's figure, a segment sync can run beside the
// WAL's sync without waiting for it; if not, the device serialises them.
//
// Build: cc -O2 -pthread -o flush_parallel flush_parallel.c
// Usage: flush_parallel THREADS DIR   (THREADS 1..16; DIR on the disk to measure)
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kPage = 4096, kPages = 1024, kMaxThreads = 16, kSeconds = 3 };

static volatile int stop;
static const char* dir;
static pthread_barrier_t ready;  // the timing starts once every file is prepared

static void* Run(void* arg) {
  long id = (long)arg;
  long n = 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/flush_parallel.%d.%ld", dir, (int)getpid(), id);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  char page[kPage];
  memset(page, 'a' + (int)id, sizeof page);
  for (int i = 0; i < kPages; i++) {
    if (pwrite(fd, page, kPage, (off_t)i * kPage) != kPage) exit(1);
  }
  fsync(fd);
  pthread_barrier_wait(&ready);
  off_t at = 0;
  while (!stop) {
    if (pwrite(fd, page, kPage, at) != kPage || fdatasync(fd) != 0) exit(1);
    at = (at + kPage) % ((off_t)kPages * kPage);
    n++;
  }
  close(fd);
  unlink(path);
  return (void*)n;
}

int main(int argc, char** argv) {
  int threads = argc == 3 ? atoi(argv[1]) : 0;
  if (threads < 1 || threads > kMaxThreads) {
    fprintf(stderr, "usage: flush_parallel THREADS DIR\n");
    return 2;
  }
  dir = argv[2];
  pthread_t th[kMaxThreads];
  pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
  for (long i = 0; i < threads; i++) pthread_create(&th[i], NULL, Run, (void*)i);
  pthread_barrier_wait(&ready);
  sleep(kSeconds);
  stop = 1;
  long total = 0;
  for (int i = 0; i < threads; i++) {
    void* n;
    pthread_join(th[i], &n);
    total += (long)n;
  }
  printf("%d thread(s): %ld fdatasync/s\n", threads, total / kSeconds);
  return 0;
}
