#pragma once
// The functions AWS Step Functions adds to JSONata ($partition, $range, $hash, $random, $uuid,
// $parse) and the $states variable. Registered only when an embedder asks (the Step Functions
// engine), through the library's public native-function hook.
//
// Thread-safety: the registered functions are thread-safe. Errors use the Step Functions error
// name "States.QueryEvaluationError", as AWS reports a failing JSONata expression.
#include "core/json.h"
#include "core/result.h"
#include "jsonata/jsonata.h"

namespace stratus::jsonata {

// Adds the Step Functions functions to `bindings` (replacing the JSONata $random).
Status AddStepFunctionsFunctions(Bindings& bindings);

// Binds $states = {"input": ..., "context": ..., "result"/"errorOutput" when present}.
void BindStates(Bindings& bindings, const Json& states);

}  // namespace stratus::jsonata
