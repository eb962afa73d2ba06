// Parameter values for a run: given, from the environment, defaulted, or — for an optional one not
// given — empty where it is used, never the placeholder as written (bash would fail on `${{`).
import { describe, expect, it } from 'vitest';
import type { Param } from '../../src/model/types.js';
import { resolveParams } from '../../src/runner/params.js';
import { renderPlaceholders } from '../../src/placeholders/index.js';

const PARAMS: Param[] = [
  { name: 'table', type: 'identifier', required: true, secret: false },
  { name: 'source', type: 'string', required: false, secret: true },
  { name: 'note', type: 'string', required: false, secret: false, default: 'hi' },
];

describe('resolveParams', () => {
  it('gives an optional parameter that was not given an empty value, and no empty secret to mask', () => {
    const r = resolveParams(PARAMS, { table: 'invoices' }, {});
    expect(r.problems).toEqual([]);
    expect(r.values).toEqual({ table: 'invoices', source: '', note: 'hi' });
    expect(r.secrets).toEqual([]);
    const code = renderPlaceholders('bash', 'src="${{ params.source }}"; echo ${{ params.source }}', PARAMS, r.values);
    expect(code).toEqual({ code: 'src="${EXEC_DOC_PARAM_source}"; echo "${EXEC_DOC_PARAM_source}"', problems: [] });
  });

  it('takes an optional secret from the environment and masks it; a required one missing is a problem', () => {
    const r = resolveParams(PARAMS, {}, { EXEC_DOC_PARAM_source: 'postgresql://u:pw@old/db' });
    expect(r.values.source).toBe('postgresql://u:pw@old/db');
    expect(r.secrets).toEqual(['postgresql://u:pw@old/db']);
    expect(r.problems).toEqual([expect.stringMatching(/^parameter `table` needs a value: pass --set table=<value>/)]);
    const planned = resolveParams(PARAMS, {}, {}, { requireAll: false });
    expect(planned.problems).toEqual([]);
    // A plan shows an optional parameter not given as not given.
    expect(planned.values).toEqual({ note: 'hi' });
  });
});
