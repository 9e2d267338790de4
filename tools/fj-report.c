/* fj-report.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-report.h"

#include "fj-cli.h"

#include <math.h>
#include <string.h>

#define EXCERPT_CHARS 160

const char *
fj_report_fork_join_status_nick (FjForkJoinStatus status)
{
  switch (status)
    {
    case FJ_FORK_JOIN_STATUS_COMPLETE: return "complete";
    case FJ_FORK_JOIN_STATUS_DEGRADED: return "degraded";
    case FJ_FORK_JOIN_STATUS_FAILED:   return "failed";
    default:                           return "unknown";
    }
}

const char *
fj_report_agent_status_nick (FjAgentStatus status)
{
  switch (status)
    {
    case FJ_AGENT_STATUS_PENDING:   return "pending";
    case FJ_AGENT_STATUS_RUNNING:   return "running";
    case FJ_AGENT_STATUS_SUCCESS:   return "success";
    case FJ_AGENT_STATUS_FAILED:    return "failed";
    case FJ_AGENT_STATUS_TIMED_OUT: return "timed_out";
    case FJ_AGENT_STATUS_CANCELLED: return "cancelled";
    case FJ_AGENT_STATUS_SKIPPED:   return "skipped";
    default:                        return "unknown";
    }
}

static gboolean
utf8_output (void)
{
  return g_get_charset (NULL);
}

/* The synthesis object of the JSON document (for its `plugin`), or NULL. */
static JsonObject *
synthesis_object (JsonNode *document)
{
  JsonObject *root = json_node_get_object (document);
  JsonNode *node = json_object_get_member (root, "synthesis");

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

static const char *object_get_string (JsonObject *object,
                                      const char *name);

/* The synthesis plugin's name: the spec's short one when known. */
static const char *
plugin_name (JsonNode              *document,
             const FjReportContext *context)
{
  JsonObject *synthesis = synthesis_object (document);

  if (synthesis == NULL)
    return NULL;
  if (context != NULL && context->synthesis_plugin != NULL)
    return context->synthesis_plugin;

  return object_get_string (synthesis, "plugin");
}

static const char *
object_get_string (JsonObject *object,
                   const char *name)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;

  node = json_object_get_member (object, name);
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static void
append_cost (GString *out,
             double   cost)
{
  if (cost >= 0.01 && isfinite (cost))
    g_string_append_printf (out, "$%.4f", cost);
  else if (cost >= 0.0 && isfinite (cost))
    g_string_append_printf (out, "$%.6f", cost);
  else
    g_string_append (out, "no price");
}

/* One line of at most @max_chars characters: whitespace runs become one
 * space, and "…" marks a cut. */
static char *
excerpt (const char *text,
         guint       max_chars)
{
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;
  guint n_chars = 0;
  const char *p;

  if (text == NULL)
    return g_string_free (out, FALSE);

  for (p = text; *p != '\0' && n_chars < max_chars; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        break;

      if (g_unichar_isspace (c))
        {
          space = out->len > 0;
          continue;
        }
      if (g_unichar_iscntrl (c))
        continue;

      if (space)
        {
          g_string_append_c (out, ' ');
          n_chars++;
          space = FALSE;
        }
      g_string_append_unichar (out, c);
      n_chars++;
    }

  /* Anything left but trailing space means the text was cut. */
  while (*p != '\0' && g_ascii_isspace (*p))
    p++;
  if (*p != '\0')
    g_string_append (out, utf8_output () ? "…" : "...");

  return g_string_free (out, FALSE);
}

static guint
count_successes (GPtrArray *results)
{
  guint n = 0;

  for (guint i = 0; i < results->len; i++)
    if (fj_agent_result_get_status (g_ptr_array_index (results, i)) == FJ_AGENT_STATUS_SUCCESS)
      n++;

  return n;
}

static gboolean
is_kept (const FjReportContext *context,
         FjAgentResult         *result)
{
  return context != NULL && context->kept != NULL &&
         g_hash_table_contains (context->kept, fj_agent_result_get_agent_name (result));
}

static const char *
headline_status (FjForkJoinResult      *result,
                 const FjReportContext *context)
{
  if (context != NULL && context->interrupted)
    return "interrupted";

  return fj_report_fork_join_status_nick (fj_fork_join_result_get_status (result));
}

static const char *
agent_error_text (FjAgentResult *result)
{
  const GError *error = fj_agent_result_get_error (result);

  if (error != NULL)
    return error->message;

  switch (fj_agent_result_get_status (result))
    {
    case FJ_AGENT_STATUS_SKIPPED:   return "never started: the run ended first";
    case FJ_AGENT_STATUS_CANCELLED: return "cancelled";
    case FJ_AGENT_STATUS_PENDING:   return "not started";
    case FJ_AGENT_STATUS_RUNNING:   return "still running";
    default:                        return NULL;
    }
}

static void
append_totals (GString          *out,
               FjForkJoinResult *result)
{
  const FjUsage *usage = fj_fork_join_result_get_usage (result);

  g_string_append_printf (out, "%.2f s, %" G_GINT64_FORMAT " input / %" G_GINT64_FORMAT
                          " output tokens, ",
                          fj_fork_join_result_get_wall_time (result),
                          fj_usage_get_total_input (usage), usage->output_tokens);
  append_cost (out, fj_fork_join_result_get_cost (result));
}

/* How the run ran beyond the usual, one line each (for the text and
 * Markdown reports, the line's start given as @bullet): the batches of a
 * batch-mode run and what the prompt cache did when it was asked for.
 * Read from @document, fj_fork_join_result_to_json()'s. */
static void
append_modes (GString    *out,
              JsonNode   *document,
              const char *bullet)
{
  JsonObject *root = json_node_get_object (document);
  JsonArray *batch_ids = json_object_has_member (root, "batch_ids")
                         ? json_object_get_array_member (root, "batch_ids") : NULL;
  JsonObject *cache = json_object_has_member (root, "cache")
                      ? json_object_get_object_member (root, "cache") : NULL;

  if (batch_ids != NULL && json_array_get_length (batch_ids) > 0)
    {
      g_string_append_printf (out, "%sRan as Message Batches batch%s ", bullet,
                              json_array_get_length (batch_ids) > 1 ? "es" : "");
      for (guint i = 0; i < json_array_get_length (batch_ids); i++)
        g_string_append_printf (out, "%s%s", i > 0 ? ", " : "",
                                json_array_get_string_element (batch_ids, i));
      g_string_append (out, " (the agents at the batch price; the synthesis live).\n");
    }

  if (cache == NULL || g_strcmp0 (json_object_get_string_member (cache, "mode"), "none") == 0)
    return;

  if (!json_object_get_null_member (cache, "note"))
    {
      g_string_append_printf (out, "%sPrompt cache: %s.\n", bullet,
                              json_object_get_string_member (cache, "note"));
      return;
    }

  g_string_append_printf (out, "%sPrompt cache: %" G_GINT64_FORMAT " input tokens read from it, %"
                          G_GINT64_FORMAT " written, %.0f %% of the input read",
                          bullet,
                          json_object_get_int_member (cache, "read_tokens"),
                          json_object_get_int_member (cache, "write_tokens"),
                          100.0 * json_object_get_double_member (cache, "hit_ratio"));
  if (!json_object_get_null_member (cache, "saved_usd"))
    g_string_append_printf (out, "; $%.6f saved against the same run without it",
                            json_object_get_double_member (cache, "saved_usd"));
  g_string_append (out, ".\n");
}

/* What running the agents at once gained: the fork's wall time (the run's
 * less its synthesis) against the sum of the agents' durations, which is
 * about what they would take one after another.  Only agents that ran in
 * this run count; with fewer than two there is nothing to compare. */
static void
append_parallel_gain (GString                *out,
                      FjForkJoinResult       *result,
                      const FjReportContext  *context)
{
  GPtrArray *results = fj_fork_join_result_get_results (result);
  FjAgentResult *synthesis = fj_fork_join_result_get_synthesis_result (result);
  double wall = fj_fork_join_result_get_wall_time (result);
  double sum = 0;
  guint n_ran = 0;

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *agent = g_ptr_array_index (results, i);
      double duration = fj_agent_result_get_duration (agent);

      if (is_kept (context, agent) || duration <= 0)
        continue;
      sum += duration;
      n_ran++;
    }

  if (synthesis != NULL)
    wall -= fj_agent_result_get_duration (synthesis);
  if (n_ran < 2 || wall <= 0)
    return;

  g_string_append_printf (out, "  The %u agents ran in %.2f s, against %.2f s one after another (%.1f %s faster).\n",
                          n_ran, wall, sum, sum / wall, utf8_output () ? "×" : "x");
}

