/* test-fault-matrix.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The fault matrix: 200 agents in one run against the simulator's
 * data/scenarios/fault-matrix.json, where each group of agents (its system
 * prompt contains "[group-NAME]") meets one fault every time.  Every agent
 * must settle exactly once, with the status, error code and number of
 * attempts DESIGN.md's transport rules give for its fault; the simulator's
 * per-request log (with the system prompts recorded) is the oracle for what
 * was done to each agent. */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"

#define N_AGENTS        200
#define MAX_CONCURRENT  50
/* Seconds, widened by fj_test_time_scale().  The 429s pause the whole client
 * and the 429s and 529s narrow it, so on this scale a run takes several
 * seconds; the limits leave room for a loaded machine. */
#define AGENT_TIMEOUT   15.0   /* every agent but the never-answered ones */
#define SHORT_TIMEOUT   1.5    /* trickle and hang */
#define RUN_DEADLINE    30.0

typedef struct
{
  const char    *group;        /* NULL: answered normally */
  guint          count;
  FjAgentStatus  status;
  const char    *code;         /* NULL: no error */
  int            attempts;     /* -1: max-retries + 1 */
  gboolean       partial;      /* keeps partial output */
  gboolean       per_agent;    /* its own override "[GROUP-NN]" */
  double         timeout;      /* 0: the runner's */
  const char    *first_outcome;
  const char    *last_outcome; /* outcome or fault of its last request */
} Group;

static const Group groups[] = {
  { NULL, 70, FJ_AGENT_STATUS_SUCCESS, NULL, 1, FALSE, FALSE, 0, "ok", "ok" },
  /* 429 once with retry-after: waits, then succeeds. */
  { "group-429-retry", 10, FJ_AGENT_STATUS_SUCCESS, NULL, 2, FALSE, TRUE, 0, "http-429", "ok" },
  /* 429 always, no hint: backoff, retried max-retries times. */
  { "group-429-nohint", 10, FJ_AGENT_STATUS_FAILED, "rate-limited", -1, FALSE, FALSE, 0, "http-429", "http-429" },
  { "group-500", 10, FJ_AGENT_STATUS_FAILED, "server", -1, FALSE, FALSE, 0, "http-500", "http-500" },
  { "group-529", 10, FJ_AGENT_STATUS_FAILED, "overloaded", -1, FALSE, FALSE, 0, "http-529", "http-529" },
  /* A wait longer than the agent has: ends at once.  Its retry-after (600 s)
   * must stay above AGENT_TIMEOUT times the widest time scale (10). */
  { "group-529-hint", 10, FJ_AGENT_STATUS_FAILED, "overloaded", 1, FALSE, FALSE, 0, "http-529", "http-529" },
  /* Other 4xx: never retried. */
  { "group-400", 10, FJ_AGENT_STATUS_FAILED, "invalid-request", 1, FALSE, FALSE, 0, "http-400", "http-400" },
  { "group-401", 10, FJ_AGENT_STATUS_FAILED, "authentication", 1, FALSE, FALSE, 0, "http-401", "http-401" },
  /* Once body bytes have arrived nothing is retried; the text is kept. */
  { "group-drop", 15, FJ_AGENT_STATUS_FAILED, "connection", 1, TRUE, FALSE, 0, "drop", "drop" },
  { "group-error-event", 15, FJ_AGENT_STATUS_FAILED, "overloaded", 1, TRUE, FALSE, 0, "error_event", "error_event" },
  { "group-malformed", 10, FJ_AGENT_STATUS_FAILED, "protocol", 1, TRUE, FALSE, 0, "malformed_json", "malformed_json" },
  /* Never finishing: the agent's own time limit ends them. */
  { "group-trickle", 10, FJ_AGENT_STATUS_TIMED_OUT, "timed-out", 1, FALSE, FALSE, SHORT_TIMEOUT, "trickle", "trickle" },
  { "group-hang", 10, FJ_AGENT_STATUS_TIMED_OUT, "timed-out", 1, FALSE, FALSE, SHORT_TIMEOUT, "hang", "hang" },
};

