#include "services/apigateway/apigateway_service.h"

#include <spdlog/spdlog.h>

#include "services/apigateway/data_plane.h"
#include "services/apigateway/http_apis.h"
#include "services/apigateway/rest_apis.h"

namespace stratus::services::apigateway {

namespace {

Ctx CtxOf(const aws::CallContext& call) {
  return Ctx{Scope{call.caller.account_id, call.region}, call.now_ms};
}

// Handlers never let an exception out (STYLE.md rule 3): a malformed stored record that makes
// the JSON library throw becomes an InternalFailure with a log line.
template <class Fn>
auto Guarded(const char* op, Fn fn) {
  return [op, fn = std::move(fn)](aws::CallContext& c, const Json& in) -> decltype(fn(c, in)) {
    try {
      return fn(c, in);
    } catch (const std::exception& e) {
      spdlog::error("apigateway {}: internal error: {}", op, e.what());
      return InternalFailure(std::string("internal error in ") + op + ": " + e.what());
    }
  };
}

Result<Json> Empty(Status st) {
  if (!st.ok()) return std::move(st).error();
  return Json::object();
}

// State both services share: the control planes and the data plane.
struct Gateway {
  explicit Gateway(aws::ServiceContext& context)
      : data_plane(context),
        rest(context.store, [this](const std::string& id) { data_plane.Invalidate(id); }),
        http(context.store, [this](const std::string& id) { data_plane.Invalidate(id); }) {
    data_plane.Attach(&rest, &http);
  }
  DataPlane data_plane;
  RestApis rest;
  HttpApis http;
};

class RestApiService final : public aws::Service {
 public:
  RestApiService(aws::ServiceContext& context, std::shared_ptr<Gateway> gw)
      : aws::Service(Descriptor{
            .name = "apigateway",
            .model = "apigateway-2015-07-09",
            .protocol = aws::Protocol::kRestJson,
            .signing_name = "apigateway",
            .path_prefixes = {"/restapis", "/apikeys", "/usageplans", "/domainnames",
                              "/account", "/clientcertificates", "/vpclinks", "/sdktypes",
                              "/tags/", "/domainnameaccessassociations",
                              "/rejectdomainnameaccessassociations"},
            .validation_error = "BadRequestException"}),
        gw_(std::move(gw)) {
    Register();
  }

  Status Start() override { return gw_->data_plane.Start(); }
  void Stop() override { gw_->data_plane.Stop(); }

  bool MatchDataPlane(const HttpRequest& request) const override {
    return gw_->data_plane.Matches(request);
  }
  void HandleDataPlane(HttpRequest request, Responder responder) override {
    gw_->data_plane.Handle(std::move(request), std::move(responder));
  }

 private:
  using Call = aws::CallContext;
  using Fn = Result<Json> (RestApis::*)(const Ctx&, const Json&);
  using StatusFn = Status (RestApis::*)(const Ctx&, const Json&);

  void Json1(const char* op, Fn fn) {
    On(op, Guarded(op, [this, fn](Call& c, const Json& in) { return (gw_->rest.*fn)(CtxOf(c), in); }));
  }
  void Del(const char* op, StatusFn fn) {
    On(op, Guarded(op, [this, fn](Call& c, const Json& in) { return Empty((gw_->rest.*fn)(CtxOf(c), in)); }));
  }

