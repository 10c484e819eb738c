#include "services/cognito/oauth.h"

#include <regex>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/http_client.h"
#include "core/strings.h"
#include "services/cognito/engine.h"
#include "services/cognito/federation.h"
#include "services/cognito/hosted_ui.h"
#include "services/cognito/jwt.h"
#include "services/cognito/secrets.h"

namespace stratus::services::cognito {

namespace {

constexpr std::string_view kInternalPrefix = "/_stratus/cognito/";
constexpr std::string_view kDomainPrefix = "/_cognito/";
constexpr int64_t kCodeSeconds = 300;
constexpr int64_t kBrowserSessionSeconds = 3600;
constexpr std::string_view kCookie = "cognito-session";

using Params = std::map<std::string, std::string>;

Params ParseForm(std::string_view text) {
  Params out;
  for (auto& [k, v] : ParseQuery(text)) out.emplace(k, v);
  return out;
}

std::string Get(const Params& p, const std::string& k) {
  auto it = p.find(k);
  return it == p.end() ? std::string() : it->second;
}

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = DumpJson(body);
  r.headers.Set("Content-Type", "application/json;charset=UTF-8");
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

HttpResponse OAuthError(int status, const std::string& error, const std::string& description = "") {
  Json body = Json{{"error", error}};
  if (!description.empty()) body["error_description"] = description;
  return JsonResponse(status, body);
}

HttpResponse Html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.Set("Content-Type", "text/html;charset=UTF-8");
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("X-Frame-Options", "DENY");
  return r;
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 302;
  r.headers.Set("Location", location);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

std::string WithQuery(const std::string& url, const std::vector<std::pair<std::string, std::string>>& params,
                      char sep = '?') {
  std::string out = url;
  bool first = sep == '#' || url.find('?') == std::string::npos;
  for (const auto& [k, v] : params) {
    out += first ? sep : '&';
    first = false;
    out += UrlEncode(k) + "=" + UrlEncode(v);
  }
  return out;
}

std::string CookieValue(const HttpRequest& r, std::string_view name) {
  for (auto header : r.headers.GetAll("cookie")) {
    for (const auto& part : Split(header, ';')) {
      std::string_view p = Trim(part);
      if (StartsWith(p, std::string(name) + "=")) return std::string(p.substr(name.size() + 1));
    }
  }
  return {};
}

const std::regex& PoolPath() {
  static const std::regex re(R"(^/([a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+)/\.well-known/(openid-configuration|jwks\.json)$)");
  return re;
}

// The OAuth parameters carried from /oauth2/authorize through the hosted pages.
const char* const kCarried[] = {"client_id", "redirect_uri", "response_type", "state", "scope",
                                "code_challenge", "code_challenge_method", "nonce"};

class Plane final : public OAuthPlane {
 public:
  Plane(aws::ServiceContext& ctx, Engine& engine)
      : ctx_(ctx), engine_(engine), federation_(http_, ctx.clock) {}

  bool Matches(const HttpRequest& r) const override {
    if (StartsWith(r.path, kInternalPrefix) || StartsWith(r.path, kDomainPrefix)) return true;
    if (r.path.find("/.well-known/") != std::string::npos && std::regex_match(r.path, PoolPath())) return true;
    return !DomainFromHost(r.Host()).empty();
  }

  void Handle(HttpRequest request, Responder responder) override {
    ctx_.workers.Submit([this, request = std::move(request), responder]() mutable {
      HttpResponse resp = Serve(request);
      responder.Send(std::move(resp));
    });
  }

 private:
  // "<domain>.auth.<anything>" → domain.
  static std::string DomainFromHost(std::string_view host) {
    host = host.substr(0, host.find(':'));
    auto dot = host.find('.');
    if (dot == std::string_view::npos || dot == 0) return {};
    if (host.substr(dot + 1, 5) != "auth.") return {};
    return std::string(host.substr(0, dot));
  }

