/* fj-timeline.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-timeline.h"

#include <math.h>
#include <string.h>

/* `run --timeline FILE.svg`: a Gantt chart of one run, written by hand
 * as SVG so that it keeps real <text>, <rect> and <title> elements
 * (cairo's SVG surface turns text into glyph paths).  Every string that
 * comes from the run goes through g_markup_printf_escaped(), and every
 * number through g_ascii_formatd(), so the file is valid XML whatever the
 * names and the locale. */

#define SVG_WIDTH     900.0
#define CHART_X0      250.0  /* left edge of the time axis */
#define CHART_X1      880.0  /* right edge */
#define LABEL_X       10.0
#define STATUS_X      (CHART_X0 - 10.0)
#define TOP           56.0   /* first row */
#define ROW_HEIGHT    26.0
#define BAR_HEIGHT    14.0
#define QUEUE_HEIGHT  6.0
#define MAX_LABEL     26     /* characters of a name shown before "…" */

#define COLOR_QUEUE   "#cfd8dc"
#define COLOR_PAUSE   "#ffb300"
#define COLOR_RETRY   "#6a1b9a"
#define COLOR_AXIS    "#455a64"
#define COLOR_GRID    "#eceff1"
#define COLOR_TEXT    "#263238"

/* A number as SVG wants it: '.' as the decimal point in every locale.
 * Returned by value; `num (x).s` lives until the end of the full
 * expression that uses it. */
typedef struct
{
  char s[G_ASCII_DTOSTR_BUF_SIZE];
} Num;

static Num
num (double value)
{
  Num n;

  if (!isfinite (value))
    value = 0;
  g_ascii_formatd (n.s, sizeof n.s, "%.1f", value);
  return n;
}

static Num
secs (double value)
{
  Num n;

  if (!isfinite (value))
    value = 0;
  g_ascii_formatd (n.s, sizeof n.s, "%.2f", value);
  return n;
}

typedef struct
{
  GString *svg;
  double   t_max;      /* seconds at CHART_X1 */
  double   t_now;      /* when the picture was taken: the end of the run */
} Canvas;

static double
x_at (const Canvas *canvas,
      double        t)
{
  t = CLAMP (t, 0.0, canvas->t_max);
  return CHART_X0 + (CHART_X1 - CHART_X0) * t / canvas->t_max;
}

/* Appends the result of g_markup_printf_escaped(). */
G_GNUC_PRINTF (2, 3)
static void
append (Canvas     *canvas,
        const char *format,
        ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_markup_vprintf_escaped (format, args);
  va_end (args);

  g_string_append (canvas->svg, text);
}

/* Text the XML can hold: valid UTF-8 without control characters (XML 1.0
 * refuses them even as character references). */
static char *
clean_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *out = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\n' || c == '\t')
        g_string_append_c (out, c == '\n' ? '\n' : ' ');
      else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xfffe || c == 0xffff)
        g_string_append_unichar (out, 0xfffd);
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

static char *
shorten (const char *text,
         glong       max_chars)
{
  g_autofree char *clean = clean_text (text);

  if (g_utf8_strlen (clean, -1) <= max_chars)
    return g_steal_pointer (&clean);

  {
    g_autofree char *head = g_utf8_substring (clean, 0, max_chars - 1);

    return g_strconcat (head, "…", NULL);
  }
}

static const char *
status_label (FjAgentStatus status)
{
  switch (status)
    {
    case FJ_AGENT_STATUS_PENDING:   return "pending";
    case FJ_AGENT_STATUS_RUNNING:   return "running";
    case FJ_AGENT_STATUS_SUCCESS:   return "success";
    case FJ_AGENT_STATUS_FAILED:    return "failed";
    case FJ_AGENT_STATUS_TIMED_OUT: return "timed out";
    case FJ_AGENT_STATUS_CANCELLED: return "cancelled";
    case FJ_AGENT_STATUS_SKIPPED:   return "skipped";
    default:                        return "unknown";
    }
}

/* The status as it appears in JSON output, for data-status. */
static const char *
status_nick (FjAgentStatus status)
{
  return status == FJ_AGENT_STATUS_TIMED_OUT ? "timed_out" : status_label (status);
}

