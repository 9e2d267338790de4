/* fj-agent.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-agent.h"
#include "fj-agent-private.h"
#include "fj-client-private.h"

#include <string.h>

#include "fj-agent-result-private.h"
#include "fj-error.h"
#include "fj-marshal.h"
#include "fj-message-private.h"
#include "fj-sync-call-private.h"

/**
 * FjAgent:
 *
 * A configured agent: a model, its instructions (the system prompt), limits
 * and tools.
 *
 * [method@Agent.run_async] runs it on one input with an [class@Client]:
 * it sends the conversation, and while the model answers with `tool_use`
 * it invokes the agent's [class@Tool]s, sends their results back and asks
 * again, until the model gives a final answer or [property@Agent:max-turns]
 * is reached. Its [property@Agent:timeout] covers the whole run: every
 * attempt, turn, retry wait and tool call.
 *
 * A run always settles into an [class@AgentResult]: an agent that fails,
 * times out or is cancelled still gives a result, with the status, the
 * error and the text it had streamed.
 *
 * ```c
 * g_autoptr(FjAgent) agent = fj_agent_new ("analyst");
 *
 * fj_agent_set_instructions (agent, "You are a market analyst.");
 * result = fj_agent_run_sync (agent, client, "How did ACME do in Q3?", NULL, &error);
 * ```
 *
 * Since: 1.0
 */

struct _FjAgent
{
  GObject parent_instance;

  char *name;
  char *model;
  char *instructions;
  guint max_tokens;
  double temperature;
  double timeout;
  guint max_turns;
  FjClient *client;
  GListStore *tools;
  guint stream : 1;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_MODEL,
  PROP_INSTRUCTIONS,
  PROP_MAX_TOKENS,
  PROP_TEMPERATURE,
  PROP_TIMEOUT,
  PROP_MAX_TURNS,
  PROP_STREAM,
  PROP_CLIENT,
  PROP_TOOLS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  TEXT_DELTA,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FjAgent, fj_agent, G_TYPE_OBJECT)

#define DEFAULT_MAX_TOKENS 1024
#define DEFAULT_MAX_TURNS  10

static const char *
agent_display_name (FjAgent *self)
{
  return self->name != NULL ? self->name : "agent";
}

/* The run (turn loop) */

typedef enum
{
  RUN_STARTING,
  RUN_SENDING,
  RUN_TOOLS,
} RunPhase;

typedef struct
{
  char *id;
  char *name;
  char *input_json;
  char *text;
  guint is_error : 1;
  guint done : 1;
} ToolCall;

typedef struct
{
  FjAgent *agent;
  FjClient *client;
  FjAgentResult *result;
  GTask *task;                  /* until the run has finished */
  GThreadPool *tool_pool;
  FjAgentRunHooks hooks;

  /* The agent's settings when the run started. */
  char *name;
  char *model;
  char *instructions;
  guint max_tokens;
  double temperature;
  guint max_turns;
  gboolean stream;
  JsonArray *tools_json;        /* NULL without tools */
  JsonNode *system;             /* as the first request sent it; NULL for none */
  JsonObject *first_params;     /* the first turn's, until it is sent */

  /* The conversation: one JsonNode object per message, never modified once
   * added, so each request can share them. */
  GPtrArray *messages;

  GCancellable *cancellable;    /* ours, cancelled by the timer or the caller */
  GCancellable *caller_cancellable;
  gulong caller_handler;
  GSource *timer;
  GSource *cancelled_source;

  gint64 start_us;
  gint64 deadline_us;
  gboolean deadline_is_external;
  char *timeout_where;

  RunPhase phase;
  FjMessage *message;           /* the current (or last) turn */
  gulong text_delta_handler;
  gulong retrying_handler;
  char *last_text;              /* the text of the last turn that had some */

  FjUsage usage;
  guint attempts;
  guint attempts_before_turn;
  guint turns;

  GPtrArray *calls;             /* ToolCall of the current tool round */
  guint n_pending_calls;
  guint round;

  guint timed_out : 1;
  guint finished : 1;
} RunData;

typedef struct
{
  RunData *run;
  guint round;
  guint index;
} ToolWait;

static void start_turn (RunData *run);

static void
tool_call_free (gpointer data)
{
  ToolCall *call = data;

  g_free (call->id);
  g_free (call->name);
  g_free (call->input_json);
  g_free (call->text);
  g_free (call);
}

static void
run_data_clear (RunData *run)
{
  g_assert (run->task == NULL);
  g_assert (run->timer == NULL);
  g_assert (run->cancelled_source == NULL);
  g_assert (run->caller_handler == 0);
  g_assert (run->text_delta_handler == 0);

  g_clear_object (&run->agent);
  g_clear_object (&run->client);
  g_clear_object (&run->result);
  g_clear_pointer (&run->name, g_free);
  g_clear_pointer (&run->model, g_free);
  g_clear_pointer (&run->instructions, g_free);
  g_clear_pointer (&run->tools_json, json_array_unref);
  g_clear_pointer (&run->system, json_node_unref);
  g_clear_pointer (&run->first_params, json_object_unref);
  g_clear_pointer (&run->messages, g_ptr_array_unref);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->caller_cancellable);
  g_clear_pointer (&run->timeout_where, g_free);
  g_clear_object (&run->message);
  g_clear_pointer (&run->last_text, g_free);
  g_clear_pointer (&run->calls, g_ptr_array_unref);
}

static RunData *
run_ref (RunData *run)
{
  return g_atomic_rc_box_acquire (run);
}

static void
run_unref (RunData *run)
{
  g_atomic_rc_box_release_full (run, (GDestroyNotify) run_data_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunData, run_unref)

static void
add_message (RunData    *run,
             const char *role,
             JsonNode   *content)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "role", role);
  json_object_set_member (object, "content", content);
  json_node_take_object (node, object);
  g_ptr_array_add (run->messages, node);
}

