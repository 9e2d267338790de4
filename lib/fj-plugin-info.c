/* fj-plugin-info.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-plugin-info-private.h"

#include <stdlib.h>
#include <string.h>

#include "fj-enums.h"
#include "fj-tool.h"

/**
 * FjPluginInfo:
 *
 * What [class@PluginRegistry] knows about one plugin: its name, kind,
 * description, the module it came from and its options.
 *
 * Since: 1.0
 */
struct _FjPluginInfo
{
  GObject       parent_instance;

  char         *name;
  char         *description;
  char         *path;
  GType         type;
  FjPluginKind  kind;
  JsonArray    *options;
};

G_DEFINE_FINAL_TYPE (FjPluginInfo, fj_plugin_info, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_KIND,
  PROP_DESCRIPTION,
  PROP_PATH,
  PROP_PLUGIN_TYPE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

char *
_fj_plugin_option_json_name (const char *property_name)
{
  g_assert (property_name != NULL);

  return g_strdelimit (g_strdup (property_name), "-", '_');
}

gboolean
_fj_plugin_option_is_option (GParamSpec *pspec)
{
  g_assert (pspec != NULL);

  /* An object-typed property (e.g. the llm synthesizer's client) is
   * wiring set from code, not something JSON can give.  Of FjTool's own
   * properties, a spec may rename a tool and reword its description (two
   * read_file tools with different roots need two names), but its input
   * schema and the thread it runs on are the plugin's implementation. */
  if (pspec->owner_type == FJ_TYPE_TOOL &&
      g_strcmp0 (pspec->name, "name") != 0 && g_strcmp0 (pspec->name, "description") != 0)
    return FALSE;

  return (pspec->flags & G_PARAM_WRITABLE) != 0 &&
         (pspec->flags & G_PARAM_DEPRECATED) == 0 &&
         !G_TYPE_IS_OBJECT (G_PARAM_SPEC_VALUE_TYPE (pspec)) &&
         !G_TYPE_IS_INTERFACE (G_PARAM_SPEC_VALUE_TYPE (pspec));
}

char *
_fj_plugin_option_type_name (GParamSpec *pspec)
{
  GType vtype = G_PARAM_SPEC_VALUE_TYPE (pspec);

  switch (G_TYPE_FUNDAMENTAL (vtype))
    {
    case G_TYPE_BOOLEAN:
      return g_strdup ("boolean");
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_UCHAR:
      return g_strdup ("unsigned integer");
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_CHAR:
      return g_strdup ("integer");
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
      return g_strdup ("number");
    case G_TYPE_STRING:
      return g_strdup ("string");
    case G_TYPE_ENUM:
      return g_strdup ("enum");
    default:
      if (vtype == G_TYPE_STRV)
        return g_strdup ("array of strings");
      return g_strdup (g_type_name (vtype));
    }
}

static JsonNode *
node_for_value (const GValue *value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  GType vtype = G_VALUE_TYPE (value);

  switch (G_TYPE_FUNDAMENTAL (vtype))
    {
    case G_TYPE_BOOLEAN:
      json_node_set_boolean (node, g_value_get_boolean (value));
      break;
    case G_TYPE_INT:
      json_node_set_int (node, g_value_get_int (value));
      break;
    case G_TYPE_UINT:
      json_node_set_int (node, g_value_get_uint (value));
      break;
    case G_TYPE_LONG:
      json_node_set_int (node, g_value_get_long (value));
      break;
    case G_TYPE_ULONG:
      json_node_set_int (node, (gint64) g_value_get_ulong (value));
      break;
    case G_TYPE_INT64:
      json_node_set_int (node, g_value_get_int64 (value));
      break;
    case G_TYPE_UINT64:
      json_node_set_int (node, (gint64) g_value_get_uint64 (value));
      break;
    case G_TYPE_CHAR:
      json_node_set_int (node, g_value_get_schar (value));
      break;
    case G_TYPE_UCHAR:
      json_node_set_int (node, g_value_get_uchar (value));
      break;
    case G_TYPE_FLOAT:
      json_node_set_double (node, g_value_get_float (value));
      break;
    case G_TYPE_DOUBLE:
      json_node_set_double (node, g_value_get_double (value));
      break;
    case G_TYPE_STRING:
      if (g_value_get_string (value) != NULL)
        json_node_set_string (node, g_value_get_string (value));
      else
        json_node_init_null (node);
      break;
    case G_TYPE_ENUM:
      {
        g_autoptr(GEnumClass) klass = g_type_class_ref (vtype);
        GEnumValue *ev = g_enum_get_value (klass, g_value_get_enum (value));

        if (ev != NULL)
          json_node_set_string (node, ev->value_nick);
        else
          json_node_set_int (node, g_value_get_enum (value));
      }
      break;
    default:
      json_node_init_null (node);
      break;
    }

  return node;
}

static int
compare_pspecs (gconstpointer a,
                 gconstpointer b)
{
  const GParamSpec *pa = *(GParamSpec * const *)a;
  const GParamSpec *pb = *(GParamSpec * const *)b;

  return strcmp (pa->name, pb->name);
}

static JsonArray *
build_options (GType type)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (type);
  g_autofree GParamSpec **pspecs = NULL;
  JsonArray *options = json_array_new ();
  guint n_pspecs = 0;

  pspecs = g_object_class_list_properties (G_OBJECT_CLASS (klass), &n_pspecs);
  qsort (pspecs, n_pspecs, sizeof (GParamSpec *), compare_pspecs);

  for (guint i = 0; i < n_pspecs; i++)
    {
      GParamSpec *pspec = pspecs[i];
      GType vtype = G_PARAM_SPEC_VALUE_TYPE (pspec);
      g_autofree char *json_name = NULL;
      g_autofree char *type_name = NULL;
      JsonObject *option;
      const char *blurb;

      if (!_fj_plugin_option_is_option (pspec))
        continue;

      option = json_object_new ();
      json_name = _fj_plugin_option_json_name (pspec->name);
      type_name = _fj_plugin_option_type_name (pspec);
      json_object_set_string_member (option, "name", json_name);
      json_object_set_string_member (option, "type", type_name);

      if (G_TYPE_IS_ENUM (vtype))
        {
          g_autoptr(GEnumClass) enum_class = g_type_class_ref (vtype);
          JsonArray *choices = json_array_new ();

          for (guint j = 0; j < enum_class->n_values; j++)
            json_array_add_string_element (choices, enum_class->values[j].value_nick);
          json_object_set_array_member (option, "choices", choices);
        }

      json_object_set_member (option, "default",
                              node_for_value (g_param_spec_get_default_value (pspec)));

      blurb = g_param_spec_get_blurb (pspec);
      json_object_set_string_member (option, "description", blurb ? blurb : "");
      json_array_add_object_element (options, option);
    }

  return options;
}

