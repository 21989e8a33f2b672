import { type Model, type Principal } from '@app/contracts';
import { callableModels, mayCallModel } from './model-access.js';

const key = (scope: Principal['scope'], policies: string[] | null): Principal => ({ keyId: 'k', owner: 'o', scope, policies });
const model = (id: string, extra: Partial<Model> = {}): Model => ({ id, baseUrl: 'http://up/v1', enabled: true, ...extra });
const arms: Record<string, string[]> = { chat: ['small', 'large'], code: ['coder'] };
const armsOf = (p: string) => arms[p];

describe('mayCallModel', () => {
  const registry = [model('small'), model('large'), model('coder'), model('other'), model('off', { enabled: false }), model('bare', { baseUrl: undefined })];

  it('lets admin and unrestricted route keys call every enabled model with a baseUrl', () => {
    for (const k of [key('admin', null), key('admin', ['chat']), key('route', null)])
      expect(callableModels(k, registry, armsOf).map((m) => m.id)).toEqual(['coder', 'large', 'other', 'small']);
  });

  it('limits a policy-restricted key to the arms of its policies', () => {
    expect(callableModels(key('route', ['chat']), registry, armsOf).map((m) => m.id)).toEqual(['large', 'small']);
    expect(callableModels(key('route', ['chat', 'code', 'gone']), registry, armsOf).map((m) => m.id)).toEqual(['coder', 'large', 'small']);
    expect(callableModels(key('route', []), registry, armsOf)).toEqual([]);
  });

  it('refuses unknown, disabled and upstream-less models, also as arms', () => {
    arms.chat.push('off', 'bare');
    try {
      expect(mayCallModel(key('route', ['chat']), model('off', { enabled: false }), armsOf)).toBe(false);
      expect(mayCallModel(key('route', ['chat']), model('bare', { baseUrl: undefined }), armsOf)).toBe(false);
      expect(mayCallModel(key('admin', null), undefined, armsOf)).toBe(false);
      expect(mayCallModel(key('route', ['chat']), model('small'), armsOf)).toBe(true);
      expect(mayCallModel(key('route', ['code']), model('small'), armsOf)).toBe(false);
    } finally {
      arms.chat.splice(2);
    }
  });
});