static JsonObject *
build_params (RunData *run)
{
  JsonObject *params = json_object_new ();
  JsonArray *messages = json_array_sized_new (run->messages->len);

  for (guint i = 0; i < run->messages->len; i++)
    json_array_add_element (messages, json_node_ref (g_ptr_array_index (run->messages, i)));

  /* Laid out as _fj_agent_build_first_request() does, with its system
   * (the prompt cache's prefix stays the same from turn to turn). */
  json_object_set_string_member (params, "model", run->model);
  json_object_set_int_member (params, "max_tokens", run->max_tokens);
  if (run->tools_json != NULL)
    json_object_set_array_member (params, "tools", json_array_ref (run->tools_json));
  if (run->system != NULL)
    json_object_set_member (params, "system", json_node_ref (run->system));
  json_object_set_array_member (params, "messages", messages);
  if (run->temperature >= 0)
    json_object_set_double_member (params, "temperature", run->temperature);
  json_object_set_boolean_member (params, "stream", run->stream);

  return params;
}

static char *
format_seconds (double seconds)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char *end;

  g_ascii_formatd (buf, sizeof buf, "%.3f", MAX (seconds, 0.0));
  end = buf + strlen (buf) - 1;
  while (end > buf && *end == '0')
    *end-- = '\0';
  if (*end == '.')
    *end = '\0';

  return g_strdup (buf);
}

/* The text the agent had streamed when it stopped: the current turn's, or
 * that of the last turn that had any. */
static const char *
run_partial_text (RunData *run)
{
  const char *text = run->message ? fj_message_get_text (run->message) : NULL;

  if (text != NULL && text[0] != '\0')
    return text;

  return run->last_text;
}

static void
disconnect_message (RunData *run)
{
  if (run->message == NULL)
    return;

  g_clear_signal_handler (&run->text_delta_handler, run->message);
  g_clear_signal_handler (&run->retrying_handler, run->message);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Every field of the result first, the status last, so a listener that
 * sees a terminal status sees complete data; then the task returns. */
static void
run_complete (RunData       *run,
              FjAgentStatus  status,
              GError        *error,
              const char    *output,
              const char    *partial_output,
              const char    *stop_reason)
{
  FjAgentResult *result = run->result;
  g_autoptr(GTask) task = NULL;
  g_autofree char *output_copy = g_strdup (output);
  g_autofree char *partial_copy = g_strdup (partial_output);
  g_autofree char *stop_reason_copy = g_strdup (stop_reason);

  g_assert (!run->finished);
  g_assert (run->task != NULL);

  run->finished = TRUE;
  task = g_steal_pointer (&run->task);

  destroy_source (&run->timer);
  destroy_source (&run->cancelled_source);
  if (run->caller_handler != 0)
    {
      g_cancellable_disconnect (run->caller_cancellable, run->caller_handler);
      run->caller_handler = 0;
    }
  disconnect_message (run);

  /* Threaded tools still running see the run finished and are ignored. */
  if (run->phase == RUN_TOOLS && run->n_pending_calls > 0)
    g_cancellable_cancel (run->cancellable);

  _fj_agent_result_set_attempts (result, run->attempts);
  _fj_agent_result_set_turns (result, run->turns);
  _fj_agent_result_set_usage (result, &run->usage);
  _fj_agent_result_set_output (result, output_copy);
  _fj_agent_result_set_partial_output (result, partial_copy);
  _fj_agent_result_set_stop_reason (result, stop_reason_copy);
  _fj_agent_result_take_error (result, error);
  _fj_agent_result_set_duration (result,
                                 (g_get_monotonic_time () - run->start_us) / (double) G_USEC_PER_SEC);
  _fj_agent_result_apply_prices (result, NULL);
  _fj_agent_result_set_status (result, status);

  g_task_return_pointer (task, g_object_ref (result), g_object_unref);
}

static void
run_fail (RunData       *run,
          FjAgentStatus  status,
          GError        *error,
          const char    *stop_reason)
{
  g_autofree char *partial = g_strdup (run_partial_text (run));

  run_complete (run, status, error, NULL, partial, stop_reason);
}

/* The timer fired or the caller cancelled. */
static void
run_interrupted (RunData *run)
{
  GError *error;

  if (run->timed_out)
    {
      g_autofree char *limit = format_seconds ((run->deadline_us - run->start_us) / (double) G_USEC_PER_SEC);

      if (run->deadline_is_external && run->hooks.deadline_reason != NULL)
        error = g_error_new (FJ_ERROR, FJ_ERROR_TIMED_OUT,
                             "%s: timed out after %s s %s; %s",
                             run->name, limit, run->timeout_where, run->hooks.deadline_reason);
      else
        error = g_error_new (FJ_ERROR, FJ_ERROR_TIMED_OUT,
                             "%s: timed out after %s s %s",
                             run->name, limit, run->timeout_where);
      run_fail (run, FJ_AGENT_STATUS_TIMED_OUT, error, NULL);
    }
  else
    {
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", run->name);
      run_fail (run, FJ_AGENT_STATUS_CANCELLED, error, NULL);
    }
}

static gboolean
timer_cb (gpointer user_data)
{
  RunData *run = user_data;

  g_assert (!run->finished);

  run->timed_out = TRUE;
  g_clear_pointer (&run->timeout_where, g_free);

  if (run->phase == RUN_SENDING)
    {
      FjMessagePhase phase = _fj_message_get_phase (run->message);
      const char *where = _fj_message_phase_describe (phase);

      /* The idle and done phases read "before ..."/"after ..." already. */
      if (phase == FJ_MESSAGE_PHASE_IDLE || phase == FJ_MESSAGE_PHASE_DONE)
        run->timeout_where = g_strdup (where);
      else
        run->timeout_where = g_strconcat ("while ", where, NULL);
    }
  else if (run->phase == RUN_TOOLS)
    {
      for (guint i = 0; i < run->calls->len; i++)
        {
          ToolCall *call = g_ptr_array_index (run->calls, i);

          if (!call->done)
            {
              run->timeout_where = g_strdup_printf ("while running tool %s", call->name);
              break;
            }
        }
    }

  if (run->timeout_where == NULL)
    run->timeout_where = g_strdup ("between turns");

  /* The request in flight (or the tools) see this; the run ends when they
   * report back, or from cancelled_cb. */
  g_cancellable_cancel (run->cancellable);

  return G_SOURCE_REMOVE;
}

/* Runs on the run's context after our cancellable was cancelled, by the
 * timer or the caller (possibly from another thread). A request in flight
 * reports back on its own; tools may not, so a tool round ends here. */
static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  RunData *run = user_data;

  if (!run->finished && run->phase == RUN_TOOLS)
    run_interrupted (run);

  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *cancellable,
                     RunData      *run)
{
  g_cancellable_cancel (run->cancellable);
}

