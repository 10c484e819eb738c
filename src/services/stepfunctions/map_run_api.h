#pragma once
// The map run read operations: DescribeMapRun, ListMapRuns and ListExecutions of a map run's
// child executions, over the records the runner writes (runner.h MapRunKey,
// MapRunIndexPrefix; map_run.cc says what they hold). UpdateMapRun goes through the Runner,
// which owns the running execution. Plain functions over the store; thread-safe.
#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::stepfunctions {

// DescribeMapRun's output. InvalidArn for an ARN that is not a map run's, ResourceNotFound for
// an unknown one.
Result<Json> DescribeMapRun(store::Store& store, const std::string& map_run_arn);
// ListMapRuns: the execution's map runs, oldest first, paginated. ExecutionDoesNotExist when
// the execution is unknown.
Result<Json> ListMapRuns(store::Store& store, const Json& in);
// ListExecutions with mapRunArn: the map run's finished iterations (child executions), newest
// first, with statusFilter and pagination.
Result<Json> ListMapRunExecutions(store::Store& store, const Json& in);

}  // namespace stratus::services::stepfunctions
