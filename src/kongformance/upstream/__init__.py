"""The echo upstream: httpbin-style ``/anything`` and a log of what reached it (see :mod:`.echo`)."""

from kongformance.upstream.echo import EchoUpstream, LoggedRequest, RequestLog

__all__ = ["EchoUpstream", "LoggedRequest", "RequestLog"]
