/* test-batch.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <forkjoin.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "fj-test-utils.h"

#define INPUT "How did ACME do in Q3?"

/* Agents matched by a tag in their instructions: [errored] fail with a
 * 500, [invalid] with a 400, [expired] expire; the rest succeed. */
#define SCENARIO(processing_time) \
  "{\"seed\": 11, \"output_tokens\": 12," \
  " \"batch\": {\"processing_time\": " processing_time "}," \
  " \"agents\": [" \
  "  {\"name\": \"errored\", \"match\": \"[errored]\", \"failures\": [{\"status\": 500}]}," \
  "  {\"name\": \"invalid\", \"match\": \"[invalid]\", \"failures\": [{\"status\": 400, \"should_retry\": false}]}," \
  "  {\"name\": \"expired\", \"match\": \"[expired]\", \"batch_outcome\": \"expired\"}" \
  " ]}"

typedef enum
{
  GROUP_OK,
  GROUP_ERRORED,
  GROUP_INVALID,
  GROUP_EXPIRED,
} Group;

static Group
group_of (guint i)
{
  switch (i % 10)
    {
    case 3:
      return GROUP_ERRORED;
    case 5:
      return GROUP_INVALID;
    case 7:
      return GROUP_EXPIRED;
    default:
      return GROUP_OK;
    }
}

static GListStore *
agents_new (guint n)
{
  static const char *const tags[] = { "", " [errored]", " [invalid]", " [expired]" };
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("w%03u", i);
      g_autofree char *instructions = g_strdup_printf ("You are the %s analyst.%s", name, tags[group_of (i)]);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, instructions);
      fj_agent_set_max_tokens (agent, 64);
      g_list_store_append (store, agent);
    }

  return store;
}

static FjAgentRunner *
batch_runner_new (FjClient *client)
{
  FjAgentRunner *runner = fj_agent_runner_new (client);

  fj_agent_runner_set_mode (runner, FJ_RUN_MODE_BATCH);
  fj_agent_runner_set_batch_poll_interval (runner, 0.05);
  fj_agent_runner_set_batch_poll_max (runner, 0.2);
  fj_agent_runner_set_prices (runner, fj_prices_get_default ());

  return runner;
}

typedef struct
{
  FjSimulator *sim;
  guint n_submitted;
  guint requests_at_submit;
  guint n_started_at_submit;
  guint n_started;
  guint n_finished;
  GCancellable *cancel_on_submit;
} Watch;

static void
started_cb (FjAgentRunner *runner,
            FjAgentResult *result,
            Watch         *watch)
{
  watch->n_started++;
}

