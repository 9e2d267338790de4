/* fj-cmd-bench.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "fj-cli.h"
#include "fj-progress.h"

/* `forkjoin-tool bench SPEC`: "profile before parallelizing" as a
 * command.  The spec runs sequentially (width 1, the baseline) and then
 * at each width (the runner's max_concurrent), several times each; per
 * width we report the wall time (median, min, max), the speedup over the
 * sequential median, the efficiency (speedup ÷ width), the 429s seen and
 * the cost, then the smallest width whose median is within 10 % of the
 * best.  Past the knee, more width buys nothing but 429s.
 *
 * Rate-limit state between runs.  Both ends remember: the simulator's
 * token buckets, and the client's learned limits, its shared pause and
 * its adaptive width.  If run k+1 inherited what run k spent, or what it
 * learned, the figures would measure the order of the runs instead of the
 * width.  We restart both for every run: each run gets a fresh client
 * from fj_cli_create_client(), and with --simulate that is a fresh
 * simulator loaded from the scenario (full buckets, attempt numbers from
 * 1), which costs a millisecond.  Waiting for the buckets to refill
 * instead would cost up to a minute per run and would still leave the
 * client's learned state behind.  Every run thus starts as a separate
 * `forkjoin-tool run` would.  Against the real API the server's budget
 * cannot be reset; there we at least wait out any pause the previous run's
 * client was told to observe, so a run does not start inside a 429. */

#define WITHIN_BEST 0.10

typedef struct
{
  guint   width;
  GArray *walls;           /* double, seconds, one per finished run */
  guint   n_runs;
  guint   n_ok;            /* complete or degraded */
  guint   n_429;
  guint   n_costs;         /* runs whose cost is known */
  double  cost_sum;
} WidthStats;

/* What the runs cost, summed over the runs whose every price is known:
 * the live total split into the fork and the synthesis, and what caching
 * saved.  The batch cost is derived: the fork at the batch discount, the
 * synthesis live (a batch run's synthesis is a live request). */
typedef struct
{
  guint   n_runs;
  double  fork;
  double  synthesis;
  double  cache_saved;
} CostStats;

typedef struct
{
  /* options */
  char        *simulate;
  char        *api_key_file;
  char        *prices_path;
  char        *input;
  char        *widths_text;
  int          runs;
  gboolean     json;

  /* state */
  GCancellable *cancellable;
  GAsyncResult *async_result;
  gboolean      interrupted;
  gboolean      progress;
  guint         n_429;      /* of the current run */
  CostStats     costs;      /* over every measured run */
  GMutex        pause_lock;
  gint64        pause_until; /* real time, µs: from the client's paused signal */
} Bench;

static void
width_stats_clear (WidthStats *stats)
{
  g_clear_pointer (&stats->walls, g_array_unref);
}

static gboolean
simulate_cb (const char  *option_name,
             const char  *value,
             gpointer     user_data,
             GError     **error)
{
  Bench *bench = user_data;

  g_free (bench->simulate);
  bench->simulate = g_strdup (value != NULL ? value : "");

  return TRUE;
}

static gboolean
parse_widths (const char  *text,
              GArray      *widths,
              GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 value;
      guint width;

      g_strstrip (parts[i]);
      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, 10000, &value, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--widths: “%s” is not a width (a whole number from 1 to 10000)",
                       parts[i]);
          return FALSE;
        }
      width = (guint) value;
      g_array_append_val (widths, width);
    }

  return TRUE;
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = *(const guint *) a;
  guint y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* Sorted, without duplicates, with 1 (the sequential baseline) first. */
static void
normalize_widths (GArray *widths)
{
  guint one = 1;
  guint j = 0;

  g_array_append_val (widths, one);
  g_array_sort (widths, compare_uint);

  for (guint i = 0; i < widths->len; i++)
    if (j == 0 || g_array_index (widths, guint, i) != g_array_index (widths, guint, j - 1))
      g_array_index (widths, guint, j++) = g_array_index (widths, guint, i);
  g_array_set_size (widths, j);
}