/* An agent's name in the text report, with its client's when the spec
 * has several ("drafter [local]"). */
static char *
agent_label (FjAgentResult *agent)
{
  const char *name = fj_agent_result_get_agent_name (agent);
  const char *client = fj_cli_get_agent_client (name);

  if (client != NULL)
    return g_strdup_printf ("%s [%s]", name, client);

  return g_strdup (name);
}

char *
fj_report_format_text (FjForkJoinResult      *result,
                       const FjReportContext *context)
{
  g_autoptr(JsonNode) document = NULL;
  GString *out = g_string_new (NULL);
  GPtrArray *results;
  FjAgentResult *synthesis;
  const char *plugin;
  const GError *error;
  const char *output;
  gboolean utf8 = utf8_output ();
  guint name_width = 5;
  guint n_missing = 0;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (result), NULL);

  results = fj_fork_join_result_get_results (result);
  document = fj_fork_join_result_to_json (result);
  plugin = plugin_name (document, context);
  synthesis = fj_fork_join_result_get_synthesis_result (result);
  error = fj_fork_join_result_get_error (result);
  output = fj_fork_join_result_get_output (result);

  for (guint i = 0; i < results->len; i++)
    {
      g_autofree char *name = agent_label (g_ptr_array_index (results, i));

      name_width = MAX (name_width, MIN (32, (guint) g_utf8_strlen (name, -1)));
    }

  g_string_append_printf (out, "%s: %u of %u agents succeeded in ",
                          headline_status (result, context),
                          count_successes (results), results->len);
  append_totals (out, result);
  g_string_append (out, "\n");
  append_modes (out, document, "");
  if (context != NULL && context->interrupted)
    g_string_append (out, "The run was interrupted; these are the partial results.\n");
  g_string_append (out, "\n");

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *agent = g_ptr_array_index (results, i);
      FjAgentStatus status = fj_agent_result_get_status (agent);
      gboolean ok = status == FJ_AGENT_STATUS_SUCCESS;
      g_autofree char *name = agent_label (agent);
      guint attempts = fj_agent_result_get_attempts (agent);
      g_autofree char *status_text = NULL;
      g_autofree char *text = NULL;
      int pad;

      status_text = g_strdup_printf ("%s%s", fj_report_agent_status_nick (status),
                                     is_kept (context, agent) ? " (kept)" : "");
      pad = (int) name_width - (int) g_utf8_strlen (name, -1);
      g_string_append_printf (out, "  %s %s%*s  %-16s %7.2f s  %2u attempt%s  %6" G_GINT64_FORMAT " tokens out  ",
                              ok ? (utf8 ? "✓" : "+") : (utf8 ? "✗" : "x"),
                              name, MAX (pad, 0), "",
                              status_text,
                              fj_agent_result_get_duration (agent),
                              attempts, attempts == 1 ? " " : "s",
                              fj_agent_result_get_usage (agent)->output_tokens);
      append_cost (out, fj_agent_result_get_cost (agent));
      g_string_append (out, "\n");

      if (ok)
        {
          text = excerpt (fj_agent_result_get_output (agent), EXCERPT_CHARS);
          g_string_append_printf (out, "      %s\n", text);
        }
      else
        {
          const char *partial = fj_agent_result_get_partial_output (agent);
          const char *why = agent_error_text (agent);

          n_missing++;
          if (why != NULL)
            {
              text = excerpt (why, EXCERPT_CHARS * 2);
              g_string_append_printf (out, "      %s\n", text);
            }
          if (partial != NULL && *partial != '\0')
            {
              g_autofree char *partial_text = excerpt (partial, EXCERPT_CHARS);

              g_string_append_printf (out, "      partial: %s\n", partial_text);
            }
        }
    }

  append_parallel_gain (out, result, context);
  g_string_append (out, "\n");

  if (plugin != NULL)
    {
      g_string_append_printf (out, "Synthesis (%s)", plugin);
      if (synthesis != NULL)
        {
          g_string_append_printf (out, ": %s, %.2f s, ",
                                  fj_report_agent_status_nick (fj_agent_result_get_status (synthesis)),
                                  fj_agent_result_get_duration (synthesis));
          append_cost (out, fj_agent_result_get_cost (synthesis));
        }
      g_string_append (out, "\n");

      if (output != NULL)
        {
          g_string_append (out, output);
          if (!g_str_has_suffix (output, "\n"))
            g_string_append (out, "\n");
        }
      else if (error != NULL)
        {
          g_string_append_printf (out, "No synthesis: %s\n", error->message);
        }
    }
  else if (error != NULL)
    {
      g_string_append_printf (out, "No synthesis: %s\n", error->message);
    }
  else if (output != NULL)
    {
      g_string_append (out, output);
      if (!g_str_has_suffix (output, "\n"))
        g_string_append (out, "\n");
    }
  else
    {
      g_string_append (out, "No synthesis step.\n");
    }

  if (n_missing > 0)
    {
      g_string_append (out, "\nMissing perspectives:\n");
      for (guint i = 0; i < results->len; i++)
        {
          FjAgentResult *agent = g_ptr_array_index (results, i);
          FjAgentStatus status = fj_agent_result_get_status (agent);
          const GError *agent_error = fj_agent_result_get_error (agent);
          gboolean show_code;

          if (status == FJ_AGENT_STATUS_SUCCESS)
            continue;

          show_code = agent_error != NULL &&
                      strcmp (fj_error_get_code_nick (agent_error),
                              fj_report_agent_status_nick (status)) != 0;
          g_string_append_printf (out, "  - %s (%s%s%s)\n",
                                  fj_agent_result_get_agent_name (agent),
                                  fj_report_agent_status_nick (status),
                                  show_code ? ": " : "",
                                  show_code ? fj_error_get_code_nick (agent_error) : "");
        }
    }

  return g_string_free (out, FALSE);
}

