# Cross build for s390x (big-endian 64-bit IBM Z) with Debian's g++-s390x-linux-gnu;
# run the results with qemu-s390x (Debian's qemu-user).
set(FXIC_CROSS_TRIPLE s390x-linux-gnu)
set(FXIC_CROSS_PROCESSOR s390x)
set(FXIC_CROSS_QEMU qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
