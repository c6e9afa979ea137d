#!/usr/bin/env bash
# Debian packages for the cross targets, installed on first use (idempotent,
# quick when everything is there), as tools/setup.sh does for the host:
#   tools/setup_cross.sh aarch64   gcc-aarch64-linux-gnu, qemu-user, cmocka:arm64
#   tools/setup_cross.sh armhf     gcc-arm-linux-gnueabihf, qemu-user, cmocka:armhf
#   tools/setup_cross.sh mcu       arm-none-eabi-gcc, picolibc, qemu-system-arm
# The 32-bit build is armhf rather than i386: Debian's gcc-multilib conflicts
# with its cross compilers, so the two could not both be installed.
# cmocka for the Linux targets comes from Debian multiarch (the foreign
# architecture is added to dpkg; only the library, libcmocka0, is installed:
# a foreign libcmocka-dev would make `dpkg -s libcmocka-dev` ambiguous, and
# tools/setup.sh would then reinstall on every run; the header is the host's).
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
updated=0
apt_update() { [ $updated = 1 ] || { $SUDO apt-get update -qq; updated=1; }; }
install() {
  local need=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
  [ ${#need[@]} -eq 0 ] && return 0
  echo "setup_cross: installing Debian packages: ${need[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
}
foreign() {
  if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
    echo "setup_cross: adding Debian architecture $1 (multiarch, for cmocka)"
    $SUDO dpkg --add-architecture "$1"
    updated=0
  fi
}
case "${1:-}" in
  aarch64)
    foreign arm64
    install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libcmocka0:arm64 ;;
  armhf)
    foreign armhf
    install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user libcmocka0:armhf ;;
  mcu)
    install gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm ;;
  *) echo "usage: $0 aarch64|armhf|mcu" >&2; exit 2 ;;
esac
