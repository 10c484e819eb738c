#pragma once
// The hosted UI's pages: plain HTML forms that work in any browser (no script). Every value
// written into a page is escaped. Pure functions; thread-safe.
#include <string>
#include <utility>
#include <vector>

namespace stratus::services::cognito::ui {

// The OAuth parameters a page carries forward in hidden fields.
using Hidden = std::vector<std::pair<std::string, std::string>>;

std::string LoginPage(const std::string& action, const Hidden& hidden, const std::string& error,
                      const std::string& signup_href, const std::vector<std::string>& providers);
std::string SignupPage(const std::string& action, const Hidden& hidden, const std::string& error);
std::string ConfirmPage(const std::string& action, const Hidden& hidden, const std::string& error);
// A challenge answer page: NEW_PASSWORD_REQUIRED asks for a new password, code challenges for
// a code.
std::string ChallengePage(const std::string& action, const Hidden& hidden,
                          const std::string& challenge, const std::string& error);
std::string ErrorPage(int status, const std::string& message);
// A page that redirects to `url` (form_post answers).
std::string FormPostPage(const std::string& url, const Hidden& fields);

}  // namespace stratus::services::cognito::ui
