"""``lake serve``: the web application where business units read their quality reviews.

`server` builds the Starlette application (pages computed from the lake at each request),
`accounts` holds the accounts (``meta/web_accounts``, argon2id hashes), `access` decides who
opens what (exposure levels and owning directions, the rules of ``lake export view``),
`security` the session key, CSRF tokens, sign-in throttle and security headers. See
docs/serve.md and decision 0010.
"""
