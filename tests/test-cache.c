/* test-cache.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Cache-aware fan-out against the in-process simulator: the shared-input
 * layout, the first agent going alone until its response starts, the
 * figures and the saving, and the cases where caching cannot apply. */

#include <math.h>
#include <string.h>

#include "fj-test-utils.h"

#define MODEL "claude-sonnet-5-5"
#define N_AGENTS 8

/* A tool only one agent has. */
#define TEST_TYPE_LOOKUP_TOOL (test_lookup_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestLookupTool, test_lookup_tool, TEST, LOOKUP_TOOL, FjTool)

struct _TestLookupTool
{
  FjTool parent_instance;
};

G_DEFINE_FINAL_TYPE (TestLookupTool, test_lookup_tool, FJ_TYPE_TOOL)

static char *
test_lookup_tool_invoke (FjTool        *tool,
                         const char    *input_json,
                         GCancellable  *cancellable,
                         GError       **error)
{
  return g_strdup ("42");
}

static void
test_lookup_tool_class_init (TestLookupToolClass *klass)
{
  FJ_TOOL_CLASS (klass)->invoke = test_lookup_tool_invoke;
}

static void
test_lookup_tool_init (TestLookupTool *self)
{
  fj_tool_set_name (FJ_TOOL (self), "lookup");
  fj_tool_set_description (FJ_TOOL (self), "Looks a figure up.");
  fj_tool_set_input_schema (FJ_TOOL (self), "{\"type\": \"object\", \"properties\": {}}");
}

/* A latency, so that requests sent together all arrive before any response
 * starts unless the runner holds them back. The agent whose instructions
 * say "[fails first]" gets a 400 before any response. */
static const char *scenario =
  "{"
  "  \"seed\": 11,"
  "  \"latency\": 0.3,"
  "  \"output_tokens\": 12,"
  "  \"agents\": ["
  "    { \"name\": \"failing-first\", \"match\": \"[fails first]\","
  "      \"failures\": [ { \"status\": 400, \"should_retry\": false,"
  "                        \"message\": \"simulated invalid request\" } ] }"
  "  ]"
  "}";

/* About @tokens tokens by DESIGN.md's estimate (UTF-8 bytes / 4), as
 * distinct sentences. */
static char *
make_input (guint tokens)
{
  GString *input = g_string_new ("ACME Corp, Q3 report.\n");
  guint line = 0;

  while (input->len < tokens * 4)
    {
      g_string_append_printf (input,
                              "Item %u: segment %u reported revenue of %u.%u million and "
                              "margins that the analysts compare with the year before.\n",
                              line, line % 7, 10 + line % 90, line % 10);
      line++;
    }

  return g_string_free (input, FALSE);
}

static GListStore *
agents_new (const char *first_tag)
{
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);

  for (guint i = 0; i < N_AGENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("analyst-%u", i);
      g_autofree char *instructions =
        g_strdup_printf ("You are analyst %u. Summarise one aspect of the report in a line.%s",
                         i, i == 0 && first_tag != NULL ? first_tag : "");
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_model (agent, MODEL);
      fj_agent_set_instructions (agent, instructions);
      fj_agent_set_max_tokens (agent, 64);
      g_list_store_append (store, agent);
    }

  return store;
}

typedef struct
{
  FjSimulator *sim;
  FjClient *client;
  FjAgentRunner *runner;
  FjForkJoinResult *result;
  JsonObject *document;         /* the result's JSON */
  JsonNode *document_node;
} Fixture;

static void
fixture_clear (Fixture *f)
{
  g_clear_pointer (&f->document_node, json_node_unref);
  g_clear_object (&f->result);
  g_clear_object (&f->runner);
  g_clear_object (&f->client);
  if (f->sim != NULL)
    fj_simulator_stop (f->sim);
  g_clear_object (&f->sim);
}

/* Runs a fork (no synthesis) of N_AGENTS agents on an input of about
 * @tokens tokens with @cache. */
