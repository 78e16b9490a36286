/*
 * fuzz_otlp.c: libFuzzer harness of the OTLP decoders (api/otlp.c): every
 * input goes through the protobuf decoder and through the OTLP/JSON one.
 * Each either refuses it with INVALID_PARAMETER_VALUE and a message, or
 * decodes it into spans whose ids are hex of the right length, whose trace
 * ids are "tr-" + 32 hex digits with a trace entry each, and whose content
 * is a JSON object.
 */
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "otlp.h"

static void check(enum mlf_status s, const struct mlf_error *err, const struct mlf_otlp_batch *b)
{
	FUZZ_REQUIRE(s == MLF_OK || s == MLF_INVALID_PARAMETER_VALUE, "%s", mlf_status_name(s));
	if (s != MLF_OK) {
		FUZZ_REQUIRE(err->msg[0], "refused without a message");
		return;
	}
	for (int i = 0; i < b->nspans; i++) {
		const struct mlf_span_row *r = &b->spans[i];
		FUZZ_REQUIRE(strlen(r->trace_id) == 35 && !strncmp(r->trace_id, "tr-", 3), "%s", r->trace_id);
		FUZZ_REQUIRE(strlen(r->span_id) == 16, "%s", r->span_id);
		FUZZ_REQUIRE(!r->parent_span_id || strlen(r->parent_span_id) == 16, "%s", r->parent_span_id);
		int found = 0;
		for (int t = 0; t < b->ntraces; t++)
			found |= !strcmp(b->traces[t].trace_id, r->trace_id);
		FUZZ_REQUIRE(found, "no trace entry for %s", r->trace_id);
		cJSON *j = cJSON_Parse(r->content);
		FUZZ_REQUIRE(cJSON_IsObject(j), "content is not a JSON object: %.200s", r->content);
		cJSON_Delete(j);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_otlp_batch b;
	check(mlf_otlp_decode(&a, data, size, &b, &err), &err, &b);
	struct mlf_error jerr = {0};
	check(mlf_otlp_decode_json(&a, (const char *)data, size, &b, &jerr), &jerr, &b);
	mlf_arena_release(&a);
	return 0;
}
