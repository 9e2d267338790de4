/* fj-plugin-registry.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-plugin-registry-private.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "fj-enums.h"
#include "fj-error.h"
#include "fj-json-private.h"
#include "fj-plugin-info-private.h"
#include "fj-policy.h"
#include "fj-synthesizer.h"
#include "fj-tool.h"

#define N_KINDS (FJ_PLUGIN_KIND_TOOL + 1)

/**
 * FjPluginRegistry:
 *
 * Finds synthesizers, policies and tools by kind and short name, and makes
 * instances of them from JSON options.
 *
 * Plugins come from GModules: [method@PluginRegistry.load_default] scans
 * the directories in `FORKJOIN_PLUGIN_PATH` (colon-separated, in order)
 * and then the installed plugin directory, never the current directory:
 * empty entries of `FORKJOIN_PLUGIN_PATH` are skipped and relative ones
 * refused. A directory or module that group or others may write to is
 * refused too (anyone who can write it could run code in every program
 * that loads plugins). Each `*.so` is opened with its
 * symbols resolved at load time and must export `fj_plugin_abi` (equal to
 * %FJ_PLUGIN_ABI) and `fj_plugin_register()`, which calls
 * [method@PluginRegistry.add] for each type it provides; the
 * `FJ_PLUGIN_DEFINE()` macro defines both. Modules stay resident, so the
 * types inside them can be ordinary static types.
 *
 * A problem with a module (not a module, a missing symbol, another ABI, a
 * type that does not implement its kind's interface, a name an earlier
 * directory already provides) never stops the others: it is kept as a
 * [struct@GLib.Error] that names the path, listed by
 * [method@PluginRegistry.get_errors]. The first directory wins.
 *
 * Types from the program itself (C, or Python and gjs through
 * introspection) are added with [method@PluginRegistry.add] and used the
 * same way as loaded ones.
 *
 * The registry is meant to be used from one thread.
 *
 * Since: 1.0
 */
static G_DEFINE_QUARK (fj-plugin-name, plugin_name)

struct _FjPluginRegistry
{
  GObject     parent_instance;

  /* name -> FjPluginInfo, one table per kind */
  GHashTable *plugins[N_KINDS];
  /* module basename -> path it was loaded from */
  GHashTable *modules;
  /* canonical paths of the dirs already scanned */
  GHashTable *dirs;
  GPtrArray  *errors;
  /* the module whose register function is running */
  const char *loading_path;
  guint       loaded_default : 1;
};

G_DEFINE_FINAL_TYPE (FjPluginRegistry, fj_plugin_registry, G_TYPE_OBJECT)

typedef void (*FjPluginRegisterFunc) (FjPluginRegistry *registry);

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *)a, *(const char * const *)b);
}

static const char *
kind_nick (FjPluginKind kind)
{
  static const char * const nicks[] = { "synthesizer", "policy", "tool" };

  g_assert ((guint) kind < N_KINDS);

  return nicks[kind];
}

static GType
kind_type (FjPluginKind kind)
{
  switch (kind)
    {
    case FJ_PLUGIN_KIND_SYNTHESIZER:
      return FJ_TYPE_SYNTHESIZER;
    case FJ_PLUGIN_KIND_POLICY:
      return FJ_TYPE_POLICY;
    case FJ_PLUGIN_KIND_TOOL:
      return FJ_TYPE_TOOL;
    default:
      g_assert_not_reached ();
      return G_TYPE_INVALID;
    }
}

G_GNUC_PRINTF (3, 4)
static void
record_error (FjPluginRegistry *self,
              const char       *path,
              const char       *format,
              ...)
{
  g_autofree char *message = NULL;
  GError *error;
  va_list args;

  g_assert (FJ_IS_PLUGIN_REGISTRY (self));

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (path != NULL)
    error = g_error_new (FJ_ERROR, FJ_ERROR_PLUGIN, "%s: %s", path, message);
  else
    error = g_error_new_literal (FJ_ERROR, FJ_ERROR_PLUGIN, message);

  g_debug ("%s", error->message);
  g_ptr_array_add (self->errors, error);
}

