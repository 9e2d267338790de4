/* fj-error.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "fj-enums.h"
#include "fj-error.h"
#include "fj-error-private.h"

/**
 * fj_error_quark:
 *
 * Gets the quark of the %FJ_ERROR error domain.
 *
 * Returns: the error domain of forkjoin
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (fj-error-quark, fj_error)

/**
 * fj_error_get_code_nick:
 * @error: a #GError
 *
 * Gets the short name under which @error is written in JSON: the nick of
 * its [error@Error] code (`rate-limited`, `timed-out`, ...),
 * `cancelled` for %G_IO_ERROR_CANCELLED, `timed-out` for
 * %G_IO_ERROR_TIMED_OUT, `tls` for a #GTlsError, and `error` for any other
 * error (for example one raised by a tool of the caller's).
 *
 * Returns: (transfer none): a static string
 *
 * Since: 1.0
 */
const char *
fj_error_get_code_nick (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain == FJ_ERROR)
    {
      GEnumClass *klass = g_type_class_ref (FJ_TYPE_ERROR);
      GEnumValue *value = g_enum_get_value (klass, error->code);
      const char *nick = value ? value->value_nick : "error";

      g_type_class_unref (klass);
      return nick;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return "timed-out";
  if (error->domain == G_TLS_ERROR)
    return "tls";

  return "error";
}

/**
 * fj_error_to_json:
 * @error: (nullable): a #GError
 *
 * Writes @error the way forkjoin's JSON documents do: an object
 * `{"code": NICK, "message": TEXT}` with the nick of
 * [func@Error.get_code_nick], or a JSON null when @error is %NULL.
 *
 * Returns: (transfer full): a new #JsonNode
 *
 * Since: 1.0
 */
JsonNode *
fj_error_to_json (const GError *error)
{
  JsonObject *object;
  JsonNode *node;

  if (error == NULL)
    return json_node_new (JSON_NODE_NULL);

  object = json_object_new ();
  json_object_set_string_member (object, "code", fj_error_get_code_nick (error));
  json_object_set_string_member (object, "message", error->message);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);

  return node;
}

FjError
_fj_error_code_for_api_error (const char *error_type,
                              guint       status_code)
{
  static const struct {
    const char *type;
    FjError code;
  } types[] = {
    { "invalid_request_error", FJ_ERROR_INVALID_REQUEST },
    { "authentication_error", FJ_ERROR_AUTHENTICATION },
    { "billing_error", FJ_ERROR_BILLING },
    { "permission_error", FJ_ERROR_PERMISSION },
    { "not_found_error", FJ_ERROR_NOT_FOUND },
    { "request_too_large", FJ_ERROR_REQUEST_TOO_LARGE },
    { "rate_limit_error", FJ_ERROR_RATE_LIMITED },
    { "api_error", FJ_ERROR_SERVER },
    { "timeout_error", FJ_ERROR_SERVER },
    { "overloaded_error", FJ_ERROR_OVERLOADED },
  };

  if (error_type != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (types); i++)
        if (g_str_equal (error_type, types[i].type))
          return types[i].code;
    }

  switch (status_code)
    {
    case 401: return FJ_ERROR_AUTHENTICATION;
    case 402: return FJ_ERROR_BILLING;
    case 403: return FJ_ERROR_PERMISSION;
    case 404: return FJ_ERROR_NOT_FOUND;
    case 413: return FJ_ERROR_REQUEST_TOO_LARGE;
    case 429: return FJ_ERROR_RATE_LIMITED;
    case 529: return FJ_ERROR_OVERLOADED;
    default:
      if (status_code >= 500 || status_code == 0)
        return FJ_ERROR_SERVER;
      return FJ_ERROR_INVALID_REQUEST;
    }
}
