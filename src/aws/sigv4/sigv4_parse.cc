// Parsing a request's SigV4 claim: the Authorization header form and the presigned query form,
// with each dialect's errors (sigv4.h "Errors"). Verification is in sigv4.cc.
#include <algorithm>
#include <utility>

#include "aws/sigv4/sigv4.h"
#include "aws/sigv4/sigv4_internal.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::aws {

namespace {

using namespace sigv4_internal;  // NOLINT(google-build-using-namespace): this file's own helpers

constexpr std::string_view kS3CredentialMalformed =
    "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";

// ----- parsing -----

struct ParsedCredential {
  std::string access_key_id;
  std::string date;
  std::string region;
  std::string service;
};

Result<ParsedCredential> ParseCredential(std::string_view credential, SigV4Dialect dialect,
                                         bool presigned) {
  // Split on '/' into views; only a well-formed credential's parts become strings.
  std::string_view parts[5];
  size_t count = 0;
  bool malformed = false;
  for (size_t pos = 0;;) {
    size_t slash = credential.find('/', pos);
    std::string_view part = credential.substr(pos, slash == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : slash - pos);
    if (part.empty() || count == 5) {
      malformed = true;
      break;
    }
    parts[count++] = part;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  malformed = malformed || count != 5;
  if (malformed) {
    std::string s3 = presigned ? "Error parsing the X-Amz-Credential parameter; " +
                                     std::string(kS3CredentialMalformed)
                               : std::string(kS3CredentialMalformed);
    return Incomplete(dialect,
                      "Credential must have exactly 5 slash-delimited elements, e.g. "
                      "keyid/date/region/service/term, got '" +
                          std::string(credential) + "'",
                      std::move(s3), presigned);
  }
  if (parts[4] != kSigV4Terminator) {
    if (dialect == SigV4Dialect::kS3) {
      std::string msg = "incorrect terminal \"" + std::string(parts[4]) + "\". This endpoint uses \"" +
                        std::string(kSigV4Terminator) + "\".";
      return Incomplete(dialect, "",
                        presigned ? "Error parsing the X-Amz-Credential parameter; " + msg : msg,
                        presigned);
    }
    return Mismatch(dialect, "Credential should be scoped with a valid terminator: '" +
                                 std::string(kSigV4Terminator) + "', not '" +
                                 std::string(parts[4]) + "'.");
  }
  return ParsedCredential{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                          std::string(parts[3])};
}

std::vector<std::string> ParseSignedHeaders(std::string_view value) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(std::count(value.begin(), value.end(), ';')) + 1);
  for (size_t pos = 0; pos <= value.size();) {
    size_t semi = value.find(';', pos);
    if (semi == std::string_view::npos) semi = value.size();
    std::string_view trimmed = Trim(value.substr(pos, semi - pos));
    if (!trimmed.empty()) out.push_back(ToLower(trimmed));
    pos = semi + 1;
  }
  return out;
}

