/* test-agent.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"

#include "fj-agent-private.h"

/* A clock tool in C: answers a fixed time, fails when asked to, or blocks
 * until it is cancelled (or for a while, ignoring cancellation). */

#define TEST_TYPE_CLOCK_TOOL (test_clock_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestClockTool, test_clock_tool, TEST, CLOCK_TOOL, FjTool)

typedef enum
{
  CLOCK_ANSWER,
  CLOCK_FAIL,
  CLOCK_BLOCK,          /* until cancelled */
  CLOCK_SLEEP,          /* 2 s, ignoring cancellation */
  CLOCK_NOTHING,        /* NULL and no error, as gjs gives off the main thread */
} ClockMode;

struct _TestClockTool
{
  FjTool parent_instance;

  ClockMode mode;
  GMutex mutex;
  GThread *thread;
  char *last_input;
  guint n_calls;
  guint n_returned;
  GCancellable *cancel_when_called;
};

G_DEFINE_FINAL_TYPE (TestClockTool, test_clock_tool, FJ_TYPE_TOOL)

#define CLOCK_ANSWER_TEXT "It is 12:34:56 UTC"

static char *
test_clock_tool_invoke (FjTool        *tool,
                        const char    *input_json,
                        GCancellable  *cancellable,
                        GError       **error)
{
  TestClockTool *self = TEST_CLOCK_TOOL (tool);
  char *ret = NULL;

  g_mutex_lock (&self->mutex);
  self->thread = g_thread_self ();
  g_free (self->last_input);
  self->last_input = g_strdup (input_json);
  self->n_calls++;
  g_mutex_unlock (&self->mutex);

  switch (self->mode)
    {
    case CLOCK_ANSWER:
      ret = g_strdup (CLOCK_ANSWER_TEXT);
      break;

    case CLOCK_FAIL:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the clock is broken");
      break;

    case CLOCK_BLOCK:
      while (!g_cancellable_is_cancelled (cancellable))
        g_usleep (G_USEC_PER_SEC / 100);
      g_cancellable_set_error_if_cancelled (cancellable, error);
      break;

    case CLOCK_SLEEP:
      g_usleep (2 * G_USEC_PER_SEC);
      ret = g_strdup (CLOCK_ANSWER_TEXT);
      break;

    case CLOCK_NOTHING:
      break;

    default:
      g_assert_not_reached ();
    }

  g_mutex_lock (&self->mutex);
  self->n_returned++;
  g_mutex_unlock (&self->mutex);

  return ret;
}

static void
test_clock_tool_finalize (GObject *object)
{
  TestClockTool *self = TEST_CLOCK_TOOL (object);

  g_free (self->last_input);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (test_clock_tool_parent_class)->finalize (object);
}

static void
test_clock_tool_class_init (TestClockToolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_clock_tool_finalize;
  FJ_TOOL_CLASS (klass)->invoke = test_clock_tool_invoke;
}

static void
test_clock_tool_init (TestClockTool *self)
{
  g_mutex_init (&self->mutex);
}

static TestClockTool *
clock_tool_new (ClockMode mode)
{
  TestClockTool *tool = g_object_new (TEST_TYPE_CLOCK_TOOL,
                                      "name", "clock",
                                      "description", "Tells the time",
                                      "input-schema",
                                      "{\"type\":\"object\",\"properties\":"
                                      "{\"tz\":{\"type\":\"string\"}}}",
                                      NULL);

  tool->mode = mode;
  return tool;
}

static guint
clock_tool_get_n_returned (TestClockTool *tool)
{
  guint n;

  g_mutex_lock (&tool->mutex);
  n = tool->n_returned;
  g_mutex_unlock (&tool->mutex);

  return n;
}

/* Helpers */

static FjAgent *
agent_new (const char *name)
{
  FjAgent *agent = fj_agent_new (name);
  g_autofree char *instructions = g_strdup_printf ("You are %s, a careful analyst.", name);

  fj_agent_set_instructions (agent, instructions);
  return agent;
}

static FjAgentResult *
run_agent (FjAgent  *agent,
           FjClient *client,
           const char *input,
           GCancellable *cancellable)
{
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  FjAgentResult *result;

  fj_agent_run_async (agent, client, input, cancellable, fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 30);
  result = fj_agent_run_finish (agent, async_result, &error);
  g_assert_no_error (error);
  g_assert_true (FJ_IS_AGENT_RESULT (result));
  g_assert_true (fj_agent_result_get_finished (result));

  return result;
}

