#!/usr/bin/python3
# test-spec-schema.py
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""data/spec.schema.json against the example specs, the bad specs of
tests/specs and the loader's own key lists (lib/fj-spec.c), so the schema
stays in step with what FjSpec reads. TAP output."""

import glob
import json
import os
import re
import sys
import traceback

from jsonschema import Draft202012Validator

DATA_DIR = os.environ.get('FJ_DATA_DIR')
SOURCE_ROOT = os.environ.get('FJ_SOURCE_ROOT')
if SOURCE_ROOT is None:
    SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if DATA_DIR is None:
    DATA_DIR = os.path.join(SOURCE_ROOT, 'data')

SPECS_DIR = os.path.join(SOURCE_ROOT, 'tests', 'specs')

tests = []


def test(function):
    tests.append(function)
    return function


def load_schema():
    with open(os.path.join(DATA_DIR, 'spec.schema.json'), encoding='utf-8') as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors_of(validator, document):
    return sorted(error.message for error in validator.iter_errors(document))


def assert_valid(validator, document, what):
    errors = errors_of(validator, document)
    assert not errors, '%s: expected valid, got %s' % (what, errors)


def assert_invalid(validator, document, what):
    assert not validator.is_valid(document), '%s: expected the schema to reject it' % what


@test
def schema_is_a_valid_draft_2020_12_schema():
    validator = load_schema()
    assert validator.schema['additionalProperties'] is False
    assert validator.schema['required'] == ['agents']


@test
def every_example_validates():
    validator = load_schema()
    paths = sorted(glob.glob(os.path.join(DATA_DIR, 'examples', '*.json')))
    names = [os.path.basename(p) for p in paths]
    for expected in ('q3-analysis.json', 'research.json', 'classification-vote.json', 'tool-use.json'):
        assert expected in names, 'missing example %s' % expected
    for path in paths:
        with open(path, encoding='utf-8') as f:
            document = json.load(f)
        assert_valid(validator, document, os.path.basename(path))
        assert document.get('$schema') == '../spec.schema.json', path


@test
def examples_use_current_models():
    with open(os.path.join(DATA_DIR, 'models.json'), encoding='utf-8') as f:
        models = json.load(f)
    deprecated = {d['model'] for d in models['deprecations']}
    known = set(models['models'])

    def check(model, where):
        assert model not in deprecated, '%s uses deprecated %s' % (where, model)
        assert model in known, '%s uses unknown model %s' % (where, model)

    for path in glob.glob(os.path.join(DATA_DIR, 'examples', '*.json')):
        with open(path, encoding='utf-8') as f:
            document = json.load(f)
        where = os.path.basename(path)
        clients = document.get('clients', {})

        def is_claude(client):
            return client is None or clients[client].get('provider', 'anthropic') == 'anthropic'

        defaults = document.get('defaults', {})
        if 'model' in defaults and is_claude(defaults.get('client')):
            check(defaults['model'], where)
        for agent in document['agents']:
            # Another provider's models are not in the Claude table.
            if 'model' in agent and is_claude(agent.get('client', defaults.get('client'))):
                check(agent['model'], where)
        if (document.get('synthesis') or {}).get('model'):
            check(document['synthesis']['model'], where)


@test
def models_table_is_well_formed():
    with open(os.path.join(DATA_DIR, 'models.json'), encoding='utf-8') as f:
        models = json.load(f)
    assert re.fullmatch(r'\d{4}-\d{2}-\d{2}', models['taken'])
    assert models['source']
    assert models['models'] and len(set(models['models'])) == len(models['models'])
    for deprecation in models['deprecations']:
        assert re.fullmatch(r'\d{4}-\d{2}-\d{2}', deprecation['end_of_life']), deprecation
        assert deprecation['model'] not in models['models'], deprecation


@test
def small_valid_documents():
    validator = load_schema()
    for document in (
        {'agents': [{'name': 'a'}]},
        {'agents': [{'name': 'a'}], 'synthesis': None},
        {'agents': [{'name': 'a', 'timeout': 0.5, 'temperature': 0, 'stream': False,
                     'tools': ['clock', {'plugin': 'read_file', 'root': '/srv', 'max_bytes': 10}]}],
         'defaults': {'timeout': 30, 'tools': [{'plugin': 'clock', 'time_zone': 'Europe/Paris'}]},
         'runner': {'max_concurrent': 0, 'deadline': 10.5, 'agent_timeout': 3},
         'client': {'api_version': '2026-10-21', 'max_retries': 0, 'idle_timeout': 60,
                    'requests_per_minute': 50, 'input_tokens_per_minute': 10000,
                    'output_tokens_per_minute': 2000},
         'policies': [{'plugin': 'quorum', 'losers': 'finish'}, {'plugin': 'budget', 'max_total_tokens': 5}],
         'synthesis': {'plugin': 'concat', 'heading_level': 3}},
        {'agents': [{'name': 'a', 'client': 'local'}, {'name': 'b'}],
         'defaults': {'client': 'cloud'},
         'clients': {'local': {'provider': 'openai', 'base_url': 'http://localhost:11434/v1',
                               'max_retries': 1, 'requests_per_minute': 60},
                     'cloud': {'provider': 'anthropic', 'base_url': 'https://api.anthropic.com',
                               'api_key_env': 'CLOUD_KEY', 'api_version': '2023-06-01',
                               'allow_insecure_http': False}},
         'synthesis': {'plugin': 'llm', 'client': 'cloud'}},
        # Another project's plugins: their options are the loader's business.
        {'agents': [{'name': 'a', 'tools': [{'plugin': 'web_search', 'engine': 'x'}]}],
         'policies': [{'plugin': 'my-policy', 'level': 3}],
         'synthesis': {'plugin': 'my-synth', 'anything': True}},
    ):
        assert_valid(validator, document, json.dumps(document))


@test
def small_invalid_documents():
    validator = load_schema()
    for document in (
        {},
        [],
        {'agents': []},
        {'agents': [{'name': 'a'}], 'extra': 1},
        {'agents': [{}]},
        {'agents': [{'name': ''}]},
        {'agents': [{'name': 'a', 'timeout': 'fast'}]},
        {'agents': [{'name': 'a', 'timeout': -1}]},
        {'agents': [{'name': 'a', 'timout': 1}]},
        {'agents': [{'name': 'a', 'client': ''}]},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'provider': 'opnai', 'base_url': 'http://localhost/v1'}}},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'provider': 'openai'}}},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'provider': 'openai', 'base_url': 'http://localhost/v1',
                                                      'api_version': '2023-06-01'}}},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'base_url': 'ftp://example.com'}}},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'api_key_env': 'sk-ant-not-a-name'}}},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'max_retries': -1}}},
        {'agents': [{'name': 'a'}], 'clients': {'x': {'model': 'm'}}},
        {'agents': [{'name': 'a'}], 'clients': {'': {}}},
        {'agents': [{'name': 'a', 'max_tokens': 0}]},
        {'agents': [{'name': 'a', 'temperature': 3}]},
        {'agents': [{'name': 'a', 'tools': ['']}]},
        {'agents': [{'name': 'a', 'tools': [{'root': '/'}]}]},
        {'agents': [{'name': 'a', 'tools': [{'plugin': 'read_file', 'rot': '/'}]}]},
        {'agents': [{'name': 'a'}], 'defaults': {'name': 'b'}},
        {'agents': [{'name': 'a'}], 'min_successes': 0},
        {'agents': [{'name': 'a'}], 'runner': {'deadline': -1}},
        {'agents': [{'name': 'a'}], 'runner': {'parallel': 2}},
        {'agents': [{'name': 'a'}], 'synthesis': 'llm'},
        {'agents': [{'name': 'a'}], 'synthesis': {'model': 'x'}},
        {'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'llm', 'modle': 'x'}},
        {'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'vote', 'min_share': 2}},
        {'agents': [{'name': 'a'}], 'policies': [{'plugin': 'quorum', 'losers': 'some'}]},
        {'agents': [{'name': 'a'}], 'client': {'max_retries': -1}},
    ):
        assert_invalid(validator, document, json.dumps(document))


@test
def bad_specs_are_rejected_where_a_schema_can_tell():
    validator = load_schema()
    with open(os.path.join(SPECS_DIR, 'index.json'), encoding='utf-8') as f:
        index = json.load(f)
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SPECS_DIR, '*.json')))
    listed = sorted(entry['file'] for entry in index['specs'])
    assert listed == [f for f in files if f != 'index.json'], 'index.json does not list every bad spec'

    for entry in index['specs']:
        with open(os.path.join(SPECS_DIR, entry['file']), 'rb') as f:
            data = f.read()
        assert entry['error'].startswith(entry['file'] + ':'), entry
        assert re.match(r'^[^:]+:\d+:\d+: ', entry['error']), entry
        try:
            document = json.loads(data)
        except ValueError:
            assert entry['schema'] == 'not-json', '%s parses as JSON' % entry['file']
            continue
        assert entry['schema'] != 'not-json', '%s does parse as JSON' % entry['file']
        if entry['schema'] == 'invalid':
            assert_invalid(validator, document, entry['file'])
        else:
            assert_valid(validator, document, entry['file'])


def loader_keys():
    """The key lists in lib/fj-spec.c: {'root': [...], 'agent': [...], ...}."""
    with open(os.path.join(SOURCE_ROOT, 'lib', 'fj-spec.c'), encoding='utf-8') as f:
        source = f.read()
    lists = {}
    for name, body in re.findall(r'static const char \* const (\w+)_keys\[\] = \{(.*?)\};', source, re.S):
        lists[name] = re.findall(r'"([^"]+)"', body)
    return lists


@test
def schema_keys_match_the_loader():
    validator = load_schema()
    schema = validator.schema
    keys = loader_keys()
    for name in ('root', 'agent', 'defaults', 'runner', 'client', 'named_client'):
        assert name in keys, 'no %s_keys in lib/fj-spec.c' % name

    def props(node):
        return sorted(node['properties'].keys())

    assert props(schema) == sorted(keys['root']), (props(schema), keys['root'])
    assert props(schema['$defs']['agent']) == sorted(keys['agent'])
    assert props(schema['$defs']['defaults']) == sorted(keys['defaults'])
    assert props(schema['properties']['runner']) == sorted(keys['runner'])
    assert props(schema['properties']['client']) == sorted(keys['client'])
    assert props(schema['$defs']['named_client']) == sorted(keys['named_client'])
    assert set(keys['client']) <= set(keys['named_client'])
    # The synthesizer defaults the loader passes on are agent keys.
    assert set(keys['synthesis_default']) <= set(keys['agent'])


def main():
    print('1..%d' % len(tests))
    failed = 0
    for number, function in enumerate(tests, 1):
        name = function.__name__.replace('_', ' ')
        try:
            function()
        except Exception:  # noqa: BLE001 - every failure is reported
            failed += 1
            print('not ok %d - %s' % (number, name))
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
        else:
            print('ok %d - %s' % (number, name))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
