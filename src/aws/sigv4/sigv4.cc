#include "aws/sigv4/sigv4.h"

#include <algorithm>
#include <array>
#include <utility>

#include "aws/sigv4/sigv4_internal.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::aws {

namespace {

using namespace sigv4_internal;  // NOLINT(google-build-using-namespace): this file's own helpers

constexpr std::string_view kHexUpper = "0123456789ABCDEF";

constexpr std::string_view kMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kS3MismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method.";
constexpr std::string_view kS3UnsupportedMechanism =
    "The authorization mechanism you have provided is not supported. Please use "
    "AWS4-HMAC-SHA256.";
constexpr std::string_view kHostMustBeSigned =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendEncodedByte(std::string& out, unsigned char c) {
  if (IsUnreserved(c)) {
    out.push_back(static_cast<char>(c));
  } else {
    out.push_back('%');
    out.push_back(kHexUpper[c >> 4]);
    out.push_back(kHexUpper[c & 15]);
  }
}

// Writes `s` in canonical percent form: escapes are decoded and every byte re-encoded, so
// "%7e", "~" and "%7E" all become "~" and "$" becomes "%24". A '%' that does not start a valid
// escape stands for itself. When `keep_slash`, a literal '/' stays (an escaped one does not).
void AppendCanonicalEncoding(std::string& out, std::string_view s, bool keep_slash) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '/' && keep_slash) {
      out.push_back('/');
      continue;
    }
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexDigit(s[i + 1]);
      int lo = HexDigit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        AppendEncodedByte(out, static_cast<unsigned char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    AppendEncodedByte(out, c);
  }
}

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trimall: leading and trailing whitespace removed, inner runs collapsed to one space.
void AppendTrimmedValue(std::string& out, std::string_view v) {
  bool pending_space = false;
  bool wrote = false;
  for (char c : v) {
    if (IsWhitespace(c)) {
      pending_space = wrote;
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
    wrote = true;
  }
}

bool IsHexSha256(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return HexDigit(c) >= 0; });
}

bool IsKnownPayloadLiteral(std::string_view s) {
  return s == kUnsignedPayload || s == kStreamingSignedPayload ||
         s == kStreamingSignedPayloadTrailer || s == kStreamingUnsignedPayloadTrailer ||
         s == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" ||
         s == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER";
}

bool IsScopeDate(std::string_view s) {
  return s.size() == 8 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string BytesAsHex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 3);
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out.push_back(' ');
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Error SignatureMismatch(SigV4Dialect dialect, const SigV4Claim& claim,
                        std::string_view canonical_request, std::string_view string_to_sign) {
  if (dialect == SigV4Dialect::kS3) {
    Error e("SignatureDoesNotMatch", std::string(kS3MismatchMessage), 403);
    e.fields["AWSAccessKeyId"] = claim.access_key_id;
    e.fields["StringToSign"] = std::string(string_to_sign);
    e.fields["SignatureProvided"] = claim.signature;
    e.fields["StringToSignBytes"] = BytesAsHex(string_to_sign);
    e.fields["CanonicalRequest"] = std::string(canonical_request);
    e.fields["CanonicalRequestBytes"] = BytesAsHex(canonical_request);
    return e;
  }
  std::string message(kMismatchMessage);
  message += "\n\nThe Canonical String for this request should have been\n'";
  message += canonical_request;
  message += "'\n\nThe String-to-Sign should have been\n'";
  message += string_to_sign;
  message += "'\n";
  return Mismatch(dialect, std::move(message));
}

std::string FormatTimeCheck(std::string_view lead, std::string_view amz_date,
                            std::string_view relation, int64_t bound, int64_t now,
                            std::string_view op) {
  std::string m(lead);
  m += amz_date;
  m += relation;
  m += FormatAmzDate(bound);
  m += " (";
  m += FormatAmzDate(now);
  m += op;
  m += " 15 min.)";
  return m;
}

