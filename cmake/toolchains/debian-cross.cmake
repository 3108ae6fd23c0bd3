# Shared part of the Debian cross toolchains (g++-<triple> from apt). Set
# FXIC_CROSS_TRIPLE, FXIC_CROSS_PROCESSOR and FXIC_CROSS_QEMU, then include
# this. Binaries are linked statically so that qemu-user runs them without a
# target sysroot; CMAKE_CROSSCOMPILING_EMULATOR lets CMake (and ctest) run
# them too. Use with -DFXIC_MINIMAL_IO=ON -DFXIC_CRC32_SHIM=ON (no cross
# libpng or zlib needed), as scripts/cross/run.sh does.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${FXIC_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${FXIC_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${FXIC_CROSS_TRIPLE}-g++)
set(CMAKE_FIND_ROOT_PATH /usr/${FXIC_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_CROSSCOMPILING_EMULATOR ${FXIC_CROSS_QEMU})
# FindOpenMP would pick libgomp.so, which a static link cannot use.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libgomp.a
                OUTPUT_VARIABLE _fxic_gomp OUTPUT_STRIP_TRAILING_WHITESPACE)
if(EXISTS "${_fxic_gomp}")
  set(OpenMP_gomp_LIBRARY "${_fxic_gomp}" CACHE FILEPATH "static libgomp")
endif()