  HttpResponse Serve(HttpRequest& r) {
    if (StartsWith(r.path, kInternalPrefix)) return Internal(r);
    std::smatch m;
    std::string path = r.path;
    if (std::regex_match(path, m, PoolPath())) return WellKnown(m[1].str(), m[3].str());
    std::string domain = DomainFromHost(r.Host());
    std::string base = ctx_.external_url ? "" : "";
    std::string rest = r.path;
    if (domain.empty()) {
      std::string_view p = std::string_view(r.path).substr(kDomainPrefix.size());
      auto slash = p.find('/');
      domain = std::string(p.substr(0, slash));
      rest = slash == std::string_view::npos ? "/" : std::string(p.substr(slash));
      base = std::string(kDomainPrefix) + domain;
    }
    auto pool_id = engine_.directory().PoolForDomain(domain);
    if (!pool_id.ok()) return Html(404, ui::ErrorPage(404, "No user pool has the domain " + domain + "."));
    auto pool = engine_.directory().PoolById(*pool_id);
    if (!pool.ok()) return Html(404, ui::ErrorPage(404, "The user pool of this domain no longer exists."));
    Domain d{*pool, base};
    Params q = ParseForm(r.query);
    Params form = r.method == "POST" ? ParseForm(r.body) : Params{};
    if (rest == "/oauth2/authorize") return Authorize(d, r, q);
    if (rest == "/login") return r.method == "POST" ? LoginPost(d, form) : LoginGet(d, q, "");
    if (rest == "/signup") return r.method == "POST" ? SignupPost(d, form) : SignupGet(d, q);
    if (rest == "/confirm") return ConfirmPost(d, r.method == "POST" ? form : q);
    if (rest == "/challenge") return ChallengePost(d, form);
    if (rest == "/oauth2/token") return r.method == "POST" ? Token(d, r, form) : OAuthError(405, "invalid_request");
    if (rest == "/oauth2/userInfo" || rest == "/oauth2/userinfo") return UserInfo(d, r);
    if (rest == "/oauth2/revoke") return r.method == "POST" ? Revoke(d, r, form) : OAuthError(405, "invalid_request");
    if (rest == "/logout") return Logout(d, r, q);
    if (rest == "/oauth2/idpresponse") return IdpResponse(d, q);
    if (rest == "/saml2/idpresponse") return SamlResponse(d, form);
    if (rest == "/.well-known/jwks.json") return WellKnown(*pool_id, "jwks.json");
    return Html(404, ui::ErrorPage(404, "Not found: " + rest));
  }

  struct Domain {
    Json pool;
    std::string base;  // "" for host-style, "/_cognito/<domain>" for path-style
    std::string Id() const { return pool["Id"].get<std::string>(); }
  };

  std::string External() const { return ctx_.external_url ? ctx_.external_url() : "http://localhost:4566"; }

  // ---------------------------------------------------------------- internal

  HttpResponse Internal(const HttpRequest& r) {
    Params q = ParseForm(r.query);
    if (r.path == "/_stratus/cognito/outbox") {
      std::string pool = Get(q, "userPoolId");
      if (r.method == "DELETE") {
        if (pool.empty()) return OAuthError(400, "invalid_request", "userPoolId is required");
        auto st = engine_.users().ClearOutbox(pool);
        return st.ok() ? JsonResponse(200, Json::object()) : OAuthError(500, "server_error");
      }
      auto msgs = engine_.users().Outbox(pool, Get(q, "username"), Get(q, "destination"));
      if (!msgs.ok()) return OAuthError(500, "server_error", msgs.error().message);
      return JsonResponse(200, Json{{"messages", *msgs}});
    }
    if (r.path == "/_stratus/cognito/rotate-keys" && r.method == "POST") {
      auto st = engine_.tokens().RotateForTest(Get(q, "userPoolId"));
      return st.ok() ? JsonResponse(200, Json::object()) : OAuthError(400, "invalid_request", st.error().message);
    }
    return OAuthError(404, "not_found", "no such stratus cognito endpoint");
  }

  HttpResponse WellKnown(const std::string& pool_id, const std::string& what) {
    auto pool = engine_.directory().PoolById(pool_id);
    if (!pool.ok()) return JsonResponse(404, Json{{"message", "User pool " + pool_id + " does not exist."}});
    if (what == "jwks.json") {
      auto jwks = engine_.tokens().Jwks(pool_id);
      if (!jwks.ok()) return OAuthError(500, "server_error");
      HttpResponse r = JsonResponse(200, *jwks);
      r.headers.Set("Cache-Control", "max-age=300");
      return r;
    }
    std::string issuer = engine_.tokens().Issuer(pool_id);
    Json doc = Json{{"issuer", issuer},
                    {"jwks_uri", issuer + "/.well-known/jwks.json"},
                    {"response_types_supported", Json::array({"code", "token"})},
                    {"subject_types_supported", Json::array({"public"})},
                    {"id_token_signing_alg_values_supported", Json::array({"RS256"})},
                    {"scopes_supported", Json::array({"openid", "email", "phone", "profile"})},
                    {"token_endpoint_auth_methods_supported", Json::array({"client_secret_basic", "client_secret_post"})},
                    {"code_challenge_methods_supported", Json::array({"S256"})}};
    if (pool->contains("Domain")) {
      std::string base = External() + std::string(kDomainPrefix) + (*pool)["Domain"].get<std::string>();
      doc["authorization_endpoint"] = base + "/oauth2/authorize";
      doc["token_endpoint"] = base + "/oauth2/token";
      doc["userinfo_endpoint"] = base + "/oauth2/userInfo";
      doc["revocation_endpoint"] = base + "/oauth2/revoke";
      doc["end_session_endpoint"] = base + "/logout";
    }
    return JsonResponse(200, doc);
  }

