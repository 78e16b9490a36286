/*
 * ui.c: lookup of the embedded web UI files. See ui.h.
 */
#include "ui.h"

#include <string.h>

const struct mlf_ui_file *mlf_ui_find(const char *path)
{
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (size_t i = 0; i < mlf_ui_nfiles; i++)
		if (!strcmp(mlf_ui_files[i].path, path))
			return &mlf_ui_files[i];
	return NULL;
}
