# Stratus's Python runtime: speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and runs the
# handler named by _HANDLER ("module.function", the module path may contain '/').
# Written for stratus; embedded in the stratus binary and written out when the server starts.
import importlib
import json
import os
import socket
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
PREFIX = "/2018-06-01/runtime"


class Client:
    """A minimal HTTP/1.1 client on one keep-alive connection: the Runtime API is one request at
    a time with Content-Length bodies, and http.client costs more (to import, and per request)
    than an invocation. Requests may be pipelined: an invocation's outcome and the next `next`
    go in one write and are answered in order."""

    def __init__(self):
        self.sock = None
        self.buf = bytearray()

    def _connect(self):
        self.sock = socket.create_connection((HOST, int(PORT)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def _close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    @staticmethod
    def _encode(method, path, body=None, headers=None):
        head = "%s %s%s HTTP/1.1\r\nHost: %s\r\n" % (method, PREFIX, path, API)
        if headers:
            for k, v in headers.items():
                head += "%s: %s\r\n" % (k, v)
        head += "Content-Length: %d\r\n\r\n" % (len(body) if body else 0)
        return head.encode("latin-1") + body if body else head.encode("latin-1")

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("Runtime API connection closed")
        self.buf += chunk

    def _read(self):
        """One response: (status, headers with lower-case names, body)."""
        end = self.buf.find(b"\r\n\r\n")
        while end < 0:
            self._fill()
            end = self.buf.find(b"\r\n\r\n")
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        status = int(lines[0][9:12])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        total = end + 4 + int(headers.get("content-length", 0))
        while len(self.buf) < total:
            self._fill()
        body = bytes(self.buf[end + 4:total])
        del self.buf[:total]
        return status, headers, body

    def call(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(self._encode(method, path, body, headers))
                return self._read()
            except OSError:
                # The server may have closed an idle keep-alive connection: reconnect once.
                self._close()
                if attempt:
                    raise

    def finish(self, path, body, headers):
        """Posts an invocation's outcome and returns the next invocation (one write)."""
        try:
            if self.sock is None:
                self._connect()
            self.sock.sendall(self._encode("POST", path, body, headers) +
                              self._encode("GET", "/invocation/next"))
            self._read()
            return self._read()
        except OSError:
            self._close()
            self.call("POST", path, body, headers)
            return self.call("GET", "/invocation/next")


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


def error_headers(body):
    return {"Lambda-Runtime-Function-Error-Type": body["errorType"], "Content-Type": "application/json"}


def post_error(path, body):
    client.call("POST", path, json.dumps(body).encode(), error_headers(body))


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
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        identity = headers.get("lambda-runtime-cognito-identity")
        self.identity = CognitoIdentity(json.loads(identity)) if identity else None
        client_context = headers.get("lambda-runtime-client-context")
        self.client_context = ClientContext(json.loads(client_context)) if client_context else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    handler = load_handler(os.environ.get("_HANDLER", ""))
    status, headers, body = client.call("GET", "/invocation/next")
    while True:
        if status != 200:
            time.sleep(0.01)
            status, headers, body = client.call("GET", "/invocation/next")
            continue
        status, headers, body = invoke(handler, headers, body)


def invoke(handler, headers, body):
    """Runs one invocation; returns the next one (the outcome and the next `next` share a write)."""
    request_id = headers.get("lambda-runtime-aws-request-id")
    trace_id = headers.get("lambda-runtime-trace-id")
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
        return client.finish("/invocation/%s/error" % request_id, json.dumps(err).encode(), error_headers(err))
    try:
        data = json.dumps(result).encode()
    except Exception as e:
        err = {"errorMessage": "Unable to marshal response: %s" % e,
               "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": []}
        sys.stdout.write("[ERROR] Runtime.MarshalError: %s\n" % err["errorMessage"])
        return client.finish("/invocation/%s/error" % request_id, json.dumps(err).encode(), error_headers(err))
    return client.finish("/invocation/%s/response" % request_id, data, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