static void
fj_plugin_registry_finalize (GObject *object)
{
  FjPluginRegistry *self = (FjPluginRegistry *)object;

  for (guint i = 0; i < N_KINDS; i++)
    g_clear_pointer (&self->plugins[i], g_hash_table_unref);
  g_clear_pointer (&self->modules, g_hash_table_unref);
  g_clear_pointer (&self->dirs, g_hash_table_unref);
  g_clear_pointer (&self->errors, g_ptr_array_unref);

  G_OBJECT_CLASS (fj_plugin_registry_parent_class)->finalize (object);
}

static void
fj_plugin_registry_class_init (FjPluginRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_plugin_registry_finalize;
}

static void
fj_plugin_registry_init (FjPluginRegistry *self)
{
  for (guint i = 0; i < N_KINDS; i++)
    self->plugins[i] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->modules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
}

/**
 * fj_plugin_registry_new:
 *
 * Creates an empty registry; most programs use
 * [func@PluginRegistry.get_default] instead.
 *
 * Returns: (transfer full): a new registry
 *
 * Since: 1.0
 */
FjPluginRegistry *
fj_plugin_registry_new (void)
{
  return g_object_new (FJ_TYPE_PLUGIN_REGISTRY, NULL);
}

/**
 * fj_plugin_registry_get_default:
 *
 * Gets the process-wide registry. It starts empty: call
 * [method@PluginRegistry.load_default] to load the plugins.
 *
 * Returns: (transfer none): the default registry
 *
 * Since: 1.0
 */
FjPluginRegistry *
fj_plugin_registry_get_default (void)
{
  static FjPluginRegistry *instance;

  if (g_once_init_enter (&instance))
    g_once_init_leave (&instance, fj_plugin_registry_new ());

  return instance;
}

static void
load_module (FjPluginRegistry *self,
             const char       *path)
{
  g_autofree char *basename = g_path_get_basename (path);
  FjPluginRegisterFunc register_func = NULL;
  const char *earlier;
  gpointer abi = NULL;
  GModule *module;

  g_assert (FJ_IS_PLUGIN_REGISTRY (self));
  g_assert (path != NULL);

  /* The first dir wins: a module an earlier dir provides is not opened,
   * so the types inside it are never registered twice. */
  if ((earlier = g_hash_table_lookup (self->modules, basename)))
    {
      record_error (self, path, "not loaded: %s is already provided by %s", basename, earlier);
      return;
    }

  if (!(module = g_module_open (path, G_MODULE_BIND_LOCAL)))
    {
      record_error (self, path, "not a loadable module: %s", g_module_error ());
      return;
    }

  if (!g_module_symbol (module, "fj_plugin_abi", &abi) || abi == NULL)
    {
      record_error (self, path, "does not export fj_plugin_abi");
      g_module_close (module);
      return;
    }

  if (*(const int *)abi != FJ_PLUGIN_ABI)
    {
      record_error (self, path, "built for plugin ABI %d, this library loads ABI %d",
                    *(const int *)abi, FJ_PLUGIN_ABI);
      g_module_close (module);
      return;
    }

  if (!g_module_symbol (module, "fj_plugin_register", (gpointer *)&register_func) ||
      register_func == NULL)
    {
      record_error (self, path, "does not export fj_plugin_register()");
      g_module_close (module);
      return;
    }

  /* Its static types cannot be unregistered, so it stays. */
  g_module_make_resident (module);
  g_hash_table_insert (self->modules, g_steal_pointer (&basename), g_strdup (path));

  self->loading_path = path;
  register_func (self);
  self->loading_path = NULL;
}

