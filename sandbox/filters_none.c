/* filters_none.c - an empty table of build-time seccomp programs, for the
 * generator (gen_filters), which makes the real one: every spec is then
 * compiled by libseccomp at run time. */
#include "filters.h"

const struct sandbox_filter sandbox_filters[1];
const size_t sandbox_nfilters = 0;
