# ActorImages node image. Build: docker compose build (or docker build -t actorimages .); run: docker-compose.yml.
#
# Stage "projects" keeps only the .csproj files, so the restore layer below is rebuilt only when a project file or
# Directory.*.props changes, not on every source edit. Stage "build" publishes src/ActorImages.Node; the runtime
# stage is the ASP.NET Core runtime (Ubuntu 24.04) with the published node, the HOCON profiles and the entrypoint.
#
# The SDK stages run on the machine that builds ($BUILDPLATFORM, which BuildKit sets), not on the image's platform:
# the publish is framework-dependent and carries the native libraries of every platform (SkiaSharp's runtimes/), so
# its output is the same for amd64 and arm64, and `docker buildx build --platform linux/amd64,linux/arm64` runs the
# SDK natively instead of under emulation. Only the runtime stage is per platform.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS projects
WORKDIR /src
COPY src ./src
RUN find src -type f ! -name '*.csproj' -delete

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
COPY Directory.* ./
COPY --from=projects /src/src ./src
RUN dotnet restore src/ActorImages.Node/ActorImages.Node.csproj
COPY src ./src
RUN dotnet publish src/ActorImages.Node -c Release -o /out --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# libheif's heif-thumbnailer renders the thumbnails of HEIC, HEIF and AVIF (src/ActorImages.Storage/HeifThumbnailer.cs;
# prlimit, which bounds it, is util-linux's, in the base image). Ubuntu 24.04's libheif loads its decoders as plugins,
# named here because without recommended packages apt may leave them out (its libheif1 updates only suggest the HEVC
# one, libde265): HEVC through libde265, AV1 through dav1d.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends heif-thumbnailer \
      libheif-plugin-libde265 libheif-plugin-dav1d \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out ./
COPY hocon ./hocon
COPY docker/entrypoint.sh docker/healthcheck.sh ./docker/
# /var/lib/actorimages: node data (a volume; the entrypoint gives each container its own slot in it).
# /run/actorimages: what the entrypoint hands to the node and to the healthcheck (its address, secret copies).
# Both belong to the image's non-root user `app` ($APP_UID), which the entrypoint switches to.
RUN chmod 755 docker/entrypoint.sh docker/healthcheck.sh \
 && mkdir -p /var/lib/actorimages /run/actorimages \
 && chown "$APP_UID:$APP_UID" /var/lib/actorimages /run/actorimages
VOLUME /var/lib/actorimages
# P1 ingest, P2 WebSocket, P3 tracker (UDP), P4 peer GET, HTTP API, Cluster Bootstrap contact point, cluster remoting
EXPOSE 5001 8765 13377/udp 13378 8080 8558 25520 25521
ENTRYPOINT ["/app/docker/entrypoint.sh"]
