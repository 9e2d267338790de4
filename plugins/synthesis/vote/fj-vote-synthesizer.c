/* fj-vote-synthesizer.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <forkjoin.h>

/* The `vote` synthesizer: no model call. For classification-style
 * outputs: each successful answer is normalised, the answers are counted,
 * and the majority or plurality is reported with its share, or the tie,
 * followed by who answered what. */

#define FJ_TYPE_VOTE_SYNTHESIZER (fj_vote_synthesizer_get_type ())

G_DECLARE_FINAL_TYPE (FjVoteSynthesizer, fj_vote_synthesizer, FJ, VOTE_SYNTHESIZER, GObject)

struct _FjVoteSynthesizer
{
  GObject parent_instance;

  double  min_share;
};

static void synthesizer_iface_init (FjSynthesizerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FjVoteSynthesizer, fj_vote_synthesizer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, synthesizer_iface_init))

enum {
  PROP_0,
  PROP_MIN_SHARE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Labels a model puts before its answer, longest first. */
static const char * const answer_labels[] = {
  "final answer", "answer", "classification", "label", "category", "sentiment", "verdict",
};

typedef struct
{
  char      *answer;
  GPtrArray *agents;  /* element-type utf8 */
  guint      first;   /* index of its first vote, to keep ties in order */
} Choice;

static void
choice_free (Choice *choice)
{
  g_free (choice->answer);
  g_ptr_array_unref (choice->agents);
  g_free (choice);
}

static int
choice_compare (gconstpointer a,
                gconstpointer b)
{
  const Choice *ca = *(const Choice **) a;
  const Choice *cb = *(const Choice **) b;

  if (ca->agents->len != cb->agents->len)
    return ca->agents->len > cb->agents->len ? -1 : 1;

  return ca->first < cb->first ? -1 : (ca->first > cb->first ? 1 : 0);
}

/* Strips decoration (Markdown emphasis, quotes) from both ends and
 * punctuation from the end, in place. */
static void
strip_decoration (char *text)
{
  static const char decoration[] = "*_`\"'";
  static const char trailing[] = ".,;:!?";
  gsize len;
  gsize start = 0;

  g_strstrip (text);
  len = strlen (text);
  while (start < len && strchr (decoration, text[start]) != NULL)
    start++;
  while (len > start &&
         (strchr (decoration, text[len - 1]) != NULL ||
          strchr (trailing, text[len - 1]) != NULL ||
          g_ascii_isspace (text[len - 1])))
    len--;

  memmove (text, text + start, len - start);
  text[len - start] = '\0';
  g_strstrip (text);
}

/* "**Answer:** Positive." → "positive" */
static char *
normalize_answer (const char *output)
{
  g_auto(GStrv) lines = g_strsplit (output ? output : "", "\n", -1);
  g_autoptr(GString) collapsed = g_string_new (NULL);
  g_autofree char *lower = NULL;
  const char *line = "";

  /* The answer is the first line; what follows is reasoning. */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (*lines[i] != '\0')
        {
          line = lines[i];
          break;
        }
    }

  lower = g_utf8_strdown (line, -1);
  for (const char *p = lower; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        {
          if (collapsed->len > 0 && collapsed->str[collapsed->len - 1] != ' ')
            g_string_append_c (collapsed, ' ');
        }
      else
        g_string_append_c (collapsed, *p);
    }

  strip_decoration (collapsed->str);
  collapsed->len = strlen (collapsed->str);

  for (guint i = 0; i < G_N_ELEMENTS (answer_labels); i++)
    {
      gsize label_len = strlen (answer_labels[i]);
      const char *rest;

      if (!g_str_has_prefix (collapsed->str, answer_labels[i]))
        continue;
      rest = collapsed->str + label_len;
      while (*rest == '*' || *rest == ' ')
        rest++;
      if (*rest != ':')
        continue;
      g_string_erase (collapsed, 0, rest + 1 - collapsed->str);
      strip_decoration (collapsed->str);
      collapsed->len = strlen (collapsed->str);
      break;
    }

  return g_strdup (collapsed->str);
}

static const char *
status_nick (FjAgentStatus status)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  GEnumValue *value = g_enum_get_value (klass, status);

  return value ? value->value_nick : "unknown";
}

static void
append_names (GString   *out,
              GPtrArray *names)
{
  for (guint i = 0; i < names->len; i++)
    {
      if (i > 0)
        g_string_append (out, i + 1 == names->len ? " and " : ", ");
      g_string_append (out, g_ptr_array_index (names, i));
    }
}

static void
append_share (GString      *out,
              const Choice *choice,
              guint         n_votes)
{
  g_string_append_printf (out, "%s: %u of %u (%.0f%%)",
                          choice->answer, choice->agents->len, n_votes,
                          100.0 * choice->agents->len / n_votes);
}