Status CheckTime(const SigV4Claim& claim, int64_t now, SigV4Dialect dialect) {
  int64_t t = claim.request_time;
  if (claim.presigned) {
    if (t - kMaxClockSkewSeconds > now) {
      if (dialect == SigV4Dialect::kS3) {
        Error e("AccessDenied", "Request is not yet valid", 403);
        e.fields["X-Amz-Date"] = claim.amz_date;
        e.fields["ServerTime"] = FormatIso8601(static_cast<double>(now));
        return e;
      }
      return Mismatch(
          dialect, FormatTimeCheck("Signature not yet current: ", claim.amz_date,
                                   " is still later than ", now + kMaxClockSkewSeconds, now, " +"));
    }
    if (claim.expires_seconds) {
      if (now > t + *claim.expires_seconds) {
        if (dialect == SigV4Dialect::kS3) {
          Error e("AccessDenied", "Request has expired", 403);
          e.fields["X-Amz-Expires"] = std::to_string(*claim.expires_seconds);
          e.fields["Expires"] = FormatIso8601(static_cast<double>(t + *claim.expires_seconds));
          e.fields["ServerTime"] = FormatIso8601(static_cast<double>(now));
          return e;
        }
        return Error("RequestExpired", "Request has expired.", 400);
      }
      return Status::Ok();
    }
    // A presigned request without X-Amz-Expires (not S3) gets the header form's window.
  }
  if (now - t > kMaxClockSkewSeconds || t - now > kMaxClockSkewSeconds) {
    if (dialect == SigV4Dialect::kS3) {
      Error e("RequestTimeTooSkewed",
              "The difference between the request time and the current time is too large.", 403);
      e.fields["RequestTime"] = claim.amz_date;
      e.fields["ServerTime"] = FormatIso8601(static_cast<double>(now));
      e.fields["MaxAllowedSkewMilliseconds"] = std::to_string(kMaxClockSkewSeconds * 1000);
      return e;
    }
    if (now - t > kMaxClockSkewSeconds) {
      return Mismatch(
          dialect, FormatTimeCheck("Signature expired: ", claim.amz_date, " is now earlier than ",
                                   now - kMaxClockSkewSeconds, now, " -"));
    }
    return Mismatch(
        dialect, FormatTimeCheck("Signature not yet current: ", claim.amz_date,
                                 " is still later than ", now + kMaxClockSkewSeconds, now, " +"));
  }
  return Status::Ok();
}

constexpr std::array<std::string_view, 12> kUnsignedHeaders = {"authorization",
                                                               "user-agent",
                                                               "expect",
                                                               "x-amzn-trace-id",
                                                               "connection",
                                                               "keep-alive",
                                                               "te",
                                                               "trailer",
                                                               "upgrade",
                                                               "transfer-encoding",
                                                               "proxy-authorization",
                                                               "proxy-connection"};

}  // namespace

namespace sigv4_internal {

// Parses "YYYYMMDDTHHMMSSZ" into epoch seconds.
std::optional<int64_t> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t n) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), se = num(13, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 60) {
    return std::nullopt;
  }
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         int64_t{h} * 3600 + int64_t{mi} * 60 + se;
}

// ----- errors, named per dialect (see the table in sigv4.h) -----

// A malformed signature. `s3_message` is S3's wording; `presigned` selects S3's code.
Error Incomplete(SigV4Dialect dialect, std::string message, std::string s3_message,
                 bool presigned) {
  switch (dialect) {
    case SigV4Dialect::kQuery:
      return Error("IncompleteSignature", std::move(message), 400);
    case SigV4Dialect::kJson:
      return Error("IncompleteSignatureException", std::move(message), 400);
    case SigV4Dialect::kS3:
      return Error(presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed",
                   presigned ? std::move(s3_message)
                             : "The authorization header is malformed; " + s3_message,
                   400);
  }
  return Error("IncompleteSignature", std::move(message), 400);
}

// A signature that is well-formed but wrong (or about the wrong scope, host or time).
Error Mismatch(SigV4Dialect dialect, std::string message) {
  switch (dialect) {
    case SigV4Dialect::kQuery:
    case SigV4Dialect::kS3:
      return Error("SignatureDoesNotMatch", std::move(message), 403);
    case SigV4Dialect::kJson:
      return Error("InvalidSignatureException", std::move(message), 400);
  }
  return Error("SignatureDoesNotMatch", std::move(message), 403);
}