static void
run_fork_full (Fixture     *f,
               FjCacheMode  cache,
               guint        tokens,
               const char  *first_tag,
               guint        max_concurrent)
{
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(GListStore) agents = agents_new (first_tag);
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *input = make_input (tokens);

  f->sim = fj_test_simulator_new (scenario);
  fj_simulator_set_record_prompts (f->sim, TRUE);
  f->client = fj_test_client_new (f->sim);
  fj_client_set_max_retries (f->client, 0);
  f->runner = fj_agent_runner_new (f->client);
  fj_agent_runner_set_prices (f->runner, fj_prices_get_default ());
  fj_agent_runner_set_cache (f->runner, cache);
  fj_agent_runner_set_max_concurrent (f->runner, max_concurrent);
  g_assert_cmpint (fj_agent_runner_get_cache (f->runner), ==, cache);
  task = fj_fork_join_task_new (f->runner, NULL);

  fj_fork_join_task_run_async (task, G_LIST_MODEL (agents), input, NULL,
                               fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 60);
  f->result = fj_fork_join_task_run_finish (task, async_result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->result);

  f->document_node = fj_fork_join_result_to_json (f->result);
  f->document = json_node_get_object (f->document_node);
}

static void
run_fork (Fixture     *f,
          FjCacheMode  cache,
          guint        tokens,
          const char  *first_tag)
{
  run_fork_full (f, cache, tokens, first_tag, 0);
}

static FjAgentResult *
agent_result (Fixture *f,
              guint    index)
{
  GPtrArray *results = fj_fork_join_result_get_results (f->result);

  g_assert_cmpuint (results->len, ==, N_AGENTS);
  return g_ptr_array_index (results, index);
}

/* What the prices file says caching saved on @usage: every input token at
 * the base price, minus the cost with the cache prices. */
static double
expected_saving (const FjUsage *usage)
{
  double input;
  double output;
  double cache_write;
  double cache_read;
  double with_cache;
  double without_cache;

  g_assert_true (fj_prices_lookup (fj_prices_get_default (), MODEL,
                                   &input, &output, &cache_write, &cache_read));
  /* A test that could not tell the two apart would prove nothing. */
  g_assert_cmpfloat (cache_read, <, input);
  g_assert_cmpfloat (cache_write, >, input);

  with_cache = (double) usage->input_tokens * input +
               (double) usage->output_tokens * output +
               (double) usage->cache_creation_input_tokens * cache_write +
               (double) usage->cache_read_input_tokens * cache_read;
  without_cache = (double) (usage->input_tokens + usage->cache_creation_input_tokens +
                            usage->cache_read_input_tokens) * input +
                  (double) usage->output_tokens * output;

  return (without_cache - with_cache) / 1e6;
}

/* The simulator's log entries for /v1/messages, by arrival. */
static GPtrArray *
log_entries (FjSimulator *sim)
{
  g_autoptr(JsonNode) stats = fj_simulator_get_stats (sim);
  JsonArray *log = json_object_get_array_member (json_node_get_object (stats), "log");
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (guint i = 0; i < json_array_get_length (log); i++)
    {
      JsonObject *entry = json_array_get_object_element (log, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (entry, "api", ""),
                     "anthropic") == 0)
        g_ptr_array_add (entries, json_object_ref (entry));
    }

  return entries;
}

