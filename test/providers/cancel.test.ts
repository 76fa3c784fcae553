import { describe, expect, it } from 'vitest';
import { Cancel } from '../../sidecar/providers/cancel.js';

describe('Cancel', () => {
  it('calls each listener once, with the first reason kept', () => {
    const cancel = new Cancel();
    const heard: unknown[] = [];
    cancel.onAbort(() => heard.push(`a:${String(cancel.reason)}`));
    cancel.onAbort(() => heard.push(`b:${String(cancel.reason)}`));
    cancel.abort('total');
    cancel.abort('client');
    expect(heard).toEqual(['a:total', 'b:total']);
    expect(cancel.aborted).toBe(true);
    expect(cancel.reason).toBe('total');
  });

  it('calls a listener added after the abort at once', () => {
    const cancel = new Cancel();
    cancel.abort('client');
    let called = 0;
    cancel.onAbort(() => called++);
    expect(called).toBe(1);
  });

  it('does not call a removed listener', () => {
    const cancel = new Cancel();
    let kept = 0;
    let removed = 0;
    const remove = cancel.onAbort(() => removed++);
    cancel.onAbort(() => kept++);
    remove();
    cancel.abort('first_token');
    expect([kept, removed]).toEqual([1, 0]);
  });
});
