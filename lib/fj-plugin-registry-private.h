/* fj-plugin-registry-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-plugin-registry.h"

G_BEGIN_DECLS

/* The short name (`llm`) a registry created @object under, else its type
 * name: what results and reports call a plugin. */
const char *_fj_plugin_registry_get_object_name (GObject *object);

G_END_DECLS
