/* test-objects.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"

#include "fj-agent-private.h"
#include "fj-agent-result-private.h"

/* A tool written in C, as a plugin would: echoes its input, fails when the
 * input asks it to, and records the thread it ran in. */

#define TEST_TYPE_ECHO_TOOL (test_echo_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestEchoTool, test_echo_tool, TEST, ECHO_TOOL, FjTool)

struct _TestEchoTool
{
  FjTool parent_instance;

  GMutex mutex;
  GThread *thread;
  guint n_calls;
  gboolean return_null;
};

G_DEFINE_FINAL_TYPE (TestEchoTool, test_echo_tool, FJ_TYPE_TOOL)

static char *
test_echo_tool_invoke (FjTool        *tool,
                       const char    *input_json,
                       GCancellable  *cancellable,
                       GError       **error)
{
  TestEchoTool *self = TEST_ECHO_TOOL (tool);

  g_mutex_lock (&self->mutex);
  self->thread = g_thread_self ();
  self->n_calls++;
  g_mutex_unlock (&self->mutex);

  if (strstr (input_json, "fail") != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "asked to fail");
      return NULL;
    }

  if (self->return_null)
    return NULL;

  return g_strdup_printf ("echo:%s", input_json);
}

static void
test_echo_tool_finalize (GObject *object)
{
  TestEchoTool *self = TEST_ECHO_TOOL (object);

  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (test_echo_tool_parent_class)->finalize (object);
}

static void
test_echo_tool_class_init (TestEchoToolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_echo_tool_finalize;
  FJ_TOOL_CLASS (klass)->invoke = test_echo_tool_invoke;
}

static void
test_echo_tool_init (TestEchoTool *self)
{
  g_mutex_init (&self->mutex);
}

static TestEchoTool *
echo_tool_new (void)
{
  return g_object_new (TEST_TYPE_ECHO_TOOL,
                       "name", "echo",
                       "description", "Echoes its input",
                       NULL);
}

/* A subclass that does not implement invoke. */

#define TEST_TYPE_LAZY_TOOL (test_lazy_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestLazyTool, test_lazy_tool, TEST, LAZY_TOOL, FjTool)

struct _TestLazyTool
{
  FjTool parent_instance;
};

G_DEFINE_FINAL_TYPE (TestLazyTool, test_lazy_tool, FJ_TYPE_TOOL)

static void
test_lazy_tool_class_init (TestLazyToolClass *klass)
{
}

static void
test_lazy_tool_init (TestLazyTool *self)
{
}

/* Helpers */

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  return json_object_ref (json_node_get_object (root));
}

static void
assert_null_member (JsonObject *object,
                    const char *name)
{
  g_assert_true (json_object_has_member (object, name));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (object, name)));
}

static JsonObject *
result_json (FjAgentResult *result)
{
  g_autofree char *json = fj_agent_result_to_json_string (result, FALSE);

  return parse_object (json);
}

/* FjUsage */

static void
test_usage_add_equal (void)
{
  g_autoptr(FjUsage) a = fj_usage_new ();
  g_autoptr(FjUsage) b = fj_usage_new ();
  g_autoptr(FjUsage) c = NULL;

  g_assert_true (fj_usage_equal (a, b));

  b->input_tokens = 10;
  b->output_tokens = 20;
  b->cache_creation_input_tokens = 3;
  b->cache_read_input_tokens = 4;
  g_assert_false (fj_usage_equal (a, b));

  fj_usage_add (a, b);
  fj_usage_add (a, b);
  g_assert_cmpint (a->input_tokens, ==, 20);
  g_assert_cmpint (a->output_tokens, ==, 40);
  g_assert_cmpint (a->cache_creation_input_tokens, ==, 6);
  g_assert_cmpint (a->cache_read_input_tokens, ==, 8);
  g_assert_cmpint (fj_usage_get_total_input (a), ==, 34);

  c = fj_usage_copy (a);
  g_assert_true (fj_usage_equal (a, c));
  c->output_tokens++;
  g_assert_false (fj_usage_equal (a, c));
}

