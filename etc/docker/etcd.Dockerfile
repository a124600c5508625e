# etcd (Debian's etcd-server binary, /usr/bin/etcd) built FROM scratch:
# the binary and the shared libraries `ldd` lists (libc and the loader).
# Build with `.ci/images`. Flags go on the command line or as ETCD_*
# variables (see etc/docker/compose.yaml).
FROM scratch
COPY rootfs/ /
COPY --chown=10002:10002 data/ /var/lib/etcd/
# etcd creates data/ itself, with the 0700 mode it insists on.
ENV ETCD_DATA_DIR=/var/lib/etcd/data
USER 10002:10002
WORKDIR /var/lib/etcd
VOLUME ["/var/lib/etcd"]
# clients, peers
EXPOSE 2379/tcp 2380/tcp
ENTRYPOINT ["/usr/local/bin/etcd"]
