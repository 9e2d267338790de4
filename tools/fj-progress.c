/* fj-progress.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fj-report.h"

#define REDRAW_INTERVAL_MS 100
#define BAR_WIDTH 24

typedef struct
{
  char          *name;
  FjAgentStatus  status;
  gboolean       kept;
  gint64         started_us;   /* 0 until started */
  double         duration;     /* once settled */
  gint64         tokens;       /* output tokens: deltas so far, the usage once settled */
} AgentLine;

struct _FjProgress
{
  FjForkJoinTask *task;
  FjAgentRunner  *runner;
  GArray         *lines;          /* AgentLine */
  GHashTable     *by_name;        /* name → index + 1 */

  gint64          start_us;
  gint64          synthesis_start_us;
  gint64          synthesis_end_us;
  guint           n_drawn;        /* lines on screen from the last draw */
  guint           frame;
  guint           timeout_id;
  gboolean        utf8;
  gboolean        colour;

  gulong          started_id;
  gulong          delta_id;
  gulong          finished_id;
  gulong          synthesis_started_id;
  gulong          synthesis_finished_id;
};

static const char * const spinner_utf8[] = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏" };
static const char * const spinner_ascii[] = { "|", "/", "-", "\\" };

gboolean
fj_progress_wanted (gboolean events_on_stdout)
{
  const char *term = g_getenv ("TERM");

  if (!isatty (STDERR_FILENO))
    return FALSE;
  if (term != NULL && strcmp (term, "dumb") == 0)
    return FALSE;
  if (events_on_stdout && isatty (STDOUT_FILENO))
    return FALSE;

  return TRUE;
}

static void
agent_line_clear (gpointer data)
{
  AgentLine *line = data;

  g_clear_pointer (&line->name, g_free);
}

static AgentLine *
lookup (FjProgress    *self,
        FjAgentResult *result)
{
  const char *name = fj_agent_result_get_agent_name (result);
  guint index = GPOINTER_TO_UINT (name != NULL ? g_hash_table_lookup (self->by_name, name) : NULL);
  AgentLine *line;

  if (index == 0)
    {
      index = fj_agent_result_get_index (result) + 1;
      if (index > self->lines->len)
        return NULL;
    }

  line = &g_array_index (self->lines, AgentLine, index - 1);
  return line->kept ? NULL : line;
}

static void
agent_started_cb (FjAgentRunner *runner,
                  FjAgentResult *result,
                  gpointer       user_data)
{
  FjProgress *self = user_data;
  AgentLine *line = lookup (self, result);

  if (line == NULL)
    return;

  line->status = FJ_AGENT_STATUS_RUNNING;
  line->started_us = g_get_monotonic_time ();
}

static void
agent_delta_cb (FjAgentRunner *runner,
                FjAgentResult *result,
                const char    *text,
                gpointer       user_data)
{
  FjProgress *self = user_data;
  AgentLine *line = lookup (self, result);

  if (line != NULL)
    line->tokens++;
}

static void
agent_finished_cb (FjAgentRunner *runner,
                   FjAgentResult *result,
                   gpointer       user_data)
{
  FjProgress *self = user_data;
  AgentLine *line = lookup (self, result);
  gint64 output_tokens;

  if (line == NULL)
    return;

  line->status = fj_agent_result_get_status (result);
  line->duration = fj_agent_result_get_duration (result);
  output_tokens = fj_agent_result_get_usage (result)->output_tokens;
  if (output_tokens > 0)
    line->tokens = output_tokens;
}

static void
synthesis_started_cb (FjForkJoinTask *task,
                      gpointer        user_data)
{
  FjProgress *self = user_data;

  self->synthesis_start_us = g_get_monotonic_time ();
}

static void
synthesis_finished_cb (FjForkJoinTask *task,
                       gpointer        user_data)
{
  FjProgress *self = user_data;

  self->synthesis_end_us = g_get_monotonic_time ();
}

static void
terminal_size (guint *columns,
               guint *rows)
{
  struct winsize size;

  *columns = 80;
  *rows = 24;
  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0)
    {
      if (size.ws_col > 0)
        *columns = size.ws_col;
      if (size.ws_row > 0)
        *rows = size.ws_row;
    }
}

static gboolean
settled (FjAgentStatus status)
{
  return status != FJ_AGENT_STATUS_PENDING && status != FJ_AGENT_STATUS_RUNNING;
}

static const char *
symbol (FjProgress    *self,
        FjAgentStatus  status)
{
  switch (status)
    {
    case FJ_AGENT_STATUS_PENDING:
      return self->utf8 ? "·" : ".";
    case FJ_AGENT_STATUS_RUNNING:
      if (self->utf8)
        return spinner_utf8[self->frame % G_N_ELEMENTS (spinner_utf8)];
      return spinner_ascii[self->frame % G_N_ELEMENTS (spinner_ascii)];
    case FJ_AGENT_STATUS_SUCCESS:
      return self->utf8 ? "✓" : "+";
    default:
      return self->utf8 ? "✗" : "x";
    }
}

