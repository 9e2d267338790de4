/* fj-usage.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-usage.h"

G_DEFINE_BOXED_TYPE (FjUsage, fj_usage, fj_usage_copy, fj_usage_free)

/**
 * fj_usage_new:
 *
 * Creates token counts that are all zero.
 *
 * Returns: (transfer full): a new #FjUsage
 *
 * Since: 1.0
 */
FjUsage *
fj_usage_new (void)
{
  return g_new0 (FjUsage, 1);
}

/**
 * fj_usage_copy:
 * @self: a #FjUsage
 *
 * Copies @self.
 *
 * Returns: (transfer full): a copy of @self
 *
 * Since: 1.0
 */
FjUsage *
fj_usage_copy (const FjUsage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_memdup2 (self, sizeof *self);
}

/**
 * fj_usage_free:
 * @self: (transfer full): a #FjUsage
 *
 * Frees @self.
 *
 * Since: 1.0
 */
void
fj_usage_free (FjUsage *self)
{
  g_free (self);
}

/**
 * fj_usage_add:
 * @self: the #FjUsage to add to
 * @other: the counts to add
 *
 * Adds every count of @other to @self.
 *
 * Since: 1.0
 */
void
fj_usage_add (FjUsage       *self,
              const FjUsage *other)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (other != NULL);

  self->input_tokens += other->input_tokens;
  self->output_tokens += other->output_tokens;
  self->cache_creation_input_tokens += other->cache_creation_input_tokens;
  self->cache_read_input_tokens += other->cache_read_input_tokens;
}

/**
 * fj_usage_equal:
 * @a: a #FjUsage
 * @b: a #FjUsage
 *
 * Whether @a and @b hold the same counts.
 *
 * Returns: %TRUE if they are equal
 *
 * Since: 1.0
 */
gboolean
fj_usage_equal (const FjUsage *a,
                const FjUsage *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return a->input_tokens == b->input_tokens &&
         a->output_tokens == b->output_tokens &&
         a->cache_creation_input_tokens == b->cache_creation_input_tokens &&
         a->cache_read_input_tokens == b->cache_read_input_tokens;
}

/**
 * fj_usage_get_total_input:
 * @self: a #FjUsage
 *
 * Gets the whole input: uncached input plus cache writes plus cache reads.
 *
 * Returns: the number of input tokens
 *
 * Since: 1.0
 */
gint64
fj_usage_get_total_input (const FjUsage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->input_tokens +
         self->cache_creation_input_tokens +
         self->cache_read_input_tokens;
}

/**
 * fj_usage_to_json:
 * @self: a #FjUsage
 *
 * Serialises @self as the API writes usage: an object with
 * `input_tokens`, `output_tokens`, `cache_creation_input_tokens` and
 * `cache_read_input_tokens`.
 *
 * Returns: (transfer full): a JSON object node
 *
 * Since: 1.0
 */
JsonNode *
fj_usage_to_json (const FjUsage *self)
{
  JsonObject *object;
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NULL);

  object = json_object_new ();
  json_object_set_int_member (object, "input_tokens", self->input_tokens);
  json_object_set_int_member (object, "output_tokens", self->output_tokens);
  json_object_set_int_member (object, "cache_creation_input_tokens",
                              self->cache_creation_input_tokens);
  json_object_set_int_member (object, "cache_read_input_tokens",
                              self->cache_read_input_tokens);

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;
}

static void
update_member (JsonObject *object,
               const char *name,
               gint64     *field)
{
  JsonNode *node = json_object_get_member (object, name);

  /* The API writes null for cache counts it does not know; keep ours then. */
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      (json_node_get_value_type (node) == G_TYPE_INT64 ||
       json_node_get_value_type (node) == G_TYPE_DOUBLE))
    *field = json_node_get_int (node);
}

/**
 * fj_usage_update_from_json:
 * @self: a #FjUsage
 * @object: a `usage` object from a reply or a stream event
 *
 * Overwrites each count that @object holds as a number and keeps the
 * others. This is how a `message_delta` event updates the usage that
 * `message_start` gave: its counts are cumulative totals, never to be
 * added.
 *
 * Since: 1.0
 */
void
fj_usage_update_from_json (FjUsage    *self,
                           JsonObject *object)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (object != NULL);

  update_member (object, "input_tokens", &self->input_tokens);
  update_member (object, "output_tokens", &self->output_tokens);
  update_member (object, "cache_creation_input_tokens", &self->cache_creation_input_tokens);
  update_member (object, "cache_read_input_tokens", &self->cache_read_input_tokens);
}
