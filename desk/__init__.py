"""The auditors' desk: a local web application over the settlement book (``yibao serve``).

One module per page or job: :mod:`desk.app` assembles the routes;
:mod:`desk.context` opens the book and the policies folder; :mod:`desk.catalog`
is the search index; :mod:`desk.status` the chain's verify status;
:mod:`desk.security` tokens, CSRF and response headers; the pages are
:mod:`desk.search`, :mod:`desk.claim`, :mod:`desk.person_year` (with its plot,
:mod:`desk.plot`), :mod:`desk.policy` and :mod:`desk.chain`; :mod:`desk.api` is
the settlement API.  Every figure comes from the library (audit/, explain/,
lint/): the desk only shows it.  See docs/desk.md.
"""