/* Group or others may write @st: not safe to load code from. */
static gboolean
mode_is_unsafe (const GStatBuf *st)
{
  return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

static gboolean
has_module_suffix (const char *name)
{
  return g_str_has_suffix (name, "." G_MODULE_SUFFIX);
}

/**
 * fj_plugin_registry_load_dir:
 * @self: a registry
 * @path: (type filename): a directory
 * @error: return location for a #GError
 *
 * Loads every module (`*.so`) in @path, sorted by name. A problem with
 * one module does not fail the call: it is added to
 * [method@PluginRegistry.get_errors]. A module that group or others may
 * write to is such a problem. A dir loaded before is skipped.
 *
 * Returns: %TRUE, or %FALSE when @path cannot be read or group or others
 *   may write to it (%FJ_ERROR_PLUGIN, naming @path and its mode)
 *
 * Since: 1.0
 */
gboolean
fj_plugin_registry_load_dir (FjPluginRegistry  *self,
                             const char        *path,
                             GError           **error)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autofree char *canonical = NULL;
  const char *name;
  GStatBuf st;

  g_return_val_if_fail (FJ_IS_PLUGIN_REGISTRY (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  canonical = g_canonicalize_filename (path, NULL);
  if (g_hash_table_contains (self->dirs, canonical))
    return TRUE;

  if (!(dir = g_dir_open (path, 0, error)))
    return FALSE;

  if (g_stat (path, &st) == 0 && mode_is_unsafe (&st))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PLUGIN,
                   "%s: not loaded: the directory is writable by group or others "
                   "(mode %04o); chmod go-w %s",
                   path, (guint) (st.st_mode & 07777), path);
      return FALSE;
    }

  g_hash_table_add (self->dirs, g_steal_pointer (&canonical));

  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)))
    {
      if (has_module_suffix (name))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_filename (path, g_ptr_array_index (names, i), NULL);

      if (g_stat (file, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      if (mode_is_unsafe (&st))
        {
          record_error (self, file, "not loaded: the module is writable by group or others "
                        "(mode %04o); chmod go-w %s",
                        (guint) (st.st_mode & 07777), file);
          continue;
        }
      load_module (self, file);
    }

  return TRUE;
}

static void
load_default_dir (FjPluginRegistry *self,
                  const char       *path)
{
  g_autoptr(GError) error = NULL;

  if (!fj_plugin_registry_load_dir (self, path, &error) &&
      !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      /* Our own errors already name the path. */
      if (error->domain == FJ_ERROR)
        record_error (self, NULL, "%s", error->message);
      else
        record_error (self, path, "%s", error->message);
    }
}

/**
 * fj_plugin_registry_load_default:
 * @self: a registry
 *
 * Loads the plugins from the directories in the `FORKJOIN_PLUGIN_PATH`
 * environment variable (separated by colons, in order), then from the
 * installed plugin directory. A directory that does not exist is skipped;
 * other problems are added to [method@PluginRegistry.get_errors]. Calling
 * it again does nothing.
 *
 * Plugins never come from the current directory: an empty entry in
 * `FORKJOIN_PLUGIN_PATH` is skipped, and a relative one (such as `.`) is
 * not loaded but listed as an error. Directories and modules writable by
 * group or others are refused, see [method@PluginRegistry.load_dir].
 *
 * Since: 1.0
 */
void
fj_plugin_registry_load_default (FjPluginRegistry *self)
{
  const char *env;

  g_return_if_fail (FJ_IS_PLUGIN_REGISTRY (self));

  if (self->loaded_default)
    return;
  self->loaded_default = TRUE;

  if ((env = g_getenv ("FORKJOIN_PLUGIN_PATH")))
    {
      g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; dirs[i] != NULL; i++)
        {
          if (dirs[i][0] == '\0')
            continue;
          if (!g_path_is_absolute (dirs[i]))
            {
              record_error (self, dirs[i],
                            "not loaded: FORKJOIN_PLUGIN_PATH entries must be absolute "
                            "(plugins are never loaded from the current directory)");
              continue;
            }
          load_default_dir (self, dirs[i]);
        }
    }

  load_default_dir (self, FJ_PLUGINDIR);
}

/**
 * fj_plugin_registry_add:
 * @self: a registry
 * @kind: what @type provides
 * @name: the short name, unique within @kind (`concat`)
 * @type: a type implementing @kind's interface ([iface@Synthesizer],
 *   [iface@Policy]) or deriving from [class@Tool]
 * @description: (nullable): a one-line description
 *
 * Adds a plugin type. Modules call it from `fj_plugin_register()`; a
 * program calls it for its own types. A type that does not fit @kind, or
 * a name @kind already has, is not added and the problem goes to
 * [method@PluginRegistry.get_errors].
 *
 * Returns: %TRUE if @type was added
 *
 * Since: 1.0
 */