static JsonArray *
stats_log (FjSimulator *sim,
           JsonNode   **stats_out)
{
  JsonNode *stats = fj_simulator_get_stats (sim);
  JsonObject *object;

  g_assert_nonnull (stats);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (stats));
  object = json_node_get_object (stats);
  g_assert_true (json_object_has_member (object, "log"));

  *stats_out = stats;
  return json_object_get_array_member (object, "log");
}

static void
assert_success (FjAgentResult *result)
{
  if (fj_agent_result_get_status (result) != FJ_AGENT_STATUS_SUCCESS)
    g_error ("agent %s did not succeed: %s",
             fj_agent_result_get_agent_name (result),
             fj_agent_result_get_error_message (result));

  g_assert_null (fj_agent_result_get_error (result));
  g_assert_null (fj_agent_result_get_partial_output (result));
  g_assert_nonnull (fj_agent_result_get_output (result));
}

/* Tests */

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *n)
{
  (*n)++;
}

static void
test_agent_properties (void)
{
  g_autoptr(FjAgent) agent = fj_agent_new ("analyst");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_ANSWER);
  g_autoptr(GListModel) tools = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjAgentResult) result = NULL;
  g_autofree char *model = NULL;
  guint max_tokens, max_turns;
  double temperature, timeout;
  gboolean stream;
  guint n_notify = 0;

  g_object_get (agent,
                "model", &model,
                "max-tokens", &max_tokens,
                "max-turns", &max_turns,
                "temperature", &temperature,
                "timeout", &timeout,
                "stream", &stream,
                "tools", &tools,
                NULL);
  g_assert_cmpstr (model, ==, FJ_AGENT_DEFAULT_MODEL);
  g_assert_cmpuint (max_tokens, ==, 1024);
  g_assert_cmpuint (max_turns, ==, 10);
  g_assert_cmpfloat (temperature, <, 0);
  g_assert_cmpfloat (timeout, ==, 0);
  g_assert_true (stream);
  g_assert_null (fj_agent_get_client (agent));
  g_assert_null (fj_agent_get_instructions (agent));
  g_assert_true (tools == fj_agent_get_tools (agent));
  g_assert_cmpuint (g_list_model_get_n_items (tools), ==, 0);
  g_assert_true (g_list_model_get_item_type (tools) == FJ_TYPE_TOOL);

  g_signal_connect (agent, "notify::max-turns", G_CALLBACK (notify_count_cb), &n_notify);
  fj_agent_set_max_turns (agent, 3);
  fj_agent_set_max_turns (agent, 3);
  g_assert_cmpuint (n_notify, ==, 1);
  g_assert_cmpuint (fj_agent_get_max_turns (agent), ==, 3);

  fj_agent_set_model (agent, "claude-sonnet-5-5");
  g_assert_cmpstr (fj_agent_get_model (agent), ==, "claude-sonnet-5-5");
  fj_agent_set_model (agent, NULL);
  g_assert_cmpstr (fj_agent_get_model (agent), ==, FJ_AGENT_DEFAULT_MODEL);
  fj_agent_set_temperature (agent, 0.5);
  g_assert_cmpfloat (fj_agent_get_temperature (agent), ==, 0.5);
  fj_agent_set_temperature (agent, -3);
  g_assert_cmpfloat (fj_agent_get_temperature (agent), <, 0);

  fj_agent_add_tool (agent, FJ_TOOL (clock));
  g_assert_cmpuint (g_list_model_get_n_items (tools), ==, 1);
  g_assert_true (fj_agent_find_tool (agent, "clock") == FJ_TOOL (clock));
  g_assert_null (fj_agent_find_tool (agent, "calendar"));

  /* No client anywhere: misuse, reported as an error, not a result. */
  fj_agent_run_async (agent, NULL, "hello", NULL, fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 10);
  result = fj_agent_run_finish (agent, async_result, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "analyst"));
}

static void
run_single_turn (gboolean stream)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 1, \"output_tokens\": 24}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("market-analyst");
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *json = NULL;
  FjUsage *usage;
  JsonArray *log;

  fj_agent_set_stream (agent, stream);
  result = run_agent (agent, client, "Analyze Q3 performance for ACME Corp", NULL);

  assert_success (result);
  g_assert_cmpstr (fj_agent_result_get_agent_name (result), ==, "market-analyst");
  g_assert_cmpuint (fj_agent_result_get_index (result), ==, 0);
  g_assert_cmpstr (fj_agent_result_get_output (result), !=, "");
  g_assert_cmpstr (fj_agent_result_get_stop_reason (result), ==, "end_turn");
  g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 1);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 1);
  g_assert_cmpfloat (fj_agent_result_get_duration (result), >, 0);
  usage = fj_agent_result_get_usage (result);
  g_assert_cmpint (usage->output_tokens, ==, 24);
  g_assert_cmpint (usage->input_tokens, >, 0);

  log = stats_log (sim, &stats);
  g_assert_cmpuint (json_array_get_length (log), ==, 1);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);

  json = fj_agent_result_to_json_string (result, FALSE);
  fj_test_assert_no_key (json);
}

