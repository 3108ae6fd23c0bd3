# WebAssembly build with Debian's emscripten (3.1.6), run under Node.js:
#   NODE_PATH=/usr/share/nodejs node build/apps/fxic.js verify
# Debian's emscripten needs NODE_PATH=/usr/share/nodejs set at build time too
# (its JS tools live there). SINGLE_FILE embeds the .wasm in the .js, which
# the machine's Node 20 needs; NODERAWFS gives the program the host's files
# (the conformance suite). No OpenMP: verify checks thread count 1 only.
# Use with -DFXIC_MINIMAL_IO=ON -DFXIC_CRC32_SHIM=ON.
include(/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake)
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-sSINGLE_FILE=1 -sNODERAWFS=1 -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=1")
