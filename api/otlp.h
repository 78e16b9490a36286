/*
 * otlp.h: the decoders of OTLP trace exports (ExportTraceServiceRequest, as
 * the OpenTelemetry protocol defines it) in its protobuf wire form and in
 * its JSON form, into
 * spans as MLflow keeps them (struct mlf_span_row: ids in hex, MLflow's
 * span JSON as content) and what each batch says about its traces.
 *
 * The reader is bounded: every length is checked against what is left of
 * its message, nested values (AnyValue arrays and maps) stop at
 * MLF_OTLP_MAX_DEPTH, and a body yields at most MLF_OTLP_MAX_SPANS spans.
 * Everything returned lives in the caller's arena.
 */
#ifndef MLF_OTLP_H
#define MLF_OTLP_H

#include <stddef.h>

#include "../storage/base.h"
#include "../storage/traces.h"

struct mlf_otlp_batch {
	struct mlf_span_row *spans;
	int nspans;
	struct mlf_span_trace *traces;
	int ntraces;
};

/* Decode a protobuf ExportTraceServiceRequest of n bytes. On malformed
 * input returns MLF_INVALID_PARAMETER_VALUE with err filled. */
enum mlf_status mlf_otlp_decode(struct mlf_arena *a, const unsigned char *p, size_t n, struct mlf_otlp_batch *out,
                                struct mlf_error *err);

/* The same request in the OTLP/JSON form (n bytes of JSON text); spans come
 * out exactly as from the protobuf form. */
enum mlf_status mlf_otlp_decode_json(struct mlf_arena *a, const char *p, size_t n, struct mlf_otlp_batch *out,
                                     struct mlf_error *err);

#endif