// An Authorization header that is not SigV4 at all ("Bearer ...", SigV2 "AWS key:sig").
Error UnsupportedScheme(SigV4Dialect dialect) {
  switch (dialect) {
    case SigV4Dialect::kQuery:
      return Error("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
    case SigV4Dialect::kJson:
      return Error("MissingAuthenticationTokenException", "Request is missing Authentication Token",
                   400);
    case SigV4Dialect::kS3:
      return Error("InvalidRequest", std::string(kS3UnsupportedMechanism), 400);
  }
  return Error("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
}

Error UnsupportedAlgorithm(SigV4Dialect dialect, std::string_view algorithm, bool presigned) {
  if (dialect == SigV4Dialect::kS3) {
    if (presigned) {
      return Error("AuthorizationQueryParametersError",
                   "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"", 400);
    }
    return Error("InvalidRequest", std::string(kS3UnsupportedMechanism), 400);
  }
  return Incomplete(dialect,
                    "Unsupported AWS 'algorithm': '" + std::string(algorithm) +
                        "' (only AWS4-HMAC-SHA256 for now).",
                    "", presigned);
}

Error InvalidDate(SigV4Dialect dialect, std::string_view got, bool presigned) {
  if (dialect == SigV4Dialect::kS3) {
    if (presigned) {
      return Error("AuthorizationQueryParametersError",
                   "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"", 400);
    }
    return Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header",
                 403);
  }
  return Incomplete(dialect,
                    "Date must be in ISO-8601 'basic format'. Got '" + std::string(got) +
                        "'. See http://en.wikipedia.org/wiki/ISO_8601",
                    "", presigned);
}

}  // namespace sigv4_internal

std::string SigV4Claim::CredentialScope() const {
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + 16);
  scope += date;
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += '/';
  scope += kSigV4Terminator;
  return scope;
}

bool IsS3Service(std::string_view service) {
  return service == "s3" || service == "s3-object-lambda" || service == "s3-outposts" ||
         service == "s3express";
}

std::string CanonicalUri(std::string_view raw_path, bool s3) {
  std::string out;
  if (raw_path.empty()) return "/";
  out.reserve(raw_path.size() + 16);
  if (s3) {
    if (raw_path.front() != '/') out.push_back('/');
    AppendCanonicalEncoding(out, raw_path, /*keep_slash=*/true);
    return out;
  }
  // Remove dot segments and empty segments, then encode the (still encoded) result again.
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= raw_path.size()) {
    size_t slash = raw_path.find('/', pos);
    if (slash == std::string_view::npos) slash = raw_path.size();
    std::string_view seg = raw_path.substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  out.push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i) out.push_back('/');
    for (unsigned char c : segments[i]) AppendEncodedByte(out, c);
  }
  if (raw_path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

std::string CanonicalQueryString(std::string_view raw_query, bool presigned) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t pos = 0;
  while (pos <= raw_query.size()) {
    size_t amp = raw_query.find('&', pos);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view part = raw_query.substr(pos, amp - pos);
    pos = amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    std::string encoded_name;
    AppendCanonicalEncoding(encoded_name, name, /*keep_slash=*/false);
    if (presigned && encoded_name == kQSignature) continue;
    std::string encoded_value;
    AppendCanonicalEncoding(encoded_value, value, /*keep_slash=*/false);
    pairs.emplace_back(std::move(encoded_name), std::move(encoded_value));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  size_t total = 0;
  for (const auto& [k, v] : pairs) total += k.size() + v.size() + 2;
  out.reserve(total);
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out.push_back('&');
    out += pairs[i].first;
    out.push_back('=');
    out += pairs[i].second;
  }
  return out;
}

std::string PayloadHash(const HttpRequest& request, const SigV4Claim& claim) {
  if (!claim.payload_hash.empty()) return claim.payload_hash;
  if (claim.presigned && IsS3Service(claim.service)) return std::string(kUnsignedPayload);
  return Sha256Hex(request.body);
}