static void
test_usage_json (void)
{
  g_autoptr(FjUsage) usage = fj_usage_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) update = NULL;
  JsonObject *object;

  usage->input_tokens = 12;
  usage->output_tokens = 34;
  usage->cache_read_input_tokens = 5;

  node = fj_usage_to_json (usage);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  g_assert_cmpint (json_object_get_size (object), ==, 4);
  g_assert_cmpint (json_object_get_int_member (object, "input_tokens"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (object, "output_tokens"), ==, 34);
  g_assert_cmpint (json_object_get_int_member (object, "cache_creation_input_tokens"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "cache_read_input_tokens"), ==, 5);

  /* A message_delta's cumulative counts overwrite; nulls keep ours. */
  update = parse_object ("{\"output_tokens\": 50, \"cache_read_input_tokens\": null}");
  fj_usage_update_from_json (usage, update);
  g_assert_cmpint (usage->input_tokens, ==, 12);
  g_assert_cmpint (usage->output_tokens, ==, 50);
  g_assert_cmpint (usage->cache_read_input_tokens, ==, 5);
}

/* FjAgentResult */

static void
test_result_defaults (void)
{
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("analyst", 3);
  g_autoptr(JsonObject) object = NULL;
  FjAgentStatus status;
  double cost;

  g_assert_cmpstr (fj_agent_result_get_agent_name (result), ==, "analyst");
  g_assert_cmpuint (fj_agent_result_get_index (result), ==, 3);
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_PENDING);
  g_assert_false (fj_agent_result_get_finished (result));
  g_assert_null (fj_agent_result_get_output (result));
  g_assert_null (fj_agent_result_get_error (result));
  g_assert_null (fj_agent_result_get_error_code (result));
  g_assert_cmpfloat (fj_agent_result_get_cost (result), <, 0);
  g_assert_nonnull (fj_agent_result_get_usage (result));
  g_assert_cmpint (fj_agent_result_get_usage (result)->input_tokens, ==, 0);

  g_object_get (result, "status", &status, "cost", &cost, NULL);
  g_assert_cmpint (status, ==, FJ_AGENT_STATUS_PENDING);
  g_assert_cmpfloat (cost, ==, -1.0);
  g_assert_true (G_TYPE_IS_ENUM (FJ_TYPE_AGENT_STATUS));

  object = result_json (result);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "pending");
  assert_null_member (object, "output");
  assert_null_member (object, "error");
  assert_null_member (object, "cost_usd");
}

static void
test_result_json_success (void)
{
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("market-analyst", 0);
  g_autoptr(JsonObject) object = NULL;
  FjUsage usage = { 100, 200, 10, 20 };
  JsonObject *json_usage;
  g_autofree char *pretty = NULL;

  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_RUNNING);
  _fj_agent_result_append_output (result, "Revenue ");
  _fj_agent_result_append_output (result, "grew.");
  g_assert_cmpstr (fj_agent_result_get_output (result), ==, "Revenue grew.");
  _fj_agent_result_set_attempts (result, 2);
  _fj_agent_result_set_turns (result, 1);
  _fj_agent_result_set_stop_reason (result, "end_turn");
  _fj_agent_result_set_usage (result, &usage);
  _fj_agent_result_set_cost (result, 0.0125);
  _fj_agent_result_set_duration (result, 1.2345);
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_SUCCESS);
  g_assert_true (fj_agent_result_get_finished (result));

  object = result_json (result);
  /* 12, plus cache_hit_ratio and cache_saved_usd. */
  g_assert_cmpint (json_object_get_size (object), ==, 14);
  assert_null_member (object, "model");
  assert_null_member (object, "cache_saved_usd");
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "market-analyst");
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "success");
  g_assert_cmpstr (json_object_get_string_member (object, "output"), ==, "Revenue grew.");
  assert_null_member (object, "partial_output");
  assert_null_member (object, "error");
  g_assert_cmpint (json_object_get_int_member (object, "duration_ms"), ==, 1235);
  g_assert_true (json_node_get_value_type (json_object_get_member (object, "duration_ms")) == G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (object, "attempts"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object, "turns"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (object, "stop_reason"), ==, "end_turn");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "cost_usd"), 0.0125, 1e-9);

  json_usage = json_object_get_object_member (object, "usage");
  g_assert_cmpint (json_object_get_int_member (json_usage, "input_tokens"), ==, 100);
  g_assert_cmpint (json_object_get_int_member (json_usage, "output_tokens"), ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_usage, "cache_creation_input_tokens"), ==, 10);
  g_assert_cmpint (json_object_get_int_member (json_usage, "cache_read_input_tokens"), ==, 20);

  pretty = fj_agent_result_to_json_string (result, TRUE);
  g_assert_nonnull (strchr (pretty, '\n'));
}