static void
test_agent_single_turn_stream (void)
{
  run_single_turn (TRUE);
}

static void
test_agent_single_turn_no_stream (void)
{
  run_single_turn (FALSE);
}

typedef struct
{
  GPtrArray *requests;          /* FjMessage, one per turn */
  GString *deltas;
  guint n_retrying;
  guint n_tool_calls;
  guint n_output_notify;
  guint n_status_notify;
  gboolean saw_running;
  gboolean terminal_complete;
} Observer;

static void
hook_request (FjAgentResult *result,
              FjMessage     *message,
              guint          turn,
              gpointer       user_data)
{
  Observer *observer = user_data;

  g_ptr_array_add (observer->requests, g_object_ref (message));
  g_assert_cmpuint (turn, ==, observer->requests->len);
}

static void
hook_text_delta (FjAgentResult *result,
                 const char    *text,
                 gpointer       user_data)
{
  Observer *observer = user_data;

  g_string_append (observer->deltas, text);
  /* The delta is already in the output. */
  g_assert_true (g_str_has_suffix (fj_agent_result_get_output (result), text));
}

static void
hook_retrying (FjAgentResult *result,
               guint          attempt,
               double         delay,
               const GError  *reason,
               gpointer       user_data)
{
  Observer *observer = user_data;

  g_assert_nonnull (reason);
  g_assert_cmpuint (attempt, >=, 2);
  observer->n_retrying++;
}

static void
hook_tool_call (FjAgentResult *result,
                const char    *id,
                const char    *name,
                FjTool        *tool,
                const char    *input_json,
                gpointer       user_data)
{
  Observer *observer = user_data;

  g_assert_nonnull (id);
  g_assert_nonnull (input_json);
  observer->n_tool_calls++;
}

static void
observer_output_cb (FjAgentResult *result,
                    GParamSpec    *pspec,
                    Observer      *observer)
{
  observer->n_output_notify++;
}

static void
observer_status_cb (FjAgentResult *result,
                    GParamSpec    *pspec,
                    Observer      *observer)
{
  observer->n_status_notify++;

  if (fj_agent_result_get_status (result) == FJ_AGENT_STATUS_RUNNING)
    observer->saw_running = TRUE;

  /* Everything is in place before the status turns terminal. */
  if (fj_agent_result_get_finished (result))
    {
      g_assert_cmpuint (fj_agent_result_get_turns (result), >, 0);
      g_assert_cmpuint (fj_agent_result_get_attempts (result), >, 0);
      g_assert_cmpfloat (fj_agent_result_get_duration (result), >, 0);
      if (fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS)
        g_assert_nonnull (fj_agent_result_get_output (result));
      else
        g_assert_nonnull (fj_agent_result_get_error (result));
      observer->terminal_complete = TRUE;
    }
}

static void
observer_init (Observer *observer)
{
  memset (observer, 0, sizeof *observer);
  observer->requests = g_ptr_array_new_with_free_func (g_object_unref);
  observer->deltas = g_string_new (NULL);
}

static void
observer_clear (Observer *observer)
{
  g_ptr_array_unref (observer->requests);
  g_string_free (observer->deltas, TRUE);
}

/* Runs @agent through the runner's entry point with every hook set. */
static FjAgentResult *
run_observed (FjAgent      *agent,
              FjClient     *client,
              const char   *input,
              Observer     *observer)
{
  g_autoptr(FjAgentResult) result = fj_agent_result_new (fj_agent_get_name (agent), 0);
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  FjAgentResult *returned;
  FjAgentRunHooks hooks = {
    .request = hook_request,
    .text_delta = hook_text_delta,
    .retrying = hook_retrying,
    .tool_call = hook_tool_call,
    .user_data = observer,
  };

  g_signal_connect (result, "notify::output", G_CALLBACK (observer_output_cb), observer);
  g_signal_connect (result, "notify::status", G_CALLBACK (observer_status_cb), observer);

  _fj_agent_run_internal_async (agent, client, input, result, NULL, 0, &hooks, NULL,
                                fj_test_async_result_cb, &async_result);
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_RUNNING);
  g_assert_true (observer->saw_running);

  fj_test_wait_result (&async_result, 30);
  returned = _fj_agent_run_internal_finish (agent, async_result, &error);
  g_assert_no_error (error);
  g_assert_true (returned == result);
  g_assert_true (observer->terminal_complete);
  g_object_unref (returned);

  return g_steal_pointer (&result);
}

