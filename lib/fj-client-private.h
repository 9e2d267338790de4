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

G_BEGIN_DECLS

/* A runner about to run agents through this client adds the number of
 * requests it wants in flight at once (its max-concurrent, or its number of
 * agents when unlimited) with a positive @delta, and takes it back with a
 * negative one when its run ends.  The client's adaptive width starts at,
 * and widens back up to, the sum of what its runners ask (DESIGN.md,
 * Transport rules); with nothing asked the width is unlimited. */
void _fj_client_add_demand (FjClient *self,
                            int       delta);

G_END_DECLS