gboolean
fj_plugin_registry_add (FjPluginRegistry *self,
                        FjPluginKind      kind,
                        const char       *name,
                        GType             type,
                        const char       *description)
{
  FjPluginInfo *existing;
  GType required;

  g_return_val_if_fail (FJ_IS_PLUGIN_REGISTRY (self), FALSE);
  g_return_val_if_fail ((guint) kind < N_KINDS, FALSE);
  g_return_val_if_fail (name != NULL && name[0] != '\0', FALSE);

  required = kind_type (kind);

  if (!G_TYPE_IS_OBJECT (type) || !g_type_is_a (type, required))
    {
      record_error (self, self->loading_path,
                    "%s plugin '%s': type %s does not implement %s",
                    kind_nick (kind), name,
                    type ? g_type_name (type) : "(invalid)",
                    g_type_name (required));
      return FALSE;
    }

  if (G_TYPE_IS_ABSTRACT (type))
    {
      record_error (self, self->loading_path,
                    "%s plugin '%s': type %s is abstract",
                    kind_nick (kind), name, g_type_name (type));
      return FALSE;
    }

  if ((existing = g_hash_table_lookup (self->plugins[kind], name)))
    {
      const char *where = fj_plugin_info_get_path (existing);

      record_error (self, self->loading_path,
                    "%s plugin '%s' not added: already provided by %s",
                    kind_nick (kind), name, where ? where : "the program");
      return FALSE;
    }

  g_hash_table_insert (self->plugins[kind],
                       g_strdup (name),
                       _fj_plugin_info_new (kind, name, type, description, self->loading_path));

  return TRUE;
}

/**
 * fj_plugin_registry_lookup:
 * @self: a registry
 * @kind: the kind
 * @name: a short name
 *
 * Looks up the type a plugin registered under @name for @kind, whether a
 * loaded module or the program itself added it.
 *
 * Returns: the type registered as @name for @kind, or %G_TYPE_INVALID
 *
 * Since: 1.0
 */
GType
fj_plugin_registry_lookup (FjPluginRegistry *self,
                           FjPluginKind      kind,
                           const char       *name)
{
  FjPluginInfo *info;

  g_return_val_if_fail (FJ_IS_PLUGIN_REGISTRY (self), G_TYPE_INVALID);
  g_return_val_if_fail ((guint) kind < N_KINDS, G_TYPE_INVALID);
  g_return_val_if_fail (name != NULL, G_TYPE_INVALID);

  if ((info = g_hash_table_lookup (self->plugins[kind], name)))
    return fj_plugin_info_get_plugin_type (info);

  return G_TYPE_INVALID;
}

/* Optimal string alignment distance: a swap of two neighbours counts as
 * one edit, the commonest typo. */
static guint
edit_distance (const char *a,
               const char *b)
{
  gsize la = strlen (a);
  gsize lb = strlen (b);
  g_autofree guint *d = g_new0 (guint, (la + 1) * (lb + 1));
  guint result;

#define D(i, j) d[(i) * (lb + 1) + (j)]
  for (gsize i = 0; i <= la; i++)
    D (i, 0) = i;
  for (gsize j = 0; j <= lb; j++)
    D (0, j) = j;

  for (gsize i = 1; i <= la; i++)
    for (gsize j = 1; j <= lb; j++)
      {
        guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
        guint best = MIN (MIN (D (i - 1, j) + 1, D (i, j - 1) + 1), D (i - 1, j - 1) + cost);

        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          best = MIN (best, D (i - 2, j - 2) + 1);
        D (i, j) = best;
      }

  result = D (la, lb);
#undef D

  return result;
}

static GPtrArray *
sorted_names (GHashTable *table)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort (names, compare_strings);

  return names;
}