static double
member_ms (JsonObject *entry,
           const char *member)
{
  JsonNode *node = json_object_get_member (entry, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return INFINITY;
  return json_node_get_double (node);
}

/* How many requests arrived before the first response (of any request)
 * started. */
static guint
n_before_first_response (FjSimulator *sim)
{
  g_autoptr(GPtrArray) entries = log_entries (sim);
  double first_response = INFINITY;
  guint n = 0;

  for (guint i = 0; i < entries->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (entries, i);

      /* A 200's first byte is its response starting; an error is none. */
      if (json_object_get_int_member_with_default (entry, "status", 0) == 200)
        first_response = MIN (first_response, member_ms (entry, "first_byte_ms"));
    }
  g_assert_true (isfinite (first_response));

  for (guint i = 0; i < entries->len; i++)
    if (member_ms (g_ptr_array_index (entries, i), "arrival_ms") < first_response)
      n++;

  return n;
}

static JsonObject *
cache_member (Fixture *f)
{
  JsonObject *cache = json_object_get_object_member (f->document, "cache");

  g_assert_nonnull (cache);
  return cache;
}

static void
assert_nobody_cached (Fixture *f)
{
  JsonObject *cache = cache_member (f);

  for (guint i = 0; i < N_AGENTS; i++)
    {
      FjAgentResult *result = agent_result (f, i);
      FjUsage *usage = fj_agent_result_get_usage (result);

      g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_cmpint (usage->cache_creation_input_tokens, ==, 0);
      g_assert_cmpint (usage->cache_read_input_tokens, ==, 0);
      g_assert_cmpint (usage->input_tokens, >, 0);
      g_assert_cmpfloat (fj_agent_result_get_cache_hit_ratio (result), ==, 0.0);
      g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cache_saved_usd (result), 0.0, 1e-12);
    }

  g_assert_cmpint (json_object_get_int_member (cache, "write_tokens"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (cache, "read_tokens"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (cache, "hit_ratio"), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (cache, "saved_usd"), 0.0, 1e-12);
}

/* Every request laid out as usual: the input is the user turn. */
static void
assert_normal_layout (Fixture    *f,
                      const char *input_start)
{
  g_autoptr(GPtrArray) entries = log_entries (f->sim);

  g_assert_cmpuint (entries->len, ==, N_AGENTS);
  for (guint i = 0; i < entries->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (entries, i);

      g_assert_true (g_str_has_prefix (json_object_get_string_member (entry, "user"), input_start));
      g_assert_true (g_str_has_prefix (json_object_get_string_member (entry, "system"),
                                       "You are analyst"));
    }
}

static void
test_cache_shared_input (void)
{
  Fixture f = { 0, };
  JsonObject *cache;
  FjUsage *writer;
  double expected_total = 0.0;
  double reported_total = 0.0;

  run_fork (&f, FJ_CACHE_MODE_SHARED_INPUT, 6000, NULL);

  g_assert_null (fj_agent_runner_get_cache_note (f.runner));
  g_assert_cmpint (fj_fork_join_result_get_status (f.result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);

  /* Agent 0 went first and wrote the cache... */
  writer = fj_agent_result_get_usage (agent_result (&f, 0));
  g_assert_cmpint (writer->cache_creation_input_tokens, >, 1024);
  g_assert_cmpint (writer->cache_read_input_tokens, ==, 0);
  g_assert_cmpfloat (fj_agent_result_get_cache_hit_ratio (agent_result (&f, 0)), ==, 0.0);
  /* ...paying more than plain input for it. */
  g_assert_cmpfloat (fj_agent_result_get_cache_saved_usd (agent_result (&f, 0)), <, 0.0);

  /* ...and every other agent read it. */
  for (guint i = 0; i < N_AGENTS; i++)
    {
      FjAgentResult *result = agent_result (&f, i);
      FjUsage *usage = fj_agent_result_get_usage (result);
      double expected = expected_saving (usage);

      g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_SUCCESS);
      if (i > 0)
        {
          g_assert_cmpint (usage->cache_creation_input_tokens, ==, 0);
          g_assert_cmpint (usage->cache_read_input_tokens, ==, writer->cache_creation_input_tokens);
          g_assert_cmpfloat (fj_agent_result_get_cache_hit_ratio (result), >, 0.9);
          g_assert_cmpfloat (fj_agent_result_get_cache_saved_usd (result), >, 0.0);
        }
      g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cache_saved_usd (result), expected, 1e-9);
      expected_total += expected;
      reported_total += fj_agent_result_get_cache_saved_usd (result);
    }

  g_assert_cmpfloat (expected_total, >, 0.0);
  g_assert_cmpfloat_with_epsilon (reported_total, expected_total, 1e-9);

  cache = cache_member (&f);
  g_assert_cmpstr (json_object_get_string_member (cache, "mode"), ==, "shared-input");
  g_assert_true (json_object_get_null_member (cache, "note"));
  g_assert_cmpint (json_object_get_int_member (cache, "write_tokens"), ==,
                   writer->cache_creation_input_tokens);
  g_assert_cmpint (json_object_get_int_member (cache, "read_tokens"), ==,
                   (N_AGENTS - 1) * writer->cache_creation_input_tokens);
  g_assert_cmpfloat (json_object_get_double_member (cache, "hit_ratio"), >, 0.8);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (cache, "saved_usd"),
                                  expected_total, 1e-9);

  /* The agents' JSON carries the figures too. */
  {
    JsonArray *agents = json_object_get_array_member (f.document, "agents");
    JsonObject *reader = json_array_get_object_element (agents, 1);

    g_assert_cmpfloat (json_object_get_double_member (reader, "cache_hit_ratio"), >, 0.9);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (reader, "cache_saved_usd"),
                                    fj_agent_result_get_cache_saved_usd (agent_result (&f, 1)),
                                    1e-12);
  }

  /* The gate: one request went alone until its response started. */
  g_assert_cmpuint (n_before_first_response (f.sim), ==, 1);

  fixture_clear (&f);
}