  void Register() {
    RestApis* r = nullptr;
    (void)r;
    Json1("CreateRestApi", &RestApis::CreateRestApi);
    Json1("GetRestApi", &RestApis::GetRestApi);
    Json1("GetRestApis", &RestApis::GetRestApis);
    Json1("UpdateRestApi", &RestApis::UpdateRestApi);
    Del("DeleteRestApi", &RestApis::DeleteRestApi);
    On("ImportRestApi", Guarded("ImportRestApi", [this](Call& c, const Json& in) {
      return gw_->rest.ImportRestApi(CtxOf(c), in, c.payload);
    }));
    On("PutRestApi", Guarded("PutRestApi", [this](Call& c, const Json& in) {
      return gw_->rest.PutRestApi(CtxOf(c), in, c.payload);
    }));
    OnOutput("GetExport", Guarded("GetExport", [this](Call& c, const Json& in) -> aws::OperationResult {
      auto r = gw_->rest.GetExport(CtxOf(c), in);
      if (!r.ok()) return std::move(r).error();
      aws::OperationOutput out;
      out.body = Json{{"contentType", "application/json"},
                      {"contentDisposition", "attachment; filename=\"" +
                                                 in.value("exportType", "") + "_" +
                                                 in.value("stageName", "") + ".json\""}};
      out.payload = std::move(r).value();
      return out;
    }));
    Json1("CreateResource", &RestApis::CreateResource);
    Json1("GetResource", &RestApis::GetResource);
    Json1("GetResources", &RestApis::GetResources);
    Json1("UpdateResource", &RestApis::UpdateResource);
    Del("DeleteResource", &RestApis::DeleteResource);
    Json1("PutMethod", &RestApis::PutMethod);
    Json1("GetMethod", &RestApis::GetMethod);
    Json1("UpdateMethod", &RestApis::UpdateMethod);
    Del("DeleteMethod", &RestApis::DeleteMethod);
    Json1("PutMethodResponse", &RestApis::PutMethodResponse);
    Json1("GetMethodResponse", &RestApis::GetMethodResponse);
    Json1("UpdateMethodResponse", &RestApis::UpdateMethodResponse);
    Del("DeleteMethodResponse", &RestApis::DeleteMethodResponse);
    Json1("PutIntegration", &RestApis::PutIntegration);
    Json1("GetIntegration", &RestApis::GetIntegration);
    Json1("UpdateIntegration", &RestApis::UpdateIntegration);
    Del("DeleteIntegration", &RestApis::DeleteIntegration);
    Json1("PutIntegrationResponse", &RestApis::PutIntegrationResponse);
    Json1("GetIntegrationResponse", &RestApis::GetIntegrationResponse);
    Json1("UpdateIntegrationResponse", &RestApis::UpdateIntegrationResponse);
    Del("DeleteIntegrationResponse", &RestApis::DeleteIntegrationResponse);
    Json1("CreateDeployment", &RestApis::CreateDeployment);
    Json1("GetDeployment", &RestApis::GetDeployment);
    Json1("GetDeployments", &RestApis::GetDeployments);
    Json1("UpdateDeployment", &RestApis::UpdateDeployment);
    Del("DeleteDeployment", &RestApis::DeleteDeployment);
    Json1("CreateStage", &RestApis::CreateStage);
    Json1("GetStage", &RestApis::GetStage);
    Json1("GetStages", &RestApis::GetStages);
    Json1("UpdateStage", &RestApis::UpdateStage);
    Del("DeleteStage", &RestApis::DeleteStage);
    Json1("CreateAuthorizer", &RestApis::CreateAuthorizer);
    Json1("GetAuthorizer", &RestApis::GetAuthorizer);
    Json1("GetAuthorizers", &RestApis::GetAuthorizers);
    Json1("UpdateAuthorizer", &RestApis::UpdateAuthorizer);
    Del("DeleteAuthorizer", &RestApis::DeleteAuthorizer);
    Json1("CreateRequestValidator", &RestApis::CreateRequestValidator);
    Json1("GetRequestValidator", &RestApis::GetRequestValidator);
    Json1("GetRequestValidators", &RestApis::GetRequestValidators);
    Json1("UpdateRequestValidator", &RestApis::UpdateRequestValidator);
    Del("DeleteRequestValidator", &RestApis::DeleteRequestValidator);
    Json1("CreateModel", &RestApis::CreateModel);
    Json1("GetModel", &RestApis::GetModel);
    Json1("GetModels", &RestApis::GetModels);
    Json1("UpdateModel", &RestApis::UpdateModel);
    Del("DeleteModel", &RestApis::DeleteModel);
    Json1("PutGatewayResponse", &RestApis::PutGatewayResponse);
    Json1("GetGatewayResponse", &RestApis::GetGatewayResponse);
    Json1("GetGatewayResponses", &RestApis::GetGatewayResponses);
    Json1("UpdateGatewayResponse", &RestApis::UpdateGatewayResponse);
    Del("DeleteGatewayResponse", &RestApis::DeleteGatewayResponse);
    Json1("CreateApiKey", &RestApis::CreateApiKey);
    Json1("GetApiKey", &RestApis::GetApiKey);
    Json1("GetApiKeys", &RestApis::GetApiKeys);
    Json1("UpdateApiKey", &RestApis::UpdateApiKey);
    Del("DeleteApiKey", &RestApis::DeleteApiKey);
    Json1("CreateUsagePlan", &RestApis::CreateUsagePlan);
    Json1("GetUsagePlan", &RestApis::GetUsagePlan);
    Json1("GetUsagePlans", &RestApis::GetUsagePlans);
    Json1("UpdateUsagePlan", &RestApis::UpdateUsagePlan);
    Del("DeleteUsagePlan", &RestApis::DeleteUsagePlan);
    Json1("CreateUsagePlanKey", &RestApis::CreateUsagePlanKey);
    Json1("GetUsagePlanKey", &RestApis::GetUsagePlanKey);
    Json1("GetUsagePlanKeys", &RestApis::GetUsagePlanKeys);
    Del("DeleteUsagePlanKey", &RestApis::DeleteUsagePlanKey);
    On("GetUsage", [this](Call& c, const Json& in) -> Result<Json> {
      return gw_->data_plane.Usage(CtxOf(c).scope, in);
    });
    Json1("GetTags", &RestApis::GetTags);
    Del("TagResource", &RestApis::TagResource);
    Del("UntagResource", &RestApis::UntagResource);
    On("GetAccount", [this](Call& c, const Json&) { return gw_->rest.GetAccount(CtxOf(c)); });
    Json1("UpdateAccount", &RestApis::UpdateAccount);
    On("FlushStageAuthorizersCache", [this](Call& c, const Json& in) -> Result<Json> {
      gw_->data_plane.FlushAuthorizerCache(in.value("restApiId", ""));
      return Json::object();
    });
    On("FlushStageCache", [](Call&, const Json&) -> Result<Json> { return Json::object(); });
  }