/* Markdown table cells: one line, pipes escaped. */
static char *
md_cell (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text != NULL ? text : ""; *p != '\0'; p++)
    {
      if (*p == '|')
        g_string_append (out, "\\|");
      else if (*p == '\n' || *p == '\r' || *p == '\t')
        g_string_append_c (out, ' ');
      else
        g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

static void
append_blockquote (GString    *out,
                   const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    g_string_append_printf (out, ">%s%s\n", *lines[i] != '\0' ? " " : "", lines[i]);
}

char *
fj_report_format_markdown (FjForkJoinResult      *result,
                           const FjReportContext *context)
{
  g_autoptr(JsonNode) document = NULL;
  g_autofree char *input = NULL;
  GString *out = g_string_new (NULL);
  GPtrArray *results;
  FjAgentResult *synthesis;
  const char *plugin;
  const char *output;
  const GError *error;
  guint n_missing = 0;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (result), NULL);

  results = fj_fork_join_result_get_results (result);
  document = fj_fork_join_result_to_json (result);
  plugin = plugin_name (document, context);
  synthesis = fj_fork_join_result_get_synthesis_result (result);
  output = fj_fork_join_result_get_output (result);
  error = fj_fork_join_result_get_error (result);

  g_string_append_printf (out, "# Fork-join report: %s\n\n", headline_status (result, context));
  if (context != NULL && context->interrupted)
    g_string_append (out, "*The run was interrupted; these are the partial results.*\n\n");

  input = md_cell (fj_fork_join_result_get_input (result));
  g_string_append_printf (out, "- **Input:** %s\n", input);
  if (context != NULL && context->spec_path != NULL)
    {
      g_autofree char *path = md_cell (context->spec_path);

      g_string_append_printf (out, "- **Spec:** `%s`", path);
      if (context->spec_sha256 != NULL)
        g_string_append_printf (out, " (SHA-256 `%.12s…`)", context->spec_sha256);
      g_string_append (out, "\n");
    }
  g_string_append_printf (out, "- **Agents:** %u of %u succeeded\n",
                          count_successes (results), results->len);
  g_string_append (out, "- **Totals:** ");
  append_totals (out, result);
  g_string_append (out, "\n");
  append_modes (out, document, "- ");
  if (error != NULL)
    {
      g_autofree char *message = md_cell (error->message);

      g_string_append_printf (out, "- **Error:** `%s`: %s\n", fj_error_get_code_nick (error), message);
    }

  g_string_append (out,
                   "\n## Agents\n\n"
                   "| Agent | Status | Duration | Attempts | Input tokens | Output tokens | Cost |\n"
                   "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *agent = g_ptr_array_index (results, i);
      const FjUsage *usage = fj_agent_result_get_usage (agent);
      g_autofree char *name = md_cell (fj_agent_result_get_agent_name (agent));

      g_string_append_printf (out, "| %s | %s%s | %.2f s | %u | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT " | ",
                              name,
                              fj_report_agent_status_nick (fj_agent_result_get_status (agent)),
                              is_kept (context, agent) ? " (kept)" : "",
                              fj_agent_result_get_duration (agent),
                              fj_agent_result_get_attempts (agent),
                              fj_usage_get_total_input (usage), usage->output_tokens);
      append_cost (out, fj_agent_result_get_cost (agent));
      g_string_append (out, " |\n");
    }

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *agent = g_ptr_array_index (results, i);
      const char *agent_output = fj_agent_result_get_output (agent);
      const char *partial = fj_agent_result_get_partial_output (agent);

      g_string_append_printf (out, "\n### %s\n\n", fj_agent_result_get_agent_name (agent));

      if (fj_agent_result_get_status (agent) == FJ_AGENT_STATUS_SUCCESS)
        {
          g_string_append (out, agent_output != NULL ? agent_output : "");
          g_string_append (out, "\n");
        }
      else
        {
          const GError *agent_error = fj_agent_result_get_error (agent);
          const char *why = agent_error_text (agent);

          n_missing++;
          g_string_append_printf (out, "**%s**",
                                  fj_report_agent_status_nick (fj_agent_result_get_status (agent)));
          if (agent_error != NULL)
            g_string_append_printf (out, " (`%s`)", fj_error_get_code_nick (agent_error));
          if (why != NULL)
            g_string_append_printf (out, ": %s", why);
          g_string_append (out, "\n");
          if (partial != NULL && *partial != '\0')
            {
              g_string_append (out, "\nPartial output:\n\n");
              append_blockquote (out, partial);
            }
        }
    }

  g_string_append (out, "\n## Synthesis");
  if (plugin != NULL)
    g_string_append_printf (out, " (%s)", plugin);
  g_string_append (out, "\n\n");
  if (synthesis != NULL)
    {
      g_string_append_printf (out, "*%s, %.2f s, ",
                              fj_report_agent_status_nick (fj_agent_result_get_status (synthesis)),
                              fj_agent_result_get_duration (synthesis));
      append_cost (out, fj_agent_result_get_cost (synthesis));
      g_string_append (out, "*\n\n");
    }
  if (output != NULL)
    {
      g_string_append (out, output);
      g_string_append (out, "\n");
    }
  else if (error != NULL)
    g_string_append_printf (out, "No synthesis: %s\n", error->message);
  else
    g_string_append (out, "No synthesis step.\n");

  if (n_missing > 0)
    {
      g_string_append (out, "\n## Missing perspectives\n\n");
      for (guint i = 0; i < results->len; i++)
        {
          FjAgentResult *agent = g_ptr_array_index (results, i);
          FjAgentStatus status = fj_agent_result_get_status (agent);
          const char *why = agent_error_text (agent);

          if (status == FJ_AGENT_STATUS_SUCCESS)
            continue;
          g_string_append_printf (out, "- **%s**: %s%s%s\n",
                                  fj_agent_result_get_agent_name (agent),
                                  fj_report_agent_status_nick (status),
                                  why != NULL ? ": " : "", why != NULL ? why : "");
        }
    }

  return g_string_free (out, FALSE);
}

