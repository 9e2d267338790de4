/* fj-version-macros.h
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

#include "fj-version.h"

#ifndef _FJ_EXTERN
# define _FJ_EXTERN extern
#endif

#define FJ_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#ifndef FJ_VERSION_MIN_REQUIRED
# define FJ_VERSION_MIN_REQUIRED FJ_VERSION_1_0
#endif

#define FJ_AVAILABLE_IN_ALL _FJ_EXTERN
#define FJ_AVAILABLE_IN_1_0 _FJ_EXTERN