/* The request of turn 2 sends the conversation of turn 1 back: the input,
 * then the assistant's tool_use turn exactly as received, then one user
 * message whose only block is the tool_result for it. Returns that
 * block. */
static JsonObject *
assert_tool_round (Observer *observer,
                   guint     turn)
{
  FjMessage *previous = g_ptr_array_index (observer->requests, turn - 2);
  FjMessage *request = g_ptr_array_index (observer->requests, turn - 1);
  JsonArray *messages = json_object_get_array_member (fj_message_get_params (request), "messages");
  JsonArray *previous_messages = json_object_get_array_member (fj_message_get_params (previous), "messages");
  guint n = json_array_get_length (messages);
  g_autoptr(JsonNode) sent = json_node_new (JSON_NODE_ARRAY);
  g_autoptr(JsonNode) received = json_node_new (JSON_NODE_ARRAY);
  JsonObject *assistant;
  JsonObject *user;
  JsonArray *blocks;
  JsonArray *results;
  const char *tool_use_id = NULL;

  g_assert_cmpuint (n, ==, json_array_get_length (previous_messages) + 2);

  assistant = json_array_get_object_element (messages, n - 2);
  g_assert_cmpstr (json_object_get_string_member (assistant, "role"), ==, "assistant");
  blocks = json_object_get_array_member (assistant, "content");
  json_node_set_array (sent, blocks);
  json_node_set_array (received, fj_message_get_content (previous));
  g_assert_true (json_node_equal (sent, received));

  for (guint i = 0; i < json_array_get_length (blocks); i++)
    {
      JsonObject *block = json_array_get_object_element (blocks, i);

      if (g_str_equal (json_object_get_string_member (block, "type"), "tool_use"))
        tool_use_id = json_object_get_string_member (block, "id");
    }
  g_assert_nonnull (tool_use_id);

  user = json_array_get_object_element (messages, n - 1);
  g_assert_cmpstr (json_object_get_string_member (user, "role"), ==, "user");
  results = json_object_get_array_member (user, "content");
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 0), "type"),
                   ==, "tool_result");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 0), "tool_use_id"),
                   ==, tool_use_id);

  return json_array_get_object_element (results, 0);
}

static void
test_agent_runner_entry (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 2, \"output_tokens\": 30,"
                           " \"failures\": [{\"status\": 500, \"attempts\": 1}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("observed");
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("observed", 4);
  g_autoptr(FjAgentResult) returned = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  GThreadPool *pool;
  Observer observer;
  FjAgentRunHooks hooks = {
    .request = hook_request,
    .text_delta = hook_text_delta,
    .retrying = hook_retrying,
    .tool_call = hook_tool_call,
    .user_data = &observer,
  };

  observer_init (&observer);
  pool = _fj_thread_pool_new (2, &error);
  g_assert_no_error (error);

  g_signal_connect (result, "notify::output", G_CALLBACK (observer_output_cb), &observer);
  g_signal_connect (result, "notify::status", G_CALLBACK (observer_status_cb), &observer);

  _fj_agent_run_internal_async (agent, client, "Hello", result, pool, 0, &hooks, NULL,
                                fj_test_async_result_cb, &async_result);
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_RUNNING);
  g_assert_true (observer.saw_running);

  fj_test_wait_result (&async_result, 30);
  returned = _fj_agent_run_internal_finish (agent, async_result, &error);
  g_assert_no_error (error);
  g_assert_true (returned == result);

  assert_success (result);
  g_assert_cmpuint (fj_agent_result_get_index (result), ==, 4);
  g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 2);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 1);
  g_assert_cmpuint (observer.n_retrying, ==, 1);
  g_assert_cmpuint (observer.n_tool_calls, ==, 0);
  g_assert_cmpstr (observer.deltas->str, ==, fj_agent_result_get_output (result));
  /* The output grew while streaming. */
  g_assert_cmpuint (observer.n_output_notify, >, 1);
  g_assert_true (observer.terminal_complete);
  /* running, then success */
  g_assert_cmpuint (observer.n_status_notify, ==, 2);
  g_assert_cmpuint (observer.requests->len, ==, 1);

  observer_clear (&observer);
  g_thread_pool_free (pool, FALSE, TRUE);
}

