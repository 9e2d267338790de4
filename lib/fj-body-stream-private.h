/* fj-body-stream-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FJ_TYPE_BODY_STREAM (_fj_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (FjBodyStream, _fj_body_stream, FJ, BODY_STREAM, GMemoryInputStream)

GInputStream *_fj_body_stream_new (GBytes *bytes);

G_END_DECLS
