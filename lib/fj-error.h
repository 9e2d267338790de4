/* fj-error.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <glib.h>
#include <json-glib/json-glib.h>

#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FJ_ERROR:
 *
 * The error domain of forkjoin. Errors in this domain are from the
 * [error@Error] enumeration.
 *
 * Since: 1.0
 */
#define FJ_ERROR (fj_error_quark ())

/**
 * FjError:
 * @FJ_ERROR_RATE_LIMITED: the API answered 429 `rate_limit_error`, or asked to
 *   wait longer than the agent had left
 * @FJ_ERROR_OVERLOADED: the API is overloaded (529, or an `overloaded_error`
 *   event in a stream)
 * @FJ_ERROR_SERVER: the API failed (500 and other 5xx)
 * @FJ_ERROR_INVALID_REQUEST: the request was refused as invalid (400 and
 *   other 4xx not listed here)
 * @FJ_ERROR_AUTHENTICATION: the key or token is missing or wrong (401)
 * @FJ_ERROR_PERMISSION: the key may not do this (403)
 * @FJ_ERROR_NOT_FOUND: no such endpoint or model (404)
 * @FJ_ERROR_REQUEST_TOO_LARGE: the request body is too large (413)
 * @FJ_ERROR_BILLING: a billing problem (402)
 * @FJ_ERROR_TIMED_OUT: the agent's time limit, the run's deadline or the
 *   client's idle timeout ran out
 * @FJ_ERROR_CONNECTION: the connection failed or dropped
 * @FJ_ERROR_TLS: the TLS handshake failed, e.g. an untrusted certificate
 * @FJ_ERROR_PROTOCOL: the server's reply does not follow the protocol
 * @FJ_ERROR_REFUSED: the model refused (`stop_reason: refusal`)
 * @FJ_ERROR_MAX_TURNS: the agent used all its turns without a final answer
 * @FJ_ERROR_QUORUM_NOT_MET: too few agents succeeded
 * @FJ_ERROR_BUDGET: a token or cost budget was spent
 * @FJ_ERROR_EXPIRED: a batch request expired before it ran
 * @FJ_ERROR_PLUGIN: a plugin could not be loaded or configured
 * @FJ_ERROR_SPEC: a fork-join description is invalid
 *
 * Error codes in the %FJ_ERROR domain. In JSON an error is written as
 * `{"code": NICK, "message": TEXT}` with the nick of the code
 * (`rate-limited`, `timed-out`, ...), or `cancelled` for
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_ERROR_RATE_LIMITED,
  FJ_ERROR_OVERLOADED,
  FJ_ERROR_SERVER,
  FJ_ERROR_INVALID_REQUEST,
  FJ_ERROR_AUTHENTICATION,
  FJ_ERROR_PERMISSION,
  FJ_ERROR_NOT_FOUND,
  FJ_ERROR_REQUEST_TOO_LARGE,
  FJ_ERROR_BILLING,
  FJ_ERROR_TIMED_OUT,
  FJ_ERROR_CONNECTION,
  FJ_ERROR_TLS,
  FJ_ERROR_PROTOCOL,
  FJ_ERROR_REFUSED,
  FJ_ERROR_MAX_TURNS,
  FJ_ERROR_QUORUM_NOT_MET,
  FJ_ERROR_BUDGET,
  FJ_ERROR_EXPIRED,
  FJ_ERROR_PLUGIN,
  FJ_ERROR_SPEC,
} FjError;

FJ_AVAILABLE_IN_ALL
GQuark      fj_error_quark         (void);
FJ_AVAILABLE_IN_ALL
const char *fj_error_get_code_nick (const GError *error);
FJ_AVAILABLE_IN_ALL
JsonNode   *fj_error_to_json       (const GError *error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