typedef struct
{
  const Group *group;
  char        *instructions;
  char        *stats_name;     /* the simulator's name for it */
  GPtrArray   *log;            /* its log entries (JsonObject, borrowed) */
} Planned;

static void
planned_clear (Planned *p)
{
  g_free (p->instructions);
  g_free (p->stats_name);
  g_clear_pointer (&p->log, g_ptr_array_unref);
}

static char *
load_scenario (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("FJ_DATA_DIR") ?: "../data",
                                            "scenarios", "fault-matrix.json", NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  return contents;
}

/* The group each agent gets: every group's count of them, spread over the
 * 200 by a fixed shuffle so the groups run side by side. */
static void
plan_agents (Planned *plan)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint n = 0;
  guint total = 0;

  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    total += groups[g].count;
  g_assert_cmpuint (total, ==, N_AGENTS);

  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    for (guint k = 0; k < groups[g].count; k++)
      {
        Planned *p = &plan[n++];

        p->group = &groups[g];
        p->log = g_ptr_array_new ();
        if (groups[g].group == NULL)
          p->stats_name = NULL;  /* a hash of its prompt */
        else if (groups[g].per_agent)
          p->stats_name = g_strdup_printf ("%s-%02u", groups[g].group, k);
        else
          p->stats_name = g_strdup (groups[g].group);
      }

  for (guint i = N_AGENTS - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      Planned tmp = plan[i];

      plan[i] = plan[j];
      plan[j] = tmp;
    }

  for (guint i = 0; i < N_AGENTS; i++)
    {
      Planned *p = &plan[i];

      if (p->group->group == NULL)
        p->instructions = g_strdup_printf ("You are agent %03u, a plain analyst. Answer in one sentence.", i);
      else
        p->instructions = g_strdup_printf ("You are agent %03u of [%s]. Answer in one sentence.", i,
                                           p->stats_name);
    }
}

static const char *
entry_string (JsonObject *entry,
              const char *member)
{
  if (!json_object_has_member (entry, member) ||
      JSON_NODE_HOLDS_NULL (json_object_get_member (entry, member)))
    return NULL;
  return json_object_get_string_member (entry, member);
}

static gboolean
entry_is (JsonObject *entry,
          const char *outcome)
{
  return g_strcmp0 (entry_string (entry, "outcome"), outcome) == 0 ||
         g_strcmp0 (entry_string (entry, "fault"), outcome) == 0;
}

