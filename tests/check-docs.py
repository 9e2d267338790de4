#!/usr/bin/python3
# check-docs.py — the API documentation and annotation rules of libforkjoin
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-docs.py LIBDIR
#
# Reads the public headers (LIBDIR/fj-*.h except *-private.h, and
# fj-version.h.in) and the sources (LIBDIR/*.c) and prints TAP: one test
# per public function, type, property and signal, and one per other doc
# comment.  The rules, each something g-ir-scanner does not enforce:
#
#  - every public function (FJ_AVAILABLE_IN_ALL in a header) has a
#    gi-docgen comment in a .c file, documenting every parameter and no
#    other;
#  - every public type (G_DECLARE_*, typedef enum/struct), constant macro,
#    property and signal has a doc comment; a signal's documents the
#    instance and each parameter;
#  - every doc comment has `Since:`; a public function's says what it does
#    in a sentence besides its parameters and tags;
#  - a non-void function has `Returns:`; a pointer return says
#    (transfer ...);
#  - a GPtrArray, GArray, GList, GSList, GHashTable or GQueue return or
#    parameter has (element-type ...);
#  - a GListModel return, parameter or property names its item type in its
#    text with a gi-docgen link other than Gio.ListModel itself, as in
#    `(transfer none): a [iface@Gio.ListModel] of [class@AgentResult]`
#    (GI 1.74 has no element-type for list models; bindings read the item
#    type from the items, readers from the link);
#  - a GAsyncReadyCallback has (scope async) and (closure ...); a
#    GCancellable is (nullable);
#  - a pointer-to-pointer parameter other than GError ** is (out),
#    (inout) or (array ...); an (out) pointer says (transfer ...);
#  - a string array return (char **) says (array ...) or (type GStrv);
#  - a text saying %NULL is a valid value ("or %NULL", "%NULL for ...",
#    but not "%NULL with @error set") is (nullable) or (optional);
#  - _async has a _finish (and the other way round);
#  - a doc comment names a symbol that exists (no stale fj_* comment).

import os
import re
import sys

CONTAINERS = ('GPtrArray', 'GArray', 'GList', 'GSList', 'GHashTable', 'GQueue')
TAGS = ('Returns', 'Return value', 'Since', 'Deprecated', 'Stability')


class DocBlock:
    def __init__(self, name, annotations, params, description, tags, where):
        self.name = name
        self.annotations = annotations
        self.params = params            # name -> text (annotations included)
        self.description = description
        self.tags = tags                # tag -> text
        self.where = where


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)


