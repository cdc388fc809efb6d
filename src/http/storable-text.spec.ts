import {
  findMalformedQuery,
  findUnstorableText,
  isStorableText,
  unstorableTextMessage,
} from './storable-text';

describe(isStorableText.name, () => {
  it.each(['', 'plain', 'é ñ 中文', '😀 paired surrogates', '\t\n\r', '\u0001\u001f', '\uFFFD'])(
    'should accept %j',
    (text) => {
      expect(isStorableText(text)).toBe(true);
    },
  );

  it.each(['\u0000', 'a\u0000b', 'a\ud800', '\ud800b', 'a\udc00', '\udc00\ud800', '😀'[1]])(
    'should refuse %j (NUL or an unpaired surrogate)',
    (text) => {
      expect(isStorableText(text)).toBe(false);
    },
  );
});

describe(findUnstorableText.name, () => {
  it('should find nothing in storable values of any type', () => {
    expect(findUnstorableText({ a: 'x', b: [1, true, null, { c: '😀' }] })).toBeUndefined();
    expect(findUnstorableText('text')).toBeUndefined();
    expect(findUnstorableText(undefined)).toBeUndefined();
  });

  it('should name the path of the first unstorable value', () => {
    expect(findUnstorableText({ content: 'a\u0000b' })).toEqual({ path: 'content', inName: false });
    expect(findUnstorableText({ a: 'ok', b: [{ c: 'x' }, { c: '\ud800' }] })).toEqual({
      path: 'b[1].c',
      inName: false,
    });
    expect(findUnstorableText('\u0000')).toEqual({ path: '', inName: false });
  });

  it('should check property names too, without repeating them', () => {
    expect(findUnstorableText({ a: { 'x\u0000': 1 } })).toEqual({ path: 'a', inName: true });
    expect(unstorableTextMessage({ path: '', inName: true }, 'the body')).toBe(
      'a property name in the body must not contain NUL characters or unpaired UTF-16 surrogates',
    );
  });

  it('should walk deep values without recursion', () => {
    let deep: unknown = 'a\u0000';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(findUnstorableText(deep)?.path).toMatch(/^(\[0\]){100000}$/);
  });

  it('should say which field and what is wrong', () => {
    expect(unstorableTextMessage({ path: 'content', inName: false }, 'body')).toBe(
      'content must not contain NUL characters or unpaired UTF-16 surrogates',
    );
  });
});

describe(findMalformedQuery.name, () => {
  it.each([
    '',
    'limit=5',
    'cursor=12&author=me',
    'a=%C3%A9',
    'a=%F0%9F%98%80',
    'a',
    'a=b=c',
    'q=a+b',
  ])('should accept %j', (query) => {
    expect(findMalformedQuery(query)).toBeUndefined();
  });

  it.each([
    ['cursor=%E0%A4%A', 'cursor'],
    ['limit=1&cursor=%ZZ', 'cursor'],
    ['author=%ED%A0%80', 'author'],
    ['x=%', 'x'],
  ])('should name the parameter of %j', (query, field) => {
    expect(findMalformedQuery(query)).toEqual({ field });
  });

  it('should leave a malformed parameter name unnamed', () => {
    expect(findMalformedQuery('%ZZ=1')).toEqual({});
    expect(findMalformedQuery('a%00=%ZZ')).toEqual({ field: undefined });
  });
});
