#include "services/sts/sts_service.h"

namespace stratus::services::sts {

namespace {

class StsService final : public aws::Service {
 public:
  explicit StsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "sts",
                                .model = "sts-2011-06-15",
                                .protocol = aws::Protocol::kQuery,
                                .signing_name = "sts",
                                .validation_error = "ValidationError"}) {
    // Reads nothing but the request: safe to answer on the io thread.
    On("GetCallerIdentity",
       [](aws::CallContext& call, const Json&) -> Result<Json> { return CallerIdentity(call.caller); },
       aws::Mode::kInline);
  }
};

}  // namespace

Json CallerIdentity(const aws::Caller& caller) {
  return Json{{"UserId", caller.user_id}, {"Account", caller.account_id}, {"Arn", caller.arn}};
}

std::unique_ptr<aws::Service> MakeStsService(aws::ServiceContext& context) {
  return std::make_unique<StsService>(context);
}

}  // namespace stratus::services::sts