  // ---------------------------------------------------------------- authorize / login

  // Checks the OAuth parameters of an authorize or login request. Errors that must not redirect
  // (unknown client, unregistered redirect_uri) come back as a page; others redirect to the
  // client with ?error=.
  std::optional<HttpResponse> Validate(const Domain& d, const Params& q, Json& client, std::string& scope) {
    auto pc = engine_.directory().ClientById(Get(q, "client_id"));
    if (!pc.ok() || pc->first["Id"] != d.pool["Id"]) {
      return Html(400, ui::ErrorPage(400, "invalid_request: unknown client_id"));
    }
    client = pc->second;
    std::string redirect = Get(q, "redirect_uri");
    if (redirect.empty() || !ListHas(client.value("CallbackURLs", Json::array()), redirect)) {
      return Html(400, ui::ErrorPage(400, "redirect_mismatch: redirect_uri is not a registered callback URL"));
    }
    auto fail = [&](const std::string& error) {
      return Redirect(WithQuery(redirect, {{"error", error}, {"state", Get(q, "state")}}));
    };
    std::string type = Get(q, "response_type");
    if (type != "code" && type != "token") return fail("unsupported_response_type");
    if (!client.value("AllowedOAuthFlowsUserPoolClient", false) ||
        !ListHas(client.value("AllowedOAuthFlows", Json::array()), type == "code" ? "code" : "implicit")) {
      return fail("unauthorized_client");
    }
    std::string method = Get(q, "code_challenge_method");
    if (!Get(q, "code_challenge").empty() && method != "S256") return fail("invalid_request");
    const Json& allowed = client.value("AllowedOAuthScopes", Json::array());
    scope = Get(q, "scope");
    if (scope.empty()) {
      std::vector<std::string> all;
      for (const auto& s : allowed) all.push_back(s.get<std::string>());
      scope = Join(all, " ");
    }
    for (const auto& s : Split(scope, ' ')) {
      if (!s.empty() && !ListHas(allowed, s)) return fail("invalid_scope");
    }
    return std::nullopt;
  }

  ui::Hidden Carry(const Params& q) {
    ui::Hidden h;
    for (const char* k : kCarried) {
      std::string v = Get(q, k);
      if (!v.empty()) h.emplace_back(k, v);
    }
    return h;
  }

  HttpResponse Authorize(const Domain& d, const HttpRequest& r, const Params& q) {
    Json client;
    std::string scope;
    if (auto bad = Validate(d, q, client, scope)) return *bad;
    std::string idp = Get(q, "identity_provider");
    if (!idp.empty() && idp != "COGNITO") return StartFederation(d, client, q, idp);
    // A live hosted-UI session signs in without a form (single sign-on across clients).
    std::string cookie = CookieValue(r, kCookie);
    if (!cookie.empty()) {
      auto raw = ctx_.store.Get(keys::PoolPrefix(d.Id()) + "hs/" + Sha256Hex(cookie));
      if (raw.ok() && *raw) {
        Json s = ParseJsonOrDiscarded(**raw);
        if (s.value("Expires", int64_t{0}) > ctx_.clock.NowMillis() / 1000) {
          auto user = engine_.users().Get(d.pool, s.value("Username", ""));
          if (user.ok() && user->value("Enabled", true)) return Complete(d, client, q, *user, "");
        }
      }
    }
    Params carried;
    for (const auto& [k, v] : Carry(q)) carried[k] = v;
    return LoginGet(d, carried, "");
  }

  HttpResponse LoginGet(const Domain& d, const Params& q, const std::string& error) {
    std::vector<std::string> providers;
    auto pc = engine_.directory().ClientById(Get(q, "client_id"));
    if (pc.ok()) {
      for (const auto& p : pc->second.value("SupportedIdentityProviders", Json::array())) {
        std::string name = p.get<std::string>();
        if (name == "COGNITO") continue;
        std::vector<std::pair<std::string, std::string>> params;
        for (const auto& [k, v] : Carry(q)) params.emplace_back(k, v);
        params.emplace_back("identity_provider", name);
        providers.push_back(name + "|" + WithQuery(d.base + "/oauth2/authorize", params));
      }
    }
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& [k, v] : Carry(q)) params.emplace_back(k, v);
    bool can_signup = !d.pool["AdminCreateUserConfig"].value("AllowAdminCreateUserOnly", false);
    return Html(error.empty() ? 200 : 400,
                ui::LoginPage(d.base + "/login", Carry(q), error,
                              can_signup ? WithQuery(d.base + "/signup", params) : "", providers));
  }

