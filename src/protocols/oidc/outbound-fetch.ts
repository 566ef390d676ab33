// Outgoing HTTP made by oidc-provider (in Gatehouse: back-channel logout calls). oidc-provider refuses
// loopback and private-network addresses to stop SSRF through client-supplied URLs. Gatehouse's clients come
// only from the administrator's configuration, and in-house applications usually live on private networks,
// where that check would silently drop every logout notification. So a URL the administrator registered as
// a back-channel logout URI is called wherever it points; any other URL keeps oidc-provider's protection.

type Init = RequestInit & { dispatcher?: unknown };

/** oidc-provider's `fetch` option: administrator-registered URLs bypass the special-use address check. */
export function createOutboundFetch(registered: Iterable<string>) {
  const trusted = new Set([...registered].map((u) => new URL(u).href));
  return (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (init && trusted.has(url)) {
      const { dispatcher: _ssrfGuard, ...rest } = init as Init;
      return fetch(input, rest);
    }
    return fetch(input, init);
  };
}
