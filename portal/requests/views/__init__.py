"""Pages of formal requests. Views parse input, call one service, commit once, choose a response.

Every route that names a request loads it through `services.get_request`, so another organisation's
request (and its items, files and extensions) answers 404. Reported addresses never travel in a URL:
searching by address is a POST that redirects with the address's hash.
"""
from portal.requests.views import answering, drafting, pages, settings  # noqa: F401  (their routes)
