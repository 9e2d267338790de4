/* test-prices.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "fj-agent-result-private.h"
#include "fj-test-utils.h"

/* PROTOCOL.md section 0: SDK 1.14.0's Model type and its deprecation
 * table. */
static const char *const section0_models[] = {
  "claude-fable-5-2", "claude-mythos-5-2", "claude-haiku-5-5", "claude-sonnet-5-5",
  "claude-fable-5-1", "claude-opus-5-5", "claude-mythos-5-1", "claude-sonnet-5",
  "claude-fable-5", "claude-mythos-5", "claude-opus-5", "claude-opus-4-8",
  "claude-opus-4-7", "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5",
  "claude-sonnet-4-5", "claude-opus-4-5", "claude-mythos-preview",
};

static const char *custom_table =
  "{\n"
  "  \"taken\": \"2026-01-02\",\n"
  "  \"source\": \"https://example.com/prices\",\n"
  "  \"currency\": \"USD\",\n"
  "  \"unit\": \"per million tokens\",\n"
  "  \"note\": \"test table\",\n"
  "  \"models\": {\n"
  "    \"model-a\": { \"input\": 2, \"output\": 10, \"cache_write\": 2.5, \"cache_read\": 0.25 },\n"
  "    \"model-b\": { \"input\": 1, \"output\": 4, \"cache_write\": 1.25, \"cache_read\": 0.125,\n"
  "                 \"note\": \"cheap\" }\n"
  "  }\n"
  "}\n";

/* The built-in table */

static void
test_prices_default (void)
{
  FjPrices *prices = fj_prices_get_default ();
  g_autoptr(FjPrices) from_file = fj_prices_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) models = NULL;
  g_auto(GStrv) file_models = NULL;
  const char *date;

  g_assert_true (FJ_IS_PRICES (prices));
  g_assert_true (prices == fj_prices_get_default ());

  date = fj_prices_get_date (prices);
  g_assert_nonnull (date);
  g_assert_cmpuint (strlen (date), ==, 10);
  g_assert_true (g_str_has_prefix (date, "20"));
  g_assert_nonnull (fj_prices_get_source (prices));
  g_assert_true (g_str_has_prefix (fj_prices_get_source (prices), "https://"));

  for (guint i = 0; i < G_N_ELEMENTS (section0_models); i++)
    {
      double input = -1;
      double output = -1;
      double cache_write = -1;
      double cache_read = -1;

      if (!fj_prices_lookup (prices, section0_models[i], &input, &output, &cache_write, &cache_read))
        g_error ("%s has no price in the built-in table", section0_models[i]);

      g_assert_cmpfloat (input, >, 0);
      g_assert_cmpfloat (output, >, input);
      g_assert_cmpfloat (cache_write, >, input);
      g_assert_cmpfloat (cache_read, >, 0);
      g_assert_cmpfloat (cache_read, <, input);
    }

  /* Prices we know from Anthropic's pages. */
  {
    double input;
    double output;

    g_assert_true (fj_prices_lookup (prices, "claude-haiku-4-5", &input, &output, NULL, NULL));
    g_assert_cmpfloat (input, ==, 1.0);
    g_assert_cmpfloat (output, ==, 5.0);
    g_assert_true (fj_prices_lookup (prices, "claude-opus-5-5", &input, &output, NULL, NULL));
    g_assert_cmpfloat (input, ==, 4.0);
    g_assert_cmpfloat (output, ==, 20.0);
  }

  /* A new model priced as its family says so. */
  g_assert_nonnull (fj_prices_get_note (prices, "claude-fable-5-2"));
  g_assert_nonnull (strstr (fj_prices_get_note (prices, "claude-fable-5-2"), "Fable 5.1"));

  /* The built-in resource is data/prices.json. */
  path = g_build_filename (g_getenv ("FJ_DATA_DIR") ?: "../data", "prices.json", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("data/prices.json not found (FJ_DATA_DIR unset)");
      return;
    }
  g_assert_true (fj_prices_load_from_file (from_file, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fj_prices_get_date (from_file), ==, date);
  models = fj_prices_dup_models (prices);
  file_models = fj_prices_dup_models (from_file);
  g_assert_true (g_strv_equal ((const char * const *) models, (const char * const *) file_models));
  g_assert_cmpuint (g_strv_length (models), >=, G_N_ELEMENTS (section0_models));
}