  HttpResponse LoginPost(const Domain& d, const Params& form) {
    Json client;
    std::string scope;
    if (auto bad = Validate(d, form, client, scope)) return *bad;
    auto result = engine_.HostedSignIn(d.pool, client, Get(form, "username"), Get(form, "password"));
    return AfterSignIn(d, client, form, result);
  }

  HttpResponse AfterSignIn(const Domain& d, const Json& client, const Params& form, const Result<Json>& result) {
    if (!result.ok()) {
      const Error& e = result.error();
      if (e.code == "UserNotConfirmedException") {
        ui::Hidden h = Carry(form);
        h.emplace_back("username", Get(form, "username"));
        return Html(400, ui::ConfirmPage(d.base + "/confirm", h, "User is not confirmed. Enter the code we sent you."));
      }
      Params carried;
      for (const auto& [k, v] : Carry(form)) carried[k] = v;
      std::string msg = e.code == "UserNotFoundException" ? std::string(kBadCredentials) : e.message;
      return LoginGet(d, carried, msg);
    }
    if (result->contains("ChallengeName")) {
      ui::Hidden h = Carry(form);
      h.emplace_back("session", (*result)["Session"].get<std::string>());
      h.emplace_back("challenge", (*result)["ChallengeName"].get<std::string>());
      h.emplace_back("username", Get(form, "username"));
      return Html(200, ui::ChallengePage(d.base + "/challenge", h, (*result)["ChallengeName"].get<std::string>(), ""));
    }
    auto user = engine_.users().Get(d.pool, (*result)["SignedInUser"].get<std::string>());
    if (!user.ok()) return Html(500, ui::ErrorPage(500, "The user disappeared during sign-in."));
    return Complete(d, client, form, *user, NewBrowserSession(d, *user));
  }

  std::string NewBrowserSession(const Domain& d, const Json& user) {
    std::string id = jwt::Base64UrlEncode(RandomBytes(32));
    Json rec = Json{{"Username", user["Username"]}, {"Expires", ctx_.clock.NowMillis() / 1000 + kBrowserSessionSeconds}};
    (void)ctx_.store.Put(keys::PoolPrefix(d.Id()) + "hs/" + Sha256Hex(id), DumpJson(rec));
    return id;
  }

  HttpResponse ChallengePost(const Domain& d, const Params& form) {
    Json client;
    std::string scope;
    if (auto bad = Validate(d, form, client, scope)) return *bad;
    std::string challenge = Get(form, "challenge");
    Json responses = Json{{"USERNAME", Get(form, "username")}};
    if (challenge == "NEW_PASSWORD_REQUIRED") responses["NEW_PASSWORD"] = Get(form, "new_password");
    if (challenge == "SOFTWARE_TOKEN_MFA") responses["SOFTWARE_TOKEN_MFA_CODE"] = Get(form, "code");
    if (challenge == "SMS_MFA") responses["SMS_MFA_CODE"] = Get(form, "code");
    if (challenge == "EMAIL_OTP") responses["EMAIL_OTP_CODE"] = Get(form, "code");
    if (client.contains("ClientSecret")) {
      responses["SECRET_HASH"] = secrets::SecretHash(client["ClientSecret"].get<std::string>(),
                                                     Get(form, "username"), client["ClientId"].get<std::string>());
    }
    Json in = Json{{"ClientId", client["ClientId"]}, {"ChallengeName", challenge},
                   {"Session", Get(form, "session")}, {"ChallengeResponses", responses}};
    auto result = engine_.RespondToAuthChallenge(in);
    if (!result.ok() && (result.error().code == "CodeMismatchException" || result.error().code == "InvalidPasswordException")) {
      ui::Hidden h = Carry(form);
      for (const char* k : {"session", "challenge", "username"}) h.emplace_back(k, Get(form, k));
      return Html(400, ui::ChallengePage(d.base + "/challenge", h, challenge, result.error().message));
    }
    return AfterSignIn(d, client, form, result);
  }

  HttpResponse SignupGet(const Domain& d, const Params& q) {
    return Html(200, ui::SignupPage(d.base + "/signup", Carry(q), ""));
  }

