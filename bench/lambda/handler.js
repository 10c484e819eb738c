// The Node handler both servers run in the side-by-side benchmark (an HTTP echo).
module.exports.handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ ok: true, path: event.rawPath ?? event.path }),
});