/* A table of one's own */

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           guint      *count)
{
  (*count)++;
}

static void
test_prices_custom (void)
{
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *date = NULL;
  g_auto(GStrv) models = NULL;
  double input = 0;
  double output = 0;
  double cache_write = 0;
  double cache_read = 0;
  guint n_notify = 0;

  /* Empty until loaded. */
  g_assert_null (fj_prices_get_date (prices));
  g_assert_false (fj_prices_lookup (prices, "claude-haiku-5-5", NULL, NULL, NULL, NULL));
  g_assert_cmpfloat (fj_prices_compute (prices, "claude-haiku-5-5", &(FjUsage) { 1, 1, 1, 1 }), <, 0);

  g_signal_connect (prices, "notify::date", G_CALLBACK (notify_cb), &n_notify);
  g_assert_true (fj_prices_load_from_data (prices, custom_table, -1, "mine.json", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_notify, ==, 1);

  g_object_get (prices, "date", &date, NULL);
  g_assert_cmpstr (date, ==, "2026-01-02");
  g_assert_cmpstr (fj_prices_get_source (prices), ==, "https://example.com/prices");

  g_assert_true (fj_prices_lookup (prices, "model-b", &input, &output, &cache_write, &cache_read));
  g_assert_cmpfloat (input, ==, 1.0);
  g_assert_cmpfloat (output, ==, 4.0);
  g_assert_cmpfloat (cache_write, ==, 1.25);
  g_assert_cmpfloat (cache_read, ==, 0.125);
  g_assert_cmpstr (fj_prices_get_note (prices, "model-b"), ==, "cheap");
  g_assert_null (fj_prices_get_note (prices, "model-a"));

  /* Only what the table says: the built-in models are not there. */
  g_assert_false (fj_prices_lookup (prices, "claude-haiku-5-5", NULL, NULL, NULL, NULL));
  models = fj_prices_dup_models (prices);
  g_assert_cmpuint (g_strv_length (models), ==, 2);
  g_assert_cmpstr (models[0], ==, "model-a");
  g_assert_cmpstr (models[1], ==, "model-b");

  /* Loading the same table again changes nothing visible. */
  g_assert_true (fj_prices_load_from_data (prices, custom_table, strlen (custom_table), NULL, &error));
  g_assert_cmpuint (n_notify, ==, 1);
}

static void
test_prices_compute (void)
{
  g_autoptr(FjPrices) prices = fj_prices_new ();
  FjUsage usage = {
    .input_tokens = 1000000,
    .output_tokens = 500000,
    .cache_creation_input_tokens = 200000,
    .cache_read_input_tokens = 4000000,
  };
  FjUsage small = { 3, 7, 0, 0 };
  FjUsage zero = { 0, };
  double input;

  g_assert_true (fj_prices_load_from_data (prices, custom_table, -1, NULL, NULL));

  /* 2 + 5 + 0.5 + 1 */
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a", &usage), ==, 8.5);
  /* 1 + 2 + 0.25 + 0.5 */
  g_assert_cmpfloat (fj_prices_compute (prices, "model-b", &usage), ==, 3.75);
  /* (3 × 2 + 7 × 10) / 1e6 */
  g_assert_cmpfloat_with_epsilon (fj_prices_compute (prices, "model-a", &small), 76e-6, 1e-15);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a", &zero), ==, 0.0);

  /* Unknown → negative, never zero. */
  g_assert_cmpfloat (fj_prices_compute (prices, "model-c", &usage), <, 0);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-c", &zero), <, 0);
  g_assert_cmpfloat (fj_prices_compute (prices, NULL, &usage), <, 0);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a", NULL), <, 0);

  /* A dated snapshot falls back to the undated entry; nothing else does. */
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a-20261001", &usage), ==, 8.5);
  g_assert_true (fj_prices_lookup (prices, "model-b-20250101", &input, NULL, NULL, NULL));
  g_assert_cmpfloat (input, ==, 1.0);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a-2026100", &usage), <, 0);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a-2026100x", &usage), <, 0);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-a20261001", &usage), <, 0);
  g_assert_cmpfloat (fj_prices_compute (prices, "model-", &usage), <, 0);

  /* The built-in table, with a dated name. */
  g_assert_cmpfloat (fj_prices_compute (fj_prices_get_default (), "claude-haiku-4-5-20251001", &usage),
                     ==, fj_prices_compute (fj_prices_get_default (), "claude-haiku-4-5", &usage));
  g_assert_cmpfloat (fj_prices_compute (fj_prices_get_default (), "claude-haiku-4-5", &usage), >, 0);
}

