// The version ranges of the compatibility matrix, as Python packaging reads them.
import { describe, expect, it } from 'vitest';
import { rangeProblem, satisfies } from '../../src/checks/library/pep440.js';

describe('PEP 440 ranges', () => {
  it.each([
    ['1.1.0', '>=1.1,<2', true],
    ['1.0.9', '>=1.1,<2', false],
    ['2.0.0', '>=1.1,<2', false],
    ['1.10.0', '>1.9', true],
    ['3.11.2', '>=3.9,<3.14', true],
    ['3.14.0', '>=3.9,<3.14', false],
    ['1.4.5', '~=1.4.2', true],
    ['1.5.0', '~=1.4.2', false],
    ['1.4.1', '~=1.4.2', false],
    ['2.3.1', '==2.3.*', true],
    ['2.4.0', '==2.3.*', false],
    ['2.4.0', '!=2.3.*', true],
    ['1.0', '==1.0.0', true],
    ['1.0rc1', '<1.0', true],
    ['1.0.post1', '>1.0', true],
    ['2', '!=2.0', false],
    // Every operator on both sides of its boundary, and releases of different lengths.
    ['1.0', '<=1.0', true],
    ['1.0.1', '<=1.0', false],
    ['0.9', '<=1.0', true],
    ['1.0', '>1.0', false],
    ['1.0', '<1.0', false],
    ['1.0', '>=1.0.0.0', true],
    ['1.0.0.1', '>1.0', true],
    ['1.0', '===1.0', true],
    ['1.0.1', '===1.0', false],
    ['1.4.2', '~=1.4.2', true],
    ['2.0', '~=1.4', false],
    ['1.9', '~=1.4', true],
    ['2.3', '==2.3.*', true],
    ['12.3', '==2.3.*', false],
    ['2.3.0', '!=2.3.*', false],
    // Spaces after an operator and around clauses, a v prefix, a local version label.
    ['1.5', '>= 1.0 , < 2', true],
    ['v1.2', '==1.2', true],
    ['1.2+ubuntu1', '==1.2', true],
    // Pre-releases sort before their release and by their text; post-releases after.
    ['1.0a1', '<1.0b1', true],
    ['1.0b1', '<1.0a1', false],
    ['1.0rc1', '>=1.0', false],
    ['1.0.post1', '<=1.0', false],
    ['1.0.post1', '>1.0.post0', true],
    // What is not a version, or not a range, never matches.
    ['one', '>=0', false],
    ['x1.2', '>=0', false],
    ['1.2 ', '==1.2', true],
    ['1.2', '1.2', false],
    ['1.2', '>=1.0 junk', false],
    ['1.2', '==one', false],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it('names what is wrong with a malformed range', () => {
    expect(rangeProblem('>=1.1,<2')).toBeUndefined();
    expect(rangeProblem('1.1')).toBe('`1.1` is not a version clause (e.g. >=1.2,<2)');
    expect(rangeProblem('>=one')).toBe('`one` in `>=one` is not a version');
    expect(rangeProblem('~=1')).toBe('`~=1` needs at least two numbers');
    expect(rangeProblem('~=1.4')).toBeUndefined();
    expect(rangeProblem('==1.*, !=1.3.*')).toBeUndefined();
    expect(rangeProblem('>=1.*')).toBe('`1.*` in `>=1.*` is not a version');
    expect(rangeProblem('>=1.0 junk')).toBe('`>=1.0 junk` is not a version clause (e.g. >=1.2,<2)');
    expect(rangeProblem('<=2, >1')).toBeUndefined();
  });
});
