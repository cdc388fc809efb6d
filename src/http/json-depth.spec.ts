import { exceedsKeyCount, findExcessiveNesting, MAX_BODY_DEPTH } from './json-depth';

describe(findExcessiveNesting.name, () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('should accept nesting up to the limit, counting the top-level object', () => {
    expect(findExcessiveNesting('{"content":"x"}', 1)).toBeUndefined();
    expect(findExcessiveNesting(`{"a":${nested(MAX_BODY_DEPTH - 1)}}`, MAX_BODY_DEPTH)).toBe(
      undefined,
    );
    expect(findExcessiveNesting('{"a":{"b":[1,{"c":2}]},"d":[]}', 4)).toBeUndefined();
  });

  it('should report nesting one level past the limit, naming the top-level property', () => {
    expect(findExcessiveNesting(`{"a":${nested(MAX_BODY_DEPTH)}}`, MAX_BODY_DEPTH)).toEqual({
      field: 'a',
    });
    expect(findExcessiveNesting('{"title":"x","content":{"a":{"b":{}}}}', 3)).toEqual({
      field: 'content',
    });
  });

  it('should finish without recursion on hundreds of thousands of levels', () => {
    const deep = `{"email":${nested(300_000)}}`;
    expect(findExcessiveNesting(deep, MAX_BODY_DEPTH)).toEqual({ field: 'email' });
    expect(findExcessiveNesting('{'.repeat(300_000), MAX_BODY_DEPTH)).toEqual({
      field: undefined,
    });
  });

  it('should not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ content: `${'['.repeat(50)} "quoted" \\ ${'{'.repeat(50)}` });
    expect(findExcessiveNesting(text, 1)).toBeUndefined();
    expect(findExcessiveNesting('{"a":"\\"[[[[","b":"\\\\"}', 1)).toBeUndefined();
  });

  it('should leave the field unnamed for a top-level array or a key that is not a plain name', () => {
    expect(findExcessiveNesting(nested(10), 3)).toEqual({ field: undefined });
    expect(findExcessiveNesting('{"a\\u0000b":[[[]]]}', 2)).toEqual({ field: undefined });
    expect(findExcessiveNesting(`{"${'k'.repeat(65)}":[[[]]]}`, 2)).toEqual({ field: undefined });
  });

  it('should name the key under which the nesting is, not a string value before it', () => {
    expect(findExcessiveNesting('{"a":"b","c":[["x"]]}', 2)).toEqual({ field: 'c' });
  });
});

describe(exceedsKeyCount.name, () => {
  const keys = (n: number) =>
    JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));

  it('should count keys at every depth, up to the limit and one past it', () => {
    expect(exceedsKeyCount(keys(64), 64)).toBe(false);
    expect(exceedsKeyCount(keys(65), 64)).toBe(true);
    expect(exceedsKeyCount('{"a":{"b":{"c":1}},"d":[{"e":1},{"f":2}]}', 6)).toBe(false);
    expect(exceedsKeyCount('{"a":{"b":{"c":1}},"d":[{"e":1},{"f":2}]}', 5)).toBe(true);
  });

  it('should not count colons inside strings, escaped quotes included', () => {
    expect(exceedsKeyCount(JSON.stringify({ content: ':'.repeat(1000) + '\\":' }), 1)).toBe(false);
    expect(exceedsKeyCount('{"a":"x\\":::"}', 1)).toBe(false);
  });
});