static void
message_started_cb (FjMessage *message,
                    gpointer   user_data)
{
  RunData *run = user_data;

  if (run->hooks.response_started != NULL && !run->finished)
    run->hooks.response_started (run->result, run->hooks.user_data);
}

static void
text_delta_cb (FjMessage  *message,
               const char *text,
               RunData    *run)
{
  _fj_agent_result_append_output (run->result, text);

  g_signal_emit (run->agent, signals[TEXT_DELTA], 0, run->result, text);

  if (run->hooks.text_delta != NULL)
    run->hooks.text_delta (run->result, text, run->hooks.user_data);
}

static void
retrying_cb (FjMessage *message,
             guint      attempt,
             double     delay,
             GError    *reason,
             RunData   *run)
{
  /* A retry starts the turn's text over (the client only retries before
   * any of the body arrived, so this is normally empty already). */
  _fj_agent_result_set_output (run->result, NULL);

  /* @attempt is the one about to start; the total is set from the message
   * when the turn ends. */
  _fj_agent_result_set_attempts (run->result, run->attempts_before_turn + attempt);

  if (run->hooks.retrying != NULL)
    run->hooks.retrying (run->result, attempt, delay, reason, run->hooks.user_data);
}

static void
tools_done (RunData *run)
{
  JsonArray *blocks = json_array_sized_new (run->calls->len);
  JsonNode *content = json_node_new (JSON_NODE_ARRAY);

  g_assert (run->n_pending_calls == 0);

  for (guint i = 0; i < run->calls->len; i++)
    {
      ToolCall *call = g_ptr_array_index (run->calls, i);
      JsonObject *block = json_object_new ();

      json_object_set_string_member (block, "type", "tool_result");
      json_object_set_string_member (block, "tool_use_id", call->id);
      /* An empty result is sent without content, as the API allows. */
      if (call->text != NULL && call->text[0] != '\0')
        json_object_set_string_member (block, "content", call->text);
      if (call->is_error)
        json_object_set_boolean_member (block, "is_error", TRUE);
      json_array_add_object_element (blocks, block);
    }

  json_node_take_array (content, blocks);
  add_message (run, "user", content);

  start_turn (run);
}

static void
tool_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ToolWait *wait = user_data;
  g_autoptr(RunData) run = wait->run;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  ToolCall *call;

  text = fj_tool_invoke_finish (FJ_TOOL (object), result, &error);

  if (run->finished || wait->round != run->round)
    goto out;

  g_assert (run->phase == RUN_TOOLS);
  g_assert (wait->index < run->calls->len);
  g_assert (run->n_pending_calls > 0);

  call = g_ptr_array_index (run->calls, wait->index);
  call->done = TRUE;
  run->n_pending_calls--;

  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run_interrupted (run);
      goto out;
    }

  if (error != NULL)
    {
      call->text = g_strdup_printf ("Error: %s", error->message);
      call->is_error = TRUE;
    }
  else
    {
      call->text = g_steal_pointer (&text);
    }

  if (run->n_pending_calls == 0)
    tools_done (run);

out:
  g_free (wait);
}

