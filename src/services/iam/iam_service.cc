#include "services/iam/iam_service.h"

#include <spdlog/spdlog.h>

#include "services/iam/authorizer.h"
#include "services/iam/iam_common.h"

namespace stratus::services::iam {

namespace {

class IamService final : public aws::Service {
 public:
  explicit IamService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "iam",
                                .model = "iam-2010-05-08",
                                .protocol = aws::Protocol::kQuery,
                                .signing_name = "iam",
                                .validation_error = "ValidationError"}),
        state_(context.store),
        iam_{state_, cache_, context.clock, context.config},
        authorizer_(context, state_, cache_) {
    if (Status st = state_.Load(); !st.ok()) {
      spdlog::error("iam: cannot load state: {}", st.error().message);
    }
    context.clients.authorizer = &authorizer_;
    Registrar on = [this](std::string name, iam::Handler fn) { On(std::move(name), std::move(fn)); };
    RegisterUserHandlers(iam_, on);
    RegisterRoleHandlers(iam_, on);
    RegisterPolicyHandlers(iam_, on);
    if (context.config.enforce_iam) {
      spdlog::info("iam: enforcement on{}; root access key {}",
                   context.config.iam_soft_mode ? " (soft mode: denials are logged, not enforced)" : "",
                   context.config.iam_root_access_key_id.empty() ? "(none)"
                                                                 : context.config.iam_root_access_key_id);
    }
  }

 private:
  IamState state_;
  PolicyCache cache_;
  Iam iam_;
  IamAuthorizer authorizer_;
};

}  // namespace

std::unique_ptr<aws::Service> MakeIamService(aws::ServiceContext& context) {
  return std::make_unique<IamService>(context);
}

}  // namespace stratus::services::iam