static void
test_cache_off (void)
{
  Fixture f = { 0, };
  JsonObject *cache;

  run_fork (&f, FJ_CACHE_MODE_NONE, 6000, NULL);

  g_assert_null (fj_agent_runner_get_cache_note (f.runner));
  assert_nobody_cached (&f);
  assert_normal_layout (&f, "ACME Corp, Q3 report.");

  cache = cache_member (&f);
  g_assert_cmpstr (json_object_get_string_member (cache, "mode"), ==, "none");
  g_assert_true (json_object_get_null_member (cache, "note"));

  /* Nothing held back: the agents went together. */
  g_assert_cmpuint (n_before_first_response (f.sim), >, 1);

  fixture_clear (&f);
}

static void
test_cache_below_minimum (void)
{
  Fixture f = { 0, };
  const char *note;

  run_fork (&f, FJ_CACHE_MODE_SHARED_INPUT, 300, NULL);

  note = fj_agent_runner_get_cache_note (f.runner);
  g_assert_nonnull (note);
  g_assert_true (g_str_has_prefix (note, "caching cannot apply: the shared input is about "));
  g_assert_nonnull (strstr (note, MODEL " caches from 1024"));
  g_assert_cmpstr (json_object_get_string_member (cache_member (&f), "note"), ==, note);

  /* A normal run: usual layout, no gate, no cache. */
  assert_nobody_cached (&f);
  assert_normal_layout (&f, "ACME Corp, Q3 report.");
  g_assert_cmpuint (n_before_first_response (f.sim), >, 1);

  fixture_clear (&f);
}

