import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { safeText } from '../src/safe-text.js';

describe('safeText', () => {
  it('leaves ordinary text alone, Unicode letters included', () => {
    assert.equal(safeText('carol@exämple.com "$(x)"'), 'carol@exämple.com "$(x)"');
  });

  it('escapes terminal control characters so they cannot act on the terminal', () => {
    assert.equal(safeText('a\x1b[2Jb\r\nc\x07\x7f\x9b'), 'a\\x1b[2Jb\\x0d\\x0ac\\x07\\x7f\\x9b');
  });

  it('escapes text-reordering Unicode and the backslash itself (so an escape cannot be faked)', () => {
    assert.equal(safeText('evil\u202emoc.elpmaxe'), 'evil\\u202emoc.elpmaxe');
    assert.equal(safeText('a\\x1b'), 'a\\\\x1b');
  });
});
