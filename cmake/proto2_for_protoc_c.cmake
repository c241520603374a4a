# Writes OUT: the proto3 file IN with its syntax line changed to proto2, for
# protoc-c 1.4 (Debian 12), which refuses proto3 `optional`. The snapshot
# schema is written so that both readings mean the same thing on the wire:
# every singular field is `optional`, no repeated scalar relies on proto3's
# default packing, no proto2-only feature is used. Drop this step once
# protobuf-c >= 1.5 is the oldest supported.
#
#   cmake -DIN=snapshot.proto -DOUT=build/proto-src/snapshot.proto -P proto2_for_protoc_c.cmake
file(READ "${IN}" text)
string(FIND "${text}" "\nsyntax = \"proto3\";" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${IN}: no 'syntax = \"proto3\";' line")
endif()
string(REPLACE "\nsyntax = \"proto3\";" "\nsyntax = \"proto2\";" text "${text}")
file(WRITE "${OUT}" "${text}")