static void
test_cache_first_fails (void)
{
  Fixture f = { 0, };
  FjAgentResult *failed;
  FjUsage *writer;

  run_fork (&f, FJ_CACHE_MODE_SHARED_INPUT, 6000, " [fails first]");

  g_assert_null (fj_agent_runner_get_cache_note (f.runner));

  /* The first agent failed before any response... */
  failed = agent_result (&f, 0);
  g_assert_cmpint (fj_agent_result_get_status (failed), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpint (fj_agent_result_get_usage (failed)->cache_read_input_tokens, ==, 0);

  /* ...so the next became the first and wrote the cache... */
  writer = fj_agent_result_get_usage (agent_result (&f, 1));
  g_assert_cmpint (fj_agent_result_get_status (agent_result (&f, 1)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (writer->cache_creation_input_tokens, >, 1024);
  g_assert_cmpint (writer->cache_read_input_tokens, ==, 0);

  /* ...and everyone else read it. */
  for (guint i = 2; i < N_AGENTS; i++)
    {
      FjAgentResult *result = agent_result (&f, i);
      FjUsage *usage = fj_agent_result_get_usage (result);

      g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_cmpint (usage->cache_creation_input_tokens, ==, 0);
      g_assert_cmpint (usage->cache_read_input_tokens, ==, writer->cache_creation_input_tokens);
      g_assert_cmpfloat (fj_agent_result_get_cache_hit_ratio (result), >, 0.9);
    }

  /* The failed one and the new first came one after the other, alone. */
  g_assert_cmpuint (n_before_first_response (f.sim), ==, 2);

  fixture_clear (&f);
}

/* max-concurrent still applies once the rest are released. */
static void
test_cache_max_concurrent (void)
{
  Fixture f = { 0, };
  FjUsage *writer;

  run_fork_full (&f, FJ_CACHE_MODE_SHARED_INPUT, 6000, NULL, 3);

  g_assert_null (fj_agent_runner_get_cache_note (f.runner));
  writer = fj_agent_result_get_usage (agent_result (&f, 0));
  g_assert_cmpint (writer->cache_creation_input_tokens, >, 1024);
  for (guint i = 1; i < N_AGENTS; i++)
    g_assert_cmpint (fj_agent_result_get_usage (agent_result (&f, i))->cache_read_input_tokens, ==,
                     writer->cache_creation_input_tokens);

  g_assert_cmpuint (n_before_first_response (f.sim), ==, 1);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (f.sim), <=, 3);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (f.sim), >, 1);

  fixture_clear (&f);
}

static GPtrArray *
run_runner (FjAgentRunner *runner,
            GListModel    *agents,
            const char    *input)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *results;

  fj_agent_runner_run_async (runner, agents, input, NULL, fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  results = fj_agent_runner_run_finish (runner, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);

  return results;
}

static void
test_cache_tools_differ (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (NULL);
  g_autoptr(FjAgent) first = g_list_model_get_item (G_LIST_MODEL (agents), 0);
  g_autoptr(FjTool) tool = g_object_new (TEST_TYPE_LOOKUP_TOOL, NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *input = make_input (6000);
  const char *note;

  fj_agent_add_tool (first, tool);
  fj_agent_runner_set_cache (runner, FJ_CACHE_MODE_SHARED_INPUT);
  results = run_runner (runner, G_LIST_MODEL (agents), input);

  note = fj_agent_runner_get_cache_note (runner);
  g_assert_nonnull (note);
  g_assert_nonnull (strstr (note, "tools differ"));

  for (guint i = 0; i < results->len; i++)
    {
      FjUsage *usage = fj_agent_result_get_usage (g_ptr_array_index (results, i));

      g_assert_cmpint (usage->cache_creation_input_tokens, ==, 0);
      g_assert_cmpint (usage->cache_read_input_tokens, ==, 0);
    }

  /* Off again: the note goes. */
  fj_agent_runner_set_cache (runner, FJ_CACHE_MODE_NONE);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = run_runner (runner, G_LIST_MODEL (agents), input);
  g_assert_null (fj_agent_runner_get_cache_note (runner));

  fj_simulator_stop (sim);
}

static void
test_cache_openai (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenario);
  g_autofree char *base = fj_simulator_dup_base_url (sim);
  g_autofree char *url = g_strconcat (base, "/v1", NULL);
  g_autoptr(FjClient) client = fj_client_new_for_base_url (url);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *input = make_input (6000);
  const char *note;

  /* A local server: the request layout stays the usual one. */
  fj_client_set_provider (client, FJ_PROVIDER_OPENAI);
  fj_client_set_api_key (client, FJ_TEST_API_KEY);
  fj_client_set_auth_token (client, NULL);
  fj_agent_runner_set_cache (runner, FJ_CACHE_MODE_SHARED_INPUT);
  results = run_runner (runner, G_LIST_MODEL (agents), input);

  note = fj_agent_runner_get_cache_note (runner);
  g_assert_nonnull (note);
  g_assert_nonnull (strstr (note, "OpenAI-compatible"));
  for (guint i = 0; i < results->len; i++)
    g_assert_cmpint (fj_agent_result_get_status (g_ptr_array_index (results, i)), ==,
                     FJ_AGENT_STATUS_SUCCESS);

  fj_simulator_stop (sim);
}

static void
test_cache_result_json (void)
{
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(FjAgentResult) back = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) old = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  node = json_from_string ("{\"name\": \"a\", \"status\": \"success\", \"output\": \"x\","
                           " \"partial_output\": null, \"error\": null, \"duration_ms\": 5,"
                           " \"attempts\": 1, \"turns\": 1, \"stop_reason\": \"end_turn\","
                           " \"usage\": {\"input_tokens\": 10, \"output_tokens\": 5,"
                           "  \"cache_creation_input_tokens\": 0, \"cache_read_input_tokens\": 90},"
                           " \"cost_usd\": 0.001, \"model\": \"" MODEL "\","
                           " \"cache_hit_ratio\": 0.9, \"cache_saved_usd\": -0.25}", &error);
  g_assert_no_error (error);
  result = fj_agent_result_new_from_json (node, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cache_hit_ratio (result), 0.9, 1e-12);
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cache_saved_usd (result), -0.25, 1e-12);

  g_clear_pointer (&node, json_node_unref);
  node = fj_agent_result_to_json (result);
  object = json_node_get_object (node);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "cache_saved_usd"),
                                  -0.25, 1e-12);
  back = fj_agent_result_new_from_json (node, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cache_saved_usd (back), -0.25, 1e-12);

  /* Written before the figures existed: unknown saving. */
  old = json_from_string ("{\"name\": \"a\", \"status\": \"success\", \"output\": \"x\","
                          " \"usage\": {\"input_tokens\": 10, \"output_tokens\": 5},"
                          " \"cost_usd\": null, \"model\": null}", &error);
  g_assert_no_error (error);
  g_clear_object (&back);
  back = fj_agent_result_new_from_json (old, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (fj_agent_result_get_cache_saved_usd (back), ==, -1.0);
  g_clear_pointer (&node, json_node_unref);
  node = fj_agent_result_to_json (back);
  g_assert_true (json_object_get_null_member (json_node_get_object (node), "cache_saved_usd"));

  /* A bad value is an error naming the field. */
  g_clear_pointer (&old, json_node_unref);
  old = json_from_string ("{\"name\": \"a\", \"status\": \"success\", \"cache_saved_usd\": \"x\"}",
                          &error);
  g_assert_no_error (error);
  g_clear_object (&back);
  back = fj_agent_result_new_from_json (old, 0, &error);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_nonnull (strstr (error->message, "cache_saved_usd"));
  g_assert_null (back);
}

int
main (int    argc,
      char **argv)
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Cache/shared-input", test_cache_shared_input);
  g_test_add_func ("/Forkjoin/Cache/off", test_cache_off);
  g_test_add_func ("/Forkjoin/Cache/below-minimum", test_cache_below_minimum);
  g_test_add_func ("/Forkjoin/Cache/first-fails", test_cache_first_fails);
  g_test_add_func ("/Forkjoin/Cache/max-concurrent", test_cache_max_concurrent);
  g_test_add_func ("/Forkjoin/Cache/tools-differ", test_cache_tools_differ);
  g_test_add_func ("/Forkjoin/Cache/openai", test_cache_openai);
  g_test_add_func ("/Forkjoin/Cache/result-json", test_cache_result_json);

  return g_test_run ();
}