static void
finished_cb (FjAgentRunner *runner,
             FjAgentResult *result,
             Watch         *watch)
{
  watch->n_finished++;
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
submitted_cb (FjAgentRunner *runner,
              FjBatch       *batch,
              Watch         *watch)
{
  watch->n_submitted++;
  watch->requests_at_submit = fj_simulator_get_n_requests (watch->sim);
  watch->n_started_at_submit = watch->n_started;
  g_assert_true (fj_agent_runner_get_batch (runner) == batch);

  if (watch->cancel_on_submit != NULL)
    {
      GSource *source = g_timeout_source_new (200);

      g_source_set_callback (source, cancel_cb, g_object_ref (watch->cancel_on_submit), g_object_unref);
      g_source_attach (source, g_main_context_get_thread_default ());
      g_source_unref (source);
    }
}

static void
watch_connect (Watch         *watch,
               FjAgentRunner *runner,
               FjSimulator   *sim)
{
  watch->sim = sim;
  g_signal_connect (runner, "agent-started", G_CALLBACK (started_cb), watch);
  g_signal_connect (runner, "agent-finished", G_CALLBACK (finished_cb), watch);
  g_signal_connect (runner, "batch-submitted", G_CALLBACK (submitted_cb), watch);
}

static GPtrArray *
run_agents (FjAgentRunner *runner,
            GListStore    *agents,
            const char    *input,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fj_agent_runner_run_async (runner, G_LIST_MODEL (agents), input, cancellable,
                             fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 120);

  return fj_agent_runner_run_finish (runner, result, error);
}

/* Every result on its agent, as its group implies. */
static void
check_mixed (GPtrArray *results,
             guint      n)
{
  FjPrices *prices = fj_prices_get_default ();

  g_assert_cmpuint (results->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);
      g_autofree char *name = g_strdup_printf ("w%03u", i);
      const GError *error = fj_agent_result_get_error (result);

      g_assert_cmpstr (fj_agent_result_get_agent_name (result), ==, name);
      g_assert_cmpuint (fj_agent_result_get_index (result), ==, i);

      switch (group_of (i))
        {
        case GROUP_OK:
          {
            FjUsage *usage = fj_agent_result_get_usage (result);
            double live_cost = fj_prices_compute (prices, fj_agent_result_get_model (result), usage);

            g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_SUCCESS);
            g_assert_no_error ((GError *) error);
            /* The simulator's answer names the agent it answers. */
            g_assert_nonnull (strstr (fj_agent_result_get_output (result), name));
            g_assert_cmpint (usage->output_tokens, >, 0);
            g_assert_cmpint (usage->input_tokens, >, 0);
            g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 1);
            g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 1);
            g_assert_nonnull (fj_agent_result_get_stop_reason (result));
            g_assert_cmpfloat (live_cost, >, 0);
            g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (result), live_cost * 0.5, 1e-12);
          }
          break;

        case GROUP_ERRORED:
          g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
          g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_SERVER);
          g_assert_nonnull (strstr (error->message, "msgbatch_"));
          break;

        case GROUP_INVALID:
          g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
          g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
          break;

        case GROUP_EXPIRED:
          g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
          g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_EXPIRED);
          g_assert_nonnull (strstr (error->message, "expired in batch msgbatch_"));
          break;
        }
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static GPtrArray *
json_keys (JsonNode *node)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GList) members = json_object_get_members (json_node_get_object (node));

  for (const GList *l = members; l != NULL; l = l->next)
    g_ptr_array_add (keys, g_strdup (l->data));
  g_ptr_array_sort (keys, compare_strings);

  return keys;
}

static char *
keys_text (JsonNode *node)
{
  g_autoptr(GPtrArray) keys = json_keys (node);
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf (text, "%s,", (char *) g_ptr_array_index (keys, i));

  return g_string_free (text, FALSE);
}

