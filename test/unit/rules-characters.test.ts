import { checkGithubUsername, unsafeCharacter } from '../../src/roster/rules.js';
import { quote } from '../../src/unsafe-characters.js';

describe('characters no student field may hold', () => {
  test.each([
    ['\u0085', 'U+0085, a control character'],
    ['\u009b', 'U+009B, a control character'],
    ['\u007f', 'U+007F, a control character'],
    ['\u2028', 'U+2028, a line separator'],
    ['\ufeff', 'U+FEFF, an invisible byte-order mark'],
    ['\ufffe', 'U+FFFE, a noncharacter'],
    ['\ufdd0', 'U+FDD0, a noncharacter'],
    ['\u{1fffe}', 'U+1FFFE, a noncharacter'],
    ['\ud800', 'U+D800, half of a character (a lone surrogate)'],
    ['\udfff', 'U+DFFF, half of a character (a lone surrogate)'],
    ['\u202e', 'U+202E, an invisible direction or zero-width mark'],
    ['\u2066', 'U+2066, an invisible direction or zero-width mark'],
    ['\u200b', 'U+200B, an invisible direction or zero-width mark'],
    ['\u061c', 'U+061C, an invisible direction or zero-width mark'],
    ['\u00ad', 'U+00AD, a character that draws nothing'],
    ['\u3164', 'U+3164, a character that draws nothing'],
    ['\u206f', 'U+206F, a character that draws nothing'],
    ['\u2065', 'U+2065, an invisible direction or zero-width mark'],
    ['\u{1bca0}', 'U+1BCA0, a character that draws nothing'],
    // "Bob" then hidden ASCII spelled in variation selectors, one per byte.
    ['\u{e0159}\u{e015e}\u{e0157}', 'U+E015E, a variation selector right after another, which carries hidden text'],
    ['\ufe0f\ufe0f', 'U+FE0F, a variation selector right after another, which carries hidden text'],
    [
      '\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}',
      'U+E0067, a tag character, which carries hidden text (the flags of England, Scotland and Wales are made of them)',
    ],
  ])('%j is named as %s', (c, words) => {
    expect(unsafeCharacter(`Ann${c}Lee`)).toBe(words);
  });

  test.each([
    'Zoë O’Brien',
    '😀',
    'José\u00a0María',
    '李雷',
    'Ann "the" Lee',
    'می\u200cخواهم',
    '👩\u200d💻',
    '❤\ufe0f',
    '葛\u{e0100}城', // an ideographic variation sequence, as Japanese names use
  ])('%j is fine', (name) => {
    expect(unsafeCharacter(name)).toBeUndefined();
  });

  test('quote() shows each unsafe character as an escape, whole, so a message never carries one', () => {
    expect(quote('a\u0085b\u009b[2Jc\u{1fffe}d\ud800')).toBe('"a\\u0085b\\u009b[2Jc\\ud83f\\udffed\\ud800"');
  });
});

test('a login shaped like a week path segment is reserved; others of its kind are fine', () => {
  expect(checkGithubUsername('Week01')).toEqual([
    expect.objectContaining({ code: 'username-reserved', message: expect.stringContaining('/students/week01/') }),
  ]);
  expect(checkGithubUsername('week12')[0]?.code).toBe('username-reserved');
  for (const login of ['weekend', 'week-01', 'week1x', 'aweek01']) expect(checkGithubUsername(login)).toEqual([]);
});
