#!/usr/bin/env bash
# Builds the example Go consumer fully offline from Debian's Go packages (golang-go, golang-google-grpc-dev,
# golang-google-protobuf-dev, protoc-gen-go, protoc-gen-go-grpc, protobuf-compiler): the gRPC stubs are generated
# from ../../proto at build time, then `go build` runs in GOPATH mode over /usr/share/gocode, where Debian puts the
# sources of its Go packages. No module proxy, no network.
#
# Usage: build.sh [OUT_DIR]   (default: .build/ beside this file, which git ignores); the binary is OUT_DIR/go-consumer.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mkdir -p "${1:-$here/.build}" && cd "${1:-$here/.build}" && pwd)"
proto_root="$here/../../proto"
gopath="$out/gopath"
stubs_pkg="eskit.example/eskitpb/eventstore/v1"

for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null || {
    echo "build.sh: $tool is missing: apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev" \
      "protoc-gen-go protoc-gen-go-grpc protobuf-compiler" >&2
    exit 1
  }
done

# The protos declare no go_package (they belong to no Go module): map each file to the stubs' import path instead.
protos=()
mappings=""
for file in "$proto_root"/eskit/eventstore/v1/*.proto; do
  name="eskit/eventstore/v1/$(basename "$file")"
  protos+=("$name")
  mappings+=",M$name=$stubs_pkg;eventstorev1"
done
rm -rf "$gopath/src/$stubs_pkg"
mkdir -p "$gopath/src/$stubs_pkg" "$gopath/src/eskit.example"
protoc -I "$proto_root" \
  --go_out="$gopath/src" --go_opt="paths=import${mappings}" \
  --go-grpc_out="$gopath/src" --go-grpc_opt="paths=import${mappings}" \
  "${protos[@]}"
# The example's own packages, under the import path its files use.
ln -sfn "$here" "$gopath/src/eskit.example/go-consumer"

export GO111MODULE=off GOPROXY=off GOFLAGS="" GOPATH="$gopath:/usr/share/gocode"
# Go's own build cache (~/.cache/go-build) makes later builds quick; without a home, one under OUT_DIR.
gocache="$(go env GOCACHE 2>/dev/null || true)"
if [ -z "$gocache" ] || [ "$gocache" = "off" ]; then export GOCACHE="$out/cache"; fi
go vet eskit.example/go-consumer eskit.example/go-consumer/consumer
go build -o "$out/go-consumer" eskit.example/go-consumer
echo "built $out/go-consumer" >&2