static void
test_fault_matrix (void)
{
  g_autofree char *scenario = load_scenario ();
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(GHashTable) by_system = g_hash_table_new (g_str_hash, g_str_equal);
  Planned plan[N_AGENTS] = { { 0, }, };
  guint n_settled[G_N_ELEMENTS (groups)] = { 0, };
  guint n_attempts[G_N_ELEMENTS (groups)] = { 0, };
  FjUsage total = { 0, };
  gint64 ok_output_tokens = 0;
  gint64 success_output_tokens = 0;
  guint max_retries = fj_client_get_max_retries (client);
  guint n_succeeded = 0;
  guint sum_attempts = 0;
  guint n_unsent = 0;
  double scale = fj_test_time_scale ();
  double elapsed;
  FjRunState *state;
  JsonArray *log;

  /* The rules below assume the default of two retries. */
  g_assert_cmpuint (max_retries, ==, 2);

  fj_simulator_set_record_prompts (sim, TRUE);
  plan_agents (plan);

  for (guint i = 0; i < N_AGENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("agent-%03u", i);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, plan[i].instructions);
      if (plan[i].group->timeout > 0)
        fj_agent_set_timeout (agent, plan[i].group->timeout * scale);
      g_list_store_append (agents, agent);
      g_hash_table_insert (by_system, plan[i].instructions, &plan[i]);
    }

  fj_agent_runner_set_max_concurrent (runner, MAX_CONCURRENT);
  fj_agent_runner_set_agent_timeout (runner, AGENT_TIMEOUT * scale);
  fj_agent_runner_set_deadline (runner, RUN_DEADLINE * scale);

  fj_agent_runner_run_async (runner, G_LIST_MODEL (agents), "How did ACME do in Q3?",
                             NULL, fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 2 * RUN_DEADLINE * scale + 10);
  results = fj_agent_runner_run_finish (runner, result, &error);
  elapsed = g_timer_elapsed (timer, NULL);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  g_assert_cmpuint (results->len, ==, N_AGENTS);

  /* The run ended by itself, well within its deadline. */
  state = fj_agent_runner_get_state (runner);
  g_assert_true (fj_run_state_get_finished (state));
  g_assert_false (fj_agent_runner_get_running (runner));
  g_assert_cmpfloat (fj_run_state_get_elapsed (state), <, RUN_DEADLINE * scale);
  g_assert_cmpfloat (elapsed, <, RUN_DEADLINE * scale);

  /* The oracle: what the simulator did to each agent, in arrival order. */
  stats = fj_simulator_get_stats (sim);
  log = json_object_get_array_member (json_node_get_object (stats), "log");
  for (guint i = 0; i < json_array_get_length (log); i++)
    {
      JsonObject *entry = json_array_get_object_element (log, i);
      const char *system = entry_string (entry, "system");
      Planned *p;

      g_assert_nonnull (system);
      p = g_hash_table_lookup (by_system, system);
      g_assert_nonnull (p);
      if (p->stats_name != NULL)
        g_assert_cmpstr (entry_string (entry, "agent"), ==, p->stats_name);
      g_ptr_array_add (p->log, entry);
      if (g_strcmp0 (entry_string (entry, "outcome"), "ok") == 0)
        ok_output_tokens += json_object_get_int_member (entry, "output_tokens");
    }
  g_assert_cmpuint (json_array_get_length (log), ==, fj_simulator_get_n_requests (sim));

  for (guint i = 0; i < N_AGENTS; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);
      Planned *p = &plan[i];
      const Group *g = p->group;
      guint expected_attempts = g->attempts < 0 ? max_retries + 1 : (guint) g->attempts;
      g_autofree char *name = g_strdup_printf ("agent-%03u", i);
      g_autofree char *json = NULL;
      const char *partial;

      g_test_message ("%s %s: %d %s, %u attempts, %u logged, %.2f s: %s", name, g->group ? g->group : "(ok)",
                      fj_agent_result_get_status (r),
                      fj_agent_result_get_error_code (r) ?: "-",
                      fj_agent_result_get_attempts (r), p->log->len,
                      fj_agent_result_get_duration (r),
                      fj_agent_result_get_error_message (r) ?: "");

      /* Exactly one settled result, in order. */
      g_assert_cmpuint (fj_agent_result_get_index (r), ==, i);
      g_assert_cmpstr (fj_agent_result_get_agent_name (r), ==, name);
      g_assert_true (fj_agent_result_get_finished (r));
      g_assert_true (r == g_list_model_get_item (fj_agent_runner_get_results (runner), i));
      g_object_unref (r);  /* the ref get_item added */

      g_assert_cmpint (fj_agent_result_get_status (r), ==, g->status);
      g_assert_cmpstr (fj_agent_result_get_error_code (r), ==, g->code);

      /* Attempts: the client's count, the simulator's, and the rule's.  An
       * agent that is never answered may run out of time while a 429
       * elsewhere pauses the client, before its request is sent: the
       * simulator then never saw it, and it counts no attempt. */
      g_assert_cmpuint (fj_agent_result_get_attempts (r), ==, p->log->len);
      if (g->status == FJ_AGENT_STATUS_TIMED_OUT && p->log->len == 0)
        {
          g_assert_nonnull (strstr (fj_agent_result_get_error_message (r), " while waiting for "));
          n_unsent++;
        }
      else
        {
          g_assert_cmpuint (fj_agent_result_get_attempts (r), ==, expected_attempts);
          g_assert_true (entry_is (g_ptr_array_index (p->log, 0), g->first_outcome));
          /* A request that arrives just as its agent gives up is closed
           * before its fault begins. */
          g_assert_true (entry_is (g_ptr_array_index (p->log, p->log->len - 1), g->last_outcome) ||
                         (g->status == FJ_AGENT_STATUS_TIMED_OUT &&
                          entry_is (g_ptr_array_index (p->log, p->log->len - 1), "client-closed")));
        }

      partial = fj_agent_result_get_partial_output (r);
      if (g->status == FJ_AGENT_STATUS_SUCCESS)
        {
          g_assert_nonnull (fj_agent_result_get_output (r));
          g_assert_cmpstr (fj_agent_result_get_output (r), !=, "");
          g_assert_null (fj_agent_result_get_error (r));
          success_output_tokens += fj_agent_result_get_usage (r)->output_tokens;
          n_succeeded++;
        }
      else
        {
          const char *message = fj_agent_result_get_error_message (r);

          g_assert_null (fj_agent_result_get_output (r));
          g_assert_nonnull (fj_agent_result_get_error (r));
          g_assert_true (g_str_has_prefix (message, name));
          fj_test_assert_no_key (message);
          if (g->status == FJ_AGENT_STATUS_TIMED_OUT)
            {
              /* Its own limit, not the run's deadline. */
              g_assert_null (strstr (message, "deadline"));
              g_assert_cmpfloat (fj_agent_result_get_duration (r), >=, SHORT_TIMEOUT * scale - 0.1);
            }
        }

      /* Partial output is never lost. */
      if (g->partial)
        {
          g_assert_nonnull (partial);
          g_assert_cmpstr (partial, !=, "");
        }
      else if (g->status != FJ_AGENT_STATUS_TIMED_OUT)
        g_assert_true (partial == NULL || *partial == '\0');

      json = fj_agent_result_to_json_string (r, FALSE);
      fj_test_assert_no_key (json);

      fj_usage_add (&total, fj_agent_result_get_usage (r));
      n_settled[g - groups]++;
      n_attempts[g - groups] += p->log->len;
      sum_attempts += p->log->len;
    }

  /* Per group, the simulator's attempt counters agree. */
  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      guint expected = groups[g].attempts < 0 ? max_retries + 1 : (guint) groups[g].attempts;

      g_assert_cmpuint (n_settled[g], ==, groups[g].count);
      if (groups[g].status != FJ_AGENT_STATUS_TIMED_OUT)
        g_assert_cmpuint (n_attempts[g], ==, groups[g].count * expected);
      if (groups[g].group != NULL && !groups[g].per_agent)
        g_assert_cmpuint (fj_simulator_get_attempts (sim, groups[g].group), ==, n_attempts[g]);
      else if (groups[g].per_agent)
        for (guint k = 0; k < groups[g].count; k++)
          {
            g_autofree char *agent = g_strdup_printf ("%s-%02u", groups[g].group, k);

            g_assert_cmpuint (fj_simulator_get_attempts (sim, agent), ==, expected);
          }
    }
  g_assert_cmpuint (sum_attempts, ==, fj_simulator_get_n_requests (sim));
  g_test_message ("%u never-answered agents timed out before their request was sent", n_unsent);

  /* The counters add up. */
  g_assert_cmpuint (fj_agent_runner_get_n_pending (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_running (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_succeeded (runner), ==, n_succeeded);
  g_assert_cmpuint (fj_agent_runner_get_n_failed (runner), ==, N_AGENTS - n_succeeded);
  g_assert_cmpuint (fj_agent_runner_get_n_cancelled (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_skipped (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_succeeded (runner) + fj_agent_runner_get_n_failed (runner) +
                    fj_agent_runner_get_n_cancelled (runner) + fj_agent_runner_get_n_skipped (runner),
                    ==, N_AGENTS);
  g_assert_cmpuint (fj_run_state_get_n_agents (state), ==, N_AGENTS);
  g_assert_cmpuint (fj_run_state_get_n_succeeded (state), ==, n_succeeded);
  g_assert_cmpuint (fj_run_state_get_n_failed (state), ==, N_AGENTS - n_succeeded);

  /* And so does the usage: the run's is the sum of its agents', and the
   * answers' output is what the simulator sent. */
  g_assert_true (fj_usage_equal (fj_agent_runner_get_usage (runner), &total));
  g_assert_cmpint (success_output_tokens, ==, ok_output_tokens);
  g_assert_cmpint (success_output_tokens, >, 0);

  for (guint i = 0; i < N_AGENTS; i++)
    planned_clear (&plan[i]);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/fault-matrix/run", test_fault_matrix);

  return g_test_run ();
}