// The first value of a query parameter, percent-decoded; nullopt when absent.
using QueryPairs = std::vector<std::pair<std::string, std::string>>;
const std::string* FindParam(const QueryPairs& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool QueryHasSigV4Params(std::string_view query) {
  if (query.find("X-Amz-") == std::string_view::npos) return false;
  for (const auto& [k, v] : ParseQuery(query, /*plus_as_space=*/false)) {
    if (k == kQAlgorithm || k == kQCredential || k == kQSignature) return true;
  }
  return false;
}

Result<std::optional<SigV4Claim>> ParseHeaderForm(const HttpRequest& request,
                                                  std::string_view authorization,
                                                  SigV4Dialect dialect) {
  std::string_view auth = Trim(authorization);
  size_t space = auth.find(' ');
  std::string_view algorithm = auth.substr(0, space);
  if (algorithm != kSigV4Algorithm) {
    if (StartsWith(algorithm, "AWS4-")) return UnsupportedAlgorithm(dialect, algorithm, false);
    return UnsupportedScheme(dialect);
  }
  std::string_view rest = space == std::string_view::npos ? std::string_view() : auth.substr(space);

  std::optional<std::string_view> credential, signed_headers, signature;
  size_t pos = 0;
  while (pos < rest.size()) {
    // The next ',' or ' ' (a loop: find_first_of calls memchr once per character).
    size_t end = pos;
    while (end < rest.size() && rest[end] != ',' && rest[end] != ' ') ++end;
    std::string_view token = rest.substr(pos, end - pos);
    pos = end + 1;
    if (token.empty()) continue;
    size_t eq = token.find('=');
    if (eq == std::string_view::npos) {
      return Incomplete(dialect,
                        "'" + std::string(token) +
                            "' not a valid key=value pair (missing equal-sign) in Authorization "
                            "header: '" +
                            std::string(auth) + "'.",
                        "the authorization header requires three components: Credential, "
                        "SignedHeaders, and Signature.",
                        false);
    }
    std::string_view key = token.substr(0, eq);
    std::string_view value = token.substr(eq + 1);
    if (key == "Credential") {
      credential = value;
    } else if (key == "SignedHeaders") {
      signed_headers = value;
    } else if (key == "Signature") {
      signature = value;
    }
  }

  std::optional<std::string_view> amz_date = request.headers.Get("x-amz-date");
  std::optional<std::string_view> http_date;
  if (!amz_date) http_date = request.headers.Get("date");

  std::string missing;
  if (!credential || credential->empty()) {
    missing += "Authorization header requires 'Credential' parameter. ";
  }
  if (!signature || signature->empty()) {
    missing += "Authorization header requires 'Signature' parameter. ";
  }
  if (!signed_headers || signed_headers->empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  bool parts_missing = !missing.empty();
  if (!amz_date && !http_date) {
    missing +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!missing.empty()) {
    if (dialect == SigV4Dialect::kS3 && !parts_missing) {
      return InvalidDate(dialect, "", false);
    }
    return Incomplete(dialect, missing + "Authorization=" + std::string(auth),
                      "the authorization header requires three components: Credential, "
                      "SignedHeaders, and Signature.",
                      false);
  }

  STRATUS_ASSIGN_OR_RETURN(ParsedCredential cred, ParseCredential(*credential, dialect, false));

  SigV4Claim claim;
  if (amz_date) {
    std::optional<int64_t> t = ParseAmzDate(Trim(*amz_date));
    if (!t) return InvalidDate(dialect, *amz_date, false);
    claim.amz_date = std::string(Trim(*amz_date));
    claim.request_time = *t;
  } else {
    std::optional<double> t = ParseHttpDate(Trim(*http_date));
    if (!t) return InvalidDate(dialect, *http_date, false);
    claim.request_time = static_cast<int64_t>(*t);
    claim.amz_date = FormatAmzDate(claim.request_time);
  }
  claim.algorithm = std::string(algorithm);
  claim.access_key_id = std::move(cred.access_key_id);
  claim.date = std::move(cred.date);
  claim.region = std::move(cred.region);
  claim.service = std::move(cred.service);
  claim.signed_headers = ParseSignedHeaders(*signed_headers);
  claim.signature = ToLower(*signature);
  claim.security_token = std::string(request.headers.GetOr("x-amz-security-token"));
  claim.payload_hash = std::string(request.headers.GetOr("x-amz-content-sha256"));
  return std::optional<SigV4Claim>(std::move(claim));
}

Result<std::optional<SigV4Claim>> ParseQueryForm(const HttpRequest& request, SigV4Dialect dialect) {
  QueryPairs params = ParseQuery(request.query, /*plus_as_space=*/false);
  const std::string* algorithm = FindParam(params, kQAlgorithm);
  const std::string* credential = FindParam(params, kQCredential);
  const std::string* signature = FindParam(params, kQSignature);
  const std::string* signed_headers = FindParam(params, kQSignedHeaders);
  const std::string* date = FindParam(params, kQDate);
  const std::string* expires = FindParam(params, kQExpires);

  std::string missing;
  std::pair<std::string_view, const std::string*> required[] = {{kQAlgorithm, algorithm},
                                                                {kQCredential, credential},
                                                                {kQSignature, signature},
                                                                {kQSignedHeaders, signed_headers},
                                                                {kQDate, date}};
  for (const auto& [name, value] : required) {
    if (value == nullptr || value->empty()) {
      missing += "AWS query-string parameters must include '" + std::string(name) + "'. ";
    }
  }
  if (!missing.empty()) {
    return Incomplete(dialect, missing + "Re-examine the query-string parameters.",
                      "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                      "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                      "X-Amz-Expires parameters.",
                      true);
  }
  if (*algorithm != kSigV4Algorithm) return UnsupportedAlgorithm(dialect, *algorithm, true);

  STRATUS_ASSIGN_OR_RETURN(ParsedCredential cred, ParseCredential(*credential, dialect, true));

  std::optional<int64_t> t = ParseAmzDate(*date);
  if (!t) return InvalidDate(dialect, *date, true);

  SigV4Claim claim;
  if (expires != nullptr) {
    std::optional<int64_t> seconds = ParseInt64(*expires);
    std::string problem;
    if (!seconds) {
      problem = "X-Amz-Expires should be a number";
    } else if (*seconds < 0) {
      problem = "X-Amz-Expires must be non-negative";
    } else if (*seconds > kMaxPresignExpiresSeconds) {
      problem = "X-Amz-Expires must be less than a week (in seconds) that is 604800";
    }
    if (!problem.empty()) return Incomplete(dialect, problem, problem, true);
    claim.expires_seconds = *seconds;
  } else if (IsS3Service(cred.service)) {
    return Incomplete(dialect,
                      "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the "
                      "query-string parameters.",
                      "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                      "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                      "X-Amz-Expires parameters.",
                      true);
  }

  claim.algorithm = *algorithm;
  claim.access_key_id = std::move(cred.access_key_id);
  claim.date = std::move(cred.date);
  claim.region = std::move(cred.region);
  claim.service = std::move(cred.service);
  claim.signed_headers = ParseSignedHeaders(*signed_headers);
  claim.signature = ToLower(*signature);
  claim.amz_date = *date;
  claim.request_time = *t;
  claim.presigned = true;
  if (const std::string* token = FindParam(params, kQSecurityToken)) {
    claim.security_token = *token;
  } else {
    claim.security_token = std::string(request.headers.GetOr("x-amz-security-token"));
  }
  if (auto header = request.headers.Get("x-amz-content-sha256")) {
    claim.payload_hash = std::string(*header);
  } else if (const std::string* hash = FindParam(params, kQContentSha256)) {
    claim.payload_hash = *hash;
  }
  return std::optional<SigV4Claim>(std::move(claim));
}

}  // namespace

Result<std::optional<SigV4Claim>> ParseSigV4(const HttpRequest& request, SigV4Dialect dialect) {
  std::optional<std::string_view> authorization = request.headers.Get("authorization");
  bool query_form = QueryHasSigV4Params(request.query);
  if (!authorization && !query_form) {
    return std::optional<SigV4Claim>();
  }
  if (authorization && query_form) {
    if (dialect == SigV4Dialect::kS3) {
      Error e("InvalidArgument",
              "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
              "Signature query string parameter or the Authorization header should be specified",
              400);
      e.fields["ArgumentName"] = "Authorization";
      e.fields["ArgumentValue"] = std::string(*authorization);
      return e;
    }
    return Mismatch(dialect,
                    "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as "
                    "HTTP header.");
  }
  if (authorization) return ParseHeaderForm(request, *authorization, dialect);
  return ParseQueryForm(request, dialect);
}

}  // namespace stratus::aws