/* An agent's object of the document: the library's, and with several
 * clients which one it sent with (null: the run's own). */
static JsonNode *
agent_to_json (FjAgentResult *agent)
{
  JsonNode *node = fj_agent_result_to_json (agent);

  if (fj_cli_has_agent_clients ())
    {
      const char *client = fj_cli_get_agent_client (fj_agent_result_get_agent_name (agent));
      JsonObject *object = json_node_get_object (node);

      if (client != NULL)
        json_object_set_string_member (object, "client", client);
      else
        json_object_set_null_member (object, "client");
    }

  return node;
}

/* The document, with its agents or (@with_agents FALSE) with `agents` an
 * empty array for fj_report_write_json() to fill in. */
static JsonNode *
report_to_json (FjForkJoinResult      *result,
                const FjReportContext *context,
                gboolean               with_agents)
{
  g_autoptr(JsonNode) base = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *base_object;
  JsonObject *object;
  JsonNode *node;
  gboolean spec_done = FALSE;

  base = fj_fork_join_result_to_json_outline (result);
  base_object = json_node_get_object (base);
  members = json_object_get_members (base_object);

  /* Rebuilt in order, so `spec` comes right after `input` as DESIGN.md
   * lists the fields; the members are shared with @base, which goes. */
  object = json_object_new ();
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (strcmp (name, "spec") == 0)
        continue;

      json_object_set_member (object, name,
                              json_node_ref (json_object_get_member (base_object, name)));

      if (strcmp (name, "agents") == 0 && with_agents)
        {
          JsonArray *agents = json_object_get_array_member (object, name);
          GPtrArray *results = fj_fork_join_result_get_results (result);

          for (guint i = 0; i < results->len; i++)
            json_array_add_element (agents, agent_to_json (g_ptr_array_index (results, i)));
        }

      if (strcmp (name, "synthesis") == 0 && context != NULL && context->synthesis_plugin != NULL)
        {
          JsonNode *synthesis = json_object_get_member (object, name);

          if (JSON_NODE_HOLDS_OBJECT (synthesis))
            json_object_set_string_member (json_node_get_object (synthesis), "plugin",
                                           context->synthesis_plugin);
        }

      if (strcmp (name, "input") == 0 && !spec_done)
        {
          JsonObject *spec = json_object_new ();

          if (context != NULL && context->spec_path != NULL)
            json_object_set_string_member (spec, "path", context->spec_path);
          else
            json_object_set_null_member (spec, "path");
          if (context != NULL && context->spec_sha256 != NULL)
            json_object_set_string_member (spec, "sha256", context->spec_sha256);
          else
            json_object_set_null_member (spec, "sha256");
          json_object_set_object_member (object, "spec", spec);
          spec_done = TRUE;
        }
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;
}

