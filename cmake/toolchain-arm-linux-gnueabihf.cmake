# Cross build for 32-bit Arm Linux (armv7, hard float) with Debian's
# gcc-arm-linux-gnueabihf; the tests run under qemu-user. This is the 32-bit
# build of `make test-32bit`: size_t and pointers are 32 bits, so truncating
# casts of the format's 64-bit sizes show up here. cmocka comes from Debian
# multiarch (libcmocka-dev:armhf). See tools/setup_cross.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-L;/usr/arm-linux-gnueabihf)
