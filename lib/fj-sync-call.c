/* fj-sync-call.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-agent.h"
#include "fj-client-private.h"
#include "fj-sync-call-private.h"

void
_fj_sync_call_begin (FjSyncCall *call)
{
  call->context = g_main_context_new ();
  call->clients = g_ptr_array_new_with_free_func (g_object_unref);
  call->result = NULL;
  g_main_context_push_thread_default (call->context);
}

void
_fj_sync_call_add_client (FjSyncCall *call,
                          FjClient   *client)
{
  if (client != NULL && !g_ptr_array_find (call->clients, client, NULL))
    g_ptr_array_add (call->clients, g_object_ref (client));
}

void
_fj_sync_call_add_agent_clients (FjSyncCall *call,
                                 GListModel *agents)
{
  for (guint i = 0; i < g_list_model_get_n_items (agents); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (agents, i);

      if (FJ_IS_AGENT (item))
        _fj_sync_call_add_client (call, fj_agent_get_client (FJ_AGENT (item)));
    }
}

void
_fj_sync_call_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  FjSyncCall *call = user_data;

  g_assert (call->result == NULL);
  call->result = g_object_ref (result);
}

GAsyncResult *
_fj_sync_call_wait (FjSyncCall *call)
{
  while (call->result == NULL)
    g_main_context_iteration (call->context, TRUE);

  return call->result;
}

void
_fj_sync_call_end (FjSyncCall *call)
{
  /* Let the finished operation's sources run down before the context goes,
   * and with it the HTTP sessions made for it. */
  while (g_main_context_pending (call->context))
    g_main_context_iteration (call->context, FALSE);
  for (guint i = 0; i < call->clients->len; i++)
    _fj_client_release_context (g_ptr_array_index (call->clients, i), call->context);
  while (g_main_context_pending (call->context))
    g_main_context_iteration (call->context, FALSE);

  g_main_context_pop_thread_default (call->context);
  g_clear_object (&call->result);
  g_clear_pointer (&call->clients, g_ptr_array_unref);
  g_clear_pointer (&call->context, g_main_context_unref);
}
