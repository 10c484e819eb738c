#pragma once
// State machines: their records in the store and the API operations over them
// (Create/Describe/Update/Delete/ListStateMachines).
//
// Thread-safe: every operation is one store transaction.
#include <string>

#include "aws/framework/service.h"
#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::stepfunctions {

class StateMachines {
 public:
  explicit StateMachines(store::Store& store) : store_(store) {}

  // The record of an unqualified state machine ARN: StateMachineDoesNotExist, InvalidArn.
  Result<Json> Load(const std::string& arn);

  Result<Json> Create(aws::CallContext& c, const Json& in);
  Result<Json> Describe(aws::CallContext& c, const Json& in);
  Result<Json> Update(aws::CallContext& c, const Json& in);
  Result<Json> Delete(aws::CallContext& c, const Json& in);
  Result<Json> List(aws::CallContext& c, const Json& in);

 private:
  store::Store& store_;
};

}  // namespace stratus::services::stepfunctions