/* 1, 2, 4, ... below the agent count, then the agent count. */
static void
default_widths (GArray *widths,
                guint   n_agents)
{
  for (guint w = 1; w < n_agents; w *= 2)
    g_array_append_val (widths, w);
  g_array_append_val (widths, n_agents);
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = values->len;

  if (n == 0)
    return NAN;

  sorted = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  g_array_append_vals (sorted, values->data, n);
  g_array_sort (sorted, compare_double);

  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);

  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2.0;
}

static double
minimum (GArray *values)
{
  double m = INFINITY;

  for (guint i = 0; i < values->len; i++)
    m = MIN (m, g_array_index (values, double, i));

  return values->len > 0 ? m : NAN;
}

static double
maximum (GArray *values)
{
  double m = -INFINITY;

  for (guint i = 0; i < values->len; i++)
    m = MAX (m, g_array_index (values, double, i));

  return values->len > 0 ? m : NAN;
}

static gboolean
sigint_cb (gpointer user_data)
{
  Bench *bench = user_data;

  if (bench->interrupted)
    {
      /* Twice: at once. */
      fflush (stdout);
      _exit (FJ_EXIT_INTERRUPTED);
    }

  bench->interrupted = TRUE;
  g_cancellable_cancel (bench->cancellable);

  return G_SOURCE_CONTINUE;
}

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Bench *bench = user_data;

  bench->async_result = g_object_ref (result);
}

static void
agent_retrying_cb (FjAgentRunner *runner,
                   FjAgentResult *result,
                   guint          attempt,
                   double         delay,
                   guint          status,
                   const GError  *reason,
                   gpointer       user_data)
{
  Bench *bench = user_data;

  if (status == 429)
    bench->n_429++;
}

/* May be called from any thread that uses the client. */
static void
client_paused_cb (FjClient   *client,
                  const char *reason,
                  GDateTime  *until,
                  gpointer    user_data)
{
  Bench *bench = user_data;
  gint64 until_us;

  if (until == NULL)
    return;

  until_us = g_date_time_to_unix (until) * G_USEC_PER_SEC + g_date_time_get_microsecond (until);

  g_mutex_lock (&bench->pause_lock);
  bench->pause_until = MAX (bench->pause_until, until_us);
  g_mutex_unlock (&bench->pause_lock);
}

static gboolean
wake_cb (gpointer user_data)
{
  gboolean *done = user_data;

  *done = TRUE;
  return G_SOURCE_REMOVE;
}

/* Against the real API: do not start a run inside the pause a 429 of the
 * previous one asked for. */
static void
wait_out_pause (Bench *bench)
{
  gint64 until, now = g_get_real_time ();
  gboolean done = FALSE;

  g_mutex_lock (&bench->pause_lock);
  until = bench->pause_until;
  g_mutex_unlock (&bench->pause_lock);

  if (until <= now || bench->interrupted)
    return;

  g_timeout_add ((guint) MIN ((until - now) / 1000 + 1, 120000), wake_cb, &done);
  while (!done && !bench->interrupted)
    g_main_context_iteration (NULL, TRUE);
}

static void
set_prices (gpointer  object,
            FjPrices *prices)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (object);

  if (prices != NULL && g_object_class_find_property (klass, "prices") != NULL)
    g_object_set (object, "prices", prices, NULL);
}

static gboolean
is_rate_limited (FjAgentResult *result)
{
  return result != NULL && g_strcmp0 (fj_agent_result_get_error_code (result), "rate-limited") == 0;
}

static guint
count_rate_limited (FjForkJoinResult *result)
{
  GPtrArray *results = fj_fork_join_result_get_results (result);
  FjAgentResult *synthesis = fj_fork_join_result_get_synthesis_result (result);
  guint n = 0;

  for (guint i = 0; results != NULL && i < results->len; i++)
    if (is_rate_limited (g_ptr_array_index (results, i)))
      n++;

  if (is_rate_limited (synthesis))
    n++;

  return n;
}