def parse_doc_blocks(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    blocks = []
    for m in re.finditer(r'/\*\*[ \t]*\n(.*?)\*/', text, flags=re.S):
        lineno = text.count('\n', 0, m.start()) + 1
        lines = []
        for raw in m.group(1).split('\n'):
            line = re.sub(r'^\s*\* ?', '', raw, count=1)
            lines.append(line.rstrip())
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        head = re.match(r'^([\w:-]+|[\w]+::?[\w-]+):\s*(.*)$', lines[0])
        if not head:
            continue
        name = head.group(1)
        params = {}
        tags = {}
        description = []
        current = None              # (dict, key)
        in_params = True
        for line in lines[1:]:
            pm = re.match(r'^@(\w+|\.\.\.):\s*(.*)$', line)
            tm = re.match(r'^(%s):\s*(.*)$' % '|'.join(TAGS), line)
            if pm and in_params:
                params[pm.group(1)] = pm.group(2)
                current = (params, pm.group(1))
            elif tm:
                tags[tm.group(1)] = tm.group(2)
                current = (tags, tm.group(1))
                in_params = False
            elif line.startswith(' ') and current is not None and line.strip():
                d, k = current
                d[k] += ' ' + line.strip()
            elif not line.strip():
                current = None
                if params:
                    in_params = False
            else:
                current = None
                in_params = False
                description.append(line)
        blocks.append(DocBlock(name, head.group(2), params, '\n'.join(description), tags,
                               '%s:%d' % (os.path.basename(path), lineno)))
    return blocks


class Function:
    def __init__(self, name, ret, params, where):
        self.name = name
        self.ret = ret
        self.params = params        # list of (type, name)
        self.where = where


def normalise_type(t):
    t = re.sub(r'\s+', ' ', t).strip()
    t = re.sub(r'\s*\*', '*', t)
    return t


def parse_headers(paths):
    functions = []
    types = []
    enums = []
    constants = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            raw = f.read()
        text = strip_comments(raw)
        for chunk in text.split('FJ_AVAILABLE_IN_ALL')[1:]:
            where = os.path.basename(path)
            dm = re.match(r'\s*G_DECLARE_\w+\s*\(\s*(\w+)\s*,', chunk)
            if dm:
                types.append((dm.group(1), where))
                continue
            decl = chunk.split(';', 1)[0]
            decl = re.sub(r'G_GNUC_\w+(\s*\([^)]*\))?', '', decl).strip()
            fm = re.match(r'^(.*?)\b(\w+)\s*\((.*)\)\s*$', decl, flags=re.S)
            if not fm:
                continue
            ret = normalise_type(fm.group(1))
            params = []
            args = fm.group(3).strip()
            if args and args != 'void':
                for arg in args.split(','):
                    arg = arg.strip()
                    am = re.match(r'^(.*?)(\w+)$', arg, flags=re.S)
                    if am:
                        params.append((normalise_type(am.group(1)), am.group(2)))
            functions.append(Function(fm.group(2), ret, params, where))
        for m in re.finditer(r'typedef\s+(enum|struct)\s*\w*\s*\{.*?\}\s*(\w+)\s*;', text, flags=re.S):
            enums.append((m.group(2), os.path.basename(path)))
        for m in re.finditer(r'^\s*typedef\s+struct\s+_(\w+)\s+(\w+)\s*;', text, flags=re.M):
            if re.search(r'struct\s+_%s\s*\{' % m.group(1), text) and not m.group(2).endswith(('Class', 'Interface')):
                enums.append((m.group(2), os.path.basename(path)))
        for m in re.finditer(r'^#\s*define\s+(FJ_\w+)(\(|\s+)(.*)$', text, flags=re.M):
            name, value = m.group(1), m.group(3).strip()
            if name.startswith('FJ_TYPE_') or name in ('FJ_AVAILABLE_IN_ALL', 'FJ_AVAILABLE_IN_1_0',
                                                         'FJ_VERSION_1_0', 'FJ_VERSION_MIN_REQUIRED'):
                continue
            if m.group(2) == '(' or re.match(r'^(\(?-?[\d.]+\)?|\(?@\w+@\)?|"[^"]*")$', value) or name == 'FJ_ERROR':
                constants.append((name, os.path.basename(path)))
    return functions, types, enums, constants


def parse_properties_and_signals(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    code = strip_comments(text)
    owners = re.findall(r'G_DEFINE_(?:FINAL_|ABSTRACT_)?TYPE(?:_WITH_\w+)?\s*\(\s*(\w+)\s*,', code)
    owners += re.findall(r'G_DEFINE_INTERFACE\s*\(\s*(\w+)\s*,', code)
    if not owners:
        return []
    owner = owners[0]
    found = []
    for m in re.finditer(r'g_param_spec_\w+\s*\(\s*"([\w-]+)"', code):
        end = code.find(';', m.end())
        call = code[m.start():end]
        found.append(('%s:%s' % (owner, m.group(1)), 'G_TYPE_LIST_MODEL' in call, None))
    for m in re.finditer(r'g_signal_new\s*\(\s*"([\w-]+)"', code):
        args = split_arguments(code, m.end())
        n_params = int(args[8]) if len(args) > 8 and args[8].isdigit() else None
        found.append(('%s::%s' % (owner, m.group(1)), False, n_params))
    return found


def split_arguments(code, start):
    """The top-level arguments of the call whose first argument begins
    before start (start is inside the argument list)."""
    begin = code.rfind('(', 0, start)
    depth = 0
    args = []
    current = []
    for ch in code[begin + 1:]:
        if ch == '(':
            depth += 1
        elif ch == ')':
            if depth == 0:
                break
            depth -= 1
        if ch == ',' and depth == 0:
            args.append(''.join(current).strip())
            current = []
        else:
            current.append(ch)
    args.append(''.join(current).strip())
    return args


def annotations_of(text):
    """The leading (annotation) groups of a parameter or Returns text."""
    ann = []
    rest = text.strip()
    while True:
        m = re.match(r'^\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*', rest)
        if not m:
            break
        ann.append(m.group(1))
        rest = rest[m.end():]
    return ann, rest


def has_ann(anns, word):
    return any(a == word or a.startswith(word + ' ') or a.startswith(word + '=') for a in anns)


def names_item_type(text):
    links = re.findall(r'\[(?:class|iface)@([\w.]+)\]', text)
    return any(l not in ('Gio.ListModel', 'ListModel') for l in links)


def says_nullable(text):
    """Whether the text says %NULL is a valid value, not only the value
    returned with an error set (which is not (nullable) in GI)."""
    for m in re.finditer(r'\bor %NULL\b|\b%NULL if\b|\bmay be %NULL\b|\b%NULL for\b|\b%NULL when\b', text):
        if 'error' not in text[m.end():m.end() + 24]:
            return True
    return False


def is_pointer(t):
    return t.endswith('*') or t in ('gpointer', 'gconstpointer')


def base_type(t):
    return re.sub(r'\bconst\b', '', t).replace('*', '').strip()


def check_value(kind, what, t, text, problems):
    """Rules shared by parameters and returns."""
    anns, rest = annotations_of(text)
    base = base_type(t)
    if base in CONTAINERS and not has_ann(anns, 'element-type'):
        problems.append('%s %s lacks (element-type ...)' % (kind, what))
    if base == 'GListModel' and not (names_item_type(rest) or has_ann(anns, 'element-type')):
        problems.append('%s %s does not name the item type of the GListModel '
                        '(e.g. "a [iface@Gio.ListModel] of [class@Agent]")' % (kind, what))
    if says_nullable(rest) and not (has_ann(anns, 'nullable') or has_ann(anns, 'optional')):
        problems.append('%s %s says %%NULL but is not (nullable)' % (kind, what))
    return anns


def check_function(fn, block, all_names):
    problems = []
    if block is None:
        return ['no doc comment in lib/*.c']
    if 'Since' not in block.tags:
        problems.append('no Since:')
    if not block.description.strip():
        problems.append('no description: only parameters and tags')
    for ptype, pname in fn.params:
        if pname not in block.params:
            problems.append('@%s is not documented' % pname)
            continue
        text = block.params[pname]
        anns = check_value('parameter', '@' + pname, ptype, text, problems)
        base = base_type(ptype)
        if base == 'GAsyncReadyCallback':
            if not has_ann(anns, 'scope async'):
                problems.append('@%s lacks (scope async)' % pname)
            if not has_ann(anns, 'closure'):
                problems.append('@%s lacks (closure ...)' % pname)
        if base == 'GCancellable' and not has_ann(anns, 'nullable'):
            problems.append('@%s lacks (nullable)' % pname)
        if ptype.count('*') >= 2 and base != 'GError':
            if not (has_ann(anns, 'out') or has_ann(anns, 'inout') or has_ann(anns, 'array')):
                problems.append('@%s (%s) lacks (out), (inout) or (array ...)' % (pname, ptype))
            elif has_ann(anns, 'out') and ptype.count('*') >= 2 and not has_ann(anns, 'transfer') \
                    and base not in ('char', 'gchar'):
                problems.append('@%s is (out) but lacks (transfer ...)' % pname)
    for documented in block.params:
        if documented != '...' and documented not in [p for _, p in fn.params]:
            problems.append('@%s is documented but is not a parameter' % documented)
    if fn.ret != 'void':
        returns = block.tags.get('Returns', block.tags.get('Return value'))
        if returns is None:
            problems.append('no Returns:')
        else:
            anns = check_value('return', 'value', fn.ret, returns, problems)
            if is_pointer(fn.ret) and not has_ann(anns, 'transfer'):
                problems.append('Returns: lacks (transfer ...)')
            if re.search(r'\bchar\*(const)?\*$', fn.ret.replace(' ', '')) \
               and not (has_ann(anns, 'array') or any(a.startswith('type GStrv') for a in anns)):
                problems.append('Returns: a string array without (array ...)')
    if fn.name.endswith('_async') and fn.name[:-len('_async')] + '_finish' not in all_names:
        problems.append('no %s_finish' % fn.name[:-len('_async')])
    if fn.name.endswith('_finish') and fn.name[:-len('_finish')] + '_async' not in all_names:
        problems.append('no %s_async' % fn.name[:-len('_finish')])
    return problems


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: check-docs.py LIBDIR\n')
        return 2
    libdir = argv[1]
    names = sorted(os.listdir(libdir))
    headers = [os.path.join(libdir, n) for n in names
               if n.startswith('fj-') and (n.endswith('.h') or n.endswith('.h.in'))
               and '-private' not in n]
    sources = [os.path.join(libdir, n) for n in names if n.endswith('.c')]

    functions, types, enums, constants = parse_headers(headers)
    blocks = {}
    duplicates = []
    for path in sources + headers:
        for b in parse_doc_blocks(path):
            if b.name in blocks:
                duplicates.append('%s documented twice (%s, %s)' % (b.name, blocks[b.name].where, b.where))
            blocks[b.name] = b
    c_blocks = set()
    for path in sources:
        for b in parse_doc_blocks(path):
            c_blocks.add(b.name)
    members = []
    for path in sources:
        members += parse_properties_and_signals(path)

    results = []
    all_names = {f.name for f in functions}
    checked = set()
    for fn in functions:
        if fn.name.endswith('_get_type'):
            checked.add(fn.name)
            continue
        block = blocks.get(fn.name) if fn.name in c_blocks else None
        results.append(('function %s' % fn.name, check_function(fn, block, all_names)))
        checked.add(fn.name)

    for name, where in types + [(n, w) for n, w in enums] + constants:
        problems = []
        b = blocks.get(name)
        if b is None:
            problems.append('no doc comment')
        elif 'Since' not in b.tags:
            problems.append('no Since: (%s)' % b.where)
        results.append(('type %s' % name if not name.startswith('FJ_') else 'macro %s' % name, problems))
        checked.add(name)

    for name, is_list_model, n_params in members:
        problems = []
        b = blocks.get(name)
        if b is None:
            problems.append('no doc comment')
        else:
            if n_params is not None and len(b.params) != n_params + 1:
                problems.append('%d parameters documented, the signal has the instance and %d more'
                                % (len(b.params), n_params))
            if 'Since' not in b.tags:
                problems.append('no Since: (%s)' % b.where)
            if is_list_model and not names_item_type(b.description):
                problems.append('a GListModel property whose text does not name the item type')
        kind = 'signal' if '::' in name else 'property'
        results.append(('%s %s' % (kind, name), problems))
        checked.add(name)

    for name, b in sorted(blocks.items()):
        if name in checked:
            continue
        problems = []
        if 'Since' not in b.tags:
            problems.append('no Since:')
        if re.match(r'^fj_\w+$', name):
            problems.append('documents %s, which no public header declares' % name)
        results.append(('doc comment %s (%s)' % (name, b.where), problems))

    results.append(('no symbol documented twice', duplicates))

    print('1..%d' % len(results))
    failed = 0
    for i, (what, problems) in enumerate(results, 1):
        if problems:
            failed += 1
            print('not ok %d - %s' % (i, what))
            for p in problems:
                print('# %s: %s' % (what, p))
        else:
            print('ok %d - %s' % (i, what))
    print('# %d of %d failed' % (failed, len(results)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