  HttpResponse SignupPost(const Domain& d, const Params& form) {
    Json client;
    std::string scope;
    if (auto bad = Validate(d, form, client, scope)) return *bad;
    Json attrs = Json::array();
    if (!Get(form, "email").empty()) attrs.push_back(Json{{"Name", "email"}, {"Value", Get(form, "email")}});
    Json in = Json{{"ClientId", client["ClientId"]}, {"Username", Get(form, "username")},
                   {"Password", Get(form, "password")}, {"UserAttributes", attrs}};
    if (client.contains("ClientSecret")) {
      in["SecretHash"] = secrets::SecretHash(client["ClientSecret"].get<std::string>(), Get(form, "username"),
                                             client["ClientId"].get<std::string>());
    }
    auto r = engine_.SignUp(in);
    if (!r.ok()) return Html(400, ui::SignupPage(d.base + "/signup", Carry(form), r.error().message));
    if ((*r).value("UserConfirmed", false)) {
      Params carried;
      for (const auto& [k, v] : Carry(form)) carried[k] = v;
      return LoginGet(d, carried, "");
    }
    ui::Hidden h = Carry(form);
    h.emplace_back("username", Get(form, "username"));
    return Html(200, ui::ConfirmPage(d.base + "/confirm", h, ""));
  }

  HttpResponse ConfirmPost(const Domain& d, const Params& form) {
    Json client;
    std::string scope;
    if (auto bad = Validate(d, form, client, scope)) return *bad;
    Json in = Json{{"ClientId", client["ClientId"]}, {"Username", Get(form, "username")},
                   {"ConfirmationCode", Get(form, "code")}};
    if (client.contains("ClientSecret")) {
      in["SecretHash"] = secrets::SecretHash(client["ClientSecret"].get<std::string>(), Get(form, "username"),
                                             client["ClientId"].get<std::string>());
    }
    auto r = engine_.ConfirmSignUp(in);
    if (!r.ok()) {
      ui::Hidden h = Carry(form);
      h.emplace_back("username", Get(form, "username"));
      return Html(400, ui::ConfirmPage(d.base + "/confirm", h, r.error().message));
    }
    Params carried;
    for (const auto& [k, v] : Carry(form)) carried[k] = v;
    return LoginGet(d, carried, "");
  }

  // Signed in: a code (or implicit tokens) back to the client, with the browser session cookie.
  HttpResponse Complete(const Domain& d, const Json& client, const Params& q, const Json& user,
                        const std::string& new_cookie) {
    std::string scope = Get(q, "scope");
    if (scope.empty()) {
      std::vector<std::string> all;
      for (const auto& s : client.value("AllowedOAuthScopes", Json::array())) all.push_back(s.get<std::string>());
      scope = Join(all, " ");
    }
    std::string redirect = Get(q, "redirect_uri");
    HttpResponse resp;
    if (Get(q, "response_type") == "token") {
      auto tokens = engine_.IssueFor(d.pool, client, user, scope, Get(q, "nonce"), "TokenGeneration_HostedAuth");
      if (!tokens.ok()) return Redirect(WithQuery(redirect, {{"error", "server_error"}}, '#'));
      std::vector<std::pair<std::string, std::string>> frag;
      if (ListHas(Json(Split(scope, ' ')), "openid")) frag.emplace_back("id_token", (*tokens)["IdToken"].get<std::string>());
      frag.emplace_back("access_token", (*tokens)["AccessToken"].get<std::string>());
      frag.emplace_back("expires_in", std::to_string((*tokens)["ExpiresIn"].get<int64_t>()));
      frag.emplace_back("token_type", "Bearer");
      if (!Get(q, "state").empty()) frag.emplace_back("state", Get(q, "state"));
      resp = Redirect(WithQuery(redirect, frag, '#'));
    } else {
      std::string code = NewUuid();
      Json rec = Json{{"ClientId", client["ClientId"]}, {"Username", user["Username"]}, {"Scope", scope},
                      {"RedirectUri", redirect}, {"Challenge", Get(q, "code_challenge")},
                      {"Nonce", Get(q, "nonce")}, {"Expires", ctx_.clock.NowMillis() / 1000 + kCodeSeconds}};
      auto st = ctx_.store.Put(keys::AuthCode(d.Id(), code), DumpJson(rec));
      if (!st.ok()) return Html(500, ui::ErrorPage(500, "Could not store the authorization code."));
      std::vector<std::pair<std::string, std::string>> params = {{"code", code}};
      if (!Get(q, "state").empty()) params.emplace_back("state", Get(q, "state"));
      resp = Redirect(WithQuery(redirect, params));
    }
    if (!new_cookie.empty()) {
      resp.headers.Add("Set-Cookie", std::string(kCookie) + "=" + new_cookie + "; Path=" +
                                         (d.base.empty() ? "/" : d.base) + "; HttpOnly; SameSite=Lax");
    }
    return resp;
  }

  // ---------------------------------------------------------------- token endpoint

