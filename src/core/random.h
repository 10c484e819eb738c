#pragma once
// A fast per-thread pseudo-random generator for jitter, weighted routing, shuffles and nonces
// (not for secrets: use RandomBytes in core/crypto.h).
//
// Why one shared generator: a std::mt19937_64 is 2.5 KB, and a `thread_local` one is static TLS
// that every thread of the process zeroes when it starts, used or not. Six of them cost each of
// the server's ~25 threads 15 KB (four pages) of resident memory; this one is allocated on the
// thread's first call, so threads that never draw a number pay 8 bytes.
//
// Thread-safety: each thread gets its own generator; never share the reference across threads.
#include <random>
#include <string>

namespace stratus {

// The calling thread's generator, seeded from std::random_device on first use.
std::mt19937_64& ThreadRng();

// A version-4 UUID ("2f1c...-4...-[89ab]...-...") drawn from ThreadRng: unique, not unguessable.
// For ids of the server's own background work (a lifecycle sweep's request id), where NewUuid's
// first call would initialise OpenSSL's random generator — ~2 MB of libcrypto code and data —
// in a server that has not yet served a request. Anything a client could exploit by guessing
// (tokens, receipts, request ids of client calls) uses NewUuid.
std::string PseudoRandomUuid();

}  // namespace stratus
