#pragma once
// store::WriteAsyncRerunnable — Store::WriteAsync for a write function that may run more than
// once, which lets the SQLite store skip the savepoint that isolates each function of a group
// commit (a SAVEPOINT, a RELEASE, and a copy of every page the function touches into the
// savepoint journal: ~15-20 k instructions per small write).
//
// The function's contract, beyond Store::WriteAsync's: it has no effect outside `txn` that a
// second run would not redo the same way (what it leaves for `done` it overwrites, never
// accumulates), and it may be called again after a run whose writes were rolled back.
//
// What the SQLite store does with it: while every function applied before it in the same
// physical commit is rerunnable too, it runs without a savepoint. If it fails before its first
// write, nothing needs undoing. If it fails after writing, the store rolls the physical
// transaction back, runs the functions applied before it again (each in its own savepoint from
// then on) and goes on with the rest of the batch: every function's result is the one it would
// have had with savepoints. Functions after one that is not rerunnable keep their savepoints.
// Other backends run it as Store::WriteAsync does. Thread-safe like Store::WriteAsync.
#include <functional>

#include "core/result.h"
#include "store/store.h"

namespace stratus::store {

void WriteAsyncRerunnable(Store& store, std::function<Status(WriteTxn&)> fn,
                          std::function<void(Status)> done);

}  // namespace stratus::store
