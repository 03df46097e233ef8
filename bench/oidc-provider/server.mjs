// oidc-provider configured like Latchkey for the benchmark: one confidential client with the
// client_credentials grant, ES256-signed JWT access tokens (RFC 9068) for the token run,
// opaque tokens for introspection (oidc-provider introspects only tokens it stores), and one
// web client for the SSO hop. Its interaction (login + consent) signs in the one bench account
// at once, as Latchkey's first-party products skip consent; after that, authorization
// requests with the session cookie are answered with a code, which is what the hop measures.
// Usage: PORT=… FORMAT=jwt|opaque node server.mjs   (prints "ready" when listening)
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';

const port = Number(process.env.PORT);
const format = process.env.FORMAT ?? 'jwt';
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'web',
    client_secret: 'web-secret-web-secret-web-secret-web-secret-1234',
    grant_types: ['authorization_code'],
    redirect_uris: ['http://127.0.0.1:9/cb'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }, {
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret-1234',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    scope: 'reports.read',
  }],
  jwks: { keys: [jwk] },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  scopes: ['openid', 'offline_access', 'reports.read'],
  ttl: { ClientCredentials: 900 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'reports.read',
        audience: 'urn:bench:api',
        accessTokenFormat: format,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
// The bench interaction: no form, the bench account signs in and every scope is granted.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: 'bench-user', clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, {
    login: { accountId: 'bench-user' },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
});
provider.listen(port, '127.0.0.1', () => console.log('ready'));