static const char *
symbol_colour (FjAgentStatus status)
{
  switch (status)
    {
    case FJ_AGENT_STATUS_SUCCESS: return "\033[32m";
    case FJ_AGENT_STATUS_RUNNING: return "\033[36m";
    case FJ_AGENT_STATUS_PENDING: return "\033[2m";
    default:                      return "\033[31m";
    }
}

/* Appends @text cut to @columns characters (the terminal would wrap a
 * longer one, and the cursor-up count would be wrong). */
static void
append_cut (GString    *out,
            const char *text,
            guint       columns)
{
  glong n_chars = g_utf8_strlen (text, -1);

  if ((guint) n_chars < columns)
    g_string_append (out, text);
  else
    g_string_append_len (out, text, g_utf8_offset_to_pointer (text, columns - 1) - text);
}

static void
append_line (FjProgress    *self,
             GString       *out,
             FjAgentStatus  status,
             const char    *text,
             guint          columns)
{
  const char *sym = symbol (self, status);

  g_string_append (out, "\r\033[2K");
  if (self->colour)
    g_string_append_printf (out, "%s%s\033[0m ", symbol_colour (status), sym);
  else
    g_string_append_printf (out, "%s ", sym);
  append_cut (out, text, columns > 3 ? columns - 3 : 1);
  g_string_append_c (out, '\n');
}

static void
append_agent (FjProgress *self,
              GString    *out,
              AgentLine  *line,
              guint       name_width,
              gint64      now_us,
              guint       columns)
{
  g_autofree char *text = NULL;
  char elapsed[32] = "";
  const char *status;
  int pad = (int) name_width - (int) g_utf8_strlen (line->name, -1);

  if (line->kept)
    status = "kept";
  else
    status = fj_report_agent_status_nick (line->status);

  if (line->status == FJ_AGENT_STATUS_RUNNING && line->started_us > 0)
    g_snprintf (elapsed, sizeof elapsed, "%6.1f s", (now_us - line->started_us) / 1e6);
  else if (settled (line->status) && !line->kept)
    g_snprintf (elapsed, sizeof elapsed, "%6.1f s", line->duration);

  text = g_strdup_printf ("%s%*s  %-10s %8s %7" G_GINT64_FORMAT " tokens",
                          line->name, MAX (pad, 0), "", status, elapsed, line->tokens);
  append_line (self, out, line->status, text, columns);
}

static void
draw (FjProgress *self)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree gboolean *shown = NULL;
  gint64 now_us = g_get_monotonic_time ();
  guint columns, rows, max_agents;
  guint n_settled = 0, n_running = 0, n_pending = 0, n_succeeded = 0, n_shown = 0;
  guint name_width = 9;
  guint n_lines = 0;
  guint filled;
  GString *bar;

  terminal_size (&columns, &rows);

  for (guint i = 0; i < self->lines->len; i++)
    {
      AgentLine *line = &g_array_index (self->lines, AgentLine, i);

      name_width = MAX (name_width, MIN (28, (guint) g_utf8_strlen (line->name, -1)));
      if (line->status == FJ_AGENT_STATUS_RUNNING)
        n_running++;
      else if (line->status == FJ_AGENT_STATUS_PENDING)
        n_pending++;
      else
        n_settled++;
      if (line->status == FJ_AGENT_STATUS_SUCCESS)
        n_succeeded++;
    }

  /* Leave room for the bar, the synthesis and a "more" line; with more
   * agents than that, show the running ones first, then queued ones. */
  max_agents = rows > 6 ? rows - 4 : 2;
  shown = g_new0 (gboolean, self->lines->len);
  if (self->lines->len <= max_agents)
    {
      for (guint i = 0; i < self->lines->len; i++)
        shown[i] = TRUE;
      n_shown = self->lines->len;
    }
  else
    {
      for (guint pass = 0; pass < 3 && n_shown < max_agents - 1; pass++)
        for (guint i = 0; i < self->lines->len && n_shown < max_agents - 1; i++)
          {
            AgentLine *line = &g_array_index (self->lines, AgentLine, i);
            gboolean want = (pass == 0 && line->status == FJ_AGENT_STATUS_RUNNING) ||
                            (pass == 1 && line->status == FJ_AGENT_STATUS_PENDING) ||
                            (pass == 2 && settled (line->status));

            if (want && !shown[i])
              {
                shown[i] = TRUE;
                n_shown++;
              }
          }
    }

  if (self->n_drawn > 0)
    g_string_append_printf (out, "\033[%uA", self->n_drawn);

  for (guint i = 0; i < self->lines->len; i++)
    if (shown[i])
      {
        append_agent (self, out, &g_array_index (self->lines, AgentLine, i), name_width, now_us, columns);
        n_lines++;
      }

  if (n_shown < self->lines->len)
    {
      g_autofree char *more = g_strdup_printf ("%u more agents not shown", self->lines->len - n_shown);

      append_line (self, out, FJ_AGENT_STATUS_PENDING, more, columns);
      n_lines++;
    }

  if (self->synthesis_start_us > 0)
    {
      g_autofree char *text = NULL;
      gboolean done = self->synthesis_end_us > 0;
      double elapsed = ((done ? self->synthesis_end_us : now_us) - self->synthesis_start_us) / 1e6;
      int pad = (int) name_width - (int) strlen ("synthesis");

      text = g_strdup_printf ("synthesis%*s  %-10s %6.1f s", MAX (pad, 0), "",
                              done ? "finished" : "running", elapsed);
      append_line (self, out, done ? FJ_AGENT_STATUS_SUCCESS : FJ_AGENT_STATUS_RUNNING, text, columns);
      n_lines++;
    }

  bar = g_string_new ("[");
  filled = self->lines->len > 0 ? (n_settled * BAR_WIDTH) / self->lines->len : BAR_WIDTH;
  for (guint i = 0; i < BAR_WIDTH; i++)
    g_string_append (bar, i < filled ? (self->utf8 ? "█" : "#") : (self->utf8 ? "░" : "-"));
  g_string_append_printf (bar, "] %u/%u settled, %u succeeded, %u running, %u queued  %.1f s",
                          n_settled, self->lines->len, n_succeeded, n_running, n_pending,
                          (now_us - self->start_us) / 1e6);
  g_string_append (out, "\r\033[2K");
  append_cut (out, bar->str, columns);
  g_string_append_c (out, '\n');
  g_string_free (bar, TRUE);
  n_lines++;

  /* Fewer lines than last time: clear what is left below. */
  if (n_lines < self->n_drawn)
    g_string_append (out, "\033[J");

  self->n_drawn = n_lines;
  self->frame++;

  fwrite (out->str, 1, out->len, stderr);
  fflush (stderr);
}