static const char *
status_color (FjAgentStatus status)
{
  switch (status)
    {
    case FJ_AGENT_STATUS_SUCCESS:   return "#43a047";
    case FJ_AGENT_STATUS_FAILED:    return "#e53935";
    case FJ_AGENT_STATUS_TIMED_OUT: return "#fb8c00";
    case FJ_AGENT_STATUS_CANCELLED: return "#757575";
    case FJ_AGENT_STATUS_SKIPPED:   return "#b0bec5";
    case FJ_AGENT_STATUS_RUNNING:   return "#1e88e5";
    case FJ_AGENT_STATUS_PENDING:
    default:                        return "#90a4ae";
    }
}

static const char *
fork_join_status_label (FjForkJoinStatus status)
{
  switch (status)
    {
    case FJ_FORK_JOIN_STATUS_COMPLETE: return "complete";
    case FJ_FORK_JOIN_STATUS_DEGRADED: return "degraded";
    case FJ_FORK_JOIN_STATUS_FAILED:   return "failed";
    default:                           return "unknown";
    }
}

/* A tick step giving at most about ten ticks. */
static double
tick_step (double t_max)
{
  static const double steps[] = {
    0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if (t_max / steps[i] <= 10.0)
      return steps[i];

  return ((guint64) (t_max / 10.0 / 3600.0) + 1) * 3600.0;
}

static FjAgentResult *
find_result (FjForkJoinResult *result,
             const char       *name,
             guint             index)
{
  GPtrArray *results;

  if (result == NULL || (results = fj_fork_join_result_get_results (result)) == NULL)
    return NULL;

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *agent_result = g_ptr_array_index (results, i);

      if (g_strcmp0 (fj_agent_result_get_agent_name (agent_result), name) == 0)
        return agent_result;
    }

  if (index < results->len)
    return g_ptr_array_index (results, index);

  return NULL;
}

/* The end of the picture: the last thing the run did. */
static double
compute_t_max (FjRunRecorder *recorder)
{
  double t = MAX (fj_run_recorder_get_end (recorder), fj_run_recorder_get_synthesis_end (recorder));
  guint n = fj_run_recorder_get_n_agents (recorder);

  t = MAX (t, fj_run_recorder_get_synthesis_start (recorder));
  for (guint i = 0; i < n; i++)
    {
      const FjRecordedAgent *agent = fj_run_recorder_get_agent (recorder, i);

      t = MAX (t, agent->started);
      t = MAX (t, agent->first_token);
      t = MAX (t, agent->finished);
      for (guint j = 0; agent->retries != NULL && j < agent->retries->len; j++)
        {
          const FjRecordedRetry *retry = &g_array_index (agent->retries, FjRecordedRetry, j);

          t = MAX (t, retry->time);
        }
    }

  /* A run still going (interrupted before fj_run_recorder_finish()). */
  if (fj_run_recorder_get_end (recorder) < 0)
    t = MAX (t, fj_run_recorder_get_elapsed (recorder));

  return t > 0.001 ? t : 1.0;
}

typedef struct
{
  double   from;
  double   until;
  char    *reason;   /* the first pause's */
  guint    n;        /* pauses merged into this band */
} Band;

static int
compare_pauses (gconstpointer a,
                gconstpointer b)
{
  const FjRecordedPause *x = a;
  const FjRecordedPause *y = b;

  return x->from < y->from ? -1 : x->from > y->from;
}

/* A 429 from each of several requests extends one pause several times:
 * draw the union of the pauses, one band per stretch. */
static GArray *
merge_pauses (GArray *pauses)
{
  g_autoptr(GArray) sorted = g_array_new (FALSE, FALSE, sizeof (FjRecordedPause));
  GArray *bands = g_array_new (FALSE, TRUE, sizeof (Band));

  if (pauses != NULL)
    g_array_append_vals (sorted, pauses->data, pauses->len);
  g_array_sort (sorted, compare_pauses);

  for (guint i = 0; i < sorted->len; i++)
    {
      const FjRecordedPause *pause = &g_array_index (sorted, FjRecordedPause, i);
      Band *last = bands->len > 0 ? &g_array_index (bands, Band, bands->len - 1) : NULL;

      if (last != NULL && pause->from <= last->until)
        {
          last->until = MAX (last->until, pause->until);
          last->n++;
        }
      else
        {
          Band band = { pause->from, MAX (pause->from, pause->until), pause->reason, 1 };

          g_array_append_val (bands, band);
        }
    }

  return bands;
}

