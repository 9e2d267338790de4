/* fj-plugin-info.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "fj-plugin.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_PLUGIN_INFO (fj_plugin_info_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjPluginInfo, fj_plugin_info, FJ, PLUGIN_INFO, GObject)

FJ_AVAILABLE_IN_ALL
const char   *fj_plugin_info_get_name        (FjPluginInfo *self);
FJ_AVAILABLE_IN_ALL
FjPluginKind  fj_plugin_info_get_kind        (FjPluginInfo *self);
FJ_AVAILABLE_IN_ALL
const char   *fj_plugin_info_get_description (FjPluginInfo *self);
FJ_AVAILABLE_IN_ALL
const char   *fj_plugin_info_get_path        (FjPluginInfo *self);
FJ_AVAILABLE_IN_ALL
GType         fj_plugin_info_get_plugin_type (FjPluginInfo *self);
FJ_AVAILABLE_IN_ALL
JsonArray    *fj_plugin_info_get_options     (FjPluginInfo *self);

G_END_DECLS
