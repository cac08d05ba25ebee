/**
 * KisFlow YAML for the executor's example functions (packages/executor/test/fixtures/functions.ts), as an
 * operator would upload it: the flows the end-to-end tests and the pipeline benchmark schedule.
 */
import type { ConfigSource } from '@kisjobs/flow';

const func = (name: string, mode: string, option = ''): string =>
  `kistype: func\nfname: ${name}\nfmode: ${mode}\nsource:\n  name: test\n  must: []\n${option}`;

const flow = (name: string, steps: readonly (string | [string, Record<string, string>])[]): string =>
  `kistype: flow\nflow_name: ${name}\nflows:\n${steps
    .map((s) =>
      typeof s === 'string'
        ? `  - fname: ${s}\n`
        : `  - fname: ${s[0]}\n    params:\n${Object.entries(s[1])
            .map(([k, v]) => `      ${k}: "${v}"\n`)
            .join('')}`,
    )
    .join('')}`;

export const FIXTURE_FLOWS: readonly ConfigSource[] = [
  {
    file: 'conns.yml',
    text: 'kistype: conn\ncname: mem\ntype: memory\naddrs: ""\nkey: ""\n',
  },
  {
    file: 'funcs.yml',
    text: [
      func('Source', 'Load'),
      func('Log', 'Calculate'),
      func('Double', 'Calculate'),
      func('Count', 'Save'),
      func('Sleep', 'Calculate'),
      func('Spin', 'Calculate'),
      func('Stubborn', 'Calculate'),
      func('Throw', 'Calculate'),
      func('Probe', 'Load', 'option:\n  cname: mem\n'),
    ].join('---\n'),
  },
  {
    file: 'flows.yml',
    text: [
      /** Source(3 rows) → Log(2 lines) → Double → Count. */
      flow('etl', ['Source', 'Log', 'Double', 'Count']),
      /** One cooperative sleep of `ms` (a run param; default 1000). */
      flow('sleep', ['Sleep']),
      /** A synchronous infinite loop: only killing its thread stops it. */
      flow('spin', ['Source', 'Spin']),
      /** Logs `lines` lines (run param). */
      flow('chatty', ['Source', ['Log', { lines: '25' }]]),
      flow('throw', ['Source', ['Throw', { message: 'the data is bad' }]]),
      /** Five lines, a cooperative pause of `ms` (default 1500), five more lines: a log to tail live. */
      flow('slowlog', ['Source', ['Log', { lines: '5' }], 'Sleep', ['Log', { lines: '5' }]]),
      /** Counts its (single source) row: the cheapest complete flow. */
      flow('noop', ['Count']),
    ].join('---\n'),
  },
];
