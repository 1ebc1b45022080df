"""The web layer: one package per audience (public, choice, identity, staff, api, ops) with its views, forms
and blueprint, and what the app needs per request (i18n, security, errors, page cache, metrics). It imports the
domain; the domain never imports it."""
