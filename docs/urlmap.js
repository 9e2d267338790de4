// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Where the documentation of the namespaces that forkjoin's reference
// links to lives.
baseURLs = [
  [ 'GLib', 'https://docs.gtk.org/glib/' ],
  [ 'GObject', 'https://docs.gtk.org/gobject/' ],
  [ 'Gio', 'https://docs.gtk.org/gio/' ],
  [ 'Json', 'https://gnome.pages.gitlab.gnome.org/json-glib/' ],
  [ 'Soup', 'https://libsoup.org/libsoup-3.0/' ],
]