/* Bad tables */

typedef struct
{
  const char *data;
  const char *message;
} BadTable;

static void
test_prices_errors (void)
{
  static const BadTable bad[] = {
    { "", "bad.json: " },
    { "{", "bad.json: not valid JSON: " },
    { "[1, 2]", "bad.json: expected an object, got an array" },
    { "{\"models\": {}}", "bad.json: taken: missing" },
    { "{\"taken\": 20260101, \"models\": {}}", "bad.json: taken: expected a string, got an integer" },
    { "{\"taken\": \"2026-02-30\", \"models\": {}}", "bad.json: taken: expected a date as YYYY-MM-DD, got \"2026-02-30\"" },
    { "{\"taken\": \"yesterday\", \"models\": {}}", "bad.json: taken: expected a date as YYYY-MM-DD, got \"yesterday\"" },
    { "{\"taken\": \"2026-01-01\"}", "bad.json: models: missing" },
    { "{\"taken\": \"2026-01-01\", \"models\": []}", "bad.json: models: expected an object, got an array" },
    { "{\"taken\": \"2026-01-01\", \"currency\": \"EUR\", \"models\": {}}",
      "bad.json: currency: only \"USD\" is supported, got \"EUR\"" },
    { "{\"taken\": \"2026-01-01\", \"unit\": \"per token\", \"models\": {}}",
      "bad.json: unit: only \"per million tokens\" is supported, got \"per token\"" },
    { "{\"taken\": \"2026-01-01\", \"modles\": {}}", "bad.json: modles: unknown member (valid: taken, source, currency, unit, note, batch_discount, models)" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": 3}}", "bad.json: models.m: expected an object, got an integer" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": {\"output\": 1, \"cache_write\": 1, \"cache_read\": 1}}}",
      "bad.json: models.m.input: missing" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": {\"input\": -1, \"output\": 1, \"cache_write\": 1, \"cache_read\": 1}}}",
      "bad.json: models.m.input: expected a non-negative number of US dollars, got -1" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": {\"input\": 1, \"output\": -0.5, \"cache_write\": 1, \"cache_read\": 1}}}",
      "bad.json: models.m.output: expected a non-negative number of US dollars, got -0.5" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": {\"input\": 1, \"output\": \"2\", \"cache_write\": 1, \"cache_read\": 1}}}",
      "bad.json: models.m.output: expected a non-negative number of US dollars, got a string" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": {\"input\": 1, \"output\": 2, \"cache_write\": 1}}}",
      "bad.json: models.m.cache_read: missing" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"m\": {\"input\": 1, \"output\": 2, \"cache_write\": 1, \"cache_read\": 1, \"batch\": 1}}}",
      "bad.json: models.m.batch: unknown member (valid: input, output, cache_write, cache_read, note)" },
    { "{\"taken\": \"2026-01-01\", \"models\": {\"\": {\"input\": 1, \"output\": 2, \"cache_write\": 1, \"cache_read\": 1}}}",
      "bad.json: models: a model name is empty" },
  };
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autofree char *deep = NULL;
  g_autoptr(GError) deep_error = NULL;

  g_assert_true (fj_prices_load_from_data (prices, custom_table, -1, "good.json", NULL));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("table %u: %s", i, bad[i].data);
      g_assert_false (fj_prices_load_from_data (prices, bad[i].data, -1, "bad.json", &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
      if (!g_str_has_prefix (error->message, bad[i].message))
        g_error ("table %u: got \"%s\", expected \"%s\"", i, error->message, bad[i].message);

      /* A failed load leaves the table as it was. */
      g_assert_cmpstr (fj_prices_get_date (prices), ==, "2026-01-02");
      g_assert_true (fj_prices_lookup (prices, "model-a", NULL, NULL, NULL, NULL));
      g_assert_false (fj_prices_lookup (prices, "m", NULL, NULL, NULL, NULL));
    }

  /* Deep nesting is refused before json-glib sees it. */
  deep = g_strnfill (100000, '[');
  g_assert_false (fj_prices_load_from_data (prices, deep, -1, NULL, &deep_error));
  g_assert_error (deep_error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_true (g_str_has_prefix (deep_error->message, "<data>: "));
}

static void
test_prices_file (void)
{
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *missing = NULL;

  dir = g_dir_make_tmp ("fj-prices-XXXXXX", &error);
  g_assert_no_error (error);
  good = g_build_filename (dir, "good.json", NULL);
  bad = g_build_filename (dir, "bad.json", NULL);
  missing = g_build_filename (dir, "missing.json", NULL);

  g_assert_true (g_file_set_contents (good, custom_table, -1, NULL));
  g_assert_true (g_file_set_contents (bad, "{\"taken\": \"2026-01-01\", \"models\": {\"x\": {}}}", -1, NULL));

  g_assert_true (fj_prices_load_from_file (prices, good, &error));
  g_assert_no_error (error);
  g_assert_true (fj_prices_lookup (prices, "model-a", NULL, NULL, NULL, NULL));

  g_assert_false (fj_prices_load_from_file (prices, bad, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_true (g_str_has_prefix (error->message, bad));
  g_assert_nonnull (strstr (error->message, ": models.x.input: missing"));
  g_clear_error (&error);

  g_assert_false (fj_prices_load_from_file (prices, missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  g_assert_cmpstr (fj_prices_get_date (prices), ==, "2026-01-02");

  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

/* Costs of real runs */

static GListStore *
agents_new (const char *const *names,
            const char *const *models,
            guint               n)
{
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *instructions = g_strdup_printf ("You are the %s analyst.", names[i]);
      g_autoptr(FjAgent) agent = fj_agent_new (names[i]);

      fj_agent_set_instructions (agent, instructions);
      fj_agent_set_model (agent, models[i]);
      g_list_store_append (store, agent);
    }

  return store;
}

static double
expected_cost (FjAgentResult *result,
               double         input,
               double         output)
{
  FjUsage *usage = fj_agent_result_get_usage (result);

  g_assert_cmpint (usage->cache_creation_input_tokens, ==, 0);
  g_assert_cmpint (usage->cache_read_input_tokens, ==, 0);

  return ((double) usage->input_tokens * input + (double) usage->output_tokens * output) / 1e6;
}

static void
cost_cb (FjAgentRunner *runner,
         FjAgentResult *result,
         guint         *n_priced)
{
  /* The cost is there by the time the agent is announced finished. */
  if (fj_agent_result_get_cost (result) >= 0)
    (*n_priced)++;
}

static GPtrArray *
run_runner (FjAgentRunner *runner,
            GListModel    *agents)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *ret;

  fj_agent_runner_run_async (runner, agents, "How did ACME do?", NULL,
                             fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  ret = fj_agent_runner_run_finish (runner, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  return ret;
}

static void
test_prices_runner_cost (void)
{
  static const char *const names[] = { "market", "technical", "financial" };
  static const char *const models[] = { "model-a", "model-b", "model-unknown" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 11, \"latency\": 0.01, \"output_tokens\": 20}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autoptr(GListStore) agents = agents_new (names, models, 3);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(JsonNode) node = NULL;
  FjAgentResult *a;
  FjAgentResult *b;
  FjAgentResult *unknown;
  guint n_priced = 0;

  g_assert_true (fj_prices_load_from_data (prices, custom_table, -1, NULL, NULL));
  g_assert_null (fj_agent_runner_get_prices (runner));
  fj_agent_runner_set_prices (runner, prices);
  g_assert_true (fj_agent_runner_get_prices (runner) == prices);
  g_signal_connect (runner, "agent-finished", G_CALLBACK (cost_cb), &n_priced);

  results = run_runner (runner, G_LIST_MODEL (agents));
  g_assert_cmpuint (results->len, ==, 3);

  a = g_ptr_array_index (results, 0);
  b = g_ptr_array_index (results, 1);
  unknown = g_ptr_array_index (results, 2);
  for (guint i = 0; i < 3; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);

      g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_cmpstr (fj_agent_result_get_model (result), ==, models[i]);
      g_assert_cmpint (fj_agent_result_get_usage (result)->output_tokens, ==, 20);
      g_assert_cmpint (fj_agent_result_get_usage (result)->input_tokens, >, 0);
    }

  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (a), expected_cost (a, 2, 10), 1e-12);
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (b), expected_cost (b, 1, 4), 1e-12);
  g_assert_cmpfloat (fj_agent_result_get_cost (a), >, fj_agent_result_get_cost (b));
  g_assert_cmpfloat (fj_agent_result_get_cost (unknown), <, 0);
  g_assert_cmpuint (n_priced, ==, 2);

  node = fj_agent_result_to_json (unknown);
  g_assert_true (json_object_get_null_member (json_node_get_object (node), "cost_usd"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "model"), ==, "model-unknown");

  /* Without prices, costs stay unknown. */
  fj_agent_runner_set_prices (runner, NULL);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = run_runner (runner, G_LIST_MODEL (agents));
  g_assert_cmpfloat (fj_agent_result_get_cost (g_ptr_array_index (results, 0)), <, 0);
}

/* A synthesizer whose step "ran a model": its result has a model and
 * usage, as the llm plugin's does. */
#define TEST_TYPE_PRICED_SYNTH (test_priced_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestPricedSynth, test_priced_synth, TEST, PRICED_SYNTH, GObject)

struct _TestPricedSynth
{
  GObject parent_instance;
  FjAgentResult *result;
};

static char *
test_priced_synth_synthesize (FjSynthesizer  *synthesizer,
                              const char     *input,
                              GPtrArray      *results,
                              GCancellable   *cancellable,
                              GError        **error)
{
  return g_strdup ("merged");
}

static FjAgentResult *
test_priced_synth_get_result (FjSynthesizer *synthesizer)
{
  return TEST_PRICED_SYNTH (synthesizer)->result;
}

static void
test_priced_synth_iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = test_priced_synth_synthesize;
  iface->get_result = test_priced_synth_get_result;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPricedSynth, test_priced_synth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, test_priced_synth_iface_init))

static void
test_priced_synth_finalize (GObject *object)
{
  g_clear_object (&TEST_PRICED_SYNTH (object)->result);
  G_OBJECT_CLASS (test_priced_synth_parent_class)->finalize (object);
}

static void
test_priced_synth_class_init (TestPricedSynthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_priced_synth_finalize;
}

static void
test_priced_synth_init (TestPricedSynth *self)
{
  FjUsage usage = { 1000, 300, 0, 0 };

  self->result = fj_agent_result_new ("synthesis", 0);
  _fj_agent_result_set_model (self->result, "model-b");
  _fj_agent_result_set_usage (self->result, &usage);
  _fj_agent_result_set_status (self->result, FJ_AGENT_STATUS_SUCCESS);
}

static FjForkJoinResult *
run_task (FjForkJoinTask *task,
          GListModel     *agents)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FjForkJoinResult *ret;

  fj_fork_join_task_run_async (task, agents, "How did ACME do?", NULL,
                               fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  ret = fj_fork_join_task_run_finish (task, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  return ret;
}

static void
test_prices_task_cost (void)
{
  static const char *const names[] = { "market", "technical" };
  static const char *const models[] = { "model-a", "model-b-20260101" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 12, \"latency\": 0.01, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestPricedSynth) synth = g_object_new (TEST_TYPE_PRICED_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autoptr(GListStore) agents = agents_new (names, models, 2);
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(FjForkJoinResult) unpriced = NULL;
  g_autoptr(JsonNode) node = NULL;
  FjAgentResult *a;
  FjAgentResult *b;
  FjAgentResult *synthesis;
  double total;

  g_assert_true (fj_prices_load_from_data (prices, custom_table, -1, NULL, NULL));

  /* No prices anywhere: every cost unknown, and so the total. */
  unpriced = run_task (task, G_LIST_MODEL (agents));
  g_assert_cmpint (fj_fork_join_result_get_status (unpriced), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpfloat (fj_fork_join_result_get_cost (unpriced), <, 0);

  /* The task prices; the runner has none. */
  fj_fork_join_task_set_prices (task, prices);
  g_assert_true (fj_fork_join_task_get_prices (task) == prices);
  g_assert_null (fj_agent_runner_get_prices (runner));
  result = run_task (task, G_LIST_MODEL (agents));
  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);

  a = g_ptr_array_index (fj_fork_join_result_get_results (result), 0);
  b = g_ptr_array_index (fj_fork_join_result_get_results (result), 1);
  synthesis = fj_fork_join_result_get_synthesis_result (result);
  g_assert_true (synthesis == synth->result);

  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (a), expected_cost (a, 2, 10), 1e-12);
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (b), expected_cost (b, 1, 4), 1e-12);
  /* (1000 × 1 + 300 × 4) / 1e6 */
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (synthesis), 2200e-6, 1e-15);

  total = fj_agent_result_get_cost (a) + fj_agent_result_get_cost (b) + fj_agent_result_get_cost (synthesis);
  g_assert_cmpfloat_with_epsilon (fj_fork_join_result_get_cost (result), total, 1e-12);

  node = fj_fork_join_result_to_json (result);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_node_get_object (node), "cost_usd"),
                                  total, 1e-12);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_node_get_object (node), "synthesis"), "model"),
                   ==, "model-b");
}

