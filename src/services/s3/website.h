#pragma once
// The static website endpoint (<bucket>.s3-website.<host>): index documents, error documents,
// redirects (RedirectAllRequestsTo, RoutingRules, objects' WebsiteRedirectLocation), answered
// in HTML as S3's website endpoint does. Blocking (store reads): call it from a worker.
#include <string>

#include "core/http.h"
#include "services/s3/s3_store.h"

namespace stratus::services::s3 {

HttpResponse ServeWebsite(S3Store& s3, const std::string& bucket, const HttpRequest& request,
                          const std::string& request_id);

}  // namespace stratus::services::s3
