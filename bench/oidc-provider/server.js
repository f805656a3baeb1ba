// panva's oidc-provider (an OpenID Certified OP) configured as ci-environment.md describes, for bench/issuer.py:
// one client_credentials client (client_secret_post), RS256 JWT access tokens for the default resource,
// introspection and revocation on. Settings from the environment: HOST, PORT, CLIENT_ID, CLIENT_SECRET, AUDIENCE.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 3000);
const issuer = `http://${host}:${port}`;
const audience = process.env.AUDIENCE || 'https://api.bench.kongformance.test';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'bench-rs256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID || 'bench-client',
      client_secret: process.env.CLIENT_SECRET || 'bench-client-secret-0123456789abcdef',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys: [signingKey] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) =>
        resource.startsWith('urn:opaque:')
          ? { scope: 'read', audience: resource, accessTokenFormat: 'opaque' }
          : { scope: 'read', audience, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
    },
  },
});

provider.listen(port, host, () => console.log(`oidc-provider ready at ${issuer}`));