static void
test_result_json_failure (void)
{
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("technical-analyst", 1);
  g_autoptr(JsonObject) object = NULL;
  JsonObject *error;

  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_RUNNING);
  _fj_agent_result_append_output (result, "The chart");
  _fj_agent_result_set_partial_output (result, "The chart");
  _fj_agent_result_set_output (result, NULL);
  _fj_agent_result_take_error (result, g_error_new (FJ_ERROR, FJ_ERROR_OVERLOADED,
                                                    "technical-analyst: HTTP 529 overloaded_error after 3 attempts"));
  _fj_agent_result_set_attempts (result, 3);
  _fj_agent_result_set_turns (result, 1);
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_FAILED);

  g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "overloaded");
  g_assert_cmpstr (fj_agent_result_get_error_message (result), ==,
                   "technical-analyst: HTTP 529 overloaded_error after 3 attempts");
  g_assert_error ((GError *) fj_agent_result_get_error (result), FJ_ERROR, FJ_ERROR_OVERLOADED);

  object = result_json (result);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "failed");
  assert_null_member (object, "output");
  g_assert_cmpstr (json_object_get_string_member (object, "partial_output"), ==, "The chart");
  error = json_object_get_object_member (object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "overloaded");
  g_assert_cmpstr (json_object_get_string_member (error, "message"), ==,
                   "technical-analyst: HTTP 529 overloaded_error after 3 attempts");
  assert_null_member (object, "stop_reason");
  assert_null_member (object, "cost_usd");
  g_assert_cmpint (json_object_get_int_member (object, "duration_ms"), ==, 0);
}

static void
test_result_json_timed_out (void)
{
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("slow", 2);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(FjAgentResult) cancelled = fj_agent_result_new ("gone", 0);
  g_autoptr(JsonObject) cancelled_object = NULL;
  JsonObject *error;

  _fj_agent_result_take_error (result, g_error_new (FJ_ERROR, FJ_ERROR_TIMED_OUT,
                                                    "slow: timed out after 0.5 s while waiting for the API"));
  _fj_agent_result_set_duration (result, 0.5004);
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_TIMED_OUT);

  object = result_json (result);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "timed_out");
  g_assert_cmpint (json_object_get_int_member (object, "duration_ms"), ==, 500);
  assert_null_member (object, "output");
  assert_null_member (object, "partial_output");
  error = json_object_get_object_member (object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "timed-out");

  _fj_agent_result_take_error (cancelled, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "gone: cancelled"));
  _fj_agent_result_set_status (cancelled, FJ_AGENT_STATUS_CANCELLED);
  cancelled_object = result_json (cancelled);
  g_assert_cmpstr (json_object_get_string_member (cancelled_object, "status"), ==, "cancelled");
  error = json_object_get_object_member (cancelled_object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "cancelled");
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 GHashTable *counts)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, pspec->name));

  g_hash_table_insert (counts, (gpointer) pspec->name, GUINT_TO_POINTER (n + 1));
}

static guint
count (GHashTable *counts,
       const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, name));
}

static void
status_order_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  FjAgentResult *result = FJ_AGENT_RESULT (object);
  gboolean *checked = user_data;

  /* Anyone watching the status sees the rest already in place. */
  if (fj_agent_result_get_finished (result))
    {
      g_assert_nonnull (fj_agent_result_get_error (result));
      g_assert_cmpstr (fj_agent_result_get_partial_output (result), ==, "partial");
      *checked = TRUE;
    }
}