static GError *
unknown_plugin_error (FjPluginRegistry *self,
                      FjPluginKind      kind,
                      const char       *name)
{
  g_autoptr(GPtrArray) names = sorted_names (self->plugins[kind]);
  g_autoptr(GString) message = g_string_new (NULL);
  const char *closest = NULL;
  guint closest_distance = G_MAXUINT;
  guint threshold = MAX (1, strlen (name) / 3);

  g_string_append_printf (message, "no %s plugin named '%s'", kind_nick (kind), name);

  for (guint i = 0; i < names->len; i++)
    {
      const char *candidate = g_ptr_array_index (names, i);
      guint distance = edit_distance (name, candidate);

      if (distance <= threshold && distance < closest_distance)
        {
          closest = candidate;
          closest_distance = distance;
        }
    }

  if (closest != NULL)
    g_string_append_printf (message, " (did you mean '%s'?)", closest);

  if (names->len == 0)
    g_string_append_printf (message, "; no %s plugins are loaded", kind_nick (kind));
  else
    {
      g_string_append_printf (message, "; known %s plugins: ", kind_nick (kind));
      for (guint i = 0; i < names->len; i++)
        {
          if (i > 0)
            g_string_append (message, ", ");
          g_string_append (message, g_ptr_array_index (names, i));
        }
    }

  return g_error_new_literal (FJ_ERROR, FJ_ERROR_PLUGIN, message->str);
}

static gboolean
node_is (JsonNode *node,
         GType     value_type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == value_type;
}

/* Fills @value (initialised to the pspec's type) from @node; FALSE when
 * the JSON type does not fit. Ranges are checked by the caller. */
static gboolean
value_from_node (GParamSpec *pspec,
                 JsonNode   *node,
                 GValue     *value,
                 gboolean   *out_of_range)
{
  GType vtype = G_PARAM_SPEC_VALUE_TYPE (pspec);
  gint64 v;

  *out_of_range = FALSE;

  switch (G_TYPE_FUNDAMENTAL (vtype))
    {
    case G_TYPE_BOOLEAN:
      if (!node_is (node, G_TYPE_BOOLEAN))
        return FALSE;
      g_value_set_boolean (value, json_node_get_boolean (node));
      return TRUE;

    case G_TYPE_INT:
    case G_TYPE_UINT:
    case G_TYPE_LONG:
    case G_TYPE_ULONG:
    case G_TYPE_INT64:
    case G_TYPE_UINT64:
      if (!node_is (node, G_TYPE_INT64))
        return FALSE;
      v = json_node_get_int (node);
      switch (G_TYPE_FUNDAMENTAL (vtype))
        {
        case G_TYPE_INT:
          *out_of_range = v < G_MININT || v > G_MAXINT;
          g_value_set_int (value, (int) v);
          break;
        case G_TYPE_UINT:
          *out_of_range = v < 0 || v > G_MAXUINT;
          g_value_set_uint (value, (guint) v);
          break;
        case G_TYPE_LONG:
          *out_of_range = v < G_MINLONG || v > G_MAXLONG;
          g_value_set_long (value, (glong) v);
          break;
        case G_TYPE_ULONG:
          *out_of_range = v < 0;
          g_value_set_ulong (value, (gulong) v);
          break;
        case G_TYPE_INT64:
          g_value_set_int64 (value, v);
          break;
        case G_TYPE_UINT64:
          *out_of_range = v < 0;
          g_value_set_uint64 (value, (guint64) v);
          break;
        default:
          g_assert_not_reached ();
        }
      return TRUE;

    case G_TYPE_DOUBLE:
    case G_TYPE_FLOAT:
      if (!node_is (node, G_TYPE_INT64) && !node_is (node, G_TYPE_DOUBLE))
        return FALSE;
      if (G_TYPE_FUNDAMENTAL (vtype) == G_TYPE_DOUBLE)
        g_value_set_double (value, json_node_get_double (node));
      else
        g_value_set_float (value, (float) json_node_get_double (node));
      return TRUE;

    case G_TYPE_STRING:
      if (JSON_NODE_HOLDS_NULL (node))
        g_value_set_string (value, NULL);
      else if (node_is (node, G_TYPE_STRING))
        g_value_set_string (value, json_node_get_string (node));
      else
        return FALSE;
      return TRUE;

    case G_TYPE_ENUM:
      {
        g_autoptr(GEnumClass) klass = NULL;
        g_autofree char *nick = NULL;
        GEnumValue *ev;

        if (!node_is (node, G_TYPE_STRING))
          return FALSE;
        klass = g_type_class_ref (vtype);
        nick = g_strdelimit (g_strdup (json_node_get_string (node)), "_", '-');
        if (!(ev = g_enum_get_value_by_nick (klass, nick)))
          ev = g_enum_get_value_by_nick (klass, json_node_get_string (node));
        if (ev == NULL)
          return FALSE;
        g_value_set_enum (value, ev->value);
        return TRUE;
      }

    default:
      if (vtype == G_TYPE_STRV)
        {
          g_autoptr(GStrvBuilder) builder = NULL;
          g_auto(GStrv) strv = NULL;
          JsonArray *array;

          if (!JSON_NODE_HOLDS_ARRAY (node))
            return FALSE;
          array = json_node_get_array (node);
          builder = g_strv_builder_new ();
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *element = json_array_get_element (array, i);

              if (!node_is (element, G_TYPE_STRING))
                return FALSE;
              g_strv_builder_add (builder, json_node_get_string (element));
            }
          strv = g_strv_builder_end (builder);
          g_value_take_boxed (value, g_steal_pointer (&strv));
          return TRUE;
        }
      return FALSE;
    }
}

