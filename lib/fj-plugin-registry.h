/* fj-plugin-registry.h
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
#include "fj-plugin-info.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_PLUGIN_REGISTRY (fj_plugin_registry_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjPluginRegistry, fj_plugin_registry, FJ, PLUGIN_REGISTRY, GObject)

FJ_AVAILABLE_IN_ALL
FjPluginRegistry *fj_plugin_registry_new          (void) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjPluginRegistry *fj_plugin_registry_get_default  (void);
FJ_AVAILABLE_IN_ALL
void              fj_plugin_registry_load_default (FjPluginRegistry  *self);
FJ_AVAILABLE_IN_ALL
gboolean          fj_plugin_registry_load_dir     (FjPluginRegistry  *self,
                                                   const char        *path,
                                                   GError           **error);
FJ_AVAILABLE_IN_ALL
gboolean          fj_plugin_registry_add          (FjPluginRegistry  *self,
                                                   FjPluginKind       kind,
                                                   const char        *name,
                                                   GType              type,
                                                   const char        *description);
FJ_AVAILABLE_IN_ALL
GType             fj_plugin_registry_lookup       (FjPluginRegistry  *self,
                                                   FjPluginKind       kind,
                                                   const char        *name);
FJ_AVAILABLE_IN_ALL
GObject          *fj_plugin_registry_create       (FjPluginRegistry  *self,
                                                   FjPluginKind       kind,
                                                   const char        *name,
                                                   JsonObject        *options,
                                                   GError           **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
GListModel       *fj_plugin_registry_list         (FjPluginRegistry  *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
GPtrArray        *fj_plugin_registry_get_errors   (FjPluginRegistry  *self);

G_END_DECLS
