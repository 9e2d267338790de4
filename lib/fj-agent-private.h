/* fj-agent-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-agent.h"
#include "fj-agent-result.h"
#include "fj-agent-runner.h"
#include "fj-client.h"
#include "fj-tool.h"

G_BEGIN_DECLS

/* A pool for blocking work (tool invocations, plugin calls) whose items are
 * GTasks: _fj_thread_pool_run_task() runs @func (a GTaskThreadFunc, called
 * with the task's source object, task data and cancellable) in one of its
 * threads; the task returns to the context it was created in as usual.
 * With @pool NULL it falls back to g_task_run_in_thread().  Free the pool
 * with g_thread_pool_free (pool, FALSE, TRUE) so queued tasks still run and
 * return. */
GThreadPool   *_fj_thread_pool_new            (int                  max_threads,
                                               GError             **error);
void           _fj_thread_pool_run_task       (GThreadPool         *pool,
                                               GTask               *task,
                                               GTaskThreadFunc      func);

/* fj_tool_invoke_async() with the worker thread taken from @pool (nullable,
 * see above); a main-thread tool ignores @pool.  Finish with
 * fj_tool_invoke_finish(). */
void           _fj_tool_invoke_async          (FjTool              *self,
                                               const char          *input_json,
                                               GThreadPool         *pool,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);

/* Optional observers of one run, called on the run's main context. A runner
 * uses them to re-emit per-agent signals; everything else it needs is in the
 * FjAgentResult's property notifications.  The struct is copied; user_data
 * must outlive the run. */
typedef struct
{
  /* A turn's request is about to be sent: @message holds its params
   * (fj_message_get_params()) and will hold the reply; @turn counts from
   * 1. */
  void (*request)    (FjAgentResult *result,
                      FjMessage     *message,
                      guint          turn,
                      gpointer       user_data);
  /* A text delta of the current turn, after it was appended to the
   * result's output. */
  void (*text_delta) (FjAgentResult *result,
                      const char    *text,
                      gpointer       user_data);
  /* The client is about to sleep @delay_seconds and retry after @reason;
   * @attempt is the number of the attempt it will make (as
   * FjMessage::retrying gives it). */
  void (*retrying)   (FjAgentResult *result,
                      guint          attempt,
                      double         delay_seconds,
                      const GError  *reason,
                      gpointer       user_data);
  /* A tool is about to be invoked (@tool NULL for a tool the agent does not
   * have) with the model's input; @id is the tool_use id. */
  void (*tool_call)  (FjAgentResult *result,
                      const char    *id,
                      const char    *name,
                      FjTool        *tool,
                      const char    *input_json,
                      gpointer       user_data);
  /* The API began to answer a turn's request (a stream's message_start,
   * or a plain reply): from then on a prompt cache entry its request
   * wrote is readable. Once per turn. */
  void (*response_started) (FjAgentResult *result,
                            gpointer       user_data);
  gpointer user_data;

  /* How the first request is laid out (_fj_agent_build_first_request()). */
  FjCacheMode cache;

  /* The time limit of an agent that has no timeout of its own, in seconds
   * from the start of its run (0 = none): a runner's agent-timeout. */
  double default_timeout;
  /* When the deadline_us given to the run is what ends it, this is added to
   * the timed-out error ("the run's deadline of 300 s passed"); it must
   * live as long as the run. */
  const char *deadline_reason;
} FjAgentRunHooks;

/* The turn loop behind fj_agent_run_async().
 *
 * @result is created by the caller (the runner pre-creates one per agent so
 * its list model holds them from the start) and is updated in place: status
 * running at once, then live output/attempts/turns/usage, and every field
 * set before the terminal status.  @client is required.  @tool_pool
 * (nullable) runs non-main-thread tools; it must outlive the run.
 *
 * Time: when the agent has a timeout of its own, it starts now; @deadline_us
 * (an absolute g_get_monotonic_time() value, or 0 for none) is a further
 * limit, e.g. the run's deadline or the runner's agent-timeout, and the
 * earlier of the two applies.  Either ends the agent timed-out, saying where
 * the time went.
 *
 * Endings: success (the final turn's text in output); failed with the
 * client's error prefixed "NAME: ", FJ_ERROR_REFUSED or FJ_ERROR_MAX_TURNS;
 * timed-out (our timer: FJ_ERROR_TIMED_OUT "NAME: timed out after X s
 * while ...", or an FJ_ERROR_TIMED_OUT from the client, i.e. its idle
 * timeout); cancelled (G_IO_ERROR_CANCELLED "NAME: cancelled").  A cancel
 * that races with a reply wins.  Every ending but success moves the text
 * streamed so far (the current turn's, else the last turn's that had any)
 * to partial-output and clears output.  Threaded tools still running when
 * the run ends are cancelled and their results ignored.
 *
 * The task always returns @result (a new ref) for a run that started:
 * failures are in its status and error.  The callback runs on the
 * thread-default context current at this call. */
void           _fj_agent_run_internal_async   (FjAgent               *self,
                                               FjClient              *client,
                                               const char            *input,
                                               FjAgentResult         *result,
                                               GThreadPool           *tool_pool,
                                               gint64                 deadline_us,
                                               const FjAgentRunHooks *hooks,
                                               GCancellable          *cancellable,
                                               GAsyncReadyCallback    callback,
                                               gpointer               user_data);
FjAgentResult *_fj_agent_run_internal_finish  (FjAgent               *self,
                                               GAsyncResult          *result,
                                               GError               **error);

/* The params of @self's first request for @input, as a live run's first
 * turn sends them (with "stream") or as a Message Batches item (@for_batch:
 * without). With %FJ_CACHE_MODE_SHARED_INPUT the input is the first system
 * block, marked with cache_control, the instructions the second, and the
 * user turn a fixed request to carry them out. Fails when a tool cannot
 * describe itself. */
JsonObject    *_fj_agent_build_first_request  (FjAgent               *self,
                                               const char            *input,
                                               FjCacheMode            cache,
                                               gboolean               for_batch,
                                               GError               **error);

G_END_DECLS