static void
test_prices_total_unknown (void)
{
  static const char *const names[] = { "market", "technical", "financial" };
  static const char *const models[] = { "model-a", "model-unknown", "model-b" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 13, \"latency\": 0.01, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, NULL);
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autoptr(GListStore) agents = agents_new (names, models, 3);
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *array;

  g_assert_true (fj_prices_load_from_data (prices, custom_table, -1, NULL, NULL));
  /* The runner's prices serve the task too. */
  fj_agent_runner_set_prices (runner, prices);

  result = run_task (task, G_LIST_MODEL (agents));
  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpfloat (fj_agent_result_get_cost (g_ptr_array_index (fj_fork_join_result_get_results (result), 0)), >, 0);
  g_assert_cmpfloat (fj_agent_result_get_cost (g_ptr_array_index (fj_fork_join_result_get_results (result), 1)), <, 0);
  g_assert_cmpfloat (fj_agent_result_get_cost (g_ptr_array_index (fj_fork_join_result_get_results (result), 2)), >, 0);
  g_assert_cmpfloat (fj_fork_join_result_get_cost (result), <, 0);

  node = fj_fork_join_result_to_json (result);
  g_assert_true (json_object_get_null_member (json_node_get_object (node), "cost_usd"));
  array = json_object_get_array_member (json_node_get_object (node), "agents");
  g_assert_false (json_object_get_null_member (json_array_get_object_element (array, 0), "cost_usd"));
  g_assert_true (json_object_get_null_member (json_array_get_object_element (array, 1), "cost_usd"));
  /* Tokens were still counted for it. */
  g_assert_cmpint (fj_fork_join_result_get_usage (result)->output_tokens, ==, 30);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Prices/default", test_prices_default);
  g_test_add_func ("/Forkjoin/Prices/custom", test_prices_custom);
  g_test_add_func ("/Forkjoin/Prices/compute", test_prices_compute);
  g_test_add_func ("/Forkjoin/Prices/errors", test_prices_errors);
  g_test_add_func ("/Forkjoin/Prices/file", test_prices_file);
  g_test_add_func ("/Forkjoin/Prices/runner-cost", test_prices_runner_cost);
  g_test_add_func ("/Forkjoin/Prices/task-cost", test_prices_task_cost);
  g_test_add_func ("/Forkjoin/Prices/total-unknown", test_prices_total_unknown);

  return g_test_run ();
}
