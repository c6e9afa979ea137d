# Bare-metal Cortex-M4 with FPU (thumb-2, hard float) with Debian's
# arm-none-eabi-gcc and picolibc. The memory map is the Arm MPS2 AN386
# board's (qemu-system-arm -M mps2-an386): 4 MiB of code memory at 0 (the
# "flash"), 4 MiB of SRAM at 0x20000000. No heap is used: nothing in the
# firmware calls malloc (targets/cortex-m/test_firmware.py checks with nm).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(ET_MCU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard --specs=picolibc.specs")
set(CMAKE_C_FLAGS_INIT "${ET_MCU_FLAGS} -ffunction-sections -fdata-sections")
# (CMake passes the compile flags, specs included, to the link too.)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections \
-Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x400000 \
-Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