/* One run at @width.  FALSE with @error when it could not be set up
 * (credentials, scenario, spec); a run that started always adds to
 * @stats unless it was interrupted. */
static void
add_costs (CostStats        *costs,
           FjForkJoinResult *result)
{
  GPtrArray *agents = fj_fork_join_result_get_results (result);
  FjAgentResult *synthesis = fj_fork_join_result_get_synthesis_result (result);
  double fork = 0, saved = 0;

  for (guint i = 0; i < agents->len; i++)
    {
      FjAgentResult *agent = g_ptr_array_index (agents, i);
      double cost = fj_agent_result_get_cost (agent);

      /* A model without a price: no figures for this run. */
      if (cost < 0)
        return;
      fork += cost;
      if (!isnan (fj_agent_result_get_cache_saved_usd (agent)))
        saved += fj_agent_result_get_cache_saved_usd (agent);
    }

  costs->n_runs++;
  costs->fork += fork;
  if (synthesis != NULL && fj_agent_result_get_cost (synthesis) > 0)
    costs->synthesis += fj_agent_result_get_cost (synthesis);
  costs->cache_saved += saved;
}

static gboolean
run_once (Bench       *bench,
          FjSpec      *spec,
          const char  *input,
          FjPrices    *prices,
          WidthStats  *stats,
          GError     **error)
{
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GError) local_error = NULL;
  FjAgentRunner *runner;
  gulong retrying_id, paused_id;
  double cost;

  client = fj_cli_create_client (bench->simulate, bench->api_key_file, &simulator, error);
  if (client == NULL)
    return FALSE;

  /* With --simulate, named clients go to this width's simulator too. */
  fj_cli_setup_named_clients (spec, simulator);

  task = fj_spec_create_task (spec, client, error);
  if (task == NULL)
    {
      if (simulator != NULL)
        fj_simulator_stop (simulator);
      return FALSE;
    }

  runner = fj_fork_join_task_get_runner (task);
  fj_agent_runner_set_max_concurrent (runner, stats->width);
  set_prices (task, prices);
  set_prices (runner, prices);

  bench->n_429 = 0;
  retrying_id = g_signal_connect (runner, "agent-retrying", G_CALLBACK (agent_retrying_cb), bench);
  paused_id = g_signal_connect (client, "paused", G_CALLBACK (client_paused_cb), bench);

  g_clear_object (&bench->async_result);
  fj_fork_join_task_run_async (task, fj_spec_get_agents (spec), input, bench->cancellable,
                               run_done_cb, bench);
  while (bench->async_result == NULL)
    g_main_context_iteration (NULL, TRUE);

  result = fj_fork_join_task_run_finish (task, bench->async_result, &local_error);
  g_clear_object (&bench->async_result);

  g_signal_handler_disconnect (runner, retrying_id);
  g_signal_handler_disconnect (client, paused_id);

  /* Close this run's connections before the next run starts: drop the
   * client, stop the simulator, and let the loop finish what they
   * started. */
  g_clear_object (&task);
  g_clear_object (&client);
  if (simulator != NULL)
    fj_simulator_stop (simulator);
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);

  if (result == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* A cancelled run measures Ctrl-C, not the spec. */
  if (bench->interrupted)
    return TRUE;

  stats->n_runs++;
  {
    double wall = fj_fork_join_result_get_wall_time (result);

    g_array_append_val (stats->walls, wall);
  }
  if (fj_fork_join_result_get_status (result) != FJ_FORK_JOIN_STATUS_FAILED)
    stats->n_ok++;
  stats->n_429 += bench->n_429 + count_rate_limited (result);

  cost = fj_fork_join_result_get_cost (result);
  if (cost >= 0)
    {
      stats->n_costs++;
      stats->cost_sum += cost;
      add_costs (&bench->costs, result);
    }

  return TRUE;
}

