/*
 * fuzz_page_token.c: libFuzzer harness of the page-token decoder
 * (storage/search.c). A token is accepted only with an offset that encodes
 * back to a token decoding to the same offset; anything else is refused
 * with INVALID_PARAMETER_VALUE and a message. The same for the keyed
 * positions of the registry's searches, fed the input both as a token and
 * as a token's decoded text.
 */
#include "fuzz_util.h"
#include "search.h"

static bool same_pos(const struct mlf_page_pos *x, const struct mlf_page_pos *y)
{
	if (x->offset != y->offset || x->nkey != y->nkey || (x->nkey && x->sig != y->sig))
		return false;
	for (int k = 0; k < x->nkey; k++)
		if (x->key[k].type != y->key[k].type ||
		    (x->key[k].type == MLF_BIND_INT ? x->key[k].i != y->key[k].i
		                                    : strcmp(x->key[k].text, y->key[k].text)))
			return false;
	return true;
}

static void check_pos(struct mlf_arena *a, const char *token)
{
	struct mlf_error err = {0};
	struct mlf_page_pos p, again;
	enum mlf_status s = mlf_page_token_decode_pos(a, token, &p, &err);
	FUZZ_REQUIRE(s == MLF_OK || s == MLF_INVALID_PARAMETER_VALUE, "%s", mlf_status_name(s));
	if (s != MLF_OK) {
		FUZZ_REQUIRE(err.msg[0], "position refused without a message");
		return;
	}
	FUZZ_REQUIRE(p.offset >= 0 && p.nkey >= 0 && p.nkey <= MLF_SORT_KEYS_MAX, "position %lld/%d",
	             (long long)p.offset, p.nkey);
	FUZZ_REQUIRE(mlf_page_token_decode_pos(a, mlf_page_token_encode_pos(a, &p), &again, &err) == MLF_OK &&
	                 same_pos(&p, &again),
	             "position does not round-trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_arena a = {0};
	const char *token = fuzz_cstr(&a, data, size);
	struct mlf_error err = {0};
	int64_t offset = -7;
	enum mlf_status s = mlf_page_token_decode(&a, token, &offset, &err);
	FUZZ_REQUIRE(s == MLF_OK || s == MLF_INVALID_PARAMETER_VALUE, "%s", mlf_status_name(s));
	if (s == MLF_OK) {
		FUZZ_REQUIRE(offset >= 0, "offset %lld", (long long)offset);
		int64_t again = -1;
		FUZZ_REQUIRE(mlf_page_token_decode(&a, mlf_page_token_encode(&a, offset), &again, &err) == MLF_OK &&
		                 again == offset,
		             "offset %lld does not round-trip", (long long)offset);
	} else {
		FUZZ_REQUIRE(err.msg[0], "refused without a message");
	}
	check_pos(&a, token);
	check_pos(&a, mlf_base64_encode(&a, data, size));
	mlf_arena_release(&a);
	return 0;
}