  std::shared_ptr<Gateway> gw_;
};

class HttpApiService final : public aws::Service {
 public:
  HttpApiService(aws::ServiceContext& context, std::shared_ptr<Gateway> gw)
      : aws::Service(Descriptor{.name = "apigatewayv2",
                                .model = "apigatewayv2-2018-11-29",
                                .protocol = aws::Protocol::kRestJson,
                                .signing_name = "apigateway",
                                .path_prefixes = {"/v2/"},
                                .validation_error = "BadRequestException"}),
        gw_(std::move(gw)) {
    Register();
  }

 private:
  using Call = aws::CallContext;
  using Fn = Result<Json> (HttpApis::*)(const Ctx&, const Json&);
  using StatusFn = Status (HttpApis::*)(const Ctx&, const Json&);

  void Json1(const char* op, Fn fn) {
    On(op, Guarded(op, [this, fn](Call& c, const Json& in) { return (gw_->http.*fn)(CtxOf(c), in); }));
  }
  void Del(const char* op, StatusFn fn) {
    On(op, Guarded(op, [this, fn](Call& c, const Json& in) { return Empty((gw_->http.*fn)(CtxOf(c), in)); }));
  }

  void Register() {
    Json1("CreateApi", &HttpApis::CreateApi);
    Json1("GetApi", &HttpApis::GetApi);
    Json1("GetApis", &HttpApis::GetApis);
    Json1("UpdateApi", &HttpApis::UpdateApi);
    Del("DeleteApi", &HttpApis::DeleteApi);
    Json1("ImportApi", &HttpApis::ImportApi);
    Json1("ReimportApi", &HttpApis::ReimportApi);
    OnOutput("ExportApi", Guarded("ExportApi", [this](Call& c, const Json& in) -> aws::OperationResult {
      auto r = gw_->http.ExportApi(CtxOf(c), in);
      if (!r.ok()) return std::move(r).error();
      aws::OperationOutput out;
      out.payload = std::move(r).value();
      return out;
    }));
    Del("DeleteCorsConfiguration", &HttpApis::DeleteCorsConfiguration);
    Json1("CreateRoute", &HttpApis::CreateRoute);
    Json1("GetRoute", &HttpApis::GetRoute);
    Json1("GetRoutes", &HttpApis::GetRoutes);
    Json1("UpdateRoute", &HttpApis::UpdateRoute);
    Del("DeleteRoute", &HttpApis::DeleteRoute);
    Json1("CreateIntegration", &HttpApis::CreateIntegration);
    Json1("GetIntegration", &HttpApis::GetIntegration);
    Json1("GetIntegrations", &HttpApis::GetIntegrations);
    Json1("UpdateIntegration", &HttpApis::UpdateIntegration);
    Del("DeleteIntegration", &HttpApis::DeleteIntegration);
    Json1("CreateStage", &HttpApis::CreateStage);
    Json1("GetStage", &HttpApis::GetStage);
    Json1("GetStages", &HttpApis::GetStages);
    Json1("UpdateStage", &HttpApis::UpdateStage);
    Del("DeleteStage", &HttpApis::DeleteStage);
    Del("DeleteAccessLogSettings", &HttpApis::DeleteAccessLogSettings);
    Del("DeleteRouteSettings", &HttpApis::DeleteRouteSettings);
    Json1("CreateDeployment", &HttpApis::CreateDeployment);
    Json1("GetDeployment", &HttpApis::GetDeployment);
    Json1("GetDeployments", &HttpApis::GetDeployments);
    Json1("UpdateDeployment", &HttpApis::UpdateDeployment);
    Del("DeleteDeployment", &HttpApis::DeleteDeployment);
    Json1("CreateAuthorizer", &HttpApis::CreateAuthorizer);
    Json1("GetAuthorizer", &HttpApis::GetAuthorizer);
    Json1("GetAuthorizers", &HttpApis::GetAuthorizers);
    Json1("UpdateAuthorizer", &HttpApis::UpdateAuthorizer);
    Del("DeleteAuthorizer", &HttpApis::DeleteAuthorizer);
    Json1("GetTags", &HttpApis::GetTags);
    Del("TagResource", &HttpApis::TagResource);
    Del("UntagResource", &HttpApis::UntagResource);
    On("ResetAuthorizersCache", [this](Call&, const Json& in) -> Result<Json> {
      gw_->data_plane.FlushAuthorizerCache(in.value("apiId", ""));
      return Json::object();
    });
  }

  std::shared_ptr<Gateway> gw_;
};

}  // namespace

std::vector<std::unique_ptr<aws::Service>> MakeApiGatewayServices(aws::ServiceContext& context) {
  auto gw = std::make_shared<Gateway>(context);
  std::vector<std::unique_ptr<aws::Service>> out;
  out.push_back(std::make_unique<RestApiService>(context, gw));
  out.push_back(std::make_unique<HttpApiService>(context, gw));
  return out;
}

}  // namespace stratus::services::apigateway