static void
test_result_notify (void)
{
  g_autoptr(FjAgentResult) result = fj_agent_result_new ("a", 0);
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  FjUsage usage = { 1, 2, 0, 0 };
  gboolean checked = FALSE;

  g_signal_connect (result, "notify", G_CALLBACK (count_notify_cb), counts);

  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_PENDING);
  g_assert_cmpuint (g_hash_table_size (counts), ==, 0);

  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_RUNNING);
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_RUNNING);
  g_assert_cmpuint (count (counts, "status"), ==, 1);
  g_assert_cmpuint (count (counts, "finished"), ==, 0);

  _fj_agent_result_append_output (result, "par");
  _fj_agent_result_append_output (result, "tial");
  _fj_agent_result_append_output (result, "");
  g_assert_cmpuint (count (counts, "output"), ==, 2);
  _fj_agent_result_set_output (result, "partial");
  g_assert_cmpuint (count (counts, "output"), ==, 2);

  _fj_agent_result_set_attempts (result, 1);
  _fj_agent_result_set_attempts (result, 1);
  _fj_agent_result_set_turns (result, 1);
  _fj_agent_result_set_turns (result, 1);
  _fj_agent_result_set_usage (result, &usage);
  _fj_agent_result_set_usage (result, &usage);
  _fj_agent_result_set_cost (result, -1);
  _fj_agent_result_set_stop_reason (result, NULL);
  _fj_agent_result_set_duration (result, 0);
  g_assert_cmpuint (count (counts, "attempts"), ==, 1);
  g_assert_cmpuint (count (counts, "turns"), ==, 1);
  g_assert_cmpuint (count (counts, "usage"), ==, 1);
  g_assert_cmpuint (count (counts, "cost"), ==, 0);
  g_assert_cmpuint (count (counts, "stop-reason"), ==, 0);
  g_assert_cmpuint (count (counts, "duration"), ==, 0);

  _fj_agent_result_take_error (result, g_error_new (FJ_ERROR, FJ_ERROR_SERVER, "a: HTTP 500"));
  _fj_agent_result_take_error (result, g_error_new (FJ_ERROR, FJ_ERROR_SERVER, "a: HTTP 500"));
  g_assert_cmpuint (count (counts, "error"), ==, 1);
  g_assert_cmpuint (count (counts, "error-code"), ==, 1);
  g_assert_cmpuint (count (counts, "error-message"), ==, 1);

  /* Same code, other message. */
  _fj_agent_result_take_error (result, g_error_new (FJ_ERROR, FJ_ERROR_SERVER, "a: HTTP 503"));
  g_assert_cmpuint (count (counts, "error"), ==, 2);
  g_assert_cmpuint (count (counts, "error-code"), ==, 1);
  g_assert_cmpuint (count (counts, "error-message"), ==, 2);

  _fj_agent_result_set_partial_output (result, "partial");
  _fj_agent_result_set_partial_output (result, "partial");
  _fj_agent_result_set_output (result, NULL);
  _fj_agent_result_set_output (result, NULL);
  g_assert_cmpuint (count (counts, "partial-output"), ==, 1);
  g_assert_cmpuint (count (counts, "output"), ==, 3);

  g_signal_connect (result, "notify::status", G_CALLBACK (status_order_cb), &checked);
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_FAILED);
  g_assert_true (checked);
  g_assert_cmpuint (count (counts, "status"), ==, 2);
  g_assert_cmpuint (count (counts, "finished"), ==, 1);

  /* Terminal to terminal: finished does not change. */
  _fj_agent_result_set_status (result, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpuint (count (counts, "finished"), ==, 1);

  /* Reset: back to pending, every field cleared, each notified once. */
  g_signal_handlers_disconnect_by_func (result, status_order_cb, &checked);
  g_hash_table_remove_all (counts);
  _fj_agent_result_reset (result);
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_PENDING);
  g_assert_false (fj_agent_result_get_finished (result));
  g_assert_null (fj_agent_result_get_error (result));
  g_assert_null (fj_agent_result_get_partial_output (result));
  g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 0);
  g_assert_cmpint (fj_agent_result_get_usage (result)->output_tokens, ==, 0);
  g_assert_cmpuint (count (counts, "status"), ==, 1);
  g_assert_cmpuint (count (counts, "finished"), ==, 1);
  g_assert_cmpuint (count (counts, "error"), ==, 1);
  g_assert_cmpuint (count (counts, "output"), ==, 0);
  g_assert_cmpstr (fj_agent_result_get_agent_name (result), ==, "a");
}

/* FjTool */

static void
test_tool_properties (void)
{
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *schema = NULL;
  gboolean main_thread = TRUE;

  g_assert_cmpstr (fj_tool_get_name (FJ_TOOL (tool)), ==, "echo");
  g_assert_cmpstr (fj_tool_get_description (FJ_TOOL (tool)), ==, "Echoes its input");
  g_assert_cmpstr (fj_tool_get_input_schema (FJ_TOOL (tool)), ==,
                   "{\"type\":\"object\",\"properties\":{}}");
  g_object_get (tool, "input-schema", &schema, "main-thread", &main_thread, NULL);
  g_assert_cmpstr (schema, ==, "{\"type\":\"object\",\"properties\":{}}");
  g_assert_false (main_thread);

  g_signal_connect (tool, "notify", G_CALLBACK (count_notify_cb), counts);
  fj_tool_set_main_thread (FJ_TOOL (tool), TRUE);
  fj_tool_set_main_thread (FJ_TOOL (tool), TRUE);
  fj_tool_set_name (FJ_TOOL (tool), "echo");
  fj_tool_set_input_schema (FJ_TOOL (tool), "{\"type\":\"object\"}");
  fj_tool_set_input_schema (FJ_TOOL (tool), NULL);
  g_assert_cmpuint (count (counts, "main-thread"), ==, 1);
  g_assert_cmpuint (count (counts, "name"), ==, 0);
  g_assert_cmpuint (count (counts, "input-schema"), ==, 2);
  g_assert_cmpstr (fj_tool_get_input_schema (FJ_TOOL (tool)), ==,
                   "{\"type\":\"object\",\"properties\":{}}");
}