std::string CanonicalRequest(const HttpRequest& request, const SigV4Claim& claim,
                             std::string_view payload_hash) {
  std::string out;
  out.reserve(512 + request.path.size() + request.query.size());
  out += request.method;
  out.push_back('\n');
  out += CanonicalUri(request.path, IsS3Service(claim.service));
  out.push_back('\n');
  out += CanonicalQueryString(request.query, claim.presigned);
  out.push_back('\n');
  for (const std::string& name : claim.signed_headers) {
    out += name;
    out.push_back(':');
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (!IEquals(k, name)) continue;
      if (!first) out.push_back(',');
      AppendTrimmedValue(out, v);
      first = false;
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  for (size_t i = 0; i < claim.signed_headers.size(); ++i) {
    if (i) out.push_back(';');
    out += claim.signed_headers[i];
  }
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string StringToSign(const SigV4Claim& claim, std::string_view canonical_request) {
  std::string out;
  out.reserve(160);
  out += kSigV4Algorithm;
  out.push_back('\n');
  out += claim.amz_date;
  out.push_back('\n');
  out += claim.CredentialScope();
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service) {
  std::string seed = "AWS4";
  seed += secret_access_key;
  std::string k_date = HmacSha256(seed, date);
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  return HmacSha256(k_service, kSigV4Terminator);
}

std::string Sign(std::string_view signing_key, std::string_view string_to_sign) {
  return HmacSha256Hex(signing_key, string_to_sign);
}

namespace {

Status Verify(const HttpRequest& request, const SigV4Claim& claim,
              std::string_view secret_access_key, int64_t now_epoch_seconds, SigV4Dialect dialect,
              SigningKeyCache* keys) {
  STRATUS_RETURN_IF_ERROR(CheckTime(claim, now_epoch_seconds, dialect));

  bool host_signed =
      std::any_of(claim.signed_headers.begin(), claim.signed_headers.end(),
                  [](const std::string& h) { return h == "host" || h == ":authority"; });
  if (!host_signed) {
    if (dialect == SigV4Dialect::kS3) {
      return Incomplete(dialect, "", std::string(kHostMustBeSigned), claim.presigned);
    }
    return Mismatch(dialect, std::string(kHostMustBeSigned));
  }

  if (claim.amz_date.compare(0, 8, claim.date) != 0 || claim.date.size() != 8 ||
      !IsScopeDate(claim.date)) {
    if (dialect == SigV4Dialect::kS3) {
      if (claim.presigned) {
        return Error("AuthorizationQueryParametersError",
                     "Invalid credential date \"" + claim.date +
                         "\". This date is not the same as X-Amz-Date: \"" +
                         claim.amz_date.substr(0, 8) + "\".",
                     400);
      }
      return Incomplete(dialect, "", "Invalid credential date. Date is not the same as X-Amz-Date.",
                        false);
    }
    return Mismatch(dialect,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '" +
                        claim.date + "' != '" + claim.amz_date.substr(0, 8) + "', from '" +
                        claim.amz_date + "'.");
  }

  if (dialect == SigV4Dialect::kS3 && !claim.payload_hash.empty() &&
      !IsHexSha256(claim.payload_hash) && !IsKnownPayloadLiteral(claim.payload_hash)) {
    Error e("InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
            400);
    e.fields["ArgumentName"] = "x-amz-content-sha256";
    e.fields["ArgumentValue"] = claim.payload_hash;
    return e;
  }

  std::string payload_hash = PayloadHash(request, claim);
  std::string canonical = CanonicalRequest(request, claim, payload_hash);
  std::string string_to_sign = StringToSign(claim, canonical);
  std::string key = keys ? keys->Get(secret_access_key, claim.date, claim.region, claim.service)
                         : SigningKey(secret_access_key, claim.date, claim.region, claim.service);
  std::string expected = Sign(key, string_to_sign);
  if (!ConstantTimeEquals(expected, claim.signature)) {
    return SignatureMismatch(dialect, claim, canonical, string_to_sign);
  }

  // The signature covers the claimed hash; the body must be the one that hash names. A body
  // streamed to a BodySink is not in the request: the service that streamed it checks the hash.
  if (IsHexSha256(claim.payload_hash) && !request.streamed_body) {
    std::string actual = Sha256Hex(request.body);
    if (ToLower(claim.payload_hash) != actual) {
      if (dialect == SigV4Dialect::kS3) {
        Error e("XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400);
        e.fields["ClientComputedContentSHA256"] = claim.payload_hash;
        e.fields["S3ComputedContentSHA256"] = actual;
        return e;
      }
      return SignatureMismatch(dialect, claim, canonical, string_to_sign);
    }
  }
  return Status::Ok();
}

}  // namespace

Status VerifySigV4(const HttpRequest& request, const SigV4Claim& claim,
                   std::string_view secret_access_key, int64_t now_epoch_seconds,
                   SigV4Dialect dialect) {
  return Verify(request, claim, secret_access_key, now_epoch_seconds, dialect, nullptr);
}

Status VerifySigV4(const HttpRequest& request, const SigV4Claim& claim,
                   std::string_view secret_access_key, int64_t now_epoch_seconds,
                   SigV4Dialect dialect, SigningKeyCache& keys) {
  return Verify(request, claim, secret_access_key, now_epoch_seconds, dialect, &keys);
}

SigningKeyCache::SigningKeyCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

std::string SigningKeyCache::Get(std::string_view secret_access_key, std::string_view date,
                                 std::string_view region, std::string_view service) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : entries_) {
      if (e.date == date && e.service == service && e.region == region &&
          e.secret == secret_access_key) {
        return e.key;
      }
    }
  }
  // Derived outside the lock; two threads missing at once both derive, which is harmless.
  std::string key = SigningKey(secret_access_key, date, region, service);
  std::lock_guard<std::mutex> lock(mu_);
  Entry entry{std::string(secret_access_key), std::string(date), std::string(region),
              std::string(service), key};
  if (entries_.size() < capacity_) {
    entries_.push_back(std::move(entry));
  } else {
    entries_[next_] = std::move(entry);
    next_ = (next_ + 1) % capacity_;
  }
  return key;
}

