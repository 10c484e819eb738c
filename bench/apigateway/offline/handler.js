// The echo handler both stratus (nodejs runtime) and serverless-offline run.
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ path: event.rawPath ?? event.path, method: event.requestContext?.http?.method }),
});
