"""The local web view, ``integrad serve``: explain, compare and browse runs in a browser.

:func:`serve` starts it (:mod:`integrad.web.server`); :func:`create_app` builds the ASGI
application alone (:mod:`integrad.web.app`), for tests or another server. Needs the
``web`` extra: ``pip install "integrad[web]"``.
"""

from integrad._lazy import lazy_exports

EXPORTS = {"serve": "integrad.web.server", "create_app": "integrad.web.app"}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
