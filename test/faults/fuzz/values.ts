import fc from 'fast-check';

// Values a person or a script might pass by mistake: empty, numbers a parser mishandles, other
// scripts' digits, shell metacharacters, paths, flags in a value's place, unicode, very long.

const NUMBERS = [
  '',
  ' ',
  '0',
  '-0',
  '-1',
  '3.5',
  '+3',
  '1e3',
  '1e309',
  '-1e309',
  '1e-400',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x1F',
  '0b11',
  '1_000',
  '99999999999999999999999',
  '9007199254740993',
  '٣',
  '３',
  ' 3 ',
  '3,',
  ',',
  ',,,',
];
const SHELL = [';rm -rf /', '$(id)', '`id`', '| cat /etc/passwd', '&& reboot', '> x', "'", '"', '\\', '*', '~', '\n', '\t', '$HOME'];
const OTHER = [
  '--dry-run',
  '-h',
  '--json',
  '10.244.0.0/33',
  '256.0.0.0/8',
  '10.244.0.1/16',
  '10.244.0.0',
  '::1/128',
  '0.0.0.0/0',
  '169.254.0.0/16',
  'srv-',
  'srv-01',
  'cli--1',
  'NFT',
  'nft,',
  'nft,,ipvs',
  'all',
  'Ünïcödé',
  '服务',
  '🚀',
  '\u202e',
  'x'.repeat(100_000),
];

/** Strings that must never reach a command line unvalidated. NUL is left out: an argv cannot
 * carry it (execve stops at it). */
export const nastyString: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NUMBERS, ...SHELL, ...OTHER) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.double().map(String) },
    { weight: 1, arbitrary: fc.bigInt().map(String) },
  )
  .map((s) => s.replaceAll('\0', ''));
