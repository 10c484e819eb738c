"""A stage answers with the new deployment from the moment CreateDeployment returns, also while
other requests keep the API's definition loading (docs/apigateway.md: definitions are dropped on
every change made through this node). A load that read the store before the deployment's commit
used to cache its old copy after the change dropped the cache, hiding the deployment for up to
2 s. The window is short, so requests run throughout several redeployments; with a 400 ms sleep
put between a load's store read and its caching, this test failed every time without the fix."""
import threading
import time

from conftest import in_threads, make_client
from test_apigateway import mock_api
from test_apigateway_support import call, host_of

ROUNDS = 8


def test_requests_after_create_deployment_see_it(shared_stratus):
    ag = make_client(shared_stratus, "apigateway")
    rid, res = mock_api(ag, name="redeploy", response='{"v": 0}')
    host = host_of(rid, shared_stratus.port)
    seen = []  # (monotonic time the request was sent, the deployment it answered with)
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            sent = time.monotonic()
            status, _, _, body = call(shared_stratus, "GET", "/dev/items", host=host)
            assert status == 200
            seen.append((sent, int(body.decode().split(":")[1].strip(" }"))))

    deployed = []  # (monotonic time CreateDeployment returned, its value)
    with in_threads(hammer, 2, stop):
        for v in range(1, ROUNDS + 1):
            ag.put_integration_response(restApiId=rid, resourceId=res, httpMethod="GET", statusCode="200",
                                        responseTemplates={"application/json": f'{{"v": {v}}}'})
            ag.create_deployment(restApiId=rid, stageName="dev")
            deployed.append((time.monotonic(), v))
            time.sleep(0.6)
    stale = [(sent, got, v) for sent, got in seen for at, v in deployed if sent > at and got < v]
    assert not stale, f"{len(stale)} requests sent after a deployment answered an older one: {stale[:5]}"