static void
run_tools (RunData *run)
{
  JsonArray *content = fj_message_get_content (run->message);
  JsonNode *assistant = json_node_new (JSON_NODE_ARRAY);
  guint n_blocks = content ? json_array_get_length (content) : 0;

  /* Sent back exactly as received. */
  if (content != NULL)
    json_node_set_array (assistant, content);
  else
    json_node_take_array (assistant, json_array_new ());
  add_message (run, "assistant", assistant);

  run->phase = RUN_TOOLS;
  run->round++;

  /* Only a tool round needs to hear of a cancel: a request in flight
   * reports back on its own. So most runs never need this source. */
  if (run->cancelled_source == NULL)
    {
      run->cancelled_source = g_cancellable_source_new (run->cancellable);
      g_source_set_callback (run->cancelled_source,
                             (GSourceFunc) (void (*) (void)) cancelled_cb,
                             run_ref (run), (GDestroyNotify) run_unref);
      g_source_set_static_name (run->cancelled_source, "[forkjoin] agent cancelled");
      g_source_attach (run->cancelled_source, g_task_get_context (run->task));
    }
  g_ptr_array_set_size (run->calls, 0);

  for (guint i = 0; i < n_blocks; i++)
    {
      JsonNode *element = json_array_get_element (content, i);
      JsonObject *block;
      JsonNode *input;
      ToolCall *call;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;

      block = json_node_get_object (element);
      if (g_strcmp0 (json_object_get_string_member_with_default (block, "type", NULL), "tool_use") != 0)
        continue;

      call = g_new0 (ToolCall, 1);
      call->id = g_strdup (json_object_get_string_member_with_default (block, "id", ""));
      call->name = g_strdup (json_object_get_string_member_with_default (block, "name", ""));
      input = json_object_get_member (block, "input");
      if (input != NULL && !JSON_NODE_HOLDS_NULL (input))
        call->input_json = json_to_string (input, FALSE);
      if (call->input_json == NULL || call->input_json[0] == '\0')
        {
          g_free (call->input_json);
          call->input_json = g_strdup ("{}");
        }
      g_ptr_array_add (run->calls, call);
    }

  /* Start them all at once; none reports back before we return. */
  for (guint i = 0; i < run->calls->len; i++)
    {
      ToolCall *call = g_ptr_array_index (run->calls, i);
      FjTool *tool = fj_agent_find_tool (run->agent, call->name);

      if (run->hooks.tool_call != NULL)
        run->hooks.tool_call (run->result, call->id, call->name, tool, call->input_json,
                              run->hooks.user_data);

      if (tool == NULL)
        {
          call->text = g_strdup_printf ("Error: Tool '%s' not found", call->name);
          call->is_error = TRUE;
          call->done = TRUE;
        }
      else
        {
          ToolWait *wait = g_new0 (ToolWait, 1);

          wait->run = run_ref (run);
          wait->round = run->round;
          wait->index = i;
          run->n_pending_calls++;
          _fj_tool_invoke_async (tool, call->input_json, run->tool_pool, run->cancellable,
                                 tool_cb, wait);
        }
    }

  if (run->n_pending_calls == 0)
    tools_done (run);
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(RunData) run = user_data;
  g_autoptr(GError) error = NULL;
  FjMessage *message = run->message;
  const FjUsage *usage;
  const char *stop_reason;
  const char *text;

  g_assert (!run->finished);
  g_assert (run->phase == RUN_SENDING);
  g_assert (FJ_IS_MESSAGE (message));

  fj_client_send_finish (FJ_CLIENT (object), result, &error);
  disconnect_message (run);

  usage = fj_message_get_usage (message);
  if (usage != NULL)
    fj_usage_add (&run->usage, usage);
  run->attempts = run->attempts_before_turn + fj_message_get_attempts (message);
  run->turns++;
  _fj_agent_result_set_usage (run->result, &run->usage);
  _fj_agent_result_set_attempts (run->result, run->attempts);
  _fj_agent_result_set_turns (run->result, run->turns);

  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          (run->timed_out && g_error_matches (error, FJ_ERROR, FJ_ERROR_TIMED_OUT)))
        {
          run_interrupted (run);
        }
      else
        {
          FjAgentStatus status = g_error_matches (error, FJ_ERROR, FJ_ERROR_TIMED_OUT) ?
                                 FJ_AGENT_STATUS_TIMED_OUT : FJ_AGENT_STATUS_FAILED;

          run_fail (run, status,
                    g_error_new (error->domain, error->code, "%s: %s", run->name, error->message),
                    NULL);
        }
      return;
    }

  /* A cancel that raced with the reply wins, as it would in GTask. */
  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run_interrupted (run);
      return;
    }

  stop_reason = fj_message_get_stop_reason (message);
  text = fj_message_get_text (message);

  if (g_strcmp0 (stop_reason, "refusal") == 0)
    {
      run_fail (run, FJ_AGENT_STATUS_FAILED,
                g_error_new (FJ_ERROR, FJ_ERROR_REFUSED,
                             "%s: the model refused to answer (stop_reason refusal)", run->name),
                stop_reason);
    }
  else if ((g_strcmp0 (stop_reason, "tool_use") == 0 && fj_message_get_n_tool_uses (message) > 0) ||
           g_strcmp0 (stop_reason, "pause_turn") == 0)
    {
      if (run->turns >= run->max_turns)
        {
          run_fail (run, FJ_AGENT_STATUS_FAILED,
                    g_error_new (FJ_ERROR, FJ_ERROR_MAX_TURNS,
                                 "%s: no final answer after %u turns", run->name, run->turns),
                    stop_reason);
        }
      else if (g_strcmp0 (stop_reason, "pause_turn") == 0)
        {
          /* A server tool paused: send the conversation again as it is. */
          JsonArray *content = fj_message_get_content (message);

          if (content != NULL)
            {
              JsonNode *node = json_node_new (JSON_NODE_ARRAY);

              json_node_set_array (node, content);
              add_message (run, "assistant", node);
            }
          start_turn (run);
        }
      else
        {
          /* Shown until the next turn starts, streamed or not. */
          _fj_agent_result_set_output (run->result, text);
          run_tools (run);
        }
    }
  else
    {
      run_complete (run, FJ_AGENT_STATUS_SUCCESS, NULL, text ? text : "", NULL, stop_reason);
    }
}

static void
start_turn (RunData *run)
{
  g_autoptr(JsonObject) params = NULL;

  g_assert (!run->finished);

  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run_interrupted (run);
      return;
    }

  if (run->message != NULL)
    {
      const char *text = fj_message_get_text (run->message);

      if (text != NULL && text[0] != '\0')
        {
          g_free (run->last_text);
          run->last_text = g_strdup (text);
        }
      g_clear_object (&run->message);
    }

  if (run->first_params != NULL)
    params = g_steal_pointer (&run->first_params);
  else
    params = build_params (run);
  run->message = fj_message_new (params);
  _fj_message_set_started_func (run->message, message_started_cb, run);
  _fj_message_set_deadline (run->message, run->deadline_us);
  run->text_delta_handler = g_signal_connect (run->message, "text-delta",
                                              G_CALLBACK (text_delta_cb), run);
  run->retrying_handler = g_signal_connect (run->message, "retrying",
                                            G_CALLBACK (retrying_cb), run);

  run->phase = RUN_SENDING;
  run->attempts_before_turn = run->attempts;
  _fj_agent_result_set_output (run->result, NULL);
  _fj_agent_result_set_attempts (run->result, run->attempts + 1);

  if (run->hooks.request != NULL)
    run->hooks.request (run->result, run->message, run->turns + 1, run->hooks.user_data);

  fj_client_send_async (run->client, run->message, run->cancellable, send_cb, run_ref (run));
}