static void
test_agent_tool_loop (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 3, \"output_tokens\": 20,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {\"tz\": \"UTC\"}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("timekeeper");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_ANSWER);
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *params;
  JsonObject *tool_result;
  JsonArray *tools;
  JsonArray *log;
  FjUsage *usage;
  Observer observer;

  observer_init (&observer);
  fj_simulator_set_record_prompts (sim, TRUE);
  fj_agent_add_tool (agent, FJ_TOOL (clock));

  result = run_observed (agent, client, "What time is it?", &observer);

  assert_success (result);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 2);
  g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 2);
  g_assert_cmpstr (fj_agent_result_get_stop_reason (result), ==, "end_turn");
  g_assert_cmpuint (clock->n_calls, ==, 1);
  g_assert_cmpuint (observer.n_tool_calls, ==, 1);
  g_assert_true (clock->thread != g_thread_self ());

  /* The model's input reached the tool. */
  json_parser_load_from_data (parser, clock->last_input, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "tz"),
                   ==, "UTC");

  /* Usage is summed over both turns. */
  usage = fj_agent_result_get_usage (result);
  g_assert_cmpint (usage->output_tokens, ==,
                   fj_message_get_usage (g_ptr_array_index (observer.requests, 0))->output_tokens +
                   fj_message_get_usage (g_ptr_array_index (observer.requests, 1))->output_tokens);

  /* The first request: the agent's settings, its tool, the input. */
  g_assert_cmpuint (observer.requests->len, ==, 2);
  params = fj_message_get_params (g_ptr_array_index (observer.requests, 0));
  g_assert_cmpstr (json_object_get_string_member (params, "model"), ==, FJ_AGENT_DEFAULT_MODEL);
  g_assert_cmpint (json_object_get_int_member (params, "max_tokens"), ==, 1024);
  g_assert_true (json_object_get_boolean_member (params, "stream"));
  g_assert_false (json_object_has_member (params, "temperature"));
  g_assert_nonnull (strstr (json_object_get_string_member (params, "system"), "timekeeper"));
  tools = json_object_get_array_member (params, "tools");
  g_assert_cmpuint (json_array_get_length (tools), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tools, 0), "name"),
                   ==, "clock");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                     json_object_get_array_member (params, "messages"), 0), "content"),
                   ==, "What time is it?");

  /* The second: the tool_result right after the tool_use. */
  tool_result = assert_tool_round (&observer, 2);
  g_assert_cmpstr (json_object_get_string_member (tool_result, "content"), ==, CLOCK_ANSWER_TEXT);
  g_assert_false (json_object_has_member (tool_result, "is_error"));

  /* The simulator saw both, from this agent, and its answer quotes the
   * tool's result under the tool's name: the tool_result matched the
   * tool_use. */
  log = stats_log (sim, &stats);
  g_assert_cmpuint (json_array_get_length (log), ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (log, i), "system"),
                              "timekeeper"));
  g_assert_nonnull (strstr (fj_agent_result_get_output (result),
                            "the clock tool returned \"" CLOCK_ANSWER_TEXT "\""));

  observer_clear (&observer);
}

static void
test_agent_tool_error (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 4, \"output_tokens\": 20,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("unlucky");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_FAIL);
  g_autoptr(FjAgentResult) result = NULL;
  JsonObject *tool_result;
  Observer observer;

  observer_init (&observer);
  fj_agent_add_tool (agent, FJ_TOOL (clock));

  result = run_observed (agent, client, "What time is it?", &observer);

  /* The error went to the model, which carried on. */
  assert_success (result);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 2);
  g_assert_cmpuint (clock->n_calls, ==, 1);
  g_assert_cmpstr (clock->last_input, ==, "{}");

  tool_result = assert_tool_round (&observer, 2);
  g_assert_cmpstr (json_object_get_string_member (tool_result, "content"), ==,
                   "Error: the clock is broken");
  g_assert_true (json_object_get_boolean_member (tool_result, "is_error"));
  g_assert_nonnull (strstr (fj_agent_result_get_output (result), "Error: the clock is broken"));

  observer_clear (&observer);
}

static void
test_agent_unknown_tool (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 5, \"output_tokens\": 20,"
                           " \"tool_use\": {\"name\": \"calendar\", \"input\": {\"day\": 1}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("confused");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_ANSWER);
  g_autoptr(FjAgentResult) result = NULL;
  JsonObject *tool_result;
  Observer observer;

  observer_init (&observer);
  fj_agent_add_tool (agent, FJ_TOOL (clock));

  result = run_observed (agent, client, "What day is it?", &observer);

  assert_success (result);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 2);
  g_assert_cmpuint (clock->n_calls, ==, 0);
  g_assert_cmpuint (observer.n_tool_calls, ==, 1);

  tool_result = assert_tool_round (&observer, 2);
  g_assert_cmpstr (json_object_get_string_member (tool_result, "content"), ==,
                   "Error: Tool 'calendar' not found");
  g_assert_true (json_object_get_boolean_member (tool_result, "is_error"));

  observer_clear (&observer);
}

