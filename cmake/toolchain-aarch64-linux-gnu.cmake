# Cross build for 64-bit Arm Linux with Debian's gcc-aarch64-linux-gnu; the
# tests run under qemu-user (ctest uses CMAKE_CROSSCOMPILING_EMULATOR).
# cmocka comes from Debian multiarch (libcmocka-dev:arm64). See
# tools/setup_cross.sh and `make test-aarch64`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
