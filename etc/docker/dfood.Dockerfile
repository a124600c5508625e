# dfood, the DistribuFood CLI, built FROM scratch (see dfoodd.Dockerfile):
# for jobs and tests on a cluster's private network, e.g.
# `docker compose -f etc/docker/compose.yaml run --rm dfood status`.
FROM scratch
COPY rootfs/ /
# HOME holds the client config and the saved login
# ($HOME/.config/dfood/); compose keeps it in a volume.
COPY --chown=10001:10001 home/ /home/dfood/
ENV HOME=/home/dfood
USER 10001:10001
WORKDIR /home/dfood
VOLUME ["/home/dfood"]
ENTRYPOINT ["/usr/local/bin/dfood"]
CMD ["--help"]