static void
fj_plugin_info_finalize (GObject *object)
{
  FjPluginInfo *self = (FjPluginInfo *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->options, json_array_unref);

  G_OBJECT_CLASS (fj_plugin_info_parent_class)->finalize (object);
}

static void
fj_plugin_info_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  FjPluginInfo *self = FJ_PLUGIN_INFO (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_PLUGIN_TYPE:
      g_value_set_gtype (value, self->type);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_plugin_info_class_init (FjPluginInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_plugin_info_finalize;
  object_class->get_property = fj_plugin_info_get_property;

  /**
   * FjPluginInfo:name:
   *
   * The plugin's short name, unique within its kind.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjPluginInfo:kind:
   *
   * What the plugin provides.
   *
   * Since: 1.0
   */
  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL,
                       FJ_TYPE_PLUGIN_KIND, FJ_PLUGIN_KIND_SYNTHESIZER,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjPluginInfo:description:
   *
   * A one-line description.
   *
   * Since: 1.0
   */
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjPluginInfo:path:
   *
   * The module the plugin was loaded from, or %NULL for a type added by
   * the program itself.
   *
   * Since: 1.0
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjPluginInfo:plugin-type:
   *
   * The type [method@PluginRegistry.create] instantiates.
   *
   * Since: 1.0
   */
  properties[PROP_PLUGIN_TYPE] =
    g_param_spec_gtype ("plugin-type", NULL, NULL, G_TYPE_OBJECT,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_plugin_info_init (FjPluginInfo *self)
{
}

FjPluginInfo *
_fj_plugin_info_new (FjPluginKind  kind,
                     const char   *name,
                     GType         type,
                     const char   *description,
                     const char   *path)
{
  FjPluginInfo *self;

  g_assert (name != NULL);
  g_assert (g_type_is_a (type, G_TYPE_OBJECT));

  self = g_object_new (FJ_TYPE_PLUGIN_INFO, NULL);
  self->kind = kind;
  self->name = g_strdup (name);
  self->type = type;
  self->description = g_strdup (description ? description : "");
  self->path = g_strdup (path);

  return self;
}

/**
 * fj_plugin_info_get_name:
 * @self: a plugin info
 *
 * Gets the plugin's short name, the one a spec uses after `"plugin":`.
 *
 * Returns: (transfer none): the plugin's short name
 *
 * Since: 1.0
 */
const char *
fj_plugin_info_get_name (FjPluginInfo *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_INFO (self), NULL);

  return self->name;
}

/**
 * fj_plugin_info_get_kind:
 * @self: a plugin info
 *
 * Gets what the plugin provides: a synthesizer, a policy or a tool.
 *
 * Returns: what the plugin provides
 *
 * Since: 1.0
 */
FjPluginKind
fj_plugin_info_get_kind (FjPluginInfo *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_INFO (self), FJ_PLUGIN_KIND_SYNTHESIZER);

  return self->kind;
}

/**
 * fj_plugin_info_get_description:
 * @self: a plugin info
 *
 * Gets the plugin's one-line description, as `forkjoin-tool plugins` shows it.
 *
 * Returns: (transfer none): the one-line description
 *
 * Since: 1.0
 */
const char *
fj_plugin_info_get_description (FjPluginInfo *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_INFO (self), NULL);

  return self->description;
}