void
_fj_agent_run_internal_async (FjAgent               *self,
                              FjClient              *client,
                              const char            *input,
                              FjAgentResult         *result,
                              GThreadPool           *tool_pool,
                              gint64                 deadline_us,
                              const FjAgentRunHooks *hooks,
                              GCancellable          *cancellable,
                              GAsyncReadyCallback    callback,
                              gpointer               user_data)
{
  g_autoptr(RunData) run = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *first_messages;
  JsonNode *member;
  double timeout;

  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (FJ_IS_CLIENT (client));
  g_return_if_fail (input != NULL);
  g_return_if_fail (FJ_IS_AGENT_RESULT (result));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  run = g_atomic_rc_box_new0 (RunData);
  run->agent = g_object_ref (self);
  run->client = g_object_ref (client);
  run->result = g_object_ref (result);
  run->tool_pool = tool_pool;
  if (hooks != NULL)
    run->hooks = *hooks;

  run->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (run->task, _fj_agent_run_internal_async);
  /* The result is returned even when the caller cancelled. */
  g_task_set_check_cancellable (run->task, FALSE);

  run->name = g_strdup (agent_display_name (self));
  run->model = g_strdup (self->model);
  run->instructions = g_strdup (self->instructions);
  run->max_tokens = self->max_tokens;
  run->temperature = self->temperature;
  run->max_turns = self->max_turns;
  run->stream = self->stream;
  run->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  run->calls = g_ptr_array_new_with_free_func (tool_call_free);
  run->cancellable = g_cancellable_new ();
  run->phase = RUN_STARTING;

  run->start_us = g_get_monotonic_time ();
  run->deadline_us = deadline_us;
  run->deadline_is_external = deadline_us > 0;
  timeout = self->timeout > 0 ? self->timeout : (hooks ? hooks->default_timeout : 0);
  if (timeout > 0)
    {
      gint64 own = run->start_us + (gint64) (timeout * G_USEC_PER_SEC);

      if (run->deadline_us <= 0 || own < run->deadline_us)
        {
          run->deadline_us = own;
          run->deadline_is_external = FALSE;
        }
    }

  _fj_agent_result_set_model (result, run->model);
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_RUNNING);

  /* The first request, as _fj_agent_build_first_request() lays it out;
   * later turns keep its system, tools and first message. */
  run->first_params = _fj_agent_build_first_request (self, input,
                                                     hooks ? hooks->cache : FJ_CACHE_MODE_NONE,
                                                     FALSE, &error);
  if (run->first_params == NULL)
    {
      /* Already prefixed with the agent's name. */
      run_complete (run, FJ_AGENT_STATUS_FAILED, g_steal_pointer (&error), NULL, NULL, NULL);
      return;
    }

  if ((member = json_object_get_member (run->first_params, "system")) != NULL)
    run->system = json_node_ref (member);
  if (json_object_has_member (run->first_params, "tools"))
    run->tools_json = json_array_ref (json_object_get_array_member (run->first_params, "tools"));
  first_messages = json_object_get_array_member (run->first_params, "messages");
  for (guint i = 0; i < json_array_get_length (first_messages); i++)
    g_ptr_array_add (run->messages, json_node_ref (json_array_get_element (first_messages, i)));

  if (cancellable != NULL)
    {
      run->caller_cancellable = g_object_ref (cancellable);
      run->caller_handler = g_cancellable_connect (cancellable,
                                                   G_CALLBACK (caller_cancelled_cb),
                                                   run_ref (run),
                                                   (GDestroyNotify) run_unref);
    }

  if (run->deadline_us > 0)
    {
      gint64 remaining = MAX (run->deadline_us - run->start_us, 0);

      run->timer = g_timeout_source_new ((guint) MIN ((remaining + 999) / 1000, G_MAXUINT));
      g_source_set_callback (run->timer, timer_cb, run_ref (run), (GDestroyNotify) run_unref);
      g_source_set_static_name (run->timer, "[forkjoin] agent timeout");
      g_source_attach (run->timer, g_task_get_context (run->task));
    }

  start_turn (run);
}

/* The user turn of a shared-input request, whose input is the first system
 * block. */
#define SHARED_INPUT_TURN "Carry out your instructions on the shared input above."

static JsonNode *
text_block (const char *text,
            gboolean    cached)
{
  JsonObject *block = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (block, "type", "text");
  json_object_set_string_member (block, "text", text);
  if (cached)
    {
      JsonObject *cache_control = json_object_new ();

      json_object_set_string_member (cache_control, "type", "ephemeral");
      json_object_set_object_member (block, "cache_control", cache_control);
    }
  json_node_take_object (node, block);

  return node;
}

JsonObject *
_fj_agent_build_first_request (FjAgent      *self,
                               const char   *input,
                               FjCacheMode   cache,
                               gboolean      for_batch,
                               GError      **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  JsonArray *messages = json_array_new ();
  JsonObject *user = json_object_new ();
  guint n_tools;

  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  json_object_set_string_member (params, "model", self->model);
  json_object_set_int_member (params, "max_tokens", self->max_tokens);

  n_tools = g_list_model_get_n_items (G_LIST_MODEL (self->tools));
  if (n_tools > 0)
    {
      JsonArray *tools = json_array_sized_new (n_tools);

      json_object_set_array_member (params, "tools", tools);
      for (guint i = 0; i < n_tools; i++)
        {
          g_autoptr(FjTool) tool = g_list_model_get_item (G_LIST_MODEL (self->tools), i);
          g_autoptr(GError) local_error = NULL;
          JsonNode *node = fj_tool_to_json (tool, &local_error);

          if (node == NULL)
            {
              g_set_error (error, local_error->domain, local_error->code, "%s: %s",
                           agent_display_name (self), local_error->message);
              json_array_unref (messages);
              json_object_unref (user);
              return NULL;
            }
          json_array_add_element (tools, node);
        }
    }

  if (cache == FJ_CACHE_MODE_SHARED_INPUT)
    {
      JsonArray *system = json_array_new ();

      json_array_add_element (system, text_block (input, TRUE));
      if (self->instructions != NULL && self->instructions[0] != '\0')
        json_array_add_element (system, text_block (self->instructions, FALSE));
      json_object_set_array_member (params, "system", system);
      json_object_set_string_member (user, "content", SHARED_INPUT_TURN);
    }
  else
    {
      if (self->instructions != NULL && self->instructions[0] != '\0')
        json_object_set_string_member (params, "system", self->instructions);
      json_object_set_string_member (user, "content", input);
    }

  json_object_set_string_member (user, "role", "user");
  json_array_add_object_element (messages, user);
  json_object_set_array_member (params, "messages", messages);

  if (self->temperature >= 0)
    json_object_set_double_member (params, "temperature", self->temperature);
  /* A batch's params are the non-streaming kind. */
  if (!for_batch)
    json_object_set_boolean_member (params, "stream", self->stream);

  return g_steal_pointer (&params);
}

