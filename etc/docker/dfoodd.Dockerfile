# dfoodd, the DistribuFood daemon, built FROM scratch: no base image (none
# can be pulled here), only the binary, the shared libraries `ldd` lists
# for it, a passwd entry for its numeric user and an nsswitch.conf.
# Build with `.ci/images`, which stages those files and runs
# `docker build -f etc/docker/dfoodd.Dockerfile <staging dir>`.
FROM scratch
COPY rootfs/ /
# The data volume (TLS files, the setup token; the embedded store when
# no etcd is given), owned by the daemon's user.
COPY --chown=10001:10001 data/ /var/lib/dfoodd/
# Where compose's shared `kek` volume is mounted: the key-encryption key
# the nodes of one host share (etc/docker/compose.yaml).
COPY --chown=10001:10001 kek/ /var/lib/dfoodd-kek/
ENV DFOODD_DATA_DIR=/var/lib/dfoodd \
    DFOODD_LISTEN=0.0.0.0:7400 \
    DFOODD_METRICS_LISTEN=0.0.0.0:9400
USER 10001:10001
WORKDIR /var/lib/dfoodd
VOLUME ["/var/lib/dfoodd"]
# QUIC for clients and other nodes; plain HTTP for /metrics (and the
# /healthz, /readyz probes): publish it on a private address only.
EXPOSE 7400/udp 9400/tcp
# SIGTERM is a graceful shutdown: clients are told to move, the lease is
# revoked.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dfoodd"]
