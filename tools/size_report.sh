#!/usr/bin/env bash
# `make size`: stripped sizes of the core runtime built -Os for this machine
# (x86-64 here). The headline figure is tools/size_test.c linked against the
# core only (verification on, buffer loading, no kernels), measured the way
# upstream's CI gate measures test/size_test.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-size
mkdir -p "$out"
CFLAGS=(-std=c11 -Os -DNDEBUG -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
        -fno-unwind-tables -fno-stack-protector -Iruntime/include)
for cc in gcc clang; do
  command -v "$cc" >/dev/null || continue
  "$cc" "${CFLAGS[@]}" runtime/core/*.c tools/size_test.c -Wl,--gc-sections -o "$out/size_test-$cc"
  strip "$out/size_test-$cc"
  "$cc" "${CFLAGS[@]}" -c runtime/core/*.c
  mv ./*.o "$out/" 2>/dev/null || true
  ar rcs "$out/libcore-$cc.a" "$out"/*.o && rm -f "$out"/*.o
  printf '%-6s size_test (core, verification on, no kernels), stripped: %7d bytes\n' \
    "$cc" "$(stat -c %s "$out/size_test-$cc")"
done
if ls kernels/portable/op_*.c >/dev/null 2>&1; then
  gcc -std=c11 -Os -DNDEBUG -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
    -Iruntime/include -Ikernels -c kernels/util/*.c kernels/portable/*.c
  mv ./*.o "$out/"
  ld -r -o "$out/kernels.o" "$out"/op_*.o "$out"/registry.o $(ls "$out"/*.o | grep -v -e '/op_' -e registry.o -e kernels.o) 2>/dev/null || true
  strip --strip-unneeded "$out/kernels.o"
  printf 'gcc    portable kernels (all of ops.def), stripped object: %7d bytes (text+data %s)\n' \
    "$(stat -c %s "$out/kernels.o")" "$(size "$out/kernels.o" | awk 'NR==2{print $1+$2}')"
  rm -f "$out"/*.o
fi
echo "upstream reference: size_test 44,160 B (clang12) / 52,168 B (gcc9) stripped, without full verification"