FjAgentResult *
_fj_agent_run_internal_finish (FjAgent       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* GObject */

static void
fj_agent_dispose (GObject *object)
{
  FjAgent *self = FJ_AGENT (object);

  g_clear_object (&self->client);

  G_OBJECT_CLASS (fj_agent_parent_class)->dispose (object);
}

static void
fj_agent_finalize (GObject *object)
{
  FjAgent *self = FJ_AGENT (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->instructions, g_free);
  g_clear_object (&self->tools);

  G_OBJECT_CLASS (fj_agent_parent_class)->finalize (object);
}

static void
fj_agent_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  FjAgent *self = FJ_AGENT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;

    case PROP_INSTRUCTIONS:
      g_value_set_string (value, self->instructions);
      break;

    case PROP_MAX_TOKENS:
      g_value_set_uint (value, self->max_tokens);
      break;

    case PROP_TEMPERATURE:
      g_value_set_double (value, self->temperature);
      break;

    case PROP_TIMEOUT:
      g_value_set_double (value, self->timeout);
      break;

    case PROP_MAX_TURNS:
      g_value_set_uint (value, self->max_turns);
      break;

    case PROP_STREAM:
      g_value_set_boolean (value, self->stream);
      break;

    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_TOOLS:
      g_value_set_object (value, self->tools);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_agent_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  FjAgent *self = FJ_AGENT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      fj_agent_set_name (self, g_value_get_string (value));
      break;

    case PROP_MODEL:
      fj_agent_set_model (self, g_value_get_string (value));
      break;

    case PROP_INSTRUCTIONS:
      fj_agent_set_instructions (self, g_value_get_string (value));
      break;

    case PROP_MAX_TOKENS:
      fj_agent_set_max_tokens (self, g_value_get_uint (value));
      break;

    case PROP_TEMPERATURE:
      fj_agent_set_temperature (self, g_value_get_double (value));
      break;

    case PROP_TIMEOUT:
      fj_agent_set_timeout (self, g_value_get_double (value));
      break;

    case PROP_MAX_TURNS:
      fj_agent_set_max_turns (self, g_value_get_uint (value));
      break;

    case PROP_STREAM:
      fj_agent_set_stream (self, g_value_get_boolean (value));
      break;

    case PROP_CLIENT:
      fj_agent_set_client (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_agent_class_init (FjAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fj_agent_dispose;
  object_class->finalize = fj_agent_finalize;
  object_class->get_property = fj_agent_get_property;
  object_class->set_property = fj_agent_set_property;

  /**
   * FjAgent:name:
   *
   * The agent's name, used in results and error messages.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:model:
   *
   * The model to ask. Setting %NULL restores %FJ_AGENT_DEFAULT_MODEL.
   *
   * Since: 1.0
   */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL,
                         FJ_AGENT_DEFAULT_MODEL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:instructions:
   *
   * The system prompt, or %NULL to send none.
   *
   * Since: 1.0
   */
  properties[PROP_INSTRUCTIONS] =
    g_param_spec_string ("instructions", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:max-tokens:
   *
   * The most tokens the model may write in one turn (`max_tokens`).
   *
   * Since: 1.0
   */
  properties[PROP_MAX_TOKENS] =
    g_param_spec_uint ("max-tokens", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_MAX_TOKENS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:temperature:
   *
   * The sampling temperature; a negative value (the default) leaves it to
   * the API.
   *
   * Since: 1.0
   */
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", NULL, NULL,
                         -1.0, 2.0, -1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:timeout:
   *
   * How long a run may take, in seconds, from its start to its answer:
   * every attempt, turn, retry wait and tool call. 0 means no limit of its
   * own (a runner's limits still apply).
   *
   * Since: 1.0
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_double ("timeout", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:max-turns:
   *
   * The most model turns a run may take. A model still asking for tools in
   * its last turn ends the run with %FJ_ERROR_MAX_TURNS.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_TURNS] =
    g_param_spec_uint ("max-turns", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_MAX_TURNS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:stream:
   *
   * Whether to stream replies, so [property@AgentResult:output] grows as
   * the text arrives.
   *
   * Since: 1.0
   */
  properties[PROP_STREAM] =
    g_param_spec_boolean ("stream", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:client:
   *
   * The client this agent sends with, or %NULL to use the one it is run
   * with. It wins over the client a runner passes.
   *
   * Since: 1.0
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         FJ_TYPE_CLIENT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgent:tools:
   *
   * The agent's tools, a [iface@Gio.ListModel] of [class@Tool]; add with
   * [method@Agent.add_tool].
   *
   * Since: 1.0
   */
  properties[PROP_TOOLS] =
    g_param_spec_object ("tools", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FjAgent::text-delta:
   * @self: the #FjAgent
   * @result: the [class@AgentResult] of the run the text belongs to
   * @text: the text that arrived
   *
   * Emitted on the run's main context as each piece of the reply's text
   * streams in, after it was appended to the result's
   * [property@AgentResult:output]. An agent may be run several times at
   * once; @result tells the runs apart.
   *
   * Since: 1.0
   */
  signals[TEXT_DELTA] =
    g_signal_new ("text-delta",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  _fj_marshal_VOID__OBJECT_STRING,
                  G_TYPE_NONE, 2,
                  FJ_TYPE_AGENT_RESULT,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[TEXT_DELTA], G_TYPE_FROM_CLASS (klass),
                              _fj_marshal_VOID__OBJECT_STRINGv);
}

static void
fj_agent_init (FjAgent *self)
{
  self->model = g_strdup (FJ_AGENT_DEFAULT_MODEL);
  self->max_tokens = DEFAULT_MAX_TOKENS;
  self->temperature = -1.0;
  self->max_turns = DEFAULT_MAX_TURNS;
  self->stream = TRUE;
  self->tools = g_list_store_new (FJ_TYPE_TOOL);
}

/* Public API */

/**
 * fj_agent_new:
 * @name: (nullable): the agent's name
 *
 * Creates an agent with the default settings.
 *
 * Returns: (transfer full): a new #FjAgent
 *
 * Since: 1.0
 */
FjAgent *
fj_agent_new (const char *name)
{
  return g_object_new (FJ_TYPE_AGENT, "name", name, NULL);
}

/**
 * fj_agent_get_name:
 * @self: a #FjAgent
 *
 * Gets the agent's name.
 *
 * Returns: (transfer none) (nullable): the name
 *
 * Since: 1.0
 */
const char *
fj_agent_get_name (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);

  return self->name;
}

/**
 * fj_agent_set_name:
 * @self: a #FjAgent
 * @name: (nullable): the name
 *
 * Sets the agent's name.
 *
 * Since: 1.0
 */
void
fj_agent_set_name (FjAgent    *self,
                   const char *name)
{
  g_return_if_fail (FJ_IS_AGENT (self));

  if (g_strcmp0 (self->name, name) == 0)
    return;

  g_free (self->name);
  self->name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

/**
 * fj_agent_get_model:
 * @self: a #FjAgent
 *
 * Gets the model the agent asks.
 *
 * Returns: (transfer none): the model
 *
 * Since: 1.0
 */
const char *
fj_agent_get_model (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);

  return self->model;
}

/**
 * fj_agent_set_model:
 * @self: a #FjAgent
 * @model: (nullable): the model, or %NULL for %FJ_AGENT_DEFAULT_MODEL
 *
 * Sets the model the agent asks.
 *
 * Since: 1.0
 */
void
fj_agent_set_model (FjAgent    *self,
                    const char *model)
{
  g_return_if_fail (FJ_IS_AGENT (self));

  if (model == NULL)
    model = FJ_AGENT_DEFAULT_MODEL;

  if (g_strcmp0 (self->model, model) == 0)
    return;

  g_free (self->model);
  self->model = g_strdup (model);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

/**
 * fj_agent_get_instructions:
 * @self: a #FjAgent
 *
 * Gets the agent's system prompt.
 *
 * Returns: (transfer none) (nullable): the instructions
 *
 * Since: 1.0
 */
const char *
fj_agent_get_instructions (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);

  return self->instructions;
}

/**
 * fj_agent_set_instructions:
 * @self: a #FjAgent
 * @instructions: (nullable): the system prompt
 *
 * Sets the agent's system prompt.
 *
 * Since: 1.0
 */
void
fj_agent_set_instructions (FjAgent    *self,
                           const char *instructions)
{
  g_return_if_fail (FJ_IS_AGENT (self));

  if (g_strcmp0 (self->instructions, instructions) == 0)
    return;

  g_free (self->instructions);
  self->instructions = g_strdup (instructions);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INSTRUCTIONS]);
}

/**
 * fj_agent_get_max_tokens:
 * @self: a #FjAgent
 *
 * Gets the most tokens the model may write in one turn.
 *
 * Returns: the limit
 *
 * Since: 1.0
 */
guint
fj_agent_get_max_tokens (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), 0);

  return self->max_tokens;
}

/**
 * fj_agent_set_max_tokens:
 * @self: a #FjAgent
 * @max_tokens: the limit, at least 1
 *
 * Sets the most tokens the model may write in one turn.
 *
 * Since: 1.0
 */
void
fj_agent_set_max_tokens (FjAgent *self,
                         guint    max_tokens)
{
  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (max_tokens >= 1);

  if (self->max_tokens == max_tokens)
    return;

  self->max_tokens = max_tokens;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TOKENS]);
}

/**
 * fj_agent_get_temperature:
 * @self: a #FjAgent
 *
 * Gets the sampling temperature.
 *
 * Returns: the temperature, negative when it is not sent
 *
 * Since: 1.0
 */
double
fj_agent_get_temperature (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), -1.0);

  return self->temperature;
}