static void
test_agent_max_turns (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 6, \"output_tokens\": 20,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {}, \"turns\": 5}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("looper");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_ANSWER);
  g_autoptr(FjAgentResult) result = NULL;
  const GError *error;

  fj_agent_add_tool (agent, FJ_TOOL (clock));
  fj_agent_set_max_turns (agent, 3);

  result = run_agent (agent, client, "What time is it?", NULL);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
  error = fj_agent_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_MAX_TURNS);
  g_assert_cmpstr (error->message, ==, "looper: no final answer after 3 turns");
  g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "max-turns");
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 3);
  /* Tools ran for the first two turns only. */
  g_assert_cmpuint (clock->n_calls, ==, 2);
  g_assert_null (fj_agent_result_get_output (result));
  g_assert_nonnull (fj_agent_result_get_partial_output (result));
  g_assert_cmpstr (fj_agent_result_get_partial_output (result), !=, "");
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 3);
}

static void
test_agent_refusal (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 7, \"refusal\": true}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("prude");
  g_autoptr(FjAgentResult) result = NULL;
  const GError *error;

  result = run_agent (agent, client, "Tell me a secret", NULL);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
  error = fj_agent_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_REFUSED);
  g_assert_true (g_str_has_prefix (error->message, "prude: "));
  g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "refused");
  g_assert_cmpstr (fj_agent_result_get_stop_reason (result), ==, "refusal");
  g_assert_null (fj_agent_result_get_output (result));
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 1);
}

static void
test_agent_timeout (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 8, \"latency\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("slowpoke");
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autofree char *json = NULL;
  const GError *error;

  fj_agent_set_timeout (agent, 0.5);
  result = run_agent (agent, client, "Take your time", NULL);

  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 4.0 * fj_test_time_scale ());
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_TIMED_OUT);
  error = fj_agent_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_TIMED_OUT);
  g_assert_cmpstr (error->message, ==, "slowpoke: timed out after 0.5 s while waiting for the API");
  g_assert_null (fj_agent_result_get_output (result));
  g_assert_cmpfloat (fj_agent_result_get_duration (result), >=, 0.45);
  g_assert_cmpfloat (fj_agent_result_get_duration (result), <, 4.0 * fj_test_time_scale ());

  json = fj_agent_result_to_json_string (result, FALSE);
  g_assert_nonnull (strstr (json, "\"status\":\"timed_out\""));
}

static void
test_agent_deadline (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 8, \"latency\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("late");
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("late", 0);
  g_autoptr(FjAgentResult) returned = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  /* No timeout of its own: the deadline a runner passes applies. */
  _fj_agent_run_internal_async (agent, client, "Hello", result, NULL,
                                start + G_USEC_PER_SEC / 4, NULL, NULL,
                                fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 30);
  returned = _fj_agent_run_internal_finish (agent, async_result, &error);
  g_assert_no_error (error);

  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC * fj_test_time_scale ());
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_TIMED_OUT);
  g_assert_error ((GError *) fj_agent_result_get_error (result), FJ_ERROR, FJ_ERROR_TIMED_OUT);
  g_assert_true (g_str_has_prefix (fj_agent_result_get_error_message (result), "late: timed out after "));
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_agent_cancel (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 9, \"latency\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("quitter");
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTimer) timer = g_timer_new ();
  const GError *error;

  g_timeout_add (200, cancel_cb, cancellable);
  result = run_agent (agent, client, "Never mind", cancellable);

  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 3.0 * fj_test_time_scale ());
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_CANCELLED);
  error = fj_agent_result_get_error (result);
  g_assert_error ((GError *) error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "quitter: cancelled");
  g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "cancelled");
}

static void
test_agent_cancel_before_start (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 9}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("early");
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_cancellable_cancel (cancellable);
  result = run_agent (agent, client, "Hello", cancellable);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_error ((GError *) fj_agent_result_get_error (result), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 0);
}

/* Cancels once the tool is running (in its thread). */
static gboolean
cancel_when_called_cb (gpointer user_data)
{
  TestClockTool *clock = user_data;
  gboolean called;

  g_mutex_lock (&clock->mutex);
  called = clock->n_calls > 0;
  g_mutex_unlock (&clock->mutex);

  if (!called)
    return G_SOURCE_CONTINUE;

  g_cancellable_cancel (clock->cancel_when_called);
  return G_SOURCE_REMOVE;
}