static gboolean
redraw_cb (gpointer user_data)
{
  FjProgress *self = user_data;

  draw (self);
  return G_SOURCE_CONTINUE;
}

FjProgress *
fj_progress_new (FjForkJoinTask *task,
                 GListModel     *agents,
                 GHashTable     *kept)
{
  FjProgress *self;
  guint n_agents;
  const char *term = g_getenv ("TERM");

  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (task), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (agents), NULL);

  self = g_new0 (FjProgress, 1);
  self->task = g_object_ref (task);
  self->runner = g_object_ref (fj_fork_join_task_get_runner (task));
  self->lines = g_array_new (FALSE, TRUE, sizeof (AgentLine));
  g_array_set_clear_func (self->lines, agent_line_clear);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->utf8 = g_get_charset (NULL);
  self->colour = g_getenv ("NO_COLOR") == NULL && term != NULL && *term != '\0';

  n_agents = g_list_model_get_n_items (agents);
  for (guint i = 0; i < n_agents; i++)
    {
      g_autoptr(FjAgent) agent = g_list_model_get_item (agents, i);
      AgentLine line = { 0, };

      line.name = g_strdup (fj_agent_get_name (agent));
      line.status = FJ_AGENT_STATUS_PENDING;
      if (kept != NULL && g_hash_table_contains (kept, line.name))
        {
          line.kept = TRUE;
          line.status = FJ_AGENT_STATUS_SUCCESS;
        }
      g_array_append_val (self->lines, line);
    }
  for (guint i = 0; i < self->lines->len; i++)
    {
      AgentLine *line = &g_array_index (self->lines, AgentLine, i);

      if (!g_hash_table_contains (self->by_name, line->name))
        g_hash_table_insert (self->by_name, line->name, GUINT_TO_POINTER (i + 1));
    }

  self->started_id = g_signal_connect (self->runner, "agent-started",
                                       G_CALLBACK (agent_started_cb), self);
  self->delta_id = g_signal_connect (self->runner, "agent-delta",
                                     G_CALLBACK (agent_delta_cb), self);
  self->finished_id = g_signal_connect (self->runner, "agent-finished",
                                        G_CALLBACK (agent_finished_cb), self);
  self->synthesis_started_id = g_signal_connect (self->task, "synthesis-started",
                                                 G_CALLBACK (synthesis_started_cb), self);
  self->synthesis_finished_id = g_signal_connect (self->task, "synthesis-finished",
                                                  G_CALLBACK (synthesis_finished_cb), self);

  return self;
}

void
fj_progress_start (FjProgress *self)
{
  g_return_if_fail (self != NULL);

  self->start_us = g_get_monotonic_time ();
  draw (self);
  if (self->timeout_id == 0)
    self->timeout_id = g_timeout_add (REDRAW_INTERVAL_MS, redraw_cb, self);
}

void
fj_progress_stop (FjProgress *self)
{
  g_return_if_fail (self != NULL);

  if (self->timeout_id == 0)
    return;

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  draw (self);
}

void
fj_progress_free (FjProgress *self)
{
  if (self == NULL)
    return;

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_signal_handler (&self->started_id, self->runner);
  g_clear_signal_handler (&self->delta_id, self->runner);
  g_clear_signal_handler (&self->finished_id, self->runner);
  g_clear_signal_handler (&self->synthesis_started_id, self->task);
  g_clear_signal_handler (&self->synthesis_finished_id, self->task);
  g_clear_object (&self->runner);
  g_clear_object (&self->task);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->lines, g_array_unref);
  g_free (self);
}