/**
 * fj_agent_set_temperature:
 * @self: a #FjAgent
 * @temperature: the temperature, or a negative value not to send one
 *
 * Sets the sampling temperature.
 *
 * Since: 1.0
 */
void
fj_agent_set_temperature (FjAgent *self,
                          double   temperature)
{
  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (temperature <= 2.0);

  if (temperature < 0)
    temperature = -1.0;

  if (self->temperature == temperature)
    return;

  self->temperature = temperature;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEMPERATURE]);
}

/**
 * fj_agent_get_timeout:
 * @self: a #FjAgent
 *
 * Gets how long a run may take.
 *
 * Returns: the limit in seconds, 0 for none
 *
 * Since: 1.0
 */
double
fj_agent_get_timeout (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), 0.0);

  return self->timeout;
}

/**
 * fj_agent_set_timeout:
 * @self: a #FjAgent
 * @seconds: the limit in seconds, 0 for none
 *
 * Sets how long a run may take, all turns, retries and tool calls
 * included.
 *
 * Since: 1.0
 */
void
fj_agent_set_timeout (FjAgent *self,
                      double   seconds)
{
  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (seconds >= 0);

  if (self->timeout == seconds)
    return;

  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * fj_agent_get_max_turns:
 * @self: a #FjAgent
 *
 * Gets the most model turns a run may take.
 *
 * Returns: the limit
 *
 * Since: 1.0
 */
guint
fj_agent_get_max_turns (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), 0);

  return self->max_turns;
}

/**
 * fj_agent_set_max_turns:
 * @self: a #FjAgent
 * @max_turns: the limit, at least 1
 *
 * Sets the most model turns a run may take.
 *
 * Since: 1.0
 */
void
fj_agent_set_max_turns (FjAgent *self,
                        guint    max_turns)
{
  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (max_turns >= 1);

  if (self->max_turns == max_turns)
    return;

  self->max_turns = max_turns;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TURNS]);
}

/**
 * fj_agent_get_stream:
 * @self: a #FjAgent
 *
 * Gets whether replies are streamed.
 *
 * Returns: %TRUE if replies are streamed
 *
 * Since: 1.0
 */
