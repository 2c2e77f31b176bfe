/* version.c - the version baked in at build time (see version.h). */
#include "version.h"

#include <stdio.h>
#include <stdlib.h>

/* The Makefile puts build/gen on the include path; builds without it (the
 * corpus replay and fuzz targets) say "unknown". */
#if defined(__has_include)
#if __has_include("version_gen.h")
#include "version_gen.h"
#endif
#endif
#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

const char *
version_string(void)
{
	return POSTERN_VERSION;
}

void
version_or_help(const char *prog, int opt)
{
	if (opt == 'V')
		printf("%s %s\n", prog, version_string());
	else
		printf("usage: %s -c CONFIG [-h] [-V]\n"
		    "  started by postern-master, which passes its config snapshot;\n"
		    "  -h this text, -V the version\n", prog);
	exit(0);
}