static void
test_agent_cancel_during_tool (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 10, \"output_tokens\": 10,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("waiter");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_BLOCK);
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  fj_agent_add_tool (agent, FJ_TOOL (clock));
  clock->cancel_when_called = cancellable;
  g_timeout_add (10, cancel_when_called_cb, clock);
  result = run_agent (agent, client, "What time is it?", cancellable);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 1);
  g_assert_cmpuint (clock->n_calls, ==, 1);
  /* The turn's text before the tool call is kept. */
  g_assert_nonnull (fj_agent_result_get_partial_output (result));

  /* The tool saw the cancellation too. */
  while (clock_tool_get_n_returned (clock) == 0)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_agent_timeout_during_tool (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 11, \"output_tokens\": 10,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("stuck");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_SLEEP);
  g_autoptr(FjAgentResult) result = NULL;
  const GError *error;

  /* The tool ignores cancellation: the agent ends anyway, on time. */
  fj_agent_add_tool (agent, FJ_TOOL (clock));
  fj_agent_set_timeout (agent, 0.8);
  result = run_agent (agent, client, "What time is it?", NULL);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_TIMED_OUT);
  error = fj_agent_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_TIMED_OUT);
  g_assert_cmpstr (error->message, ==, "stuck: timed out after 0.8 s while running tool clock");
  g_assert_cmpuint (clock_tool_get_n_returned (clock), ==, 0);

  /* Let the tool finish so nothing outlives the test. */
  while (clock_tool_get_n_returned (clock) == 0)
    g_main_context_iteration (NULL, TRUE);
  fj_test_run_for (0.05);
}

static void
test_agent_drop (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 12, \"output_tokens\": 40,"
                           " \"failures\": [{\"fault\": \"drop\", \"after_tokens\": 5}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("dropped");
  g_autoptr(FjAgentResult) result = NULL;
  const GError *error;

  result = run_agent (agent, client, "Tell me everything", NULL);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
  error = fj_agent_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_CONNECTION);
  g_assert_true (g_str_has_prefix (error->message, "dropped: "));
  g_assert_null (fj_agent_result_get_output (result));
  g_assert_nonnull (fj_agent_result_get_partial_output (result));
  g_assert_cmpstr (fj_agent_result_get_partial_output (result), !=, "");
  /* No transport retry once body bytes arrived. */
  g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 1);
}

typedef struct
{
  guint n_pending;
  guint n_success;
  guint n_timed_out;
  guint n_cancelled;
} RaceCounts;

static void
race_done_cb (GObject      *object,
              GAsyncResult *async_result,
              gpointer      user_data)
{
  RaceCounts *counts = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjAgentResult) result = fj_agent_run_finish (FJ_AGENT (object), async_result, &error);

  g_assert_no_error (error);
  g_assert_true (fj_agent_result_get_finished (result));

  switch (fj_agent_result_get_status (result))
    {
    case FJ_AGENT_STATUS_SUCCESS:
      g_assert_null (fj_agent_result_get_error (result));
      g_assert_nonnull (fj_agent_result_get_output (result));
      g_assert_cmpstr (fj_agent_result_get_stop_reason (result), ==, "end_turn");
      counts->n_success++;
      break;

    case FJ_AGENT_STATUS_TIMED_OUT:
      g_assert_error ((GError *) fj_agent_result_get_error (result), FJ_ERROR, FJ_ERROR_TIMED_OUT);
      g_assert_null (fj_agent_result_get_output (result));
      counts->n_timed_out++;
      break;

    case FJ_AGENT_STATUS_CANCELLED:
      g_assert_error ((GError *) fj_agent_result_get_error (result), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (fj_agent_result_get_output (result));
      counts->n_cancelled++;
      break;

    default:
      g_error ("unexpected status %d: %s", fj_agent_result_get_status (result),
               fj_agent_result_get_error_message (result));
    }

  counts->n_pending--;
}

static gboolean
race_finished (RaceCounts *counts)
{
  return counts->n_pending == 0;
}

/* Timers, cancels and replies that land at about the same moment: every
 * run settles once, into a consistent result. */
static void
test_agent_timeout_race (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 15, \"latency\": 0.2, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(GPtrArray) agents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  RaceCounts counts = { 0, };
  gboolean done = FALSE;

  for (guint i = 0; i < 24; i++)
    {
      g_autofree char *name = g_strdup_printf ("racer-%u", i);
      FjAgent *agent = agent_new (name);

      fj_agent_set_timeout (agent, 0.16 + 0.005 * i);
      g_ptr_array_add (agents, agent);
      counts.n_pending++;
      fj_agent_run_async (agent, client, "Go", i % 3 == 0 ? cancellable : NULL,
                          race_done_cb, &counts);
    }

  g_timeout_add (210, cancel_cb, cancellable);
  while (!done)
    {
      g_main_context_iteration (NULL, TRUE);
      done = race_finished (&counts);
    }

  g_assert_cmpuint (counts.n_success + counts.n_timed_out + counts.n_cancelled, ==, 24);
  /* Let the cancelled requests' sources run down. */
  fj_test_run_for (0.1);
}