static double
stats_median (const WidthStats *stats)
{
  return median (stats->walls);
}

/* The best median, among the widths whose runs all reached a result
 * (a run that failed fast is quick, not good); among all when none did. */
static const WidthStats *
find_best (const WidthStats *all,
           guint             n)
{
  const WidthStats *best = NULL;

  for (int pass = 0; pass < 2 && best == NULL; pass++)
    for (guint i = 0; i < n; i++)
      {
        const WidthStats *s = &all[i];

        if (s->walls->len == 0 || (pass == 0 && s->n_ok < s->n_runs))
          continue;
        if (best == NULL || stats_median (s) < stats_median (best))
          best = s;
      }

  return best;
}

static const WidthStats *
find_smallest_within (const WidthStats *all,
                      guint             n,
                      const WidthStats *best)
{
  gboolean only_ok = best != NULL && best->n_ok == best->n_runs;

  if (best == NULL)
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      const WidthStats *s = &all[i];

      if (s->walls->len == 0 || (only_ok && s->n_ok < s->n_runs))
        continue;
      if (stats_median (s) <= stats_median (best) * (1.0 + WITHIN_BEST))
        return s;
    }

  return best;
}

static char *
format_seconds (double value)
{
  if (isnan (value))
    return g_strdup ("-");

  return g_strdup_printf ("%.2f s", value);
}

static char *
format_cost (const WidthStats *stats)
{
  if (stats->n_costs == 0 || stats->n_costs < stats->n_runs)
    return g_strdup ("n/a");

  return g_strdup_printf ("$%.4f", stats->cost_sum / stats->n_costs);
}

static void
print_header (void)
{
  printf ("%5s  %9s  %9s  %9s  %7s  %10s  %5s  %5s  %9s\n",
          "width", "median", "min", "max", "speedup", "efficiency", "429s", "ok", "cost/run");
}

static void
print_row (const WidthStats *stats,
           double            baseline)
{
  double med = stats_median (stats);
  g_autofree char *med_text = format_seconds (med);
  g_autofree char *min_text = format_seconds (minimum (stats->walls));
  g_autofree char *max_text = format_seconds (maximum (stats->walls));
  g_autofree char *cost_text = format_cost (stats);
  g_autofree char *ok_text = g_strdup_printf ("%u/%u", stats->n_ok, stats->n_runs);
  g_autofree char *speedup_text = NULL;
  g_autofree char *efficiency_text = NULL;

  if (!isnan (med) && !isnan (baseline) && med > 0)
    {
      double speedup = baseline / med;

      speedup_text = g_strdup_printf ("%.2fx", speedup);
      efficiency_text = g_strdup_printf ("%.0f %%", 100.0 * speedup / stats->width);
    }
  else
    {
      speedup_text = g_strdup ("-");
      efficiency_text = g_strdup ("-");
    }

  printf ("%5u  %9s  %9s  %9s  %7s  %10s  %5u  %5s  %9s\n",
          stats->width, med_text, min_text, max_text, speedup_text, efficiency_text,
          stats->n_429, ok_text, cost_text);
  fflush (stdout);
}

/* Live and batch cost per run side by side, and what the prompt cache
 * saved when the spec asks for it. */
