/* fj-prices.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-prices.h"

#include <math.h>
#include <string.h>

#include "fj-data-resources.h"
#include "fj-error.h"
#include "fj-json-private.h"

/**
 * FjPrices:
 *
 * A price table: what each model's tokens cost, in US dollars per million
 * tokens, with the date the prices were taken and where from.
 *
 * [func@Prices.get_default] gives the table built into the library (the
 * project's `data/prices.json`); [method@Prices.load_from_file] reads one
 * of the same format, so a newer or negotiated price list can replace it
 * (`forkjoin-tool run --prices FILE`).
 *
 * [method@Prices.compute] prices an [struct@Usage]: each of its four token
 * counts times its price, over a million. A dated snapshot name
 * (`claude-haiku-5-5-20261001`) that the table does not list is priced as
 * its undated entry (`claude-haiku-5-5`). A model the table does not know
 * has no price: the cost is negative, shown as `null` in JSON.
 *
 * ## The file format
 *
 * ```json
 * {
 *   "taken": "2026-11-29",
 *   "source": "https://platform.claude.com/docs/en/about-claude/pricing",
 *   "currency": "USD",
 *   "unit": "per million tokens",
 *   "note": "what the table covers and what it leaves out",
 *   "batch_discount": 0.5,
 *   "models": {
 *     "claude-haiku-5-5": {
 *       "input": 0.1, "output": 0.5, "cache_write": 0.125, "cache_read": 0.01,
 *       "note": "why this entry is what it is"
 *     }
 *   }
 * }
 * ```
 *
 * - `taken` (required): the date the prices were read, `YYYY-MM-DD`.
 * - `source` (optional): where they were read, usually a URL.
 * - `currency` and `unit` (optional): when present they must be `USD` and
 *   `per million tokens`, the only ones understood.
 * - `note` (optional, at the top and in each model): free text for people.
 * - `batch_discount` (optional): the factor the Message Batches API applies
 *   to every price, from 0 to 1; 0.5 (half price) when absent.
 * - `models` (required): one entry per model name, each with four
 *   non-negative numbers: `input` (input tokens neither read from nor
 *   written to the cache), `output`, `cache_write` (the 5-minute prompt
 *   cache write, usually 1.25 × input) and `cache_read` (a cache hit,
 *   usually 0.1 × input).
 *
 * Any other member is an error, as is a missing or wrong one; every error
 * is %FJ_ERROR_SPEC and names the file and the entry
 * (`prices.json: models.claude-haiku-5-5.input: expected a non-negative
 * number of US dollars, got -1`).
 *
 * Since: 1.0
 */

#define DEFAULT_RESOURCE "/org/gnome/Forkjoin/data/prices.json"
#define DEFAULT_BATCH_DISCOUNT 0.5

typedef struct
{
  double input;
  double output;
  double cache_write;
  double cache_read;
  char *note;
} Price;

struct _FjPrices
{
  GObject parent_instance;

  char *date;
  char *source;
  double batch_discount;        /* the Message Batches API's factor */
  GHashTable *models;           /* name → Price */
};

enum {
  PROP_0,
  PROP_DATE,
  PROP_SOURCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FjPrices, fj_prices, G_TYPE_OBJECT)

static void
price_free (Price *price)
{
  g_free (price->note);
  g_free (price);
}

static GHashTable *
models_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) price_free);
}

static void
fj_prices_finalize (GObject *object)
{
  FjPrices *self = FJ_PRICES (object);

  g_clear_pointer (&self->date, g_free);
  g_clear_pointer (&self->source, g_free);
  g_clear_pointer (&self->models, g_hash_table_unref);

  G_OBJECT_CLASS (fj_prices_parent_class)->finalize (object);
}