typedef struct
{
  FjAgent *agent;
  FjClient *client;
  FjAgentResult *result;
  GThread *thread;
  gboolean done;
} SyncRun;

static gpointer
run_sync_thread (gpointer user_data)
{
  SyncRun *run = user_data;
  g_autoptr(GError) error = NULL;

  run->thread = g_thread_self ();
  run->result = fj_agent_run_sync (run->agent, run->client, "What time is it?", NULL, &error);
  g_assert_no_error (error);
  g_atomic_int_set (&run->done, TRUE);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
test_agent_run_sync (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 13, \"output_tokens\": 10,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("synchronous");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_ANSWER);
  GThread *thread;
  SyncRun run = { agent, client, NULL, NULL, FALSE };

  /* A main-thread tool runs on the thread that called run_sync. */
  fj_tool_set_main_thread (FJ_TOOL (clock), TRUE);
  fj_agent_add_tool (agent, FJ_TOOL (clock));

  /* From another thread, so the main context (and anything on it) keeps
   * running meanwhile. */
  thread = g_thread_new ("run-sync", run_sync_thread, &run);
  while (!g_atomic_int_get (&run.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  assert_success (run.result);
  g_assert_cmpuint (fj_agent_result_get_turns (run.result), ==, 2);
  g_assert_cmpuint (clock->n_calls, ==, 1);
  g_assert_true (clock->thread == run.thread);
  g_clear_object (&run.result);
}

static void
test_agent_invalid_tool (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 14}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = agent_new ("misconfigured");
  g_autoptr(TestClockTool) clock = clock_tool_new (CLOCK_ANSWER);
  g_autoptr(FjAgentResult) result = NULL;

  fj_tool_set_name (FJ_TOOL (clock), "what time");
  fj_agent_add_tool (agent, FJ_TOOL (clock));
  /* The agent's own client is used. */
  fj_agent_set_client (agent, client);

  result = run_agent (agent, NULL, "Hello", NULL);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_error ((GError *) fj_agent_result_get_error (result), FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_assert_true (g_str_has_prefix (fj_agent_result_get_error_message (result), "misconfigured: "));
  g_assert_nonnull (strstr (fj_agent_result_get_error_message (result), "what time"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 0);
}

/* A tool that answers neither text nor error is a plugin error, never a
 * silent empty result. */
static void
test_agent_tool_returns_nothing (void)
{
  g_autoptr(TestClockTool) tool = clock_tool_new (CLOCK_NOTHING);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  text = fj_tool_invoke (FJ_TOOL (tool), "{}", NULL, &error);
  g_assert_null (text);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PLUGIN);
  g_assert_nonnull (strstr (error->message, "tool clock returned neither"));
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Agent/properties", test_agent_properties);
  g_test_add_func ("/Forkjoin/Agent/single-turn-stream", test_agent_single_turn_stream);
  g_test_add_func ("/Forkjoin/Agent/single-turn-no-stream", test_agent_single_turn_no_stream);
  g_test_add_func ("/Forkjoin/Agent/runner-entry", test_agent_runner_entry);
  g_test_add_func ("/Forkjoin/Agent/tool-loop", test_agent_tool_loop);
  g_test_add_func ("/Forkjoin/Agent/tool-error", test_agent_tool_error);
  g_test_add_func ("/Forkjoin/Agent/tool-returns-nothing", test_agent_tool_returns_nothing);
  g_test_add_func ("/Forkjoin/Agent/unknown-tool", test_agent_unknown_tool);
  g_test_add_func ("/Forkjoin/Agent/invalid-tool", test_agent_invalid_tool);
  g_test_add_func ("/Forkjoin/Agent/max-turns", test_agent_max_turns);
  g_test_add_func ("/Forkjoin/Agent/refusal", test_agent_refusal);
  g_test_add_func ("/Forkjoin/Agent/timeout", test_agent_timeout);
  g_test_add_func ("/Forkjoin/Agent/deadline", test_agent_deadline);
  g_test_add_func ("/Forkjoin/Agent/cancel", test_agent_cancel);
  g_test_add_func ("/Forkjoin/Agent/cancel-before-start", test_agent_cancel_before_start);
  g_test_add_func ("/Forkjoin/Agent/cancel-during-tool", test_agent_cancel_during_tool);
  g_test_add_func ("/Forkjoin/Agent/timeout-during-tool", test_agent_timeout_during_tool);
  g_test_add_func ("/Forkjoin/Agent/timeout-race", test_agent_timeout_race);
  g_test_add_func ("/Forkjoin/Agent/drop", test_agent_drop);
  g_test_add_func ("/Forkjoin/Agent/run-sync", test_agent_run_sync);

  return g_test_run ();
}