static char *
valid_options (FjPluginInfo *info)
{
  JsonArray *options = fj_plugin_info_get_options (info);
  g_autoptr(GString) str = g_string_new (NULL);
  guint n = json_array_get_length (options);

  if (n == 0)
    return g_strdup ("none");

  for (guint i = 0; i < n; i++)
    {
      JsonObject *option = json_array_get_object_element (options, i);

      if (i > 0)
        g_string_append (str, ", ");
      g_string_append (str, json_object_get_string_member (option, "name"));
    }

  return g_strdup (str->str);
}

static char *
expected_type (GParamSpec *pspec)
{
  GType vtype = G_PARAM_SPEC_VALUE_TYPE (pspec);

  if (G_TYPE_IS_ENUM (vtype))
    {
      g_autoptr(GEnumClass) klass = g_type_class_ref (vtype);
      g_autoptr(GString) str = g_string_new ("one of ");

      for (guint i = 0; i < klass->n_values; i++)
        g_string_append_printf (str, "%s'%s'", i > 0 ? ", " : "", klass->values[i].value_nick);

      return g_strdup (str->str);
    }

  {
    g_autofree char *type_name = _fj_plugin_option_type_name (pspec);
    const char *article = strchr ("aeiou", type_name[0]) ? "an" : "a";

    return g_strdup_printf ("%s %s", article, type_name);
  }
}

/**
 * fj_plugin_registry_create:
 * @self: a registry
 * @kind: the kind
 * @name: a short name
 * @options: (nullable): the options: each member sets the property of the
 *   same name with `_` for `-` (`max_tokens` sets `max-tokens`)
 * @error: return location for a #GError
 *
 * Makes an instance of the plugin @name. An unknown name, an unknown
 * option or a value of the wrong type fails with %FJ_ERROR_PLUGIN, whose
 * message names the plugin, the option and the valid ones as spelled in
 * JSON.
 *
 * Returns: (transfer full) (type GObject.Object): the new instance, or
 *   %NULL with @error set
 *
 * Since: 1.0
 */