static void
test_tool_to_json (void)
{
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  JsonObject *schema;

  fj_tool_set_input_schema (FJ_TOOL (tool),
                            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
                            "\"required\":[\"text\"]}");
  node = fj_tool_to_json (FJ_TOOL (tool), &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  g_assert_cmpint (json_object_get_size (object), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "echo");
  g_assert_cmpstr (json_object_get_string_member (object, "description"), ==, "Echoes its input");
  schema = json_object_get_object_member (object, "input_schema");
  g_assert_nonnull (schema);
  g_assert_cmpstr (json_object_get_string_member (schema, "type"), ==, "object");
  g_assert_true (json_object_has_member (json_object_get_object_member (schema, "properties"), "text"));
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (schema, "required")), ==, 1);
}

static void
test_tool_validation (void)
{
  static const char *bad_names[] = {
    "", "has space", "dot.ted", "ümlaut", "slash/",
    "a1234567890123456789012345678901234567890123456789012345678901234", /* 65 */
  };
  static const char *good_names[] = {
    "a", "get_weather", "read-file", "X9",
    "a123456789012345678901234567890123456789012345678901234567890123", /* 64 */
  };
  static const char *bad_schemas[] = {
    "not json", "[1, 2]", "\"object\"", "{\"type\": ",
  };
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(TestLazyTool) unnamed = g_object_new (TEST_TYPE_LAZY_TOOL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonNode) bad = NULL;

      fj_tool_set_name (FJ_TOOL (tool), bad_names[i]);
      bad = fj_tool_to_json (FJ_TOOL (tool), &local_error);
      g_assert_null (bad);
      g_assert_error (local_error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_assert_nonnull (strstr (local_error->message, bad_names[i]));
    }

  for (guint i = 0; i < G_N_ELEMENTS (good_names); i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonNode) good = NULL;

      fj_tool_set_name (FJ_TOOL (tool), good_names[i]);
      good = fj_tool_to_json (FJ_TOOL (tool), &local_error);
      g_assert_no_error (local_error);
      g_assert_nonnull (good);
    }

  fj_tool_set_name (FJ_TOOL (tool), "weather");
  for (guint i = 0; i < G_N_ELEMENTS (bad_schemas); i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonNode) bad = NULL;

      fj_tool_set_input_schema (FJ_TOOL (tool), bad_schemas[i]);
      bad = fj_tool_to_json (FJ_TOOL (tool), &local_error);
      g_assert_null (bad);
      g_assert_error (local_error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_assert_nonnull (strstr (local_error->message, "'weather'"));
      g_assert_nonnull (strstr (local_error->message, "schema"));
    }

  node = fj_tool_to_json (FJ_TOOL (unnamed), &error);
  g_assert_null (node);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "TestLazyTool"));
}

