#pragma once
// S3 (rest-xml): buckets, objects, versions, multipart uploads, presigned URLs, CORS, static
// websites, lifecycle expiration and event notifications, on store::Store (metadata, small
// objects) and store::BlobStore (object bodies as files under <data-dir>/blobs).
//
// Addressing: path style (http://host/bucket/key) and virtual-hosted style
// (bucket.s3.localhost, bucket.s3.<region>.localhost.localstack.cloud, ...), claimed through
// Service::ClaimsRequest and rewritten to path style in PrepareRequest; the website endpoint
// (bucket.s3-website...) and CORS preflights are data planes. S3 is the fallback for requests no
// other service claims (so `GET /` lists buckets, as LocalStack users expect).
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::s3 {

std::unique_ptr<aws::Service> MakeS3Service(aws::ServiceContext& context);

}  // namespace stratus::services::s3
