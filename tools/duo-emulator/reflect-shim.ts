// Minimal stand-in for the `reflect-metadata` polyfill.
//
// Why: @peculiar/x509 depends on tsyringe, which throws at import time unless
// `Reflect.getMetadata` exists, and `reflect-metadata` is not installed in this
// project. tsyringe and tslib only need define/get(Own)Metadata and
// Reflect.metadata, so that is all this provides. It is a no-op when a real
// polyfill is already loaded. Import this module before `@peculiar/x509`.

type MetaKey = unknown;
type PropKey = string | symbol | undefined;

const R = Reflect as unknown as Record<string, unknown>;

if (typeof R.getMetadata !== 'function') {
  const store = new WeakMap<object, Map<PropKey, Map<MetaKey, unknown>>>();

  const ownMap = (target: object, prop: PropKey, create: boolean): Map<MetaKey, unknown> | undefined => {
    let byProp = store.get(target);
    if (!byProp) {
      if (!create) return undefined;
      byProp = new Map();
      store.set(target, byProp);
    }
    let meta = byProp.get(prop);
    if (!meta && create) {
      meta = new Map();
      byProp.set(prop, meta);
    }
    return meta;
  };

  const defineMetadata = (key: MetaKey, value: unknown, target: object, prop?: PropKey): void => {
    ownMap(target, prop, true)!.set(key, value);
  };
  const hasOwnMetadata = (key: MetaKey, target: object, prop?: PropKey): boolean =>
    ownMap(target, prop, false)?.has(key) ?? false;
  const getOwnMetadata = (key: MetaKey, target: object, prop?: PropKey): unknown =>
    ownMap(target, prop, false)?.get(key);
  const getMetadata = (key: MetaKey, target: object, prop?: PropKey): unknown => {
    // Walk the prototype chain like reflect-metadata does (inherited metadata).
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      if (hasOwnMetadata(key, t, prop)) return getOwnMetadata(key, t, prop);
    }
    return undefined;
  };
  const hasMetadata = (key: MetaKey, target: object, prop?: PropKey): boolean =>
    getMetadata(key, target, prop) !== undefined;
  const metadata = (key: MetaKey, value: unknown) => (target: object, prop?: PropKey): void =>
    defineMetadata(key, value, target, prop);

  Object.assign(R, { defineMetadata, hasOwnMetadata, getOwnMetadata, getMetadata, hasMetadata, metadata });
}

export {};
