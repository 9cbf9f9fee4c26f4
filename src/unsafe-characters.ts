/**
 * Characters no text a student controls may carry to others' screens: C0 and C1 controls
 * and DEL (terminals act on them, and go-yaml, which kubectl, Argo CD and Flux read YAML
 * with, refuses C1 and DEL even escaped), YAML 1.1 line separators, the byte-order mark,
 * noncharacters such as U+FFFE, lone surrogates (half of a character, which no UTF-8 file
 * can hold and strict JSON readers refuse), and the invisible direction and zero-width marks
 * that make a name show as another (U+200B, U+200E, U+200F, U+202A–U+202E, U+2060–U+2069,
 * U+061C), and the characters that draw nothing at all (the soft hyphen, Hangul fillers,
 * the Mongolian vowel separator, deprecated format controls, interlinear annotation marks,
 * shorthand format controls, invisible musical formatting, and the tag characters
 * U+E0000–U+E007F, which carry hidden ASCII). The joiners U+200C and U+200D and the
 * variation selectors stay: Persian and other scripts, and emoji, need them (a run of
 * selectors is refused, VARIATION_SELECTOR_RUN). The roster refuses these; the gallery
 * drops them from answers.
 */
export const UNSAFE_CHAR =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\u2028\u2029\ufeff\ud800-\udfff\p{Noncharacter_Code_Point}\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u206a-\u206f\u3164\uffa0\ufff9-\ufffb\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/u;

/** Every unsafe character, for replacing. */
// eslint-disable-next-line no-misleading-character-class -- the same class as UNSAFE_CHAR
export const UNSAFE_CHARS = new RegExp(UNSAFE_CHAR.source, 'gu');

/**
 * A variation selector chooses how the character before it is drawn, so one follows one
 * character (❤️, an ideograph of a Japanese name); a second in a row draws nothing and can
 * spell hidden text, a byte per selector.
 */
export const VARIATION_SELECTOR_RUN = /[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]([\ufe00-\ufe0f\u{e0100}-\u{e01ef}])/u;

/** `\uXXXX` for each UTF-16 unit, so a character beyond U+FFFF shows whole. */
const escapeUnits = (c: string): string =>
  Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');

/** Text with every unsafe character shown as its escape: what a terminal, a log or a comment may display. */
export const showUnsafe = (text: string): string => text.replace(UNSAFE_CHARS, escapeUnits);

/** Text that should be ASCII (a GitHub login), with anything else shown as its escape: a joiner cannot hide in it. */
export const showNonAscii = (text: string): string => text.replace(/[^\x20-\x7e]/gu, escapeUnits);

/** At most `max` characters of what a student wrote, and an ellipsis when there was more. */
const shortened = (value: string, max: number) =>
  [...value].length > max ? `${[...value].slice(0, max).join('')}…` : value;

/** Student data shown as data (a login in JSON): escaped where unsafe, at most `max` characters. */
export const shown = (value: string, max = 80): string => showUnsafe(shortened(value, max));

/** Student data inside a message: quoted and escaped, so a newline, quote or control character shows as text. */
export function quote(value: string, max = 80): string {
  return showUnsafe(JSON.stringify(shortened(value, max)));
}
