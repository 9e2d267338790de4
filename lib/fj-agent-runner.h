/* fj-agent-runner.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fj-agent.h"
#include "fj-agent-result.h"
#include "fj-batch.h"
#include "fj-client.h"
#include "fj-enums.h"
#include "fj-policy.h"
#include "fj-prices.h"
#include "fj-run-state.h"
#include "fj-usage.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FjRunMode:
 * @FJ_RUN_MODE_LIVE: each agent is a live request (or several turns of
 *   them), streamed as it answers
 * @FJ_RUN_MODE_BATCH: the fork is submitted to the Message Batches API as
 *   one batch (or several, over its limits), polled until it ends, and its
 *   results mapped back onto the agents by `custom_id`; half price, no
 *   streaming, single-turn agents only
 *
 * How a runner runs its agents.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_RUN_MODE_LIVE,
  FJ_RUN_MODE_BATCH,
} FjRunMode;

/**
 * FjCacheMode:
 * @FJ_CACHE_MODE_NONE: requests are laid out as usual: the agent's
 *   instructions as the system prompt, the input as the user message
 * @FJ_CACHE_MODE_SHARED_INPUT: the shared input is the first system block,
 *   marked for the prompt cache, and each agent's instructions follow it;
 *   one agent goes first and the rest start when its response has begun, so
 *   that they read the cache instead of writing it
 *
 * How a runner lays out requests for the prompt cache.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_CACHE_MODE_NONE,
  FJ_CACHE_MODE_SHARED_INPUT,
} FjCacheMode;

#define FJ_TYPE_AGENT_RUNNER (fj_agent_runner_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjAgentRunner, fj_agent_runner, FJ, AGENT_RUNNER, GObject)

FJ_AVAILABLE_IN_ALL
FjAgentRunner *fj_agent_runner_new                  (FjClient       *client) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjClient      *fj_agent_runner_get_client           (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_client           (FjAgentRunner  *self,
                                                     FjClient       *client);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_max_concurrent   (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_max_concurrent   (FjAgentRunner  *self,
                                                     guint           max_concurrent);
FJ_AVAILABLE_IN_ALL
double         fj_agent_runner_get_agent_timeout    (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_agent_timeout    (FjAgentRunner  *self,
                                                     double          seconds);
FJ_AVAILABLE_IN_ALL
double         fj_agent_runner_get_deadline         (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_deadline         (FjAgentRunner  *self,
                                                     double          seconds);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_min_successes    (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_min_successes    (FjAgentRunner  *self,
                                                     guint           min_successes);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_max_tool_threads (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_max_tool_threads (FjAgentRunner  *self,
                                                     guint           max_tool_threads);
FJ_AVAILABLE_IN_ALL
FjPrices      *fj_agent_runner_get_prices           (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_prices           (FjAgentRunner  *self,
                                                     FjPrices       *prices);
FJ_AVAILABLE_IN_ALL
FjCacheMode    fj_agent_runner_get_cache            (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_cache            (FjAgentRunner  *self,
                                                     FjCacheMode     cache);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_runner_get_cache_note       (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
FjRunMode      fj_agent_runner_get_mode             (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_mode             (FjAgentRunner  *self,
                                                     FjRunMode       mode);
FJ_AVAILABLE_IN_ALL
FjBatch       *fj_agent_runner_get_batch            (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_batch            (FjAgentRunner  *self,
                                                     FjBatch        *batch);
FJ_AVAILABLE_IN_ALL
double         fj_agent_runner_get_batch_poll_interval (FjAgentRunner *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_batch_poll_interval (FjAgentRunner *self,
                                                        double         seconds);
FJ_AVAILABLE_IN_ALL
double         fj_agent_runner_get_batch_poll_max   (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_batch_poll_max   (FjAgentRunner  *self,
                                                     double          seconds);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_batch_max_requests (FjAgentRunner *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_batch_max_requests (FjAgentRunner *self,
                                                       guint          max_requests);
FJ_AVAILABLE_IN_ALL
guint64        fj_agent_runner_get_batch_max_bytes  (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_set_batch_max_bytes  (FjAgentRunner  *self,
                                                     guint64         max_bytes);
FJ_AVAILABLE_IN_ALL
GListModel    *fj_agent_runner_get_policies         (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_add_policy           (FjAgentRunner  *self,
                                                     FjPolicy       *policy);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_remove_policy        (FjAgentRunner  *self,
                                                     FjPolicy       *policy);
FJ_AVAILABLE_IN_ALL
GListModel    *fj_agent_runner_get_results          (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
FjRunState    *fj_agent_runner_get_state            (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
gboolean       fj_agent_runner_get_running          (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_n_pending        (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_n_running        (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_n_succeeded      (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_n_failed         (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_n_cancelled      (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_runner_get_n_skipped        (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
FjUsage       *fj_agent_runner_get_usage            (FjAgentRunner  *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_runner_run_async            (FjAgentRunner  *self,
                                                     GListModel     *agents,
                                                     const char     *input,
                                                     GCancellable   *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer        user_data);
FJ_AVAILABLE_IN_ALL
GPtrArray     *fj_agent_runner_run_finish           (FjAgentRunner  *self,
                                                     GAsyncResult   *result,
                                                     GError        **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
GPtrArray     *fj_agent_runner_run_sync             (FjAgentRunner  *self,
                                                     GListModel     *agents,
                                                     const char     *input,
                                                     GCancellable   *cancellable,
                                                     GError        **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