void SignRequest(HttpRequest& request, std::string_view access_key_id,
                 std::string_view secret_access_key, std::string_view region,
                 std::string_view service, int64_t now_epoch_seconds,
                 std::string_view session_token, std::string_view payload_hash) {
  request.headers.Remove("authorization");
  request.headers.Set("X-Amz-Date", FormatAmzDate(now_epoch_seconds));
  std::string hash = payload_hash.empty() ? Sha256Hex(request.body) : std::string(payload_hash);
  request.headers.Set("x-amz-content-sha256", hash);
  if (!session_token.empty()) {
    request.headers.Set("X-Amz-Security-Token", std::string(session_token));
  }

  SigV4Claim claim;
  claim.algorithm = std::string(kSigV4Algorithm);
  claim.access_key_id = std::string(access_key_id);
  claim.amz_date = FormatAmzDate(now_epoch_seconds);
  claim.date = claim.amz_date.substr(0, 8);
  claim.region = std::string(region);
  claim.service = std::string(service);
  claim.request_time = now_epoch_seconds;
  for (const auto& [name, value] : request.headers) {
    std::string lower = ToLower(name);
    if (std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), lower) !=
        kUnsignedHeaders.end()) {
      continue;
    }
    if (std::find(claim.signed_headers.begin(), claim.signed_headers.end(), lower) ==
        claim.signed_headers.end()) {
      claim.signed_headers.push_back(std::move(lower));
    }
  }
  std::sort(claim.signed_headers.begin(), claim.signed_headers.end());

  std::string canonical = CanonicalRequest(request, claim, hash);
  std::string signature = Sign(SigningKey(secret_access_key, claim.date, region, service),
                               StringToSign(claim, canonical));
  std::string authorization(kSigV4Algorithm);
  authorization += " Credential=";
  authorization += access_key_id;
  authorization += '/';
  authorization += claim.CredentialScope();
  authorization += ", SignedHeaders=";
  authorization += Join(claim.signed_headers, ";");
  authorization += ", Signature=";
  authorization += signature;
  request.headers.Set("Authorization", std::move(authorization));
}

void PresignRequest(HttpRequest& request, std::string_view access_key_id,
                    std::string_view secret_access_key, std::string_view region,
                    std::string_view service, int64_t now_epoch_seconds, int64_t expires_seconds,
                    std::string_view session_token) {
  SigV4Claim claim;
  claim.algorithm = std::string(kSigV4Algorithm);
  claim.access_key_id = std::string(access_key_id);
  claim.amz_date = FormatAmzDate(now_epoch_seconds);
  claim.date = claim.amz_date.substr(0, 8);
  claim.region = std::string(region);
  claim.service = std::string(service);
  claim.request_time = now_epoch_seconds;
  claim.presigned = true;
  claim.expires_seconds = expires_seconds;
  claim.signed_headers = {"host"};

  std::string query = request.query;
  auto add = [&query](std::string_view name, std::string_view value) {
    if (!query.empty()) query.push_back('&');
    query += name;
    query.push_back('=');
    query += UrlEncode(value);
  };
  add(kQAlgorithm, kSigV4Algorithm);
  add(kQCredential, std::string(access_key_id) + "/" + claim.CredentialScope());
  add(kQDate, claim.amz_date);
  add(kQExpires, std::to_string(expires_seconds));
  add(kQSignedHeaders, "host");
  if (!session_token.empty()) add(kQSecurityToken, session_token);
  request.query = std::move(query);

  std::string canonical = CanonicalRequest(request, claim, PayloadHash(request, claim));
  std::string signature = Sign(SigningKey(secret_access_key, claim.date, region, service),
                               StringToSign(claim, canonical));
  request.query += "&X-Amz-Signature=";
  request.query += signature;
  request.target = request.path + "?" + request.query;
}

std::string AccountForAccessKey(std::string_view access_key_id) {
  constexpr std::string_view kDefaultAccount = "000000000000";
  if (access_key_id.size() == 12 && std::all_of(access_key_id.begin(), access_key_id.end(),
                                                [](char c) { return c >= '0' && c <= '9'; })) {
    return std::string(access_key_id);
  }
  return std::string(kDefaultAccount);
}

}  // namespace stratus::aws