gboolean
fj_agent_get_stream (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), FALSE);

  return self->stream;
}

/**
 * fj_agent_set_stream:
 * @self: a #FjAgent
 * @stream: whether to stream replies
 *
 * Sets whether replies are streamed.
 *
 * Since: 1.0
 */
void
fj_agent_set_stream (FjAgent  *self,
                     gboolean  stream)
{
  g_return_if_fail (FJ_IS_AGENT (self));

  stream = !!stream;
  if (self->stream == stream)
    return;

  self->stream = stream;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAM]);
}

/**
 * fj_agent_get_client:
 * @self: a #FjAgent
 *
 * Gets the agent's own client.
 *
 * Returns: (nullable) (transfer none): the client
 *
 * Since: 1.0
 */
FjClient *
fj_agent_get_client (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);

  return self->client;
}

/**
 * fj_agent_set_client:
 * @self: a #FjAgent
 * @client: (nullable): a #FjClient
 *
 * Sets a client of the agent's own, which wins over the one it is run
 * with.
 *
 * Since: 1.0
 */
void
fj_agent_set_client (FjAgent  *self,
                     FjClient *client)
{
  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (!client || FJ_IS_CLIENT (client));

  if (g_set_object (&self->client, client))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
}

/**
 * fj_agent_get_tools:
 * @self: a #FjAgent
 *
 * Gets the agent's tools.
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@Tool]
 *
 * Since: 1.0
 */
GListModel *
fj_agent_get_tools (FjAgent *self)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);

  return G_LIST_MODEL (self->tools);
}

/**
 * fj_agent_add_tool:
 * @self: a #FjAgent
 * @tool: a #FjTool
 *
 * Adds a tool the model may call. Runs that have already started do not
 * offer it.
 *
 * Since: 1.0
 */
void
fj_agent_add_tool (FjAgent *self,
                   FjTool  *tool)
{
  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (FJ_IS_TOOL (tool));

  g_list_store_append (self->tools, tool);
}

/**
 * fj_agent_find_tool:
 * @self: a #FjAgent
 * @name: a tool name
 *
 * Finds the first of the agent's tools called @name.
 *
 * Returns: (nullable) (transfer none): the tool, or %NULL
 *
 * Since: 1.0
 */
FjTool *
fj_agent_find_tool (FjAgent    *self,
                    const char *name)
{
  guint n_items;

  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  n_items = g_list_model_get_n_items (G_LIST_MODEL (self->tools));
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(FjTool) tool = g_list_model_get_item (G_LIST_MODEL (self->tools), i);

      /* The store keeps its own reference. */
      if (g_strcmp0 (fj_tool_get_name (tool), name) == 0)
        return tool;
    }

  return NULL;
}

/**
 * fj_agent_run_async:
 * @self: a #FjAgent
 * @client: (nullable): the client to send with when the agent has none of
 *   its own
 * @input: the user's message
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): a #GAsyncReadyCallback to
 *   call when the agent has settled
 * @user_data: data for @callback
 *
 * Runs the agent on @input: the turn loop, with tool calls, until a final
 * answer, an error, the agent's timeout or cancellation.
 *
 * HTTP runs on the thread-default main context of the caller, tools in
 * worker threads (or on that context, for main-thread tools).
 *
 * For more details, see [method@Agent.run_sync], which is the synchronous
 * version of this call.
 *
 * When the operation is finished, @callback will be called. You should
 * then call [method@Agent.run_finish] to get the result.
 *
 * Since: 1.0
 */
void
fj_agent_run_async (FjAgent             *self,
                    FjClient            *client,
                    const char          *input,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(FjAgentResult) result = NULL;

  g_return_if_fail (FJ_IS_AGENT (self));
  g_return_if_fail (!client || FJ_IS_CLIENT (client));
  g_return_if_fail (input != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  if (self->client != NULL)
    client = self->client;

  if (client == NULL)
    {
      g_task_report_new_error (self, callback, user_data, fj_agent_run_async,
                               G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "%s: no client to send with: pass one or set the agent's client",
                               agent_display_name (self));
      return;
    }

  result = fj_agent_result_new (self->name, 0);
  _fj_agent_run_internal_async (self, client, input, result, NULL, 0, NULL,
                                cancellable, callback, user_data);
}

/**
 * fj_agent_run_finish:
 * @self: a #FjAgent
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Agent.run_async].
 *
 * A run that started always gives a result, whether the agent succeeded
 * or not: see its [property@AgentResult:status] and
 * [property@AgentResult:error]. %NULL (with @error set) means the run
 * could not start, for example without a client.
 *
 * Returns: (transfer full): the agent's result, or %NULL with @error set
 *
 * Since: 1.0
 */
FjAgentResult *
fj_agent_run_finish (FjAgent       *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * fj_agent_run_sync:
 * @self: a #FjAgent
 * @client: (nullable): the client to send with when the agent has none of
 *   its own
 * @input: the user's message
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs the agent on @input and waits for it to settle, running a new
 * thread-default main context meanwhile; main-thread tools run on it, in
 * the calling thread.
 *
 * See [method@Agent.run_async].
 *
 * Returns: (transfer full): the agent's result, or %NULL with @error set
 *   when the run could not start
 *
 * Since: 1.0
 */
FjAgentResult *
fj_agent_run_sync (FjAgent       *self,
                   FjClient      *client,
                   const char    *input,
                   GCancellable  *cancellable,
                   GError       **error)
{
  FjSyncCall call;
  FjAgentResult *ret;

  g_return_val_if_fail (FJ_IS_AGENT (self), NULL);
  g_return_val_if_fail (!client || FJ_IS_CLIENT (client), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _fj_sync_call_begin (&call);
  _fj_sync_call_add_client (&call, self->client);
  _fj_sync_call_add_client (&call, client);
  fj_agent_run_async (self, client, input, cancellable, _fj_sync_call_done, &call);
  ret = fj_agent_run_finish (self, _fj_sync_call_wait (&call), error);
  _fj_sync_call_end (&call);

  return ret;
}