GObject *
fj_plugin_registry_create (FjPluginRegistry  *self,
                           FjPluginKind       kind,
                           const char        *name,
                           JsonObject        *options,
                           GError           **error)
{
  g_autoptr(GTypeClass) klass = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GArray) values = NULL;
  g_autoptr(GList) members = NULL;
  FjPluginInfo *info;
  GObject *object;

  g_return_val_if_fail (FJ_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail ((guint) kind < N_KINDS, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(info = g_hash_table_lookup (self->plugins[kind], name)))
    {
      g_propagate_error (error, unknown_plugin_error (self, kind, name));
      return NULL;
    }

  klass = g_type_class_ref (fj_plugin_info_get_plugin_type (info));
  names = g_ptr_array_new_with_free_func (g_free);
  values = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (values, (GDestroyNotify) g_value_unset);

  if (options != NULL)
    members = json_object_get_members (options);

  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *option = l->data;
      g_autofree char *property = g_strdelimit (g_strdup (option), "_", '-');
      JsonNode *node = json_object_get_member (options, option);
      GValue value = G_VALUE_INIT;
      gboolean out_of_range;
      GParamSpec *pspec;

      pspec = g_object_class_find_property (G_OBJECT_CLASS (klass), property);

      if (pspec == NULL || !_fj_plugin_option_is_option (pspec) || strchr (option, '-'))
        {
          g_autofree char *valid = valid_options (info);

          g_set_error (error, FJ_ERROR, FJ_ERROR_PLUGIN,
                       "%s: unknown option '%s'; valid options: %s",
                       name, option, valid);
          return NULL;
        }

      g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspec));

      if (!value_from_node (pspec, node, &value, &out_of_range))
        {
          g_autofree char *expected = expected_type (pspec);

          g_set_error (error, FJ_ERROR, FJ_ERROR_PLUGIN,
                       "%s: option '%s' must be %s, not %s",
                       name, option, expected, _fj_json_describe_type (node));
          g_value_unset (&value);
          return NULL;
        }

      if (out_of_range || g_param_value_validate (pspec, &value))
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_PLUGIN,
                       "%s: value of option '%s' is out of range",
                       name, option);
          g_value_unset (&value);
          return NULL;
        }

      g_ptr_array_add (names, g_strdup (pspec->name));
      g_array_append_val (values, value);
    }

  object = g_object_new_with_properties (fj_plugin_info_get_plugin_type (info),
                                         names->len,
                                         (const char **) names->pdata,
                                         (const GValue *) (gpointer) values->data);
  g_object_set_qdata_full (object, plugin_name_quark (),
                           g_strdup (fj_plugin_info_get_name (info)), g_free);

  return object;
}

const char *
_fj_plugin_registry_get_object_name (GObject *object)
{
  const char *name;

  g_return_val_if_fail (G_IS_OBJECT (object), NULL);

  name = g_object_get_qdata (object, plugin_name_quark ());

  return name != NULL ? name : G_OBJECT_TYPE_NAME (object);
}

static int
compare_infos (gconstpointer a,
               gconstpointer b)
{
  FjPluginInfo *ia = *(FjPluginInfo * const *)a;
  FjPluginInfo *ib = *(FjPluginInfo * const *)b;

  if (fj_plugin_info_get_kind (ia) != fj_plugin_info_get_kind (ib))
    return (int) fj_plugin_info_get_kind (ia) - (int) fj_plugin_info_get_kind (ib);

  return strcmp (fj_plugin_info_get_name (ia), fj_plugin_info_get_name (ib));
}

/**
 * fj_plugin_registry_list:
 * @self: a registry
 *
 * Lists the plugins, by kind and then by name.
 *
 * Returns: (transfer full): a list model of [class@PluginInfo]
 *
 * Since: 1.0
 */
GListModel *
fj_plugin_registry_list (FjPluginRegistry *self)
{
  g_autoptr(GPtrArray) infos = NULL;
  GListStore *store;

  g_return_val_if_fail (FJ_IS_PLUGIN_REGISTRY (self), NULL);

  infos = g_ptr_array_new ();
  for (guint i = 0; i < N_KINDS; i++)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->plugins[i]);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        g_ptr_array_add (infos, value);
    }
  g_ptr_array_sort (infos, compare_infos);

  store = g_list_store_new (FJ_TYPE_PLUGIN_INFO);
  g_list_store_splice (store, 0, 0, infos->pdata, infos->len);

  return G_LIST_MODEL (store);
}

/**
 * fj_plugin_registry_get_errors:
 * @self: a registry
 *
 * The problems met while loading, in order; each is %FJ_ERROR_PLUGIN and
 * its message starts with the module's path.
 *
 * Returns: (transfer none) (element-type GLib.Error): the errors
 *
 * Since: 1.0
 */
GPtrArray *
fj_plugin_registry_get_errors (FjPluginRegistry *self)
{
  g_return_val_if_fail (FJ_IS_PLUGIN_REGISTRY (self), NULL);

  return self->errors;
}
