#!/usr/bin/python3
"""Generates the Python gRPC stubs of the Event Store's contracts from ../../proto (the same .proto files the
TypeScript code is generated from), so this example never carries a copy that could drift from them.

Usage: generate.py [OUT_DIR]   (default: gen/ beside this file, which git ignores)

Needs grpcio and grpc_tools: `apt-get install python3-grpcio python3-grpc-tools` (Debian) or
`pip install grpcio grpcio-tools`."""
import pathlib
import sys

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
# Only the Event Store's package: the consumer needs EventStoreService and ConsumerService.
PACKAGE = pathlib.Path("eskit", "eventstore", "v1")


def generate(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE).glob("*.proto"))
    # grpc_tools ships the well-known types (google/protobuf/timestamp.proto) with its own include path.
    well_known = pathlib.Path(protoc.__file__).resolve().parent / "_proto"
    includes = [f"-I{PROTO_ROOT}"] + ([f"-I{well_known}"] if well_known.is_dir() else [])
    args = ["grpc_tools.protoc", *includes, f"--python_out={out}", f"--grpc_python_out={out}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit(f"grpc_tools.protoc failed for {', '.join(protos)}")
    # Plain packages, so `import eskit.eventstore.v1.event_store_pb2` works once OUT_DIR is on sys.path.
    for depth in range(1, len(PACKAGE.parts) + 1):
        (out / pathlib.Path(*PACKAGE.parts[:depth]) / "__init__.py").touch()


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "gen"
    generate(target)
    print(f"stubs generated in {target}", file=sys.stderr)
