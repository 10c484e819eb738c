#pragma once
// User records of a pool on store::Store: creation with username/alias uniqueness, lookup by
// username or alias (email, phone_number, preferred_username, as the pool's UsernameAttributes /
// AliasAttributes say), updates that keep the alias index in step, groups, ListUsers filters,
// and the outbox where "delivered" codes and messages land (no real email or SMS is sent).
// Thread-safe: state lives in the store; read-modify-write goes through one transaction.
//
// A user record is a JSON object:
//   Username, Attributes {name: value}, Enabled, UserStatus, UserCreateDate,
//   UserLastModifiedDate, and internals: _Srp {salt, v} (the password's SRP verifier),
//   _TempExpires, _Codes {purpose: {code, expires}}, _Failed, _LockedUntil (ms),
//   _TokensValidAfter (s), _Totp {secret, verified, step}, _PendingTotp, _Mfa {Preferred,
//   Enabled[]}, _Identities [...].
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/cognito/common.h"
#include "store/store.h"

namespace stratus::services::cognito {

class Users {
 public:
  Users(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Resolves what a user typed (username, or an alias the pool allows) to the user record.
  // UserNotFoundException when absent.
  Result<Json> Find(const Json& pool, std::string_view name);
  // The record of exactly `username`.
  Result<Json> Get(const Json& pool, std::string_view username);
  // The same record read in the caller's transaction, shared rather than copied (access-token
  // calls). UserNotFoundException when absent.
  Result<std::shared_ptr<const Json>> Get(store::ReadTxn& txn, const Json& pool,
                                          std::string_view username);
  // Stores a new user; UsernameExistsException / AliasExistsException on conflicts.
  Status Create(const Json& pool, const Json& user);
  // Read-modify-write of one user in a transaction: `fn` edits the record (return an error to
  // abort). The alias index follows attribute changes. Returns the record as written.
  Result<Json> Update(const Json& pool, std::string_view username,
                      const std::function<Status(Json&)>& fn);
  Status Delete(const Json& pool, std::string_view username);

  // The key the pool files `username` under (lowercased when usernames are case-insensitive).
  static std::string UsernameKey(const Json& pool, std::string_view username);
  // Sets a password: the record keeps its SRP verifier only (one 3072-bit exponentiation, about
  // a millisecond: call outside transactions).
  static void SetPassword(const Json& pool, Json& user, std::string_view password);
  // True when the record's password matches its SRP verifier.
  static bool CheckPassword(const Json& pool, const Json& user, std::string_view password);

  // Shapes.
  static Json UserType(const Json& user);       // ListUsers / AdminCreateUser
  static Json AdminGetUser(const Json& user);   // AdminGetUser
  static Json GetUser(const Json& user);        // GetUser
  static Json MfaOptions(const Json& user);

  Result<Json> List(const Json& pool, const Json& in);

  // Groups.
  Status AddToGroup(const Json& pool, std::string_view username, std::string_view group);
  Status RemoveFromGroup(const Json& pool, std::string_view username, std::string_view group);
  // The user's group records ordered by precedence (lowest first), then name.
  Result<std::vector<Json>> GroupsOf(std::string_view pool_id, std::string_view username);
  Result<Json> ListUsersInGroup(const Json& pool, const Json& in);
  Result<Json> ListGroupsForUser(const Json& pool, const Json& in);

  // Outbox: records a delivered message. `message` has Medium, Destination, Code, Subject,
  // Message, Purpose, Username.
  Status Deliver(std::string_view pool_id, Json message);
  // Messages delivered, newest last, optionally for one pool/username/destination.
  Result<Json> Outbox(std::string_view pool_id, std::string_view username,
                      std::string_view destination);
  Status ClearOutbox(std::string_view pool_id);

 private:
  // Alias index entries (attribute, value) a record occupies.
  static std::vector<std::pair<std::string, std::string>> AliasEntries(const Json& pool,
                                                                       const Json& user);
  // User records, parsed only when their bytes changed (~2 KB each with the SRP verifier).
  static constexpr size_t kMaxParsedUsers = 2048;

  store::Store& store_;
  const Clock& clock_;
  ParsedRecords parsed_{kMaxParsedUsers};
};

// Parses a ListUsers filter ('email ^= "bob"'); nullopt when malformed.
struct UserFilter {
  std::string attribute;
  bool prefix = false;
  std::string value;
};
std::optional<UserFilter> ParseUserFilter(std::string_view filter);
bool MatchesFilter(const UserFilter& f, const Json& user);

}  // namespace stratus::services::cognito
