/* fj-clock-tool.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <forkjoin.h>

/* The `clock` tool: the current date and time, so a model can reason about
 * "today".  The answer is a small JSON object: the time in UTC and in the
 * asked (or the `time_zone` option's) IANA time zone, RFC 3339 with
 * milliseconds, the weekday, and the Unix time. */

#define FJ_TYPE_CLOCK_TOOL (fj_clock_tool_get_type ())

G_DECLARE_FINAL_TYPE (FjClockTool, fj_clock_tool, FJ, CLOCK_TOOL, FjTool)

struct _FjClockTool
{
  FjTool  parent_instance;

  char   *time_zone;
};

G_DEFINE_FINAL_TYPE (FjClockTool, fj_clock_tool, FJ_TYPE_TOOL)

enum {
  PROP_0,
  PROP_TIME_ZONE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char input_schema[] =
  "{\"type\":\"object\","
  "\"properties\":{\"tz\":{\"type\":\"string\","
  "\"description\":\"An IANA time zone such as Europe/Paris; default UTC\"}}}";

static char *
format_rfc3339 (GDateTime *dt)
{
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  int ms = g_date_time_get_microsecond (dt) / 1000;

  if (g_date_time_get_utc_offset (dt) == 0)
    return g_strdup_printf ("%s.%03dZ", base, ms);
  else
    {
      g_autofree char *offset = g_date_time_format (dt, "%:z");

      return g_strdup_printf ("%s.%03d%s", base, ms, offset);
    }
}

static char *
fj_clock_tool_invoke (FjTool        *tool,
                      const char    *input_json,
                      GCancellable  *cancellable,
                      GError       **error)
{
  FjClockTool *self = FJ_CLOCK_TOOL (tool);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *utc_text = NULL;
  g_autofree char *local_text = NULL;
  g_autofree char *weekday = NULL;
  const char *zone = self->time_zone;
  JsonNode *root;

  if (input_json != NULL && input_json[0] != '\0')
    {
      if (!json_parser_load_from_data (parser, input_json, -1, NULL) ||
          (root = json_parser_get_root (parser)) == NULL ||
          !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "the input must be an object, optionally with a \"tz\" string");
          return NULL;
        }
      if (json_object_has_member (json_node_get_object (root), "tz"))
        {
          JsonNode *member = json_object_get_member (json_node_get_object (root), "tz");

          if (!JSON_NODE_HOLDS_VALUE (member) ||
              json_node_get_value_type (member) != G_TYPE_STRING)
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                   "\"tz\" must be a string such as \"Europe/Paris\"");
              return NULL;
            }
          zone = json_node_get_string (member);
        }
    }

  if (zone == NULL || zone[0] == '\0')
    zone = "UTC";

  tz = g_time_zone_new_identifier (zone);
  if (tz == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "unknown time zone \"%s\"; use an IANA name such as Europe/Paris", zone);
      return NULL;
    }

  now = g_date_time_new_now_utc ();
  local = g_date_time_to_timezone (now, tz);
  utc_text = format_rfc3339 (now);
  local_text = format_rfc3339 (local);
  weekday = g_date_time_format (local, "%A");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "utc");
  json_builder_add_string_value (builder, utc_text);
  json_builder_set_member_name (builder, "local");
  json_builder_add_string_value (builder, local_text);
  json_builder_set_member_name (builder, "time_zone");
  json_builder_add_string_value (builder, zone);
  json_builder_set_member_name (builder, "weekday");
  json_builder_add_string_value (builder, weekday);
  json_builder_set_member_name (builder, "unix");
  json_builder_add_int_value (builder, g_date_time_to_unix (now));
  json_builder_end_object (builder);

  answer = json_builder_get_root (builder);

  return json_to_string (answer, FALSE);
}

static void
fj_clock_tool_finalize (GObject *object)
{
  FjClockTool *self = FJ_CLOCK_TOOL (object);

  g_clear_pointer (&self->time_zone, g_free);

  G_OBJECT_CLASS (fj_clock_tool_parent_class)->finalize (object);
}

static void
fj_clock_tool_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  FjClockTool *self = FJ_CLOCK_TOOL (object);

  switch (prop_id)
    {
    case PROP_TIME_ZONE:
      g_value_set_string (value, self->time_zone);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_clock_tool_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  FjClockTool *self = FJ_CLOCK_TOOL (object);

  switch (prop_id)
    {
    case PROP_TIME_ZONE:
      g_free (self->time_zone);
      self->time_zone = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_clock_tool_class_init (FjClockToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  FjToolClass *tool_class = FJ_TOOL_CLASS (klass);

  object_class->finalize = fj_clock_tool_finalize;
  object_class->get_property = fj_clock_tool_get_property;
  object_class->set_property = fj_clock_tool_set_property;

  tool_class->invoke = fj_clock_tool_invoke;

  properties[PROP_TIME_ZONE] =
    g_param_spec_string ("time-zone", NULL,
                         "The IANA time zone answered when the model names none; default UTC",
                         "UTC",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_clock_tool_init (FjClockTool *self)
{
  fj_tool_set_name (FJ_TOOL (self), "clock");
  fj_tool_set_description (FJ_TOOL (self),
                           "The current date and time, in UTC and in a time zone");
  fj_tool_set_input_schema (FJ_TOOL (self), input_schema);
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_TOOL,
                                          "clock",
                                          FJ_TYPE_CLOCK_TOOL,
                                          "The current date and time (option time_zone)"))