static void
draw_pauses (Canvas        *canvas,
             FjRunRecorder *recorder,
             double         y0,
             double         y1)
{
  g_autoptr(GArray) bands = merge_pauses (fj_run_recorder_get_pauses (recorder));

  for (guint i = 0; i < bands->len; i++)
    {
      const Band *band = &g_array_index (bands, Band, i);
      g_autofree char *reason = clean_text (band->reason);
      g_autofree char *times = NULL;
      double x0 = x_at (canvas, band->from);
      double x1 = x_at (canvas, band->until);

      times = band->n > 1 ? g_strdup_printf (" (paused or extended %u times)", band->n)
                          : g_strdup ("");
      append (canvas,
              "<g class=\"pause\">"
              "<title>client paused from %s s until %s s: %s%s</title>"
              "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" "
              "fill-opacity=\"0.22\"/>"
              "<text x=\"%s\" y=\"%s\" font-size=\"10\" fill=\"#e65100\">paused</text>"
              "</g>\n",
              secs (band->from).s, secs (band->until).s, reason, times,
              num (x0).s, num (y0).s, num (MAX (1.0, x1 - x0)).s, num (y1 - y0).s, COLOR_PAUSE,
              num (x0 + 2).s, num (y0 - 3).s);
    }
}

static void
draw_axis (Canvas *canvas,
           double  y_top,
           double  y_axis)
{
  double step = tick_step (canvas->t_max);
  guint n_ticks = (guint) (canvas->t_max / step + 1e-9);

  append (canvas,
          "<g class=\"axis\">"
          "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\"/>\n",
          num (CHART_X0).s, num (y_axis).s, num (CHART_X1).s, num (y_axis).s, COLOR_AXIS);

  for (guint i = 0; i <= n_ticks; i++)
    {
      double t = i * step;
      double x = x_at (canvas, t);
      char label[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (label, sizeof label, step < 1.0 ? "%.1f" : "%.0f", t);
      append (canvas,
              "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\"/>"
              "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\"/>"
              "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" font-size=\"11\" "
              "fill=\"%s\">%s</text>\n",
              num (x).s, num (y_top).s, num (x).s, num (y_axis).s, COLOR_GRID,
              num (x).s, num (y_axis).s, num (x).s, num (y_axis + 5).s, COLOR_AXIS,
              num (x).s, num (y_axis + 18).s, COLOR_AXIS, label);
    }

  append (canvas,
          "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" font-size=\"11\" fill=\"%s\">"
          "seconds since the run started</text>"
          "</g>\n",
          num ((CHART_X0 + CHART_X1) / 2).s, num (y_axis + 34).s, COLOR_AXIS);
}

static void
draw_label (Canvas     *canvas,
            double      y,
            const char *name,
            const char *status,
            const char *color)
{
  g_autofree char *short_name = shorten (name, MAX_LABEL);
  g_autofree char *status_text = shorten (status, 24);

  append (canvas,
          "<text class=\"label\" x=\"%s\" y=\"%s\" fill=\"%s\">%s</text>"
          "<text class=\"status\" x=\"%s\" y=\"%s\" text-anchor=\"end\" font-size=\"11\" "
          "fill=\"%s\">%s</text>\n",
          num (LABEL_X).s, num (y + ROW_HEIGHT / 2 + 4).s, COLOR_TEXT, short_name,
          num (STATUS_X).s, num (y + ROW_HEIGHT / 2 + 4).s, color, status_text);
}

static void
draw_retries (Canvas                *canvas,
              const FjRecordedAgent *agent,
              double                 y_mid)
{
  for (guint j = 0; agent->retries != NULL && j < agent->retries->len; j++)
    {
      const FjRecordedRetry *retry = &g_array_index (agent->retries, FjRecordedRetry, j);
      g_autofree char *cause = NULL;
      double x = x_at (canvas, retry->time);
      double x_end = x_at (canvas, retry->time + retry->delay);

      cause = retry->status > 0 ? g_strdup_printf ("HTTP %u", retry->status)
                                : g_strdup ("a connection failure");
      append (canvas,
              "<g class=\"retry\">"
              "<title>retry: attempt %u after %s, waiting %s s</title>"
              "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"#ffffff\" "
              "fill-opacity=\"0.5\"/>"
              "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"2\"/>"
              "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
              "stroke-dasharray=\"3,2\"/>"
              "<text x=\"%s\" y=\"%s\" font-size=\"9\" fill=\"%s\">%ss</text>"
              "</g>\n",
              retry->attempt, cause, secs (retry->delay).s,
              num (x).s, num (y_mid - BAR_HEIGHT / 2).s,
              num (MAX (0.0, x_end - x)).s, num (BAR_HEIGHT).s,
              num (x).s, num (y_mid - BAR_HEIGHT / 2 - 3).s,
              num (x).s, num (y_mid + BAR_HEIGHT / 2 + 3).s,
              COLOR_RETRY,
              num (x).s, num (y_mid).s, num (MAX (x, x_end)).s, num (y_mid).s, COLOR_RETRY,
              num (x + 2).s, num (y_mid - BAR_HEIGHT / 2 - 1).s, COLOR_RETRY, num (retry->delay).s);
    }
}

static void
draw_agent (Canvas                *canvas,
            FjRunRecorder         *recorder,
            FjForkJoinResult      *result,
            guint                  i,
            double                 y)
{
  const FjRecordedAgent *agent = fj_run_recorder_get_agent (recorder, i);
  FjAgentResult *agent_result = find_result (result, agent->name, agent->index);
  gboolean kept = fj_run_recorder_get_agent_kept (recorder, i);
  FjAgentStatus status = agent->status;
  const char *color;
  const char *code = NULL;
  g_autofree char *name = clean_text (agent->name);
  g_autofree char *status_text = NULL;
  g_autoptr(GString) tooltip = g_string_new (NULL);
  double end = agent->finished >= 0 ? agent->finished : canvas->t_now;
  double admitted = agent->started;
  double y_mid = y + ROW_HEIGHT / 2;
  gboolean unsettled = agent->finished < 0 && !kept;
  double x0, x1;

  if (agent_result != NULL && fj_agent_result_get_finished (agent_result))
    {
      status = fj_agent_result_get_status (agent_result);
      code = fj_agent_result_get_error_code (agent_result);
    }
  color = status_color (status);

  if (kept)
    status_text = g_strdup ("success (kept)");
  else if (code != NULL && status == FJ_AGENT_STATUS_FAILED)
    status_text = g_strdup_printf ("%s (%s)", status_label (status), code);
  else
    status_text = g_strdup (status_label (status));

  g_string_append_printf (tooltip, "%s: %s", name, status_text);
  if (kept)
    g_string_append (tooltip, "\nkept from the earlier run");
  else if (admitted >= 0)
    g_string_append_printf (tooltip, "\nqueued %s s, admitted at %s s, %s at %s s (%s s running)",
                            secs (agent->queued).s, secs (admitted).s,
                            agent->finished >= 0 ? "settled" : "still running",
                            secs (end).s, secs (end - admitted).s);
  else
    g_string_append_printf (tooltip, "\nnever admitted; %s at %s s",
                            agent->finished >= 0 ? "settled" : "still queued", secs (end).s);
  if (agent->first_token >= 0)
    g_string_append_printf (tooltip, "\nfirst token at %s s", secs (agent->first_token).s);
  if (agent_result != NULL && !kept)
    {
      guint attempts = fj_agent_result_get_attempts (agent_result);
      const char *message = fj_agent_result_get_error_message (agent_result);

      g_string_append_printf (tooltip, "\n%u attempt%s", attempts, attempts == 1 ? "" : "s");
      if (agent->retries != NULL && agent->retries->len > 0)
        g_string_append_printf (tooltip, ", %u retr%s", agent->retries->len,
                                agent->retries->len == 1 ? "y" : "ies");
      if (message != NULL && status != FJ_AGENT_STATUS_SUCCESS)
        {
          g_autofree char *clean = clean_text (message);

          g_string_append_printf (tooltip, "\n%s", clean);
        }
    }

  append (canvas, "<g class=\"row\" data-index=\"%u\">\n", agent->index);
  draw_label (canvas, y, name, status_text, color);

  /* Queue time: from the start of the run to admission (or, for an agent
   * never admitted, to when it was skipped). */
  if (!kept)
    {
      double queue_end = admitted >= 0 ? admitted : end;

      /* Under 10 ms is no wait worth drawing. */
      if (queue_end - agent->queued >= 0.01)
        append (canvas,
                "<g class=\"queue\">"
                "<title>%s: queued %s s</title>"
                "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" rx=\"2\"/>"
                "</g>\n",
                name, secs (queue_end - agent->queued).s,
                num (x_at (canvas, agent->queued)).s, num (y_mid - QUEUE_HEIGHT / 2).s,
                num (MAX (1.0, x_at (canvas, queue_end) - x_at (canvas, agent->queued))).s,
                num (QUEUE_HEIGHT).s, COLOR_QUEUE);
    }

  /* The bar: admission to settling.  An agent never admitted (skipped)
   * or kept from an earlier run gets a thin mark instead, so every agent
   * has its bar. */
  if (admitted >= 0 && !kept)
    {
      x0 = x_at (canvas, admitted);
      x1 = MAX (x0 + 2.0, x_at (canvas, end));
    }
  else
    {
      x0 = kept ? CHART_X0 : x_at (canvas, end);
      x1 = x0 + 2.0;
    }

  append (canvas,
          "<g class=\"bar agent\" data-name=\"%s\" data-status=\"%s\">"
          "<title>%s</title>"
          "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" rx=\"2\" "
          "fill-opacity=\"%s\" stroke=\"%s\" stroke-dasharray=\"%s\"/>",
          name, status_nick (status), tooltip->str,
          num (x0).s, num (y_mid - BAR_HEIGHT / 2).s, num (x1 - x0).s, num (BAR_HEIGHT).s, color,
          /* still running when the picture was taken: dashed, lighter */
          unsettled ? "0.5" : "1", unsettled ? "#1e88e5" : "none", unsettled ? "4,2" : "none");
  if (agent->first_token >= 0 && admitted >= 0)
    append (canvas,
            "<rect class=\"first-token\" x=\"%s\" y=\"%s\" width=\"1.5\" height=\"%s\" "
            "fill=\"#ffffff\"/>",
            num (x_at (canvas, agent->first_token)).s, num (y_mid - BAR_HEIGHT / 2).s,
            num (BAR_HEIGHT).s);
  append (canvas, "</g>\n");

  draw_retries (canvas, agent, y_mid);
  append (canvas, "</g>\n");
}

static void
draw_synthesis (Canvas           *canvas,
                FjRunRecorder    *recorder,
                FjForkJoinResult *result,
                double            y,
                double            y_rows_top)
{
  FjAgentResult *synthesis =
    result != NULL ? fj_fork_join_result_get_synthesis_result (result) : NULL;
  double start = fj_run_recorder_get_synthesis_start (recorder);
  double end = fj_run_recorder_get_synthesis_end (recorder);
  FjAgentStatus status;
  g_autofree char *status_text = NULL;
  g_autoptr(GString) tooltip = g_string_new (NULL);
  double y_mid = y + ROW_HEIGHT / 2;
  double x0, x1;

  if (synthesis != NULL && fj_agent_result_get_finished (synthesis))
    status = fj_agent_result_get_status (synthesis);
  else if (end >= 0)
    status = FJ_AGENT_STATUS_SUCCESS;
  else
    status = result == NULL ? FJ_AGENT_STATUS_CANCELLED : FJ_AGENT_STATUS_RUNNING;

  if (synthesis != NULL && status == FJ_AGENT_STATUS_FAILED &&
      fj_agent_result_get_error_code (synthesis) != NULL)
    status_text = g_strdup_printf ("%s (%s)", status_label (status),
                                   fj_agent_result_get_error_code (synthesis));
  else if (synthesis == NULL && end < 0 && result == NULL)
    status_text = g_strdup ("interrupted");
  else
    status_text = g_strdup (status_label (status));

  if (end < 0)
    end = canvas->t_now;

  g_string_append_printf (tooltip, "synthesis: %s\nstarted at %s s, ended at %s s (%s s)",
                          status_text, secs (start).s, secs (end).s, secs (end - start).s);
  if (synthesis != NULL && status != FJ_AGENT_STATUS_SUCCESS &&
      fj_agent_result_get_error_message (synthesis) != NULL)
    {
      g_autofree char *clean = clean_text (fj_agent_result_get_error_message (synthesis));

      g_string_append_printf (tooltip, "\n%s", clean);
    }

  x0 = x_at (canvas, start);
  x1 = MAX (x0 + 2.0, x_at (canvas, end));

  /* Where the join happened, across the agents' rows. */
  append (canvas,
          "<line class=\"join\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
          "stroke-dasharray=\"2,3\"/>\n",
          num (x0).s, num (y_rows_top).s, num (x0).s, num (y + ROW_HEIGHT).s, COLOR_AXIS);

  append (canvas, "<g class=\"row\" data-index=\"synthesis\">\n");
  draw_label (canvas, y, "synthesis", status_text, status_color (status));
  append (canvas,
          "<g class=\"bar synthesis\" data-name=\"synthesis\" data-status=\"%s\">"
          "<title>%s</title>"
          "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" rx=\"2\"/>"
          "</g>\n"
          "</g>\n",
          status_nick (status), tooltip->str,
          num (x0).s, num (y_mid - BAR_HEIGHT / 2).s, num (x1 - x0).s, num (BAR_HEIGHT).s,
          status_color (status));
}

static void
draw_legend (Canvas *canvas,
             double  y)
{
  static const struct {
    const char *label;
    const char *color;
  } items[] = {
    { "success",   "#43a047" },
    { "failed",    "#e53935" },
    { "timed out", "#fb8c00" },
    { "cancelled", "#757575" },
    { "skipped",   "#b0bec5" },
    { "queued",    COLOR_QUEUE },
    { "paused",    COLOR_PAUSE },
  };
  double x = LABEL_X;

  append (canvas, "<g class=\"legend\" font-size=\"11\">\n");
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      append (canvas,
              "<rect x=\"%s\" y=\"%s\" width=\"12\" height=\"10\" fill=\"%s\" fill-opacity=\"%s\"/>"
              "<text x=\"%s\" y=\"%s\" fill=\"%s\">%s</text>\n",
              num (x).s, num (y - 9).s, items[i].color,
              g_str_equal (items[i].label, "paused") ? "0.4" : "1",
              num (x + 16).s, num (y).s, COLOR_TEXT, items[i].label);
      x += 16 + 7.0 * strlen (items[i].label) + 18;
    }
  append (canvas,
          "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"2\"/>"
          "<text x=\"%s\" y=\"%s\" fill=\"%s\">retry (dashed: its wait)</text>\n"
          "</g>\n",
          num (x + 4).s, num (y - 11).s, num (x + 4).s, num (y + 1).s, COLOR_RETRY,
          num (x + 10).s, num (y).s, COLOR_TEXT);
}

