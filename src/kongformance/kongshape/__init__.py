"""A Kong-shaped stand-in: the reference gateway behind the interface of the ``kong/kong-gateway`` image.

The image ``kongformance/kong:<version>`` (images/Dockerfile.kong) runs ``/docker-entrypoint.sh kong
docker-start`` like Kong's own image (Kong/docker-kong ``docker-entrypoint.sh``), reads Kong's ``KONG_*``
settings from the environment (:mod:`.conf`), keeps its entities in Postgres when ``KONG_DATABASE=postgres``
(:mod:`.database`), serves Kong's Status API (:mod:`.status`) and answers the ``kong`` commands the docker
target uses (:mod:`.cli`): ``kong migrations bootstrap``, ``kong docker-start`` / ``kong start`` and
``kong health``. Its ``/_emulator`` control surface is hidden, as real Kong has none.
"""
