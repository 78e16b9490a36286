/*
 * ui.h: the web UI's static files, embedded into the binary at build time
 * (the generated ui_files.c holds their bytes).
 */
#ifndef MLF_UI_H
#define MLF_UI_H

#include <stddef.h>

struct mlf_ui_file {
	const char *path; /* "/index.html" */
	const char *content_type;
	const unsigned char *data; /* static */
	size_t size;
};

extern const struct mlf_ui_file mlf_ui_files[];
extern const size_t mlf_ui_nfiles;

/* The file served at a URL path ("/" is "/index.html"), or NULL. */
const struct mlf_ui_file *mlf_ui_find(const char *path);

#endif
