/* fj-sync-call-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fj-client.h"

G_BEGIN_DECLS

/* What every _sync variant does around its _async pair: a main context of
 * its own, pushed as thread-default while the operation runs (so it works
 * from any thread, and main-thread objects run on the calling one); then
 * its sources run down and the clients used forget the HTTP sessions they
 * made for it, since the context goes away with the call.
 *
 *   FjSyncCall call;
 *   _fj_sync_call_begin (&call);
 *   _fj_sync_call_add_client (&call, client);
 *   fj_x_async (..., _fj_sync_call_done, &call);
 *   ret = fj_x_finish (..., _fj_sync_call_wait (&call), error);
 *   _fj_sync_call_end (&call);
 */
typedef struct
{
  GMainContext *context;
  GPtrArray    *clients;
  GAsyncResult *result;
} FjSyncCall;

void          _fj_sync_call_begin             (FjSyncCall   *call);
void          _fj_sync_call_add_client        (FjSyncCall   *call,
                                               FjClient     *client);
/* The own clients of the FjAgents in @agents. */
void          _fj_sync_call_add_agent_clients (FjSyncCall   *call,
                                               GListModel   *agents);
void          _fj_sync_call_done              (GObject      *source,
                                               GAsyncResult *result,
                                               gpointer      user_data);
GAsyncResult *_fj_sync_call_wait              (FjSyncCall   *call);
void          _fj_sync_call_end               (FjSyncCall   *call);

G_END_DECLS