static void
test_batch_mixed (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("1"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(FjAgentRunner) again = batch_runner_new (client);
  g_autoptr(FjAgentRunner) live = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (500);
  g_autoptr(GListStore) live_agents = agents_new (2);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GPtrArray) resumed = NULL;
  g_autoptr(GPtrArray) live_results = NULL;
  g_autoptr(FjBatch) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *batch_keys = NULL;
  g_autofree char *live_keys = NULL;
  g_autoptr(JsonNode) batch_json = NULL;
  g_autoptr(JsonNode) live_json = NULL;
  GStatBuf st;
  FjBatch *batch;
  guint requests;
  guint succeeded;
  guint errored;
  guint expired;
  Watch watch = { 0, };
  Watch watch2 = { 0, };

  watch_connect (&watch, runner, sim);
  results = run_agents (runner, agents, INPUT, NULL, &error);
  g_assert_no_error (error);
  check_mixed (results, 500);

  /* Announced once, after every agent started and before any poll: only
   * the creation had reached the simulator. */
  g_assert_cmpuint (watch.n_submitted, ==, 1);
  g_assert_cmpuint (watch.requests_at_submit, ==, 1);
  g_assert_cmpuint (watch.n_started_at_submit, ==, 500);
  g_assert_cmpuint (watch.n_finished, ==, 500);
  g_assert_cmpuint (fj_agent_runner_get_n_succeeded (runner), ==, 350);
  g_assert_cmpuint (fj_agent_runner_get_n_failed (runner), ==, 150);

  batch = fj_agent_runner_get_batch (runner);
  g_assert_nonnull (batch);
  g_assert_cmpuint (g_strv_length ((char **) fj_batch_get_ids (batch)), ==, 1);
  g_assert_true (g_str_has_prefix (fj_batch_get_ids (batch)[0], "msgbatch_"));
  g_assert_cmpstr (fj_batch_get_processing_status (batch), ==, "ended");
  fj_batch_get_request_counts (batch, NULL, &succeeded, &errored, NULL, &expired);
  g_assert_cmpuint (succeeded, ==, 350);
  g_assert_cmpuint (errored, ==, 100);
  g_assert_cmpuint (expired, ==, 50);

  /* The same document as a live run's. */
  live_results = run_agents (live, live_agents, INPUT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fj_agent_result_get_status (g_ptr_array_index (live_results, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  batch_json = fj_agent_result_to_json (g_ptr_array_index (results, 0));
  live_json = fj_agent_result_to_json (g_ptr_array_index (live_results, 0));
  batch_keys = keys_text (batch_json);
  live_keys = keys_text (live_json);
  g_assert_cmpstr (batch_keys, ==, live_keys);

  /* Saved and loaded. */
  fj_batch_set_metadata (batch, "spec", "fork.json");
  dir = g_dir_make_tmp ("fj-batch-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "state.json", NULL);
  g_assert_true (fj_batch_save (batch, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  loaded = fj_batch_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (fj_batch_get_ids (loaded), fj_batch_get_ids (batch));
  g_assert_cmpstr (fj_batch_get_input (loaded), ==, INPUT);
  g_assert_cmpuint (fj_batch_get_n_agents (loaded), ==, 500);
  g_assert_cmpstr (fj_batch_get_agent_name (loaded, 42), ==, "w042");
  g_assert_cmpstr (fj_batch_get_base_url (loaded), ==, fj_client_get_base_url (client));
  g_assert_cmpstr (fj_batch_get_metadata (loaded, "spec"), ==, "fork.json");
  g_assert_null (fj_batch_get_metadata (loaded, "nothing"));
  g_assert_cmpint (g_date_time_to_unix (fj_batch_get_created_at (loaded)), ==,
                   g_date_time_to_unix (fj_batch_get_created_at (batch)));

  /* Picked up by another runner: no new submission, the same results. */
  watch_connect (&watch2, again, sim);
  fj_agent_runner_set_batch (again, loaded);
  requests = fj_simulator_get_n_requests (sim);
  resumed = run_agents (again, agents, INPUT, NULL, &error);
  g_assert_no_error (error);
  check_mixed (resumed, 500);
  g_assert_cmpuint (watch2.n_submitted, ==, 0);
  g_assert_cmpuint (watch2.n_finished, ==, 500);
  /* One retrieval and one download of results. */
  g_assert_cmpuint (fj_simulator_get_n_requests (sim) - requests, ==, 2);
  for (guint i = 0; i < 500; i++)
    g_assert_cmpstr (fj_agent_result_get_output (g_ptr_array_index (resumed, i)), ==,
                     fj_agent_result_get_output (g_ptr_array_index (results, i)));

  g_unlink (path);
  g_rmdir (dir);
}


static FjForkJoinResult *
run_task (FjAgentRunner *runner,
          GListStore    *agents)
{
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FjForkJoinResult *ret;

  fj_fork_join_task_run_async (task, G_LIST_MODEL (agents), INPUT, NULL,
                               fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  ret = fj_fork_join_task_run_finish (task, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  return ret;
}

/* The fork-join document of a batch run is a live run's plus batch_ids. */
static void
test_batch_document (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("0.3"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(FjAgentRunner) live = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (20);
  g_autoptr(FjForkJoinResult) batch_result = NULL;
  g_autoptr(FjForkJoinResult) live_result = NULL;
  g_autoptr(JsonNode) batch_json = NULL;
  g_autoptr(JsonNode) live_json = NULL;
  g_autofree char *batch_keys = NULL;
  g_autofree char *live_keys = NULL;
  g_autofree char *expected = NULL;
  JsonArray *ids;
  JsonArray *batch_agents;
  JsonArray *live_agents;

  fj_agent_runner_set_prices (live, fj_prices_get_default ());
  batch_result = run_task (runner, agents);
  live_result = run_task (live, agents);

  g_assert_null (fj_fork_join_result_get_batch_ids (live_result));
  g_assert_nonnull (fj_fork_join_result_get_batch_ids (batch_result));
  g_assert_cmpstrv (fj_fork_join_result_get_batch_ids (batch_result),
                    fj_batch_get_ids (fj_agent_runner_get_batch (runner)));

  batch_json = fj_fork_join_result_to_json (batch_result);
  live_json = fj_fork_join_result_to_json (live_result);
  batch_keys = keys_text (batch_json);
  live_keys = keys_text (live_json);
  g_assert_null (strstr (live_keys, "batch_ids"));
  /* "batch_ids" sorts first of the document's members. */
  expected = g_strconcat ("agents,batch_ids,", live_keys + strlen ("agents,"), NULL);
  g_assert_true (g_str_has_prefix (live_keys, "agents,"));
  g_assert_cmpstr (batch_keys, ==, expected);

  ids = json_object_get_array_member (json_node_get_object (batch_json), "batch_ids");
  g_assert_cmpuint (json_array_get_length (ids), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (ids, 0), ==,
                   fj_fork_join_result_get_batch_ids (batch_result)[0]);

  batch_agents = json_object_get_array_member (json_node_get_object (batch_json), "agents");
  live_agents = json_object_get_array_member (json_node_get_object (live_json), "agents");
  g_assert_cmpuint (json_array_get_length (batch_agents), ==, json_array_get_length (live_agents));
  for (guint i = 0; i < json_array_get_length (batch_agents); i++)
    {
      g_autofree char *a = keys_text (json_array_get_element (batch_agents, i));
      g_autofree char *b = keys_text (json_array_get_element (live_agents, i));

      g_assert_cmpstr (a, ==, b);
    }
}

static void
test_batch_split (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("0.5"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (500);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *ids;
  Watch watch = { 0, };

  watch_connect (&watch, runner, sim);
  fj_agent_runner_set_batch_max_requests (runner, 120);
  results = run_agents (runner, agents, INPUT, NULL, &error);
  g_assert_no_error (error);
  check_mixed (results, 500);

  ids = fj_batch_get_ids (fj_agent_runner_get_batch (runner));
  g_assert_cmpuint (g_strv_length ((char **) ids), ==, 5);
  for (guint i = 0; i < 5; i++)
    for (guint j = i + 1; j < 5; j++)
      g_assert_cmpstr (ids[i], !=, ids[j]);
  g_assert_cmpuint (watch.n_submitted, ==, 1);
  g_assert_cmpuint (watch.requests_at_submit, ==, 5);
}

static void
refresh (FjBatch  *batch,
         FjClient *client)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fj_batch_refresh_async (batch, client, NULL, fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 30);
  g_assert_true (fj_batch_refresh_finish (batch, result, &error));
  g_assert_no_error (error);
}

static void
test_batch_cancel_wait (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("60"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (20);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  FjBatch *batch;
  guint canceled = 0;
  gint64 start;
  Watch watch = { 0, };

  watch_connect (&watch, runner, sim);
  watch.cancel_on_submit = cancellable;
  start = g_get_monotonic_time ();
  results = run_agents (runner, agents, INPUT, cancellable, &error);
  g_assert_no_error (error);
  /* Promptly: long before the 60 s the batch takes. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);

  batch = fj_agent_runner_get_batch (runner);
  id = g_strdup (fj_batch_get_ids (batch)[0]);
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);
      const GError *e = fj_agent_result_get_error (r);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_CANCELLED);
      g_assert_error ((GError *) e, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_nonnull (strstr (e->message, "keeps running"));
      g_assert_nonnull (strstr (e->message, id));
    }
  g_assert_cmpuint (fj_agent_runner_get_n_cancelled (runner), ==, 20);

  /* Still running at the simulator. */
  refresh (batch, client);
  g_assert_cmpstr (fj_batch_get_processing_status (batch), ==, "in_progress");

  fj_batch_cancel_async (batch, client, NULL, fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 30);
  g_assert_true (fj_batch_cancel_finish (batch, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fj_batch_get_processing_status (batch), !=, "in_progress");

  for (guint i = 0; i < 100 && g_strcmp0 (fj_batch_get_processing_status (batch), "ended") != 0; i++)
    {
      fj_test_run_for (0.1);
      refresh (batch, client);
    }
  g_assert_cmpstr (fj_batch_get_processing_status (batch), ==, "ended");
  fj_batch_get_request_counts (batch, NULL, NULL, NULL, &canceled, NULL);
  g_assert_cmpuint (canceled, >, 0);
}

static void
test_batch_deadline (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("6"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  guint n_success = 0;
  guint n_timed_out = 0;

  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *name = g_strdup_printf ("d%02u", i);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      g_list_store_append (agents, agent);
    }

  fj_agent_runner_set_deadline (runner, 2.0);
  results = run_agents (runner, agents, INPUT, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);

      if (fj_agent_result_get_status (r) == FJ_AGENT_STATUS_SUCCESS)
        n_success++;
      else
        {
          const GError *e = fj_agent_result_get_error (r);

          g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_TIMED_OUT);
          g_assert_error ((GError *) e, FJ_ERROR, FJ_ERROR_TIMED_OUT);
          g_assert_nonnull (strstr (e->message, "the run's deadline of 2 s passed; the batch was cancelled"));
          n_timed_out++;
        }
    }
  g_assert_cmpuint (n_success, >, 0);
  g_assert_cmpuint (n_timed_out, >, 0);
  g_assert_cmpstr (fj_batch_get_processing_status (fj_agent_runner_get_batch (runner)), ==, "ended");
}

static void
test_batch_errors (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("0.2"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjClient) openai = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(FjAgentRunner) openai_runner = batch_runner_new (openai);
  g_autoptr(GListStore) agents = agents_new (3);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjBatch) unknown = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *good = NULL;

  /* Not the Messages API. */
  fj_client_set_provider (openai, FJ_PROVIDER_OPENAI);
  results = run_agents (openai_runner, agents, INPUT, NULL, &error);
  g_assert_null (results);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "Messages API"));
  g_clear_error (&error);

  /* A state file: corrupt, wrong, or naming a batch the API does not
   * know. */
  dir = g_dir_make_tmp ("fj-batch-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "state.json", NULL);

  g_assert_true (g_file_set_contents (path, "{\n  \"format\": \"forkjoin-batch\",\n  \"version\": 1,,\n}\n", -1, NULL));
  g_assert_null (fj_batch_new_from_file (path, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_true (g_str_has_prefix (error->message + strlen (path), ":3:"));
  g_clear_error (&error);

  good = g_strdup_printf ("{\"format\": \"forkjoin-batch\", \"version\": 1, \"base_url\": \"%s\","
                          " \"created_at\": \"2026-11-30T02:00:00Z\", \"input\": \"%s\","
                          " \"agents\": [\"w000\", \"w001\", \"w002\"],"
                          " \"batches\": [{\"id\": \"msgbatch_nope\", \"custom_ids\": [\"a00000-w000\", \"a00001-w001\", \"a00002-w002\"]}],"
                          " \"metadata\": {}}",
                          fj_client_get_base_url (client), INPUT);
  {
    g_autofree char *wrong = NULL;
    g_autoptr(GString) edit = g_string_new (good);

    g_string_replace (edit, "\"id\": \"msgbatch_nope\", ", "", 1);
    wrong = g_string_free (g_steal_pointer (&edit), FALSE);
    g_assert_true (g_file_set_contents (path, wrong, -1, NULL));
    g_assert_null (fj_batch_new_from_file (path, &error));
    g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
    g_assert_true (g_str_has_prefix (error->message, path));
    g_assert_nonnull (strstr (error->message, "batches[0].id: missing"));
    g_clear_error (&error);
  }

  g_assert_true (g_file_set_contents (path, good, -1, NULL));
  unknown = fj_batch_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (unknown);

  /* Different agents or input: refused. */
  {
    g_autoptr(GListStore) others = agents_new (4);

    fj_agent_runner_set_batch (runner, unknown);
    results = run_agents (runner, others, INPUT, NULL, &error);
    g_assert_null (results);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    results = run_agents (runner, agents, "Another question", NULL, &error);
    g_assert_null (results);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  results = run_agents (runner, agents, INPUT, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);
      const GError *e = fj_agent_result_get_error (r);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_FAILED);
      g_assert_error ((GError *) e, FJ_ERROR, FJ_ERROR_NOT_FOUND);
      g_assert_nonnull (strstr (e->message, "msgbatch_nope"));
    }

  g_unlink (path);
  g_rmdir (dir);
}

/* A tool, so that batch mode refuses the agent. */
#define TEST_TYPE_NOOP_TOOL (test_noop_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestNoopTool, test_noop_tool, TEST, NOOP_TOOL, FjTool)

struct _TestNoopTool
{
  FjTool parent_instance;
};

G_DEFINE_FINAL_TYPE (TestNoopTool, test_noop_tool, FJ_TYPE_TOOL)

static void
test_noop_tool_class_init (TestNoopToolClass *klass)
{
}

static void
test_noop_tool_init (TestNoopTool *self)
{
  fj_tool_set_name (FJ_TOOL (self), "noop");
  fj_tool_set_description (FJ_TOOL (self), "Does nothing");
}

static void
test_batch_tools (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (SCENARIO ("0.2"));
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = batch_runner_new (client);
  g_autoptr(GListStore) agents = agents_new (3);
  g_autoptr(FjTool) tool = g_object_new (TEST_TYPE_NOOP_TOOL, NULL);
  g_autoptr(FjAgent) agent = g_list_model_get_item (G_LIST_MODEL (agents), 1);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  fj_agent_add_tool (agent, tool);
  results = run_agents (runner, agents, INPUT, NULL, &error);
  g_assert_null (results);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "w001"));
  g_assert_nonnull (strstr (error->message, "tools"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 0);
}

/* A fake Message Batches API whose results are partly garbage. */
static void
fake_api_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  const char *base = user_data;
  char *body = NULL;

  if (g_strcmp0 (path, "/v1/messages/batches") == 0)
    body = g_strdup ("{\"id\": \"msgbatch_fake\", \"type\": \"message_batch\", "
                     "\"processing_status\": \"in_progress\", \"request_counts\": {\"processing\": 3}}");
  else if (g_strcmp0 (path, "/v1/messages/batches/msgbatch_fake") == 0)
    body = g_strdup_printf ("{\"id\": \"msgbatch_fake\", \"type\": \"message_batch\", "
                            "\"processing_status\": \"ended\", \"request_counts\": {\"succeeded\": 2, \"errored\": 1}, "
                            "\"results_url\": \"%s/v1/messages/batches/msgbatch_fake/results\"}", base);
  else if (g_strcmp0 (path, "/v1/messages/batches/msgbatch_fake/results") == 0)
    body = g_strdup ("{\"custom_id\": \"a00000-x0\", \"result\": {\"type\": \"succeeded\", \"message\": "
                     "{\"content\": [{\"type\": \"text\", \"text\": \"Fine.\"}], \"stop_reason\": \"end_turn\", "
                     "\"usage\": {\"input_tokens\": 10, \"output_tokens\": 2}}}}\n"
                     "this is not JSON\n"
                     "{\"custom_id\": \"a00099-zz\", \"result\": {\"type\": \"canceled\"}}\n"
                     "{\"custom_id\": \"a00001-x1\", \"result\": {\"type\": \"errored\", \"error\": "
                     "{\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}}}\n");

  if (body == NULL)
    {
      soup_server_message_set_status (msg, 404, NULL);
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
test_batch_garbage (void)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autofree char *base = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjAgentRunner) runner = NULL;
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GPtrArray) results = NULL;
  FjAgentResult *r;
  const GError *e;

  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  soup_server_add_handler (server, "/v1/messages/batches", fake_api_cb, base, NULL);

  client = fj_client_new_for_base_url (base);
  fj_client_set_api_key (client, FJ_TEST_API_KEY);
  fj_client_set_allow_insecure_http (client, TRUE);
  runner = batch_runner_new (client);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("x%u", i);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      g_list_store_append (agents, agent);
    }

  results = run_agents (runner, agents, INPUT, NULL, &error);
  g_assert_no_error (error);

  r = g_ptr_array_index (results, 0);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpstr (fj_agent_result_get_output (r), ==, "Fine.");
  g_assert_cmpstr (fj_agent_result_get_stop_reason (r), ==, "end_turn");
  g_assert_cmpint (fj_agent_result_get_usage (r)->input_tokens, ==, 10);

  r = g_ptr_array_index (results, 1);
  e = fj_agent_result_get_error (r);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_error ((GError *) e, FJ_ERROR, FJ_ERROR_OVERLOADED);
  g_assert_nonnull (strstr (e->message, "Overloaded"));

  /* No line for it: says so, naming the batch and the bad line. */
  r = g_ptr_array_index (results, 2);
  e = fj_agent_result_get_error (r);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_error ((GError *) e, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (e->message, "msgbatch_fake"));
  g_assert_nonnull (strstr (e->message, "line 2"));
}

static void
test_batch_prices (void)
{
  g_autoptr(FjPrices) prices = fj_prices_new ();
  g_autoptr(GError) error = NULL;
#define TABLE(discount) \
  "{\"taken\": \"2026-11-29\", " discount " \"models\": {\"m\": {\"input\": 1, \"output\": 2, " \
  "\"cache_write\": 1.25, \"cache_read\": 0.1}}}"
  const char *quarter = TABLE ("\"batch_discount\": 0.25,");
  const char *none = TABLE ("");
  const char *bad = TABLE ("\"batch_discount\": 2,");
#undef TABLE

  g_assert_cmpfloat (fj_prices_get_batch_discount (fj_prices_get_default ()), ==, 0.5);

  g_assert_true (fj_prices_load_from_data (prices, quarter, -1, "p.json", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (fj_prices_get_batch_discount (prices), ==, 0.25);

  g_assert_true (fj_prices_load_from_data (prices, none, -1, "p.json", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (fj_prices_get_batch_discount (prices), ==, 0.5);

  g_assert_false (fj_prices_load_from_data (prices, bad, -1, "p.json", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_nonnull (strstr (error->message, "batch_discount"));
}

int
main (int    argc,
      char **argv)
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/batch/mixed", test_batch_mixed);
  g_test_add_func ("/batch/document", test_batch_document);
  g_test_add_func ("/batch/split", test_batch_split);
  g_test_add_func ("/batch/cancel-wait", test_batch_cancel_wait);
  g_test_add_func ("/batch/deadline", test_batch_deadline);
  g_test_add_func ("/batch/errors", test_batch_errors);
  g_test_add_func ("/batch/tools", test_batch_tools);
  g_test_add_func ("/batch/garbage", test_batch_garbage);
  g_test_add_func ("/batch/prices", test_batch_prices);

  return g_test_run ();
}
