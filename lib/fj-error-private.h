/* fj-error-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-error.h"

G_BEGIN_DECLS

/* The FjError code for an API error: by the body's error.type when it is
 * known (rate_limit_error, overloaded_error, ...), else by the HTTP status
 * (0 for an error event inside a 200 stream). */
FjError _fj_error_code_for_api_error (const char *error_type,
                                      guint       status_code);

G_END_DECLS