  // The client of a token/revoke request: HTTP Basic or client_id (+ client_secret) in the body.
  Result<Json> ClientAuth(const Domain& d, const HttpRequest& r, const Params& form) {
    std::string id = Get(form, "client_id");
    std::string secret = Get(form, "client_secret");
    std::string auth(r.headers.GetOr("authorization"));
    if (StartsWith(auth, "Basic ")) {
      auto decoded = Base64Decode(Trim(auth.substr(6)));
      if (!decoded) return Error("invalid_client", "malformed Basic credentials", 401);
      auto colon = decoded->find(':');
      id = UrlDecode(decoded->substr(0, colon), true);
      secret = colon == std::string::npos ? "" : UrlDecode(decoded->substr(colon + 1), true);
    }
    auto pc = engine_.directory().ClientById(id);
    if (!pc.ok() || pc->first["Id"] != d.pool["Id"]) return Error("invalid_client", "unknown client", 401);
    if (pc->second.contains("ClientSecret") &&
        !ConstantTimeEquals(pc->second["ClientSecret"].get<std::string>(), secret)) {
      return Error("invalid_client", "client authentication failed", 401);
    }
    return pc->second;
  }

  HttpResponse Token(const Domain& d, const HttpRequest& r, const Params& form) {
    auto client = ClientAuth(d, r, form);
    if (!client.ok()) return OAuthError(client.error().http_status, client.error().code, client.error().message);
    std::string grant = Get(form, "grant_type");
    const Json& flows = client->value("AllowedOAuthFlows", Json::array());
    if (grant == "client_credentials") {
      if (!ListHas(flows, "client_credentials")) return OAuthError(400, "unauthorized_client");
      const Json& allowed = client->value("AllowedOAuthScopes", Json::array());
      std::string scope = Get(form, "scope");
      if (scope.empty()) {
        std::vector<std::string> all;
        for (const auto& s : allowed) all.push_back(s.get<std::string>());
        scope = Join(all, " ");
      }
      for (const auto& s : Split(scope, ' ')) {
        if (!s.empty() && !ListHas(allowed, s)) return OAuthError(400, "invalid_scope");
      }
      auto out = engine_.IssueClientCredentials(d.pool, *client, scope);
      if (!out.ok() && out.error().code == "UserLambdaValidationException") {
        return OAuthError(400, "invalid_request", out.error().message);
      }
      if (!out.ok()) return OAuthError(500, "server_error");
      return JsonResponse(200, *out);
    }
    if (grant == "authorization_code") {
      std::string code = Get(form, "code");
      std::string key = keys::AuthCode(d.Id(), code);
      std::optional<std::string> raw;
      if (code.empty() || code.size() > 128) return OAuthError(400, "invalid_grant");
      auto st = ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
        STRATUS_ASSIGN_OR_RETURN(raw, txn.Get(key));
        if (raw) STRATUS_RETURN_IF_ERROR(txn.Delete(key));  // one use only
        return Status::Ok();
      });
      if (!st.ok()) return OAuthError(500, "server_error");
      if (!raw) return OAuthError(400, "invalid_grant");
      Json rec = ParseJsonOrDiscarded(*raw);
      if (rec.value("Expires", int64_t{0}) < ctx_.clock.NowMillis() / 1000 ||
          rec.value("ClientId", "") != (*client)["ClientId"] ||
          rec.value("RedirectUri", "") != Get(form, "redirect_uri")) {
        return OAuthError(400, "invalid_grant");
      }
      std::string challenge = rec.value("Challenge", "");
      if (!challenge.empty()) {
        std::string verifier = Get(form, "code_verifier");
        if (verifier.empty() || !ConstantTimeEquals(jwt::Base64UrlEncode(Sha256(verifier)), challenge)) {
          return OAuthError(400, "invalid_grant", "PKCE verification failed");
        }
      }
      auto user = engine_.users().Get(d.pool, rec.value("Username", ""));
      if (!user.ok() || !user->value("Enabled", true)) return OAuthError(400, "invalid_grant");
      std::string scope = rec.value("Scope", "");
      auto tokens = engine_.IssueFor(d.pool, *client, *user, scope, rec.value("Nonce", ""), "TokenGeneration_HostedAuth");
      if (!tokens.ok()) return OAuthError(400, "invalid_request", tokens.error().message);
      Json out = Json::object();
      if (ListHas(Json(Split(scope, ' ')), "openid")) out["id_token"] = (*tokens)["IdToken"];
      out["access_token"] = (*tokens)["AccessToken"];
      out["refresh_token"] = (*tokens)["RefreshToken"];
      out["expires_in"] = (*tokens)["ExpiresIn"];
      out["token_type"] = "Bearer";
      return JsonResponse(200, out);
    }
    if (grant == "refresh_token") {
      Json in = Json{{"ClientId", (*client)["ClientId"]}, {"RefreshToken", Get(form, "refresh_token")}};
      if (client->contains("ClientSecret")) in["ClientSecret"] = (*client)["ClientSecret"];
      auto r2 = engine_.GetTokensFromRefreshToken(in);
      if (!r2.ok()) return OAuthError(400, "invalid_grant");
      const Json& a = (*r2)["AuthenticationResult"];
      return JsonResponse(200, Json{{"id_token", a["IdToken"]}, {"access_token", a["AccessToken"]},
                                    {"expires_in", a["ExpiresIn"]}, {"token_type", "Bearer"}});
    }
    return OAuthError(400, "unsupported_grant_type");
  }

  HttpResponse UserInfo(const Domain& d, const HttpRequest& r) {
    std::string auth(r.headers.GetOr("authorization"));
    auto unauthorized = [](const std::string& why) {
      HttpResponse resp = OAuthError(401, "invalid_token", why);
      resp.headers.Set("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"" + why + "\"");
      return resp;
    };
    if (!StartsWith(auth, "Bearer ")) return unauthorized("Access token is missing");
    auto claims = engine_.tokens().Verify(d.Id(), Trim(auth.substr(7)), "access");
    if (!claims.ok()) return unauthorized(claims.error().message);
    auto user = engine_.users().Get(d.pool, claims->value("username", ""));
    if (!user.ok() || !user->value("Enabled", true)) return unauthorized("User does not exist or is disabled");
    Json out = Json::object();
    for (const auto& [k, v] : (*user)["Attributes"].items()) out[k] = v;
    out["username"] = (*user)["Username"];
    return JsonResponse(200, out);
  }

  HttpResponse Revoke(const Domain& d, const HttpRequest& r, const Params& form) {
    auto client = ClientAuth(d, r, form);
    if (!client.ok()) return OAuthError(client.error().http_status, client.error().code);
    std::string token = Get(form, "token");
    if (token.empty()) return OAuthError(400, "invalid_request");
    if (jwt::Parse(token).ok()) return OAuthError(400, "unsupported_token_type");
    auto st = engine_.tokens().RevokeRefresh(d.Id(), token, (*client)["ClientId"].get<std::string>());
    if (!st.ok()) return OAuthError(400, "invalid_request", st.error().message);
    return JsonResponse(200, Json::object());
  }

  HttpResponse Logout(const Domain& d, const HttpRequest& r, const Params& q) {
    auto pc = engine_.directory().ClientById(Get(q, "client_id"));
    if (!pc.ok() || pc->first["Id"] != d.pool["Id"]) return Html(400, ui::ErrorPage(400, "invalid_request: unknown client_id"));
    std::string cookie = CookieValue(r, kCookie);
    if (!cookie.empty()) (void)ctx_.store.Delete(keys::PoolPrefix(d.Id()) + "hs/" + Sha256Hex(cookie));
    HttpResponse resp;
    std::string logout = Get(q, "logout_uri");
    if (!logout.empty()) {
      if (!ListHas(pc->second.value("LogoutURLs", Json::array()), logout)) {
        return Html(400, ui::ErrorPage(400, "invalid_request: logout_uri is not a registered sign-out URL"));
      }
      resp = Redirect(logout);
    } else {
      Params carried = q;
      Json client;
      std::string scope;
      if (auto bad = Validate(d, carried, client, scope)) return *bad;
      std::vector<std::pair<std::string, std::string>> params;
      for (const auto& [k, v] : Carry(q)) params.emplace_back(k, v);
      resp = Redirect(WithQuery(d.base + "/login", params));
    }
    resp.headers.Add("Set-Cookie", std::string(kCookie) + "=; Path=" + (d.base.empty() ? "/" : d.base) +
                                       "; Max-Age=0; HttpOnly; SameSite=Lax");
    return resp;
  }

  // ---------------------------------------------------------------- federation

  std::string CallbackUrl(const Domain& d, const char* which) {
    return External() + std::string(kDomainPrefix) + d.pool.value("Domain", "") + which;
  }

  HttpResponse StartFederation(const Domain& d, const Json& client, const Params& q, const std::string& idp) {
    if (!ListHas(client.value("SupportedIdentityProviders", Json::array()), idp)) {
      return Redirect(WithQuery(Get(q, "redirect_uri"), {{"error", "invalid_request"}, {"state", Get(q, "state")}}));
    }
    auto provider = engine_.directory().ProviderById(d.Id(), idp);
    if (!provider.ok()) return Html(400, ui::ErrorPage(400, "Unknown identity provider " + idp));
    // Our own state remembers the client's request while the user is at the IdP.
    std::string state = jwt::Base64UrlEncode(RandomBytes(24));
    std::string nonce = jwt::Base64UrlEncode(RandomBytes(16));
    Json rec = Json{{"Provider", idp}, {"Nonce", nonce}, {"Expires", ctx_.clock.NowMillis() / 1000 + kCodeSeconds}};
    for (const auto& [k, v] : Carry(q)) rec["Q"][k] = v;
    (void)ctx_.store.Put(keys::PoolPrefix(d.Id()) + "fs/" + state, DumpJson(rec));
    Result<std::string> url = (*provider)["ProviderType"] == "SAML"
        ? federation_.SamlRedirectUrl(*provider, CallbackUrl(d, "/saml2/idpresponse"), "urn:amazon:cognito:sp:" + d.Id(), state)
        : federation_.OidcAuthorizeUrl(*provider, CallbackUrl(d, "/oauth2/idpresponse"), state, nonce);
    if (!url.ok()) return Html(502, ui::ErrorPage(502, "Identity provider " + idp + ": " + url.error().message));
    return Redirect(*url);
  }

  // The federation state saved by StartFederation (consumed).
  std::optional<Json> TakeFederationState(const Domain& d, const std::string& state) {
    if (state.empty() || state.size() > 128) return std::nullopt;
    std::string key = keys::PoolPrefix(d.Id()) + "fs/" + state;
    std::optional<std::string> raw;
    auto st = ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
      STRATUS_ASSIGN_OR_RETURN(raw, txn.Get(key));
      if (raw) STRATUS_RETURN_IF_ERROR(txn.Delete(key));
      return Status::Ok();
    });
    if (!st.ok() || !raw) return std::nullopt;
    Json rec = ParseJsonOrDiscarded(*raw);
    if (rec.value("Expires", int64_t{0}) < ctx_.clock.NowMillis() / 1000) return std::nullopt;
    return rec;
  }

  HttpResponse FinishFederation(const Domain& d, const Json& rec, const Json& provider, const Result<ExternalIdentity>& who) {
    Params q;
    const Json carried = rec.value("Q", Json::object());
    for (const auto& [k, v] : carried.items()) q[k] = v.is_string() ? v.get<std::string>() : "";
    if (!who.ok()) {
      spdlog::info("cognito: federation with {} failed: {}", rec.value("Provider", ""), who.error().message);
      return Redirect(WithQuery(Get(q, "redirect_uri"), {{"error_description", who.error().message},
                                                         {"error", "invalid_request"}, {"state", Get(q, "state")}}));
    }
    auto user = engine_.LinkFederatedUser(d.pool, provider, who->subject, who->claims);
    if (!user.ok()) return Html(400, ui::ErrorPage(400, user.error().message));
    Json client;
    std::string scope;
    if (auto bad = Validate(d, q, client, scope)) return *bad;
    return Complete(d, client, q, *user, NewBrowserSession(d, *user));
  }

  HttpResponse IdpResponse(const Domain& d, const Params& q) {
    auto rec = TakeFederationState(d, Get(q, "state"));
    if (!rec) return Html(400, ui::ErrorPage(400, "invalid_state: unknown or expired sign-in state"));
    auto provider = engine_.directory().ProviderById(d.Id(), rec->value("Provider", ""));
    if (!provider.ok()) return Html(400, ui::ErrorPage(400, "The identity provider no longer exists."));
    if (!Get(q, "error").empty()) {
      return FinishFederation(d, *rec, *provider, Error("invalid_request", "identity provider: " + Get(q, "error")));
    }
    auto who = federation_.OidcExchange(*provider, Get(q, "code"), CallbackUrl(d, "/oauth2/idpresponse"),
                                        rec->value("Nonce", ""));
    return FinishFederation(d, *rec, *provider, who);
  }

  HttpResponse SamlResponse(const Domain& d, const Params& form) {
    auto rec = TakeFederationState(d, Get(form, "RelayState"));
    if (!rec) return Html(400, ui::ErrorPage(400, "invalid_state: unknown or expired sign-in state"));
    auto provider = engine_.directory().ProviderById(d.Id(), rec->value("Provider", ""));
    if (!provider.ok()) return Html(400, ui::ErrorPage(400, "The identity provider no longer exists."));
    auto who = federation_.SamlConsume(*provider, Get(form, "SAMLResponse"), "urn:amazon:cognito:sp:" + d.Id());
    return FinishFederation(d, *rec, *provider, who);
  }

  aws::ServiceContext& ctx_;
  Engine& engine_;
  HttpClient http_;
  Federation federation_;
};

}  // namespace

std::unique_ptr<OAuthPlane> MakeOAuthPlane(aws::ServiceContext& context, Engine& engine) {
  return std::make_unique<Plane>(context, engine);
}

}  // namespace stratus::services::cognito
