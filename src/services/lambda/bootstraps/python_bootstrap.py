# Stratus's Python runtime: speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and runs the
# handler named by _HANDLER ("module.function", the module path may contain '/').
# Written for stratus; embedded in the stratus binary and written out when the server starts.
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
PREFIX = "/2018-06-01/runtime"


class Client:
    def __init__(self):
        self.conn = http.client.HTTPConnection(HOST, int(PORT))

    def call(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                self.conn.request(method, PREFIX + path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, int(PORT))
                if attempt:
                    raise


client = Client()


def error_body(exc, error_type=None, trace=None):
    if trace is None:
        trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": trace,
    }


def post_error(path, body):
    data = json.dumps(body).encode()
    client.call("POST", path, data, {"Lambda-Runtime-Function-Error-Type": body["errorType"],
                                     "Content-Type": "application/json"})


def init_failure(body):
    sys.stdout.write("[ERROR] %s: %s\n" % (body["errorType"], body["errorMessage"]))
    post_error("/init/error", body)
    sys.exit(1)


def load_handler(spec):
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    try:
        module_path, function_name = spec.rsplit(".", 1)
    except ValueError as e:
        init_failure({"errorMessage": "Bad handler '%s': %s" % (spec, e),
                      "errorType": "Runtime.MalformedHandlerName", "requestId": "",
                      "stackTrace": []})
    if "/" in module_path:
        directory, module_path = module_path.rsplit("/", 1)
        sys.path.insert(0, os.path.join(task_root, directory))
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        init_failure({"errorMessage": "Unable to import module '%s': %s" % (module_name, e),
                      "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []})
    except SyntaxError as e:
        init_failure({"errorMessage": "Syntax error in module '%s': %s" % (module_name, e),
                      "errorType": "Runtime.UserCodeSyntaxError", "requestId": "",
                      "stackTrace": traceback.format_exception_only(type(e), e)})
    except Exception as e:  # an exception raised at import time
        init_failure(error_body(e))
    handler = getattr(module, function_name, None)
    if handler is None:
        init_failure({"errorMessage": "Handler '%s' missing on module '%s'" % (function_name, module_name),
                      "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []})
    return handler


class CognitoIdentity:
    def __init__(self, data):
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class Client_:
    def __init__(self, data):
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext:
    def __init__(self, data):
        self.client = Client_(data.get("client") or {}) if data.get("client") else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        identity = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = CognitoIdentity(json.loads(identity)) if identity else None
        client_context = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = ClientContext(json.loads(client_context)) if client_context else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    handler = load_handler(os.environ.get("_HANDLER", ""))
    while True:
        response, body = client.call("GET", "/invocation/next")
        if response.status != 200:
            time.sleep(0.01)
            continue
        headers = {k: v for k, v in response.getheaders()}
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        trace_id = headers.get("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            event = json.loads(body) if body else None
            context = Context(headers)
            result = handler(event, context)
        except Exception as e:
            err = error_body(e)
            err["requestId"] = request_id
            sys.stdout.write("[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (
                err["errorType"], err["errorMessage"], "".join(err["stackTrace"])))
            post_error("/invocation/%s/error" % request_id, err)
            continue
        try:
            data = json.dumps(result).encode()
        except Exception as e:
            err = {"errorMessage": "Unable to marshal response: %s" % e,
                   "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": []}
            sys.stdout.write("[ERROR] Runtime.MarshalError: %s\n" % err["errorMessage"])
            post_error("/invocation/%s/error" % request_id, err)
            continue
        client.call("POST", "/invocation/%s/response" % request_id, data,
                    {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
