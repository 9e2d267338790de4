/* fj-spec-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-spec.h"

G_BEGIN_DECLS

/* For tests: the date end-of-life warnings count from, as "YYYY-MM-DD",
 * instead of the local date; NULL goes back to the local date. Not
 * thread-safe: call it before loading. */
void _fj_spec_set_today (const char *iso_date);

G_END_DECLS
