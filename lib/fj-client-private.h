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

/* A plain JSON call to the Anthropic API: @method (GET, POST, DELETE) on
 * @path_or_url (a path under the base URL, "/v1/messages/batches", or a
 * whole URL such as a batch's results_url), with @body (nullable, JSON).
 * Same auth, version headers, sessions and TLS settings as
 * fj_client_send_async(); retries 408/409/429/5xx and connection
 * failures with the same backoff, retry-after and max-retries; a non-2xx
 * reply fails with the same GError as a message would.  No reply-size
 * limit: batch results can be large.  The finish gives the reply body. */
void    _fj_client_call_async  (FjClient            *self,
                                const char          *method,
                                const char          *path_or_url,
                                GBytes              *body,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);
GBytes *_fj_client_call_finish (FjClient            *self,
                                GAsyncResult        *result,
                                GError             **error);

G_END_DECLS
