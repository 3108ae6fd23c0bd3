# Cross build for i686 (little-endian 32-bit x86) with Debian's g++-i686-linux-gnu;
# run the results with qemu-i386 (Debian's qemu-user).
set(FXIC_CROSS_TRIPLE i686-linux-gnu)
set(FXIC_CROSS_PROCESSOR i686)
set(FXIC_CROSS_QEMU qemu-i386)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
