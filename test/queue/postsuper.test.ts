import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePostsuperDone, postsuperWarnings } from '../../src/queue/postsuper.js';

// stderr of postsuper 3.7, as in the system test. An id that is gone gets no line.
describe('postsuper output', () => {
  it('reads the ids each operation reports done', () => {
    assert.deepEqual([...parsePostsuperDone('postsuper: 9E3A32241A5: removed\npostsuper: Deleted: 1 message\n', 'delete')], ['9E3A32241A5']);
    assert.deepEqual([...parsePostsuperDone('postsuper: 3F0F62244FE: placed on hold\npostsuper: Placed on hold: 1 message\n', 'hold')], ['3F0F62244FE']);
    assert.deepEqual([...parsePostsuperDone('postsuper: 3F0F62244FE: released from hold\npostsuper: Released from hold: 1 message\n', 'release')], ['3F0F62244FE']);
    // A line of another operation does not count.
    assert.deepEqual([...parsePostsuperDone('postsuper: 3F0F62244FE: placed on hold\n', 'delete')], []);
  });

  it('keeps warnings, drops the per-message and total lines', () => {
    const err = 'postsuper: 9E3A32241A5: removed\npostsuper: warning: ABC: unknown queue id\npostsuper: Deleted: 2 messages\n';
    assert.deepEqual(postsuperWarnings(err), ['postsuper: warning: ABC: unknown queue id']);
  });
});