static void
test_tool_invoke (void)
{
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(TestLazyTool) lazy = g_object_new (TEST_TYPE_LAZY_TOOL, "name", "lazy", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *none = NULL;
  char *failed;

  text = fj_tool_invoke (FJ_TOOL (tool), "{\"x\":1}", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "echo:{\"x\":1}");
  g_assert_true (tool->thread == g_thread_self ());

  failed = fj_tool_invoke (FJ_TOOL (tool), "{\"fail\":true}", NULL, &error);
  g_assert_null (failed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "asked to fail");
  g_clear_error (&error);

  /* NULL without an error is the plugin's fault, not an empty result. */
  tool->return_null = TRUE;
  empty = fj_tool_invoke (FJ_TOOL (tool), "{}", NULL, &error);
  g_assert_null (empty);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PLUGIN);
  g_clear_error (&error);

  failed = fj_tool_invoke (FJ_TOOL (lazy), "{}", NULL, &error);
  g_assert_null (failed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "'lazy'"));
  g_clear_error (&error);

  none = fj_tool_invoke (FJ_TOOL (lazy), NULL, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

static void
test_tool_invoke_async_thread (void)
{
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) failed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  char *none;

  fj_tool_invoke_async (FJ_TOOL (tool), "{\"q\":\"time\"}", NULL, fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 10);
  text = fj_tool_invoke_finish (FJ_TOOL (tool), result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "echo:{\"q\":\"time\"}");
  g_assert_cmpuint (tool->n_calls, ==, 1);
  g_assert_true (tool->thread != g_thread_self ());

  fj_tool_invoke_async (FJ_TOOL (tool), "{\"fail\":1}", NULL, fj_test_async_result_cb, &failed);
  fj_test_wait_result (&failed, 10);
  none = fj_tool_invoke_finish (FJ_TOOL (tool), failed, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

static void
test_tool_invoke_async_pool (void)
{
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[4] = { NULL, };
  GThreadPool *pool;

  pool = _fj_thread_pool_new (2, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    _fj_tool_invoke_async (FJ_TOOL (tool), "{}", pool, NULL, fj_test_async_result_cb, &results[i]);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autofree char *text = NULL;

      fj_test_wait_result (&results[i], 10);
      text = fj_tool_invoke_finish (FJ_TOOL (tool), results[i], &error);
      g_assert_no_error (error);
      g_assert_cmpstr (text, ==, "echo:{}");
      g_clear_object (&results[i]);
    }

  g_assert_cmpuint (tool->n_calls, ==, 4);
  g_assert_true (tool->thread != g_thread_self ());
  g_thread_pool_free (pool, FALSE, TRUE);
}

static void
test_tool_invoke_async_main_thread (void)
{
  g_autoptr(TestEchoTool) tool = echo_tool_new ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) cancelled = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  char *none;

  fj_tool_set_main_thread (FJ_TOOL (tool), TRUE);

  /* Invoked from an idle of the thread-default context current at the call,
   * not before the caller returns to it. */
  g_main_context_push_thread_default (context);
  fj_tool_invoke_async (FJ_TOOL (tool), "{\"n\":2}", NULL, fj_test_async_result_cb, &result);
  g_assert_cmpuint (tool->n_calls, ==, 0);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (tool->n_calls, ==, 0);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  g_assert_cmpuint (tool->n_calls, ==, 1);
  g_assert_true (tool->thread == g_thread_self ());
  text = fj_tool_invoke_finish (FJ_TOOL (tool), result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "echo:{\"n\":2}");

  /* Cancelled before it ran: not invoked. */
  g_cancellable_cancel (cancellable);
  fj_tool_invoke_async (FJ_TOOL (tool), "{}", cancellable, fj_test_async_result_cb, &cancelled);
  fj_test_wait_result (&cancelled, 10);
  none = fj_tool_invoke_finish (FJ_TOOL (tool), cancelled, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (tool->n_calls, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Usage/add-equal", test_usage_add_equal);
  g_test_add_func ("/Forkjoin/Usage/json", test_usage_json);
  g_test_add_func ("/Forkjoin/AgentResult/defaults", test_result_defaults);
  g_test_add_func ("/Forkjoin/AgentResult/json-success", test_result_json_success);
  g_test_add_func ("/Forkjoin/AgentResult/json-failure", test_result_json_failure);
  g_test_add_func ("/Forkjoin/AgentResult/json-timed-out", test_result_json_timed_out);
  g_test_add_func ("/Forkjoin/AgentResult/notify", test_result_notify);
  g_test_add_func ("/Forkjoin/Tool/properties", test_tool_properties);
  g_test_add_func ("/Forkjoin/Tool/to-json", test_tool_to_json);
  g_test_add_func ("/Forkjoin/Tool/validation", test_tool_validation);
  g_test_add_func ("/Forkjoin/Tool/invoke", test_tool_invoke);
  g_test_add_func ("/Forkjoin/Tool/invoke-async-thread", test_tool_invoke_async_thread);
  g_test_add_func ("/Forkjoin/Tool/invoke-async-pool", test_tool_invoke_async_pool);
  g_test_add_func ("/Forkjoin/Tool/invoke-async-main-thread", test_tool_invoke_async_main_thread);

  return g_test_run ();
}