static char *
fj_vote_synthesizer_synthesize (FjSynthesizer  *synthesizer,
                                const char     *input,
                                GPtrArray      *results,
                                GCancellable   *cancellable,
                                GError        **error)
{
  FjVoteSynthesizer *self = FJ_VOTE_SYNTHESIZER (synthesizer);
  g_autoptr(GPtrArray) choices = g_ptr_array_new_with_free_func ((GDestroyNotify) choice_free);
  g_autoptr(GHashTable) by_answer = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) missing = g_string_new (NULL);
  g_autoptr(GPtrArray) tied = g_ptr_array_new ();
  guint n_votes = 0;
  const Choice *winner;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);
      const char *name = fj_agent_result_get_agent_name (result);
      FjAgentStatus status = fj_agent_result_get_status (result);
      g_autofree char *answer = NULL;
      Choice *choice;

      if (status != FJ_AGENT_STATUS_SUCCESS)
        {
          const char *code = fj_agent_result_get_error_code (result);

          g_string_append_printf (missing, "- %s: %s", name, status_nick (status));
          if (code != NULL)
            g_string_append_printf (missing, " (%s)", code);
          g_string_append_c (missing, '\n');
          continue;
        }

      answer = normalize_answer (fj_agent_result_get_output (result));
      if (*answer == '\0')
        {
          g_string_append_printf (missing, "- %s: empty answer\n", name);
          continue;
        }

      choice = g_hash_table_lookup (by_answer, answer);
      if (choice == NULL)
        {
          choice = g_new0 (Choice, 1);
          choice->answer = g_steal_pointer (&answer);
          choice->agents = g_ptr_array_new_with_free_func (g_free);
          choice->first = n_votes;
          g_ptr_array_add (choices, choice);
          g_hash_table_insert (by_answer, choice->answer, choice);
        }
      g_ptr_array_add (choice->agents, g_strdup (name));
      n_votes++;
    }

  if (n_votes == 0)
    {
      g_string_append (out, "No answers to count.\n");
    }
  else
    {
      g_ptr_array_sort (choices, choice_compare);
      winner = g_ptr_array_index (choices, 0);

      for (guint i = 0; i < choices->len; i++)
        {
          const Choice *choice = g_ptr_array_index (choices, i);

          if (choice->agents->len == winner->agents->len)
            g_ptr_array_add (tied, choice->answer);
        }

      if (tied->len > 1)
        {
          g_string_append (out, "No consensus: tie between ");
          append_names (out, tied);
          g_string_append_printf (out, ", %u each\n", winner->agents->len);
        }
      else if ((double) winner->agents->len / n_votes < self->min_share)
        {
          g_string_append (out, "No consensus: ");
          append_share (out, winner, n_votes);
          g_string_append_printf (out, ", below the required %.0f%%\n", 100.0 * self->min_share);
        }
      else
        {
          append_share (out, winner, n_votes);
          g_string_append (out, winner->agents->len * 2 > n_votes ? ", majority\n" : ", plurality\n");
        }

      g_string_append (out, "\n## Votes\n\n");
      for (guint i = 0; i < choices->len; i++)
        {
          const Choice *choice = g_ptr_array_index (choices, i);

          g_string_append_printf (out, "- %s (%u): ", choice->answer, choice->agents->len);
          append_names (out, choice->agents);
          g_string_append_c (out, '\n');
        }

      /* Dissent: who answered something other than the single winner. */
      if (tied->len == 1 && choices->len > 1)
        {
          g_string_append (out, "\n## Dissent\n\n");
          for (guint i = 1; i < choices->len; i++)
            {
              const Choice *choice = g_ptr_array_index (choices, i);

              for (guint j = 0; j < choice->agents->len; j++)
                g_string_append_printf (out, "- %s: %s\n",
                                        (const char *) g_ptr_array_index (choice->agents, j),
                                        choice->answer);
            }
        }
    }

  if (missing->len > 0)
    {
      g_string_append (out, "\n## Not counted\n\n");
      g_string_append (out, missing->str);
    }

  return g_strdup (out->str);
}

static void
synthesizer_iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = fj_vote_synthesizer_synthesize;
}

static void
fj_vote_synthesizer_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  FjVoteSynthesizer *self = FJ_VOTE_SYNTHESIZER (object);

  switch (prop_id)
    {
    case PROP_MIN_SHARE:
      g_value_set_double (value, self->min_share);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_vote_synthesizer_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  FjVoteSynthesizer *self = FJ_VOTE_SYNTHESIZER (object);

  switch (prop_id)
    {
    case PROP_MIN_SHARE:
      if (self->min_share != g_value_get_double (value))
        {
          self->min_share = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_vote_synthesizer_class_init (FjVoteSynthesizerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fj_vote_synthesizer_get_property;
  object_class->set_property = fj_vote_synthesizer_set_property;

  /* The blurbs are what `forkjoin-tool plugins` shows for each option. */
  properties[PROP_MIN_SHARE] =
    g_param_spec_double ("min-share", NULL,
                         "Share of the votes (0 to 1) the leading answer needs; below it there is no consensus. 0 = the plurality wins",
                         0.0, 1.0, 0.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_vote_synthesizer_init (FjVoteSynthesizer *self)
{
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_SYNTHESIZER,
                                          "vote",
                                          FJ_TYPE_VOTE_SYNTHESIZER,
                                          "Counts classification-style answers: majority or plurality with its share, ties and dissent"))