JsonNode *
fj_report_to_json (FjForkJoinResult      *result,
                   const FjReportContext *context)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (result), NULL);

  return report_to_json (result, context, TRUE);
}

char *
fj_report_format_json (FjForkJoinResult      *result,
                       const FjReportContext *context)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  GString *text;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (result), NULL);

  node = fj_report_to_json (result, context);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  g_clear_pointer (&node, json_node_unref);

  text = g_string_sized_new (4096);
  json_generator_to_gstring (generator, text);
  g_clear_object (&generator);
  g_string_append_c (text, '\n');

  return g_string_free (text, FALSE);
}

#define AGENTS_MARKER "fj-report-agents-go-here"

static JsonGenerator *
new_pretty_generator (void)
{
  JsonGenerator *generator = json_generator_new ();

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  return generator;
}

/* Writes @text with @indent after each line break. Generated JSON has no
 * line break inside a string. */
static void
write_indented (FILE       *out,
                const char *text,
                gsize       length,
                const char *indent,
                gsize       indent_length)
{
  const char *end = text + length;

  while (text < end)
    {
      const char *newline = memchr (text, '\n', end - text);
      const char *stop = newline != NULL ? newline + 1 : end;

      fwrite (text, 1, stop - text, out);
      if (newline != NULL && stop < end)
        fwrite (indent, 1, indent_length, out);
      text = stop;
    }
}

