"""The embedded OIDC identity provider for the demo and the tests (DEMO ONLY: loopback, explicit opt-in).

Server: `mhp.idp.server.EmbeddedProvider`; clients (code + PKCE, signed client credentials):
`mhp.idp.client`; the demo users and systems: `realm.yaml`.
"""