static void
print_costs (const CostStats *costs,
             FjSpec          *spec,
             FjPrices        *prices)
{
  double discount = fj_prices_get_batch_discount (prices);
  double fork, synthesis, live, batch;

  if (costs->n_runs == 0)
    {
      printf ("\nCost: unknown (a model of the spec has no price: see --prices).\n");
      return;
    }

  fork = costs->fork / costs->n_runs;
  synthesis = costs->synthesis / costs->n_runs;
  live = fork + synthesis;
  batch = fork * discount + synthesis;

  printf ("\nCost per run:  live $%.4f (agents $%.4f + synthesis $%.4f)\n", live, fork, synthesis);
  printf ("               batch $%.4f (agents at %.0f %% of the price, synthesis live)",
          batch, 100.0 * discount);
  if (live > 0)
    printf (": %.0f %% less", 100.0 * (live - batch) / live);
  printf ("\n");
  if (fj_spec_get_cache (spec) == FJ_CACHE_MODE_SHARED_INPUT)
    printf ("Prompt cache:  shared-input saved $%.4f per run against the same run without it\n",
            costs->cache_saved / costs->n_runs);
  else
    printf ("Prompt cache:  off (\"runner\": {\"cache\": \"shared-input\"} to share the input)\n");
}

static void
print_summary (const WidthStats *all,
               guint             n)
{
  const WidthStats *best = find_best (all, n);
  const WidthStats *pick = find_smallest_within (all, n, best);

  if (best == NULL || pick == NULL)
    {
      printf ("\nNo run finished: nothing to recommend.\n");
      return;
    }

  printf ("\nBest median wall time: %.2f s at width %u%s.\n",
          stats_median (best), best->width,
          best->n_ok < best->n_runs ? " (some runs failed)" : "");
  printf ("Smallest width within %.0f %% of the best: %u\n", WITHIN_BEST * 100, pick->width);
}

/* Non-negative @value to the nearest thousandth (without libm). */
static gint64
thousandths (double value)
{
  return (gint64) (value * 1000.0 + 0.5);
}

static void
add_double_or_null (JsonBuilder *builder,
                    const char  *name,
                    double       value)
{
  json_builder_set_member_name (builder, name);
  if (isnan (value) || isinf (value))
    json_builder_add_null_value (builder);
  else
    json_builder_add_double_value (builder, value);
}

/* Times in whole milliseconds, as `run --json` gives them (wall_ms). */
static void
add_ms_or_null (JsonBuilder *builder,
                const char  *name,
                double       seconds)
{
  json_builder_set_member_name (builder, name);
  if (isnan (seconds) || isinf (seconds))
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, thousandths (seconds));
}

