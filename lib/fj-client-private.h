/* fj-client-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-client.h"

G_BEGIN_DECLS

/* Forgets the HTTP sessions the client made for @context: a _sync call's
 * private context, which goes away with the call. */
void _fj_client_release_context (FjClient     *self,
                                 GMainContext *context);

G_END_DECLS