static void
fj_prices_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  FjPrices *self = FJ_PRICES (object);

  switch (prop_id)
    {
    case PROP_DATE:
      g_value_set_string (value, self->date);
      break;

    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_prices_class_init (FjPricesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_prices_finalize;
  object_class->get_property = fj_prices_get_property;

  /**
   * FjPrices:date:
   *
   * The date the prices were taken (`YYYY-MM-DD`), or %NULL before a
   * table was loaded.
   *
   * Since: 1.0
   */
  properties[PROP_DATE] =
    g_param_spec_string ("date", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjPrices:source:
   *
   * Where the prices were taken from, or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_SOURCE] =
    g_param_spec_string ("source", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_prices_init (FjPrices *self)
{
  self->models = models_new ();
  self->batch_discount = DEFAULT_BATCH_DISCOUNT;
}

/* Parsing */

static void
set_error (GError     **error,
           const char  *filename,
           const char  *format,
           ...) G_GNUC_PRINTF (3, 4);

static void
set_error (GError     **error,
           const char  *filename,
           const char  *format,
           ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s: %s", filename, message);
}

static gboolean
check_members (JsonObject  *object,
               const char  *const *allowed,
               const char  *filename,
               const char  *path,
               GError     **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (!g_strv_contains (allowed, name))
        {
          g_autofree char *valid = g_strjoinv (", ", (char **) allowed);

          set_error (error, filename, "%s%s%s: unknown member (valid: %s)",
                     path, *path != '\0' ? "." : "", name, valid);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
get_string (JsonObject  *object,
            const char  *member,
            gboolean     required,
            const char  *filename,
            const char  *path,
            const char **value,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *dot = *path != '\0' ? "." : "";

  *value = NULL;

  if (node == NULL)
    {
      if (required)
        set_error (error, filename, "%s%s%s: missing", path, dot, member);
      return !required;
    }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      set_error (error, filename, "%s%s%s: expected a string, got %s",
                 path, dot, member, _fj_json_describe_type (node));
      return FALSE;
    }

  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
is_date (const char *text)
{
  guint year;
  guint month;
  guint day;

  if (strlen (text) != 10 || text[4] != '-' || text[7] != '-')
    return FALSE;

  for (guint i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      return FALSE;

  year = (guint) g_ascii_strtoull (text, NULL, 10);
  month = (guint) g_ascii_strtoull (text + 5, NULL, 10);
  day = (guint) g_ascii_strtoull (text + 8, NULL, 10);

  return g_date_valid_dmy (day, month, year);
}

static gboolean
get_price (JsonObject  *object,
           const char  *member,
           const char  *filename,
           const char  *model,
           double      *value,
           GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  GType type;

  if (node == NULL)
    {
      set_error (error, filename, "models.%s.%s: missing", model, member);
      return FALSE;
    }

  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    {
      set_error (error, filename,
                 "models.%s.%s: expected a non-negative number of US dollars, got %s",
                 model, member, _fj_json_describe_type (node));
      return FALSE;
    }

  *value = json_node_get_double (node);
  if (!isfinite (*value) || *value < 0)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      set_error (error, filename,
                 "models.%s.%s: expected a non-negative number of US dollars, got %s",
                 model, member, g_ascii_dtostr (buf, sizeof buf, *value));
      return FALSE;
    }

  return TRUE;
}

static gboolean
parse_model (const char  *name,
             JsonNode    *node,
             const char  *filename,
             GHashTable  *models,
             GError     **error)
{
  static const char *const allowed[] = { "input", "output", "cache_write", "cache_read", "note", NULL };
  g_autofree char *path = NULL;
  JsonObject *object;
  const char *note;
  Price price = { 0, };

  if (*name == '\0')
    {
      set_error (error, filename, "models: a model name is empty");
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      set_error (error, filename, "models.%s: expected an object, got %s",
                 name, _fj_json_describe_type (node));
      return FALSE;
    }

  object = json_node_get_object (node);
  path = g_strdup_printf ("models.%s", name);

  if (!check_members (object, allowed, filename, path, error) ||
      !get_price (object, "input", filename, name, &price.input, error) ||
      !get_price (object, "output", filename, name, &price.output, error) ||
      !get_price (object, "cache_write", filename, name, &price.cache_write, error) ||
      !get_price (object, "cache_read", filename, name, &price.cache_read, error) ||
      !get_string (object, "note", FALSE, filename, path, &note, error))
    return FALSE;

  price.note = g_strdup (note);
  g_hash_table_insert (models, g_strdup (name), g_memdup2 (&price, sizeof price));

  return TRUE;
}

static gboolean
parse_table (FjPrices    *self,
             JsonNode    *root,
             const char  *filename,
             GError     **error)
{
  static const char *const allowed[] = { "taken", "source", "currency", "unit", "note",
                                         "batch_discount", "models", NULL };
  g_autoptr(GHashTable) models = models_new ();
  g_autoptr(GList) names = NULL;
  JsonObject *object;
  JsonObject *models_object;
  JsonNode *models_node;
  const char *taken;
  const char *source;
  const char *currency;
  const char *unit;
  const char *note;
  double batch_discount = DEFAULT_BATCH_DISCOUNT;
  JsonNode *discount_node;
  gboolean date_changed;
  gboolean source_changed;

  if (root == NULL)
    {
      set_error (error, filename, "the file is empty");
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      set_error (error, filename, "expected an object, got %s", _fj_json_describe_type (root));
      return FALSE;
    }

  object = json_node_get_object (root);

  if (!check_members (object, allowed, filename, "", error) ||
      !get_string (object, "taken", TRUE, filename, "", &taken, error) ||
      !get_string (object, "source", FALSE, filename, "", &source, error) ||
      !get_string (object, "currency", FALSE, filename, "", &currency, error) ||
      !get_string (object, "unit", FALSE, filename, "", &unit, error) ||
      !get_string (object, "note", FALSE, filename, "", &note, error))
    return FALSE;

  if (!is_date (taken))
    {
      set_error (error, filename, "taken: expected a date as YYYY-MM-DD, got \"%s\"", taken);
      return FALSE;
    }

  if (currency != NULL && g_strcmp0 (currency, "USD") != 0)
    {
      set_error (error, filename, "currency: only \"USD\" is supported, got \"%s\"", currency);
      return FALSE;
    }

  if (unit != NULL && g_strcmp0 (unit, "per million tokens") != 0)
    {
      set_error (error, filename, "unit: only \"per million tokens\" is supported, got \"%s\"", unit);
      return FALSE;
    }

  discount_node = json_object_get_member (object, "batch_discount");
  if (discount_node != NULL)
    {
      GType type = JSON_NODE_HOLDS_VALUE (discount_node) ? json_node_get_value_type (discount_node) : G_TYPE_INVALID;

      if (type == G_TYPE_DOUBLE || type == G_TYPE_INT64)
        batch_discount = json_node_get_double (discount_node);
      if ((type != G_TYPE_DOUBLE && type != G_TYPE_INT64) ||
          !isfinite (batch_discount) || batch_discount < 0 || batch_discount > 1)
        {
          set_error (error, filename, "batch_discount: expected a number from 0 to 1, got %s",
                     _fj_json_describe_type (discount_node));
          return FALSE;
        }
    }

  models_node = json_object_get_member (object, "models");
  if (models_node == NULL)
    {
      set_error (error, filename, "models: missing");
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (models_node))
    {
      set_error (error, filename, "models: expected an object, got %s", _fj_json_describe_type (models_node));
      return FALSE;
    }

  models_object = json_node_get_object (models_node);
  names = json_object_get_members (models_object);
  for (const GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (!parse_model (name, json_object_get_member (models_object, name), filename, models, error))
        return FALSE;
    }

  /* Only a table that loaded whole replaces the one we had. */
  date_changed = g_strcmp0 (self->date, taken) != 0;
  source_changed = g_strcmp0 (self->source, source) != 0;

  g_free (self->date);
  self->date = g_strdup (taken);
  g_free (self->source);
  self->source = g_strdup (source);
  self->batch_discount = batch_discount;
  g_hash_table_unref (self->models);
  self->models = g_steal_pointer (&models);

  if (date_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATE]);
  if (source_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);

  return TRUE;
}

/* "claude-haiku-5-5-20261001" → the length of "claude-haiku-5-5", else 0. */
static gsize
undated_length (const char *model)
{
  gsize len = strlen (model);

  if (len < 10 || model[len - 9] != '-')
    return 0;

  for (gsize i = len - 8; i < len; i++)
    if (!g_ascii_isdigit (model[i]))
      return 0;

  return len - 9;
}

static const Price *
lookup (FjPrices   *self,
        const char *model)
{
  const Price *price = g_hash_table_lookup (self->models, model);
  gsize len;

  if (price == NULL && (len = undated_length (model)) > 0)
    {
      g_autofree char *undated = g_strndup (model, len);

      price = g_hash_table_lookup (self->models, undated);
    }

  return price;
}

/* Public API */

/**
 * fj_prices_new:
 *
 * Creates an empty price table, which knows no model until a table is
 * loaded into it with [method@Prices.load_from_file] or
 * [method@Prices.load_from_data].
 *
 * Returns: (transfer full): a new #FjPrices
 *
 * Since: 1.0
 */
FjPrices *
fj_prices_new (void)
{
  return g_object_new (FJ_TYPE_PRICES, NULL);
}

/**
 * fj_prices_get_default:
 *
 * Gets the price table built into the library (the project's
 * `data/prices.json`), loaded on first use. Do not load another table
 * into it: create one with [ctor@Prices.new] instead.
 *
 * Returns: (transfer none): the built-in price table
 *
 * Since: 1.0
 */
FjPrices *
fj_prices_get_default (void)
{
  static FjPrices *instance;

  if (g_once_init_enter (&instance))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      FjPrices *prices = fj_prices_new ();

      bytes = g_resource_lookup_data (_fj_data_get_resource (), DEFAULT_RESOURCE,
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (bytes == NULL ||
          !fj_prices_load_from_data (prices, g_bytes_get_data (bytes, NULL),
                                     (gssize) g_bytes_get_size (bytes),
                                     "resource://" DEFAULT_RESOURCE, &error))
        g_critical ("The built-in price table did not load: %s", error->message);

      g_once_init_leave (&instance, prices);
    }

  return instance;
}

/**
 * fj_prices_load_from_file:
 * @self: a #FjPrices
 * @path: (type filename): the file to read
 * @error: return location for a #GError
 *
 * Replaces the table with the one in @path, in the format described in
 * [class@Prices]. On error the table is left as it was.
 *
 * Returns: %TRUE on success; %FALSE with @error set (%FJ_ERROR_SPEC naming
 *   the file and the entry, or the #GFileError of reading it)
 *
 * Since: 1.0
 */
gboolean
fj_prices_load_from_file (FjPrices    *self,
                          const char  *path,
                          GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_return_val_if_fail (FJ_IS_PRICES (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  return fj_prices_load_from_data (self, contents, (gssize) length, path, error);
}

/**
 * fj_prices_load_from_data:
 * @self: a #FjPrices
 * @data: the JSON text
 * @length: the length of @data in bytes, or -1 when it is nul-terminated
 * @filename: (nullable): the name to give in errors, or %NULL for
 *   `<data>`
 * @error: return location for a #GError
 *
 * Replaces the table with the one in @data, in the format described in
 * [class@Prices]. On error the table is left as it was.
 *
 * Returns: %TRUE on success; %FALSE with @error set to %FJ_ERROR_SPEC
 *   naming @filename and the entry
 *
 * Since: 1.0
 */
gboolean
fj_prices_load_from_data (FjPrices    *self,
                          const char  *data,
                          gssize       length,
                          const char  *filename,
                          GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len;

  g_return_val_if_fail (FJ_IS_PRICES (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (filename == NULL)
    filename = "<data>";

  len = length < 0 ? strlen (data) : (gsize) length;

  if (!_fj_json_check_depth (data, len, FJ_JSON_MAX_DEPTH))
    {
      set_error (error, filename, "not valid JSON: nested more than %u levels deep",
                 FJ_JSON_MAX_DEPTH);
      return FALSE;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, len > 0 ? data : "", (gssize) len, &local_error))
    {
      set_error (error, filename, "not valid JSON: %s", local_error->message);
      return FALSE;
    }

  return parse_table (self, json_parser_get_root (parser), filename, error);
}

/**
 * fj_prices_get_date:
 * @self: a #FjPrices
 *
 * Gets the date the prices were taken.
 *
 * Returns: (transfer none) (nullable): the date as `YYYY-MM-DD`, or %NULL
 *   before a table was loaded
 *
 * Since: 1.0
 */
const char *
fj_prices_get_date (FjPrices *self)
{
  g_return_val_if_fail (FJ_IS_PRICES (self), NULL);

  return self->date;
}

/**
 * fj_prices_get_source:
 * @self: a #FjPrices
 *
 * Gets where the prices were taken from.
 *
 * Returns: (transfer none) (nullable): the source, usually a URL, or %NULL
 *
 * Since: 1.0
 */
const char *
fj_prices_get_source (FjPrices *self)
{
  g_return_val_if_fail (FJ_IS_PRICES (self), NULL);

  return self->source;
}

/**
 * fj_prices_lookup:
 * @self: a #FjPrices
 * @model: a model name
 * @input: (out) (optional): the price of input tokens
 * @output: (out) (optional): the price of output tokens
 * @cache_write: (out) (optional): the price of tokens written to the
 *   prompt cache
 * @cache_read: (out) (optional): the price of tokens read from the prompt
 *   cache
 *
 * Looks up a model's prices, in US dollars per million tokens. A dated
 * name the table does not list (`claude-haiku-5-5-20261001`) gets its
 * undated entry's prices.
 *
 * Returns: %TRUE when the model has prices; %FALSE (the out values
 *   untouched) when it is unknown
 *
 * Since: 1.0
 */
gboolean
fj_prices_lookup (FjPrices   *self,
                  const char *model,
                  double     *input,
                  double     *output,
                  double     *cache_write,
                  double     *cache_read)
{
  const Price *price;

  g_return_val_if_fail (FJ_IS_PRICES (self), FALSE);
  g_return_val_if_fail (model != NULL, FALSE);

  price = lookup (self, model);
  if (price == NULL)
    return FALSE;

  if (input != NULL)
    *input = price->input;
  if (output != NULL)
    *output = price->output;
  if (cache_write != NULL)
    *cache_write = price->cache_write;
  if (cache_read != NULL)
    *cache_read = price->cache_read;

  return TRUE;
}

/**
 * fj_prices_compute:
 * @self: a #FjPrices
 * @model: (nullable): a model name
 * @usage: (nullable): the tokens used
 *
 * Computes what @usage cost on @model: each of its four token counts
 * times the matching price, summed, over a million.
 *
 * Returns: the cost in US dollars, or a negative value when @model is
 *   unknown to the table or @model or @usage is %NULL
 *
 * Since: 1.0
 */
double
fj_prices_compute (FjPrices   *self,
                   const char *model,
                   FjUsage    *usage)
{
  const Price *price;
  double micro;

  g_return_val_if_fail (FJ_IS_PRICES (self), -1.0);

  if (model == NULL || usage == NULL)
    return -1.0;

  price = lookup (self, model);
  if (price == NULL)
    return -1.0;

  micro = (double) usage->input_tokens * price->input +
          (double) usage->output_tokens * price->output +
          (double) usage->cache_creation_input_tokens * price->cache_write +
          (double) usage->cache_read_input_tokens * price->cache_read;

  return MAX (micro, 0.0) / 1e6;
}

/**
 * fj_prices_compute_without_cache:
 * @self: a #FjPrices
 * @model: (nullable): a model name
 * @usage: (nullable): the tokens used
 *
 * Computes what @usage would have cost on @model without the prompt
 * cache: every input token (read from or written to the cache or not) at
 * the base input price, plus the output tokens. The difference from
 * [method@Prices.compute] is what caching saved (negative when a cache
 * write was not read back).
 *
 * Returns: the cost in US dollars, or a negative value when @model is
 *   unknown to the table or @model or @usage is %NULL
 *
 * Since: 1.0
 */
double
fj_prices_compute_without_cache (FjPrices   *self,
                                 const char *model,
                                 FjUsage    *usage)
{
  const Price *price;
  double micro;

  g_return_val_if_fail (FJ_IS_PRICES (self), -1.0);

  if (model == NULL || usage == NULL)
    return -1.0;

  price = lookup (self, model);
  if (price == NULL)
    return -1.0;

  micro = (double) fj_usage_get_total_input (usage) * price->input +
          (double) usage->output_tokens * price->output;

  return MAX (micro, 0.0) / 1e6;
}

/**
 * fj_prices_get_note:
 * @self: a #FjPrices
 * @model: a model name
 *
 * Gets the note the table gives for a model, such as where its price
 * came from when it was not published (dated names as in
 * [method@Prices.lookup]).
 *
 * Returns: (transfer none) (nullable): the note, or %NULL when the model has
 *   none or is unknown
 *
 * Since: 1.0
 */
const char *
fj_prices_get_note (FjPrices   *self,
                    const char *model)
{
  const Price *price;

  g_return_val_if_fail (FJ_IS_PRICES (self), NULL);
  g_return_val_if_fail (model != NULL, NULL);

  price = lookup (self, model);
  return price != NULL ? price->note : NULL;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/**
 * fj_prices_dup_models:
 * @self: a #FjPrices
 *
 * Gets the names of the models the table prices, sorted.
 *
 * Returns: (transfer full) (array zero-terminated=1): the model names
 *
 * Since: 1.0
 */
char **
fj_prices_dup_models (FjPrices *self)
{
  g_autofree char **names = NULL;
  guint n = 0;
  char **ret;

  g_return_val_if_fail (FJ_IS_PRICES (self), NULL);

  names = (char **) g_hash_table_get_keys_as_array (self->models, &n);
  qsort (names, n, sizeof (char *), compare_strings);

  ret = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    ret[i] = g_strdup (names[i]);

  return ret;
}

/**
 * fj_prices_get_batch_discount:
 * @self: a #FjPrices
 *
 * Gets the factor the Message Batches API applies to every price: the
 * table's top-level `batch_discount`, 0.5 (half price) when it has none.
 * A batch run's cost is [method@Prices.compute] times this.
 *
 * Returns: the factor, from 0 to 1
 *
 * Since: 1.0
 */
double
fj_prices_get_batch_discount (FjPrices *self)
{
  g_return_val_if_fail (FJ_IS_PRICES (self), DEFAULT_BATCH_DISCOUNT);

  return self->batch_discount;
}