static void
print_json (FjSpec           *spec,
            FjPrices         *prices,
            const char       *spec_path,
            Bench            *bench,
            const WidthStats *all,
            guint             n)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  const WidthStats *best = find_best (all, n);
  const WidthStats *pick = find_smallest_within (all, n, best);
  double baseline = n > 0 && all[0].width == 1 ? stats_median (&all[0]) : NAN;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "spec");
  json_builder_add_string_value (builder, spec_path);
  json_builder_set_member_name (builder, "agents");
  json_builder_add_int_value (builder, g_list_model_get_n_items (fj_spec_get_agents (spec)));
  json_builder_set_member_name (builder, "runs");
  json_builder_add_int_value (builder, bench->runs);
  json_builder_set_member_name (builder, "simulated");
  json_builder_add_boolean_value (builder, bench->simulate != NULL);
  json_builder_set_member_name (builder, "interrupted");
  json_builder_add_boolean_value (builder, bench->interrupted);

  json_builder_set_member_name (builder, "widths");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      const WidthStats *s = &all[i];
      double med = stats_median (s);
      double speedup = med > 0 ? baseline / med : NAN;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "width");
      json_builder_add_int_value (builder, s->width);
      json_builder_set_member_name (builder, "runs");
      json_builder_add_int_value (builder, s->n_runs);
      json_builder_set_member_name (builder, "succeeded_runs");
      json_builder_add_int_value (builder, s->n_ok);
      json_builder_set_member_name (builder, "wall_ms");
      json_builder_begin_array (builder);
      for (guint j = 0; j < s->walls->len; j++)
        json_builder_add_int_value (builder,
                                    thousandths (g_array_index (s->walls, double, j)));
      json_builder_end_array (builder);
      add_ms_or_null (builder, "median_ms", med);
      add_ms_or_null (builder, "min_ms", minimum (s->walls));
      add_ms_or_null (builder, "max_ms", maximum (s->walls));
      add_double_or_null (builder, "speedup",
                          isnan (speedup) ? speedup : thousandths (speedup) / 1000.0);
      add_double_or_null (builder, "efficiency",
                          isnan (speedup) ? speedup : thousandths (speedup / s->width) / 1000.0);
      json_builder_set_member_name (builder, "rate_limited");
      json_builder_add_int_value (builder, s->n_429);
      add_double_or_null (builder, "cost_usd_per_run",
                          s->n_costs > 0 && s->n_costs == s->n_runs
                          ? s->cost_sum / s->n_costs : NAN);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "cost");
  if (bench->costs.n_runs > 0)
    {
      double discount = fj_prices_get_batch_discount (prices);
      double fork = bench->costs.fork / bench->costs.n_runs;
      double synthesis = bench->costs.synthesis / bench->costs.n_runs;

      json_builder_begin_object (builder);
      add_double_or_null (builder, "live_usd_per_run", fork + synthesis);
      add_double_or_null (builder, "batch_usd_per_run", fork * discount + synthesis);
      add_double_or_null (builder, "agents_usd_per_run", fork);
      add_double_or_null (builder, "synthesis_usd_per_run", synthesis);
      add_double_or_null (builder, "batch_discount", discount);
      json_builder_set_member_name (builder, "cache");
      json_builder_add_string_value (builder,
                                     fj_spec_get_cache (spec) == FJ_CACHE_MODE_SHARED_INPUT
                                     ? "shared-input" : "none");
      add_double_or_null (builder, "cache_saved_usd_per_run",
                          bench->costs.cache_saved / bench->costs.n_runs);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "best_width");
  if (best != NULL)
    json_builder_add_int_value (builder, best->width);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "recommended_width");
  if (pick != NULL)
    json_builder_add_int_value (builder, pick->width);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, TRUE);
  printf ("%s\n", text);
  fflush (stdout);
}

