#pragma once
// State machines, their versions and aliases: records in the store and the API operations over
// them (Create/Describe/Update/Delete/ListStateMachines, Publish/List/DeleteStateMachineVersion,
// Create/Describe/Update/Delete/ListStateMachineAlias).
//
// A version is an immutable copy of a machine's revision, numbered from 1 per machine
// ("<machine ARN>:<n>"); publishing an unchanged revision again returns its version. An alias
// ("<machine ARN>:<name>") routes executions to one or two versions by weight.
//
// Thread-safe: every operation is one store transaction.
#include <optional>
#include <string>

#include "aws/framework/service.h"
#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::stepfunctions {

struct ArnParts;

// What StartExecution runs for a machine, version or alias ARN.
struct StartTarget {
  Json record;                    // definition, roleArn, type, loggingConfiguration, name
  std::string state_machine_arn;  // unqualified
  std::string version_arn;        // the version run (chosen by weight for an alias), or empty
  std::string alias_arn;          // the alias started through, or empty
};

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

  Result<Json> PublishVersion(aws::CallContext& c, const Json& in);
  Result<Json> ListVersions(aws::CallContext& c, const Json& in);
  Result<Json> DeleteVersion(aws::CallContext& c, const Json& in);
  Result<Json> CreateAlias(aws::CallContext& c, const Json& in);
  Result<Json> DescribeAlias(aws::CallContext& c, const Json& in);
  Result<Json> UpdateAlias(aws::CallContext& c, const Json& in);
  Result<Json> DeleteAlias(aws::CallContext& c, const Json& in);
  Result<Json> ListAliases(aws::CallContext& c, const Json& in);

  // Resolves a machine, version or alias ARN (StateMachineDoesNotExist, InvalidArn).
  Result<StartTarget> ResolveForStart(const std::string& arn);
  // A version's record ("<machine ARN>:<n>").
  Result<Json> LoadVersion(const std::string& arn);

 private:
  // Publishes the current revision (ConflictException when `revision_id` is not it).
  Result<Json> Publish(aws::CallContext& c, const std::string& arn, const std::optional<std::string>& revision_id,
                       const std::string& description);
  Result<Json> LoadAlias(const std::string& arn);
  Status ValidateRouting(const ArnParts& machine, const Json& routing);

  store::Store& store_;
};

}  // namespace stratus::services::stepfunctions