/**
 * fj_plugin_info_get_path:
 * @self: a plugin info
 *
 * Gets the path of the module the plugin was loaded from.
 *
 * Returns: (transfer none) (nullable): the module's path, or %NULL for a type
 *   the program added itself
 *
 * Since: 1.0
 */
const char *
fj_plugin_info_get_path (FjPluginInfo *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_INFO (self), NULL);

  return self->path;
}

/**
 * fj_plugin_info_get_plugin_type:
 * @self: a plugin info
 *
 * Gets the type the registry creates for the plugin.
 *
 * Returns: the type the registry instantiates
 *
 * Since: 1.0
 */
GType
fj_plugin_info_get_plugin_type (FjPluginInfo *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_INFO (self), G_TYPE_INVALID);

  return self->type;
}

/**
 * fj_plugin_info_get_options:
 * @self: a plugin info
 *
 * The options the plugin accepts, from its writable properties: an array
 * of objects with `name` (spelled as in JSON, `max_tokens`), `type`
 * (`boolean`, `integer`, `unsigned integer`, `number`, `string`, `enum`
 * with `choices`, `array of strings`), `default` and `description` (the
 * property's blurb, or an empty string).
 *
 * Returns: (transfer none): the options, sorted by name
 *
 * Since: 1.0
 */
JsonArray *
fj_plugin_info_get_options (FjPluginInfo *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_INFO (self), NULL);

  if (self->options == NULL)
    self->options = build_options (self->type);

  return self->options;
}