int
fj_cmd_bench (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjSpec) spec = NULL;
  g_autoptr(FjPrices) prices = NULL;
  g_autoptr(GArray) widths = NULL;
  g_autoptr(GArray) all = NULL;
  GOptionGroup *group;
  Bench bench = { 0 };
  const char *spec_path;
  const char *input;
  guint n_agents;
  guint sigint_id;
  double baseline = NAN;
  int status = FJ_EXIT_OK;
  const GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &bench.runs,
      "Runs per width (default 3)", "N" },
    { "widths", 'w', 0, G_OPTION_ARG_STRING, &bench.widths_text,
      "Widths (max_concurrent) to try, comma-separated (default 1,2,4,… up to the agent count)",
      "1,2,4,…" },
    { "simulate", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, (gpointer) simulate_cb,
      "Run against an in-process simulator, a fresh one for every run: --simulate (every agent "
      "succeeds) or --simulate=SCENARIO (a scenario file)", "[SCENARIO]" },
    { "api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &bench.api_key_file,
      "Read the API key from the first line of FILE", "FILE" },
    { "input", 'i', 0, G_OPTION_ARG_STRING, &bench.input,
      "The input every agent gets (default: the spec's \"input\")", "TEXT" },
    { "prices", 0, 0, G_OPTION_ARG_FILENAME, &bench.prices_path,
      "Prices per million tokens (default: $FORKJOIN_PRICES, else the built-in table)", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &bench.json,
      "Print one JSON document instead of the table", NULL },
    { NULL }
  };

  bench.runs = 3;
  g_mutex_init (&bench.pause_lock);

  context = g_option_context_new ("SPEC");
  g_option_context_set_summary (context,
    "Profile before parallelizing: runs SPEC at width 1 (sequentially) and\n"
    "at each width (the runner's max_concurrent), N times each, and prints\n"
    "per width the wall time (median, min, max), the speedup over width 1,\n"
    "the efficiency (speedup ÷ width), the 429s seen and the cost per run,\n"
    "then the smallest width within 10 % of the best median, and the cost\n"
    "per run live and as a Message Batches batch (the agents at the batch\n"
    "discount, the synthesis live), with what the prompt cache saved when\n"
    "the spec sets runner.cache.");
  g_option_context_set_description (context,
    "Credentials come from --api-key-file, ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN;\n"
    "--simulate needs none.  Try it on the shipped knee:\n"
    "  forkjoin-tool bench --simulate=data/scenarios/rate-limited.json \\\n"
    "      data/examples/bench-knee.json\n"
    "\n"
    "Exit status: 0 when every run was measured (failed runs included), 1 when a\n"
    "run could not be made, 2 bad usage, spec or credentials, 130 interrupted.");
  group = g_option_group_new (NULL, NULL, NULL, &bench, NULL);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);

  if (!fj_cli_parse_options (context, "bench", &argc, &argv))
    {
      status = FJ_EXIT_USAGE;
      goto out;
    }

  if (argc != 2)
    {
      if (argc < 2)
        fj_cli_printerr ("bench: no SPEC given (try “forkjoin-tool bench --help”)");
      else
        fj_cli_printerr ("bench: one SPEC at a time (got “%s” too)", argv[2]);
      status = FJ_EXIT_USAGE;
      goto out;
    }
  spec_path = argv[1];

  if (bench.runs < 1 || bench.runs > 1000)
    {
      fj_cli_printerr ("bench: --runs must be between 1 and 1000, not %d", bench.runs);
      status = FJ_EXIT_USAGE;
      goto out;
    }

  widths = g_array_new (FALSE, FALSE, sizeof (guint));
  if (bench.widths_text != NULL && !parse_widths (bench.widths_text, widths, &error))
    {
      fj_cli_printerr ("bench: %s", error->message);
      status = FJ_EXIT_USAGE;
      goto out;
    }

  spec = fj_cli_load_spec (spec_path, &error);
  if (spec == NULL)
    {
      fj_cli_print_problems (error->message);
      status = FJ_EXIT_USAGE;
      goto out;
    }

  /* Timing a batch means waiting on the provider's queue: the runs are
   * live, and the batch cost is derived from them. */
  if (fj_spec_get_mode (spec) == FJ_RUN_MODE_BATCH)
    {
      fj_spec_set_mode (spec, FJ_RUN_MODE_LIVE, NULL);
      if (!bench.json)
        printf ("%s: runner.mode is batch; bench times it live and prices the batch below\n",
                spec_path);
    }

  input = bench.input != NULL ? bench.input : fj_spec_get_input (spec);
  if (input == NULL)
    {
      fj_cli_printerr ("bench: %s has no \"input\": pass --input TEXT", spec_path);
      status = FJ_EXIT_USAGE;
      goto out;
    }

  prices = fj_cli_load_prices (bench.prices_path, &error);
  if (prices == NULL)
    {
      fj_cli_printerr ("%s", error->message);
      status = FJ_EXIT_USAGE;
      goto out;
    }

  /* Credentials and the scenario, before printing anything: what every
   * run will do first. */
  {
    g_autoptr(FjSimulator) simulator = NULL;
    g_autoptr(FjClient) client = fj_cli_create_client (bench.simulate, bench.api_key_file,
                                                       &simulator, &error);

    if (client == NULL)
      {
        fj_cli_print_problems (error->message);
        status = FJ_EXIT_USAGE;
        goto out;
      }
    if (simulator != NULL)
      fj_simulator_stop (simulator);
  }

  n_agents = g_list_model_get_n_items (fj_spec_get_agents (spec));
  if (widths->len == 0)
    default_widths (widths, MAX (n_agents, 1));
  normalize_widths (widths);

  all = g_array_new (FALSE, TRUE, sizeof (WidthStats));
  g_array_set_clear_func (all, (GDestroyNotify) width_stats_clear);

  bench.cancellable = g_cancellable_new ();
  bench.progress = fj_progress_wanted (FALSE);
  sigint_id = g_unix_signal_add (SIGINT, sigint_cb, &bench);

  if (!bench.json)
    {
      g_autofree char *width_list = NULL;
      g_autoptr(GString) list = g_string_new (NULL);

      for (guint i = 0; i < widths->len; i++)
        g_string_append_printf (list, "%s%u", i > 0 ? "," : "", g_array_index (widths, guint, i));
      width_list = g_string_free (g_steal_pointer (&list), FALSE);

      printf ("%s: %u agent%s, %d run%s per width, widths %s, against %s%s%s\n\n",
              spec_path, n_agents, n_agents == 1 ? "" : "s",
              bench.runs, bench.runs == 1 ? "" : "s", width_list,
              bench.simulate == NULL ? "the API" : "the simulator",
              bench.simulate != NULL && *bench.simulate != '\0' ? " with " : "",
              bench.simulate != NULL ? bench.simulate : "");
      print_header ();
      fflush (stdout);
    }

  for (guint i = 0; i < widths->len && !bench.interrupted; i++)
    {
      WidthStats *stats;

      g_array_set_size (all, all->len + 1);
      stats = &g_array_index (all, WidthStats, all->len - 1);
      stats->width = g_array_index (widths, guint, i);
      stats->walls = g_array_new (FALSE, FALSE, sizeof (double));

      for (int run = 0; run < bench.runs && !bench.interrupted; run++)
        {
          if (bench.progress)
            {
              fprintf (stderr, "\r\033[Kwidth %u: run %d of %d…",
                       stats->width, run + 1, bench.runs);
              fflush (stderr);
            }

          if (bench.simulate == NULL)
            wait_out_pause (&bench);

          if (!run_once (&bench, spec, input, prices, stats, &error))
            {
              if (bench.progress)
                fprintf (stderr, "\r\033[K");
              fj_cli_print_problems (error->message);
              /* Before the first run, a setup problem (credentials, the
               * scenario) is bad usage; later, a failure of this run. */
              status = (all->len == 1 && run == 0) ? FJ_EXIT_USAGE : FJ_EXIT_FAILED;
              g_clear_error (&error);
              goto done;
            }
        }

      if (bench.progress)
        {
          fprintf (stderr, "\r\033[K");
          fflush (stderr);
        }

      if (stats->width == 1)
        baseline = stats_median (stats);

      if (!bench.json && stats->walls->len > 0)
        print_row (stats, baseline);
    }

done:
  if (bench.progress)
    fprintf (stderr, "\r\033[K");

  g_source_remove (sigint_id);

  /* Drop a width that never completed a run (interrupted at once). */
  if (all->len > 0 && g_array_index (all, WidthStats, all->len - 1).walls->len == 0)
    g_array_set_size (all, all->len - 1);

  if (status == FJ_EXIT_USAGE)
    goto out;

  if (bench.json)
    print_json (spec, prices, spec_path, &bench, (const WidthStats *) (void *) all->data, all->len);
  else
    {
      print_summary ((const WidthStats *) (void *) all->data, all->len);
      print_costs (&bench.costs, spec, prices);
    }

  if (bench.interrupted)
    {
      fj_cli_printerr ("bench: interrupted; the figures above are for the runs that finished");
      status = FJ_EXIT_INTERRUPTED;
    }

out:
  g_clear_object (&bench.cancellable);
  g_clear_object (&bench.async_result);
  g_free (bench.simulate);
  g_free (bench.api_key_file);
  g_free (bench.prices_path);
  g_free (bench.input);
  g_free (bench.widths_text);
  g_mutex_clear (&bench.pause_lock);

  return status;
}