/**
 * fj_timeline_render:
 * @recorder: what happened during the run
 * @result: (nullable): the run's result, or %NULL for an interrupted run
 *
 * Draws the run as an SVG Gantt chart: one row per agent (queue time,
 * then a bar from admission to settling coloured by status, retries
 * marked with their wait), the client's rate-limit pauses as bands across
 * every row, the synthesis as the last row, and a time axis in seconds.
 *
 * Returns: (transfer full): the SVG document
 */
char *
fj_timeline_render (FjRunRecorder    *recorder,
                    FjForkJoinResult *result)
{
  Canvas canvas;
  guint n_agents;
  gboolean has_synthesis;
  guint n_rows;
  double y_rows_end, y_axis, height;
  g_autofree char *heading = NULL;

  g_return_val_if_fail (recorder != NULL, NULL);
  g_return_val_if_fail (result == NULL || FJ_IS_FORK_JOIN_RESULT (result), NULL);

  n_agents = fj_run_recorder_get_n_agents (recorder);
  has_synthesis = fj_run_recorder_get_synthesis_start (recorder) >= 0;
  n_rows = n_agents + (has_synthesis ? 1 : 0);

  canvas.svg = g_string_new (NULL);
  canvas.t_max = compute_t_max (recorder);
  canvas.t_now = fj_run_recorder_get_end (recorder) >= 0 ? fj_run_recorder_get_end (recorder)
                                                         : fj_run_recorder_get_elapsed (recorder);

  y_rows_end = TOP + MAX (1, n_rows) * ROW_HEIGHT;
  y_axis = y_rows_end + 8;
  height = y_axis + 70;

  if (result != NULL)
    heading = g_strdup_printf ("forkjoin run: %s, %u agent%s, wall time %s s",
                               fork_join_status_label (fj_fork_join_result_get_status (result)),
                               n_agents, n_agents == 1 ? "" : "s",
                               secs (fj_fork_join_result_get_wall_time (result)).s);
  else
    heading = g_strdup_printf ("forkjoin run: interrupted after %s s, %u agent%s",
                               secs (canvas.t_now).s, n_agents, n_agents == 1 ? "" : "s");

  g_string_append (canvas.svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  append (&canvas,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
          "width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\" "
          "font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"12\">\n"
          "<title>%s</title>\n"
          "<rect x=\"0\" y=\"0\" width=\"%s\" height=\"%s\" fill=\"#ffffff\"/>\n"
          "<text x=\"%s\" y=\"24\" font-size=\"15\" font-weight=\"bold\" fill=\"%s\">%s</text>\n"
          "<text x=\"%s\" y=\"%s\" font-size=\"11\" fill=\"%s\">agent</text>\n"
          "<text x=\"%s\" y=\"%s\" font-size=\"11\" text-anchor=\"end\" "
          "fill=\"%s\">status</text>\n",
          num (SVG_WIDTH).s, num (height).s, num (SVG_WIDTH).s, num (height).s,
          heading,
          num (SVG_WIDTH).s, num (height).s,
          num (LABEL_X).s, COLOR_TEXT, heading,
          num (LABEL_X).s, num (TOP - 6).s, COLOR_AXIS,
          num (STATUS_X).s, num (TOP - 6).s, COLOR_AXIS);

  /* Behind everything: the grid and axis, then the pauses. */
  draw_axis (&canvas, TOP, y_axis);
  draw_pauses (&canvas, recorder, TOP, y_rows_end);

  for (guint i = 0; i < n_agents; i++)
    draw_agent (&canvas, recorder, result, i, TOP + i * ROW_HEIGHT);

  if (has_synthesis)
    draw_synthesis (&canvas, recorder, result, TOP + n_agents * ROW_HEIGHT, TOP);

  if (n_rows == 0)
    append (&canvas, "<text x=\"%s\" y=\"%s\" fill=\"%s\">no agents</text>\n",
            num (CHART_X0).s, num (TOP + ROW_HEIGHT / 2 + 4).s, COLOR_AXIS);

  draw_legend (&canvas, height - 12);

  g_string_append (canvas.svg, "</svg>\n");

  return g_string_free (canvas.svg, FALSE);
}

/**
 * fj_timeline_write:
 * @recorder: what happened during the run
 * @result: (nullable): the run's result, or %NULL for an interrupted run
 * @path: (type filename): where to write the SVG
 * @error: return location for a #GError
 *
 * Writes [func@timeline_render]'s picture to @path, atomically.
 *
 * Returns: %TRUE on success
 */
gboolean
fj_timeline_write (FjRunRecorder     *recorder,
                   FjForkJoinResult  *result,
                   const char        *path,
                   GError           **error)
{
  g_autofree char *svg = NULL;

  g_return_val_if_fail (recorder != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  svg = fj_timeline_render (recorder, result);

  return g_file_set_contents (path, svg, -1, error);
}
