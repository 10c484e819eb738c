"""Creates an HTTP API (API Gateway v2) whose JWT authorizer trusts a stratus Cognito pool, and
prints its data-plane URLs as JSON:
  auth — GET /auth behind the JWT authorizer (issuer: the pool, audience: the app client)
  open — GET /open, the same route and integration without an authorizer (the baseline)
Both routes proxy (HTTP_PROXY) to `upstream`, e.g. nginx `return 200`.
Usage: authorizer_setup.py <stratus url> <pool id> <client id> <upstream url>"""
import json
import sys

import boto3
from botocore.config import Config

url, pool_id, client_id, upstream = sys.argv[1:5]
v2 = boto3.client("apigatewayv2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                  aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}))
api = v2.create_api(Name="bench-jwt", ProtocolType="HTTP")["ApiId"]
auth = v2.create_authorizer(ApiId=api, Name="cognito", AuthorizerType="JWT",
                            IdentitySource=["$request.header.Authorization"],
                            JwtConfiguration={"Issuer": f"{url.rstrip('/')}/{pool_id}", "Audience": [client_id]})
integ = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                              IntegrationUri=upstream, PayloadFormatVersion="1.0")["IntegrationId"]
v2.create_route(ApiId=api, RouteKey="GET /auth", AuthorizationType="JWT", AuthorizerId=auth["AuthorizerId"],
                Target=f"integrations/{integ}")
v2.create_route(ApiId=api, RouteKey="GET /open", Target=f"integrations/{integ}")
v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
base = f"{url.rstrip('/')}/_aws/execute-api/{api}"
print(json.dumps({"auth": f"{base}/auth", "open": f"{base}/open"}))
