/*
 * fuzz_api_handlers.c: libFuzzer harness of the REST handlers behind the
 * JSON decoder: the first input byte picks a route of the route table
 * (server/routes.c; the streaming artifact routes excepted), the rest is
 * its request body, decoded as the server decodes it and handed to the
 * handler with a real store (on /dev/shm when there is one, so writes are
 * cheap). Whatever the body, the handler answers or fails with a status
 * that has a message; its JSON answer and error message are UTF-8.
 */
#include "fuzz_util.h"
#include "http.h"

static struct mlf_config cfg = {
    .artifacts_destination = "/tmp", .default_artifact_root = "mlflow-artifacts:/", .serve_artifacts = 1, .workers = 1};
static const struct mlf_route *routes[256];
static int nroutes;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!nroutes)
		for (size_t i = 0; i < mlf_nroutes && nroutes < 256; i++)
			if (!(mlf_routes[i].flags & MLF_ROUTE_RAW))
				routes[nroutes++] = &mlf_routes[i];
	const struct mlf_route *r = routes[data[0] % nroutes];
	struct mlf_error err = {0};
	cJSON *in = mlf_decode_body((const char *)data + 1, size - 1, &err);
	if (!in)
		return 0;
	struct mlf_req req = {
	    .method = r->method, .path = r->pattern, .prefix = "/api/2.0", .in = in, .db = fuzz_store(), .cfg = &cfg};
	for (int i = 0; i < MLF_MAX_PATH_PARAMS; i++)
		req.params[i] = i == 0 ? "1" : "x";
	req.nparams = MLF_MAX_PATH_PARAMS;
	enum mlf_status s = r->handler(&req);
	if (s != MLF_OK) {
		FUZZ_REQUIRE(req.err.msg[0], "%s %s failed (%s) without a message", r->method, r->pattern,
		             mlf_status_name(s));
		FUZZ_REQUIRE(s != MLF_INTERNAL_ERROR, "%s %s: internal error: %s", r->method, r->pattern, req.err.msg);
	}
	size_t n = strlen(req.err.msg);
	FUZZ_REQUIRE(mlf_utf8_valid_prefix(req.err.msg, n) == n, "error message not UTF-8: %s", req.err.msg);
	FUZZ_REQUIRE(mlf_utf8_valid_prefix(req.out.buf.data, req.out.buf.len) == req.out.buf.len,
	             "%s %s: answer not UTF-8", r->method, r->pattern);
	cJSON_Delete(in);
	mlf_json_release(&req.out);
	mlf_arena_release(&req.arena);
	return 0;
}
