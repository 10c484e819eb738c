#include "services/cognito/hosted_ui.h"

#include "core/strings.h"

namespace stratus::services::cognito::ui {

namespace {

std::string Head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" + XmlEscape(title) + "</title><style>"
         "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
         "main{max-width:360px;margin:48px auto;background:#fff;padding:24px;border-radius:8px;"
         "box-shadow:0 1px 4px rgba(0,0,0,.15)}label{display:block;margin:12px 0 4px}"
         "input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:8px}"
         "button{margin-top:16px;width:100%;padding:10px;background:#0972d3;color:#fff;border:0;border-radius:4px}"
         ".error{color:#b00020;margin:8px 0}</style></head><body><main>";
}

std::string Tail() { return "</main></body></html>\n"; }

std::string HiddenFields(const Hidden& hidden) {
  std::string out;
  for (const auto& [k, v] : hidden) {
    out += "<input type=\"hidden\" name=\"" + XmlEscape(k) + "\" value=\"" + XmlEscape(v) + "\">";
  }
  return out;
}

std::string ErrorLine(const std::string& error) {
  return error.empty() ? "" : "<p class=\"error\" id=\"error\" role=\"alert\">" + XmlEscape(error) + "</p>";
}

}  // namespace

std::string LoginPage(const std::string& action, const Hidden& hidden, const std::string& error,
                      const std::string& signup_href, const std::vector<std::string>& providers) {
  std::string out = Head("Sign in") + "<h1>Sign in</h1>" + ErrorLine(error);
  out += "<form method=\"post\" action=\"" + XmlEscape(action) + "\" id=\"login\">" + HiddenFields(hidden);
  out += "<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" "
         "autocomplete=\"username\" required>";
  out += "<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" "
         "autocomplete=\"current-password\" required>";
  out += "<button type=\"submit\" id=\"signin\" name=\"signin\">Sign in</button></form>";
  for (const auto& p : providers) {
    out += "<p><a class=\"idp\" href=\"" + XmlEscape(p.substr(p.find('|') + 1)) + "\">Sign in with " +
           XmlEscape(p.substr(0, p.find('|'))) + "</a></p>";
  }
  if (!signup_href.empty()) {
    out += "<p>Need an account? <a id=\"signup-link\" href=\"" + XmlEscape(signup_href) + "\">Sign up</a></p>";
  }
  return out + Tail();
}

std::string SignupPage(const std::string& action, const Hidden& hidden, const std::string& error) {
  std::string out = Head("Sign up") + "<h1>Sign up</h1>" + ErrorLine(error);
  out += "<form method=\"post\" action=\"" + XmlEscape(action) + "\" id=\"signup\">" + HiddenFields(hidden);
  out += "<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" required>";
  out += "<label for=\"email\">Email</label><input type=\"email\" id=\"email\" name=\"email\">";
  out += "<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" "
         "autocomplete=\"new-password\" required>";
  out += "<button type=\"submit\" id=\"signup-button\">Sign up</button></form>";
  return out + Tail();
}

std::string ConfirmPage(const std::string& action, const Hidden& hidden, const std::string& error) {
  std::string out = Head("Confirm your account") + "<h1>Confirm your account</h1>" + ErrorLine(error);
  out += "<form method=\"post\" action=\"" + XmlEscape(action) + "\" id=\"confirm\">" + HiddenFields(hidden);
  out += "<label for=\"code\">Verification code</label><input type=\"text\" id=\"code\" name=\"code\" "
         "autocomplete=\"one-time-code\" required>";
  out += "<button type=\"submit\" id=\"confirm-button\">Confirm</button></form>";
  return out + Tail();
}

std::string ChallengePage(const std::string& action, const Hidden& hidden,
                          const std::string& challenge, const std::string& error) {
  bool new_password = challenge == "NEW_PASSWORD_REQUIRED";
  std::string title = new_password ? "Change password" : "Enter your code";
  std::string out = Head(title) + "<h1>" + XmlEscape(title) + "</h1>" + ErrorLine(error);
  out += "<form method=\"post\" action=\"" + XmlEscape(action) + "\" id=\"challenge\">" + HiddenFields(hidden);
  if (new_password) {
    out += "<label for=\"new_password\">New password</label><input type=\"password\" id=\"new_password\" "
           "name=\"new_password\" autocomplete=\"new-password\" required>";
  } else {
    out += "<label for=\"code\">Code</label><input type=\"text\" id=\"code\" name=\"code\" "
           "autocomplete=\"one-time-code\" required>";
  }
  out += "<button type=\"submit\" id=\"challenge-button\">Continue</button></form>";
  return out + Tail();
}

std::string ErrorPage(int status, const std::string& message) {
  return Head("Error") + "<h1>Something went wrong</h1><p class=\"error\" id=\"error\">" +
         XmlEscape(message) + "</p><p>HTTP " + std::to_string(status) + "</p>" + Tail();
}

std::string FormPostPage(const std::string& url, const Hidden& fields) {
  return Head("Redirecting") + "<form method=\"post\" action=\"" + XmlEscape(url) + "\" id=\"post\">" +
         HiddenFields(fields) + "<button type=\"submit\">Continue</button></form>"
         "<script>document.getElementById('post').submit()</script>" + Tail();
}

}  // namespace stratus::services::cognito::ui
