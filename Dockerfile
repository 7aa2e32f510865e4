# Restore Desk image: a static binary on a distroless base, run as non-root.
# Build: docker build -t restoredesk .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Generated templ files are committed, so no code generation happens here.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/web ./cmd/web

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/web /web
ENV LISTEN_ADDR=:8080 METRICS_ADDR=:9090
EXPOSE 8080 9090
USER nonroot:nonroot
ENTRYPOINT ["/web"]
CMD ["serve"]