gboolean
fj_report_write_json (FjForkJoinResult      *result,
                      const FjReportContext *context,
                      FILE                  *out)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) generator = new_pretty_generator ();
  g_autoptr(GString) text = g_string_new (NULL);
  GPtrArray *results;
  JsonObject *object;
  JsonArray *marker;
  const char *at;
  const char *line;
  gsize marker_length = strlen ("\"" AGENTS_MARKER "\"");
  gsize indent_length;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (result), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  results = fj_fork_join_result_get_results (result);

  /* The document without its agents, with a marker where they go. */
  node = report_to_json (result, context, FALSE);
  object = json_node_get_object (node);
  marker = json_array_new ();
  json_array_add_string_element (marker, AGENTS_MARKER);
  json_object_set_array_member (object, "agents", marker);
  json_generator_set_root (generator, node);
  json_generator_to_gstring (generator, text);
  g_string_append_c (text, '\n');

  at = strstr (text->str, "\"" AGENTS_MARKER "\"\n");
  for (line = at; at != NULL && line > text->str && line[-1] == ' '; line--)
    ;
  if (at == NULL || results->len == 0 || line[-1] != '\n')
    {
      /* No agents: nothing worth streaming. */
      g_clear_pointer (&node, json_node_unref);
      node = report_to_json (result, context, TRUE);
      g_string_truncate (text, 0);
      json_generator_set_root (generator, node);
      json_generator_to_gstring (generator, text);
      g_string_append_c (text, '\n');
      fwrite (text->str, 1, text->len, out);
      return fflush (out) == 0 && !ferror (out);
    }
  indent_length = at - line;

  /* Each agent made, written and dropped in turn: ten thousand of them
   * are never one tree. */
  fwrite (text->str, 1, at - text->str, out);
  for (guint i = 0; i < results->len; i++)
    {
      g_autoptr(JsonNode) agent_node = agent_to_json (g_ptr_array_index (results, i));
      g_autoptr(GString) agent = g_string_new (NULL);

      json_generator_set_root (generator, agent_node);
      json_generator_to_gstring (generator, agent);
      if (i > 0)
        {
          fputs (",\n", out);
          fwrite (line, 1, indent_length, out);
        }
      write_indented (out, agent->str, agent->len, line, indent_length);
    }
  fputs (at + marker_length, out);

  return fflush (out) == 0 && !ferror (out);
}
