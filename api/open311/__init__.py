"""Open311 GeoReport v2 at ``/open311/v2/``: the civic-reporting standard over the incident service.

One module per job: ``formats`` (JSON and XML documents with the spec's element names, and
the spec's error bodies), ``schemas`` (the documents as models, for /openapi.json),
``discovery`` (the discovery document), ``clients`` (client apps and their API keys),
``services`` (categories as services and their attribute definitions), ``requests``
(intake through :func:`api.incidents.report` and the public views of service requests).
The routes are ``api.routes.open311``.
"""

JURISDICTION_HELP = "the district code (330503 for the Nanxun sample); optional"
