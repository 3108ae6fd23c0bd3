# Cross build for aarch64 (little-endian 64-bit Arm) with Debian's g++-aarch64-linux-gnu;
# run the results with qemu-aarch64 (Debian's qemu-user).
set(FXIC_CROSS_TRIPLE aarch64-linux-gnu)
set(FXIC_CROSS_PROCESSOR aarch64)
set(FXIC_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
